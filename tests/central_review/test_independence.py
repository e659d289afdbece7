"""central-review.md §Independence: reader 2 finds nothing of reader 1's read.

"A primary reader never sees another reader's lesions, calipers, responses or
comments: not on screen, not through export, not through the command line with their
reader ID." Reader 1's read holds ``R01-secret`` in every free-text field; the tests
walk everything reader 2's session and reader 2's commands reach.
"""

from dataclasses import replace
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.adjudication import Assignment
from mrecist_reader.core.model import ReadType
from mrecist_reader.resources import load_profile
from mrecist_reader.session import (
    ReadSession,
    available_reads,
    record_decision,
    stored_reads,
    trigger_adjudication,
)
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.errors import ReadNotFound
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.central_review.reads import MANAGER, primary_read, secret


def everything_of(value: object) -> str:
    return repr(value)


@pytest.fixture
def double_read(shared_db_url) -> str:
    """S01: R01 then R02 (discordant, decided); S02: R02 then R01 (awaiting)."""
    with ReadRepository(shared_db_url) as repository:
        repository.assign(
            [
                Assignment("S01", "R01", "R02", "A01"),
                Assignment("S02", "R02", "R01", "A01"),
            ],
            actor=MANAGER,
            source="assignments.csv",
        )
        for subject in ("S01", "S02"):
            for reader, sizes in (("R01", [50, 30]), ("R02", [50, 45])):
                read = primary_read(subject, reader, sizes)
                entry = AuditEntry("record_measurement", "T1", "", secret(reader))
                repository.save(read, [entry], actor=Actor(reader, "u"))
        # reader 1 also has a local read: a primary reader never sees it either
        local = primary_read("S01", "R01", [50, 30])
        local = replace(local, key=replace(local.key, read_type=ReadType.LOCAL))
        repository.save(local, [AuditEntry("save", "read")], actor=Actor("R01", "u"))
        trigger_adjudication(repository, MANAGER)
        record_decision(
            repository,
            "S01",
            adjudicator="A01",
            choose="reader_1",
            reason="measurement",
            rationale=f"{secret('R01')} measured right",
        )
    return shared_db_url


def test_the_manager_sees_reader_1s_read_so_the_search_below_can_fail(double_read):
    with ReadRepository(double_read) as repository:
        assert secret("R01") in everything_of(repository.all_reads())
        assert secret("R01") in everything_of(repository.audit_trail())
        assert "reader 1 PR" in everything_of(repository.adjudication_cases())


def test_reader_2s_reads_and_their_contents_hold_nothing_of_reader_1(double_read):
    with ReadRepository(double_read) as repository:
        seen: list[object] = []
        for read_type in ReadType:
            viewer = Viewer("R02", read_type)
            keys = repository.list_reads(viewer)
            seen += [keys, [repository.load(key, viewer=viewer) for key in keys]]
            seen += [available_reads(repository, "R02", read_type)]
            seen += [stored_reads(repository, "R02", read_type)]
        text = everything_of(seen)
    assert secret("R02") in text
    assert "R01" not in text


def test_reader_2_cannot_open_reader_1s_read(double_read):
    with ReadRepository(double_read) as repository:
        for read_type in ReadType:
            key = replace(primary_read("S01", "R01", [50]).key, read_type=read_type)
            with pytest.raises(ReadNotFound):
                repository.load(key, viewer=Viewer("R02", read_type))


def test_reader_2s_session_and_audit_trail_hold_nothing_of_reader_1(double_read):
    profile = load_profile("nct06779461")
    with ReadRepository(double_read) as repository:
        seen: list[object] = [
            repository.audit_trail(viewer=Viewer("R02", t)) for t in ReadType
        ]
        for subject in ("S01", "S02"):
            key = primary_read(subject, "R02", [50]).key
            session = ReadSession.open(
                repository, key, site_id="SITE01", profile=profile
            )
            seen += [session.read, session.assessment, session.audit_trail()]
            seen += [session.problems]
        text = everything_of(seen)
    assert secret("R02") in text
    assert "R01" not in text
    assert "trigger" not in text  # the trigger entries compare both reads
    assert "adjudicate" not in text


def test_read_cuts_and_final_reads_are_refused_to_a_primary_reader(double_read):
    with ReadRepository(double_read) as repository:
        viewer = Viewer("R02", ReadType.CENTRAL)
        with pytest.raises(ReadNotFound, match="primary reader"):
            repository.adjudication_cases(viewer=viewer)
        with pytest.raises(ReadNotFound, match="primary reader"):
            repository.final_reads(viewer=viewer)


def exported_text(folder: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()))


@pytest.mark.parametrize("how", ["--reader", "settings"])
def test_export_as_reader_2_writes_only_reader_2s_own_reads(
    double_read, tmp_path, monkeypatch, how
):
    out = tmp_path / "out"
    argv = ["export", "--db", double_read, "-o", str(out)]
    if how == "--reader":
        argv += ["--reader", "R02"]
    else:
        monkeypatch.setenv("MRECIST_READER_READER_ID", "R02")
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "audit_head.txt",
        "measurements.csv",
        "responses.csv",
    ]  # no adjudication.csv
    text = exported_text(out)
    assert secret("R02") in text
    assert "R01" not in text


def test_any_other_caller_gets_everything_with_adjudication_csv(double_read, tmp_path):
    out = tmp_path / "out"
    assert (
        main(["export", "--db", double_read, "--reader", "DM01", "-o", str(out)]) == 0
    )
    text = (out / "adjudication.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == (
        "subject_id,cut,reader_1,reader_2,status,discordant_variables,adjudicator,"
        "chosen_reader,reason,rationale,signed_at"
    )
    s01, s02 = text.splitlines()[1:]
    # the discordant variables share one quoted cell, joined with "; "
    assert s01.startswith(
        'S01,FU1,R01,R02,adjudicated,"FU1: reader 1 PR, reader 2 SD; best overall '
        'response: reader 1 PR, reader 2 SD",A01,R01,measurement,'
    )
    assert s02.startswith("S02,FU1,R02,R01,awaiting,")
    assert s02.endswith(",,,,,")
    assert secret("R01") in exported_text(out)


def test_audit_as_reader_2_prints_only_reader_2s_entries(double_read, capsys):
    assert main(["audit", "--db", double_read, "--reader", "DM01"]) == 0
    assert secret("R01") in capsys.readouterr().out  # the manager sees everything
    assert main(["audit", "--db", double_read, "--reader", "R02"]) == 0
    text = capsys.readouterr().out
    assert secret("R02") in text
    assert "R01" not in text
    assert "trigger" not in text
    assert "adjudicate" not in text


def test_audit_verify_as_reader_2_names_no_read_of_reader_1(double_read, capsys):
    import sqlalchemy

    # tamper outside the application: every diameter changed with SQL

    engine = sqlalchemy.create_engine(double_read)
    with engine.begin() as connection:
        connection.execute(
            sqlalchemy.text("UPDATE observations SET diameter_tenths = 999")
        )
    engine.dispose()
    assert main(["audit", "--db", double_read, "--verify", "--reader", "DM01"]) == 1
    assert "R01" in capsys.readouterr().err
    assert main(["audit", "--db", double_read, "--verify", "--reader", "R02"]) == 1
    err = capsys.readouterr().err
    assert "BROKEN" in err
    assert "R01" not in err
