"""central-review.md §Exports and endpoints.md §Inputs: the final read per subject."""

import csv
from dataclasses import replace

from mrecist_reader.core.adjudication import Assignment
from mrecist_reader.core.model import ReadType
from mrecist_reader.desk.export import database_reads
from mrecist_reader.session import record_decision, trigger_adjudication
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository
from tests.central_review.reads import MANAGER, primary_read


def stored(db: str) -> None:
    with ReadRepository(db) as repository:
        repository.assign(
            [Assignment(s, "R01", "R02", "A01") for s in ("S01", "S02", "S03")],
            actor=MANAGER,
            source="assignments.csv",
        )
        reads = [
            primary_read("S01", "R01", [50, 30]),
            primary_read("S01", "R02", [50, 30]),
            primary_read("S02", "R01", [50, 30]),
            primary_read("S02", "R02", [50, 45]),
            primary_read("S03", "R01", [50, 30]),
            primary_read("S03", "R02", [50, 45]),
            primary_read("S04", "R09", [50, 45]),  # not assigned: read as it is
        ]
        site = primary_read("S01", "L01", [50, 30])
        reads.append(replace(site, key=replace(site.key, read_type=ReadType.LOCAL)))
        for read in reads:
            actor = Actor(read.key.reader_id, "u")
            repository.save(read, [AuditEntry("save", "read")], actor=actor)
        trigger_adjudication(repository, MANAGER)
        record_decision(
            repository, "S02", adjudicator="A01", choose="reader_2",
            reason="measurement", rationale="T1 is 45 mm on the portal phase",
        )  # fmt: skip


def test_the_final_read_is_the_chosen_or_concordant_reader_1s_and_none_while_awaiting(
    tmp_path,
):
    db = f"sqlite:///{tmp_path}/reads.db"
    stored(db)
    reads = database_reads(db, final=True)
    assert [(r.key.subject_id, r.key.reader_id, r.key.read_type) for r in reads] == [
        ("S01", "R01", ReadType.CENTRAL),  # concordant: reader 1's
        ("S02", "R02", ReadType.CENTRAL),  # adjudicated: the chosen reader's
        ("S04", "R09", ReadType.CENTRAL),  # S03 awaits adjudication: no final read
    ]


def test_every_read_stays_exportable_without_final(tmp_path):
    db = f"sqlite:///{tmp_path}/reads.db"
    stored(db)
    assert len(database_reads(db)) == 8


def test_the_endpoints_of_a_double_read_database_use_the_final_reads(tmp_path, capsys):
    from mrecist_reader.cli import main

    db = f"sqlite:///{tmp_path}/reads.db"
    stored(db)
    treatments = tmp_path / "treatments.csv"
    study = primary_read("S01", "R01", [50]).key.study_id
    treatments.write_text(
        "schema_version,study_id,subject_id,treatment,session,study_day\n"
        + "".join(f"1,{study},{s},TACE,1,1\n" for s in ("S01", "S02", "S04")),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(
        ["endpoints", "--db", db, "--treatments", str(treatments), "-o", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    with (out / "endpoint_subjects.csv").open(encoding="utf-8", newline="") as stream:
        subjects = {row["subject_id"] for row in csv.DictReader(stream)}
    assert {"S01", "S02", "S04"} <= subjects
    assert "S03" not in subjects  # awaiting adjudication: no final read yet
