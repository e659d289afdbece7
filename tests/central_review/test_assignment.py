"""central-review.md §Roles and assignment: ``mrecist-reader assign`` and the worklist."""

from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.adjudication import Assignment, AssignmentError
from mrecist_reader.core.model import ReadType
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.central_review.reads import (
    ASSIGNMENTS_HEADER,
    MANAGER,
    primary_read,
    write_csv,
)


def assignments_file(tmp_path: Path, *rows: str) -> Path:
    return write_csv(tmp_path / "assignments.csv", ASSIGNMENTS_HEADER, *rows)


def test_assign_creates_the_database_when_there_is_none(tmp_path, capsys):
    db = tmp_path / "new" / "reads.db"
    file = assignments_file(tmp_path, "S01,R01,R02,A01", "S02,R02,R03,A01")
    assert main(["assign", str(file), "--db", f"sqlite:///{db}"]) == 0
    assert "assigned 2 subject(s)" in capsys.readouterr().out
    with ReadRepository(f"sqlite:///{db}") as repository:
        assert repository.assignments() == (
            Assignment("S01", "R01", "R02", "A01"),
            Assignment("S02", "R02", "R03", "A01"),
        )


@pytest.mark.parametrize(
    "row",
    ["S01,R01,R01,A01", "S01,R01,R02,R01", "S01,R01,R02,R02"],
)
def test_three_distinct_reader_ids_are_required_else_file_line_error(
    tmp_path, capsys, row
):
    file = assignments_file(tmp_path, "S00,R01,R02,A01", row)
    db = tmp_path / "reads.db"
    assert main(["assign", str(file), "--db", f"sqlite:///{db}"]) == 1
    err = capsys.readouterr().err
    assert f"{file}:3: " in err
    assert "must be three distinct reader IDs" in err
    with ReadRepository(f"sqlite:///{db}") as repository:
        assert repository.assignments() == ()  # nothing stored: S00 neither


def test_an_empty_cell_names_the_file_line_and_column(tmp_path, capsys):
    file = assignments_file(tmp_path, "S01,R01,,A01")
    assert main(["assign", str(file), "--db", f"sqlite:///{tmp_path}/r.db"]) == 1
    assert f"{file}:2: reader_2 is empty (required)" in capsys.readouterr().err


def test_a_subject_assigned_on_two_lines_is_refused(tmp_path, capsys):
    file = assignments_file(tmp_path, "S01,R01,R02,A01", "S01,R03,R02,A01")
    assert main(["assign", str(file), "--db", f"sqlite:///{tmp_path}/r.db"]) == 1
    assert (
        f"{file}:3: subject_id 'S01' is assigned on line 2 already"
        in capsys.readouterr().err
    )


def test_a_file_without_the_spec_columns_is_refused(tmp_path, capsys):
    file = write_csv(tmp_path / "a.csv", "subject_id,reader_1,reader_2", "S01,R01,R02")
    assert main(["assign", str(file), "--db", f"sqlite:///{tmp_path}/r.db"]) == 1
    assert "adjudicator" in capsys.readouterr().err


def test_bad_treatments_are_reported_with_their_line_and_nothing_stored(
    tmp_path, capsys
):
    file = assignments_file(tmp_path, "S01,R01,R02,A01")
    treatments = write_csv(
        tmp_path / "treatments.csv",
        "schema_version,study_id,subject_id,treatment,session,study_day",
        "1,NCT06779461,S01,TACE,2,10",
    )
    db = f"sqlite:///{tmp_path}/r.db"
    assert main(["assign", str(file), "--db", db, "--treatments", str(treatments)]) == 1
    assert f"{treatments}:2: " in capsys.readouterr().err
    with ReadRepository(db) as repository:
        assert repository.assignments() == ()


def test_the_assignment_is_an_audit_trail_entry(db_url):
    with ReadRepository(db_url) as repository:
        repository.assign(
            [Assignment("S01", "R01", "R02", "A01")], actor=MANAGER, source="a.csv"
        )
        (entry,) = repository.audit_trail()
        assert repository.verify_audit_trail() is None
    assert (entry.action, entry.read_ref, entry.reader_id) == (
        "assign",
        "assignment/S01",
        "PM01",
    )
    assert entry.new_value == "reader_1 R01, reader_2 R02, adjudicator A01"
    assert entry.reason == "a.csv"


def test_assigning_the_same_file_again_changes_nothing(tmp_path):
    file = assignments_file(tmp_path, "S01,R01,R02,A01")
    db = f"sqlite:///{tmp_path}/r.db"
    assert main(["assign", str(file), "--db", db]) == 0
    assert main(["assign", str(file), "--db", db]) == 0
    with ReadRepository(db) as repository:
        assert [e.action for e in repository.audit_trail()] == ["assign"]


def test_a_readers_worklist_holds_only_the_subjects_assigned_to_them(db_url):
    with ReadRepository(db_url) as repository:
        repository.assign(
            [
                Assignment("S01", "R01", "R02", "A01"),
                Assignment("S02", "R03", "R02", "A01"),
                Assignment("S03", "R01", "R03", "A01"),
            ],
            actor=MANAGER,
            source="a.csv",
        )
        assert repository.assigned_subjects("R02") == ("S01", "S02")
        assert repository.assigned_subjects("A01") == ()


def test_reads_made_before_the_assignment_become_the_primary_reads(tmp_path):
    db = f"sqlite:///{tmp_path}/r.db"
    with ReadRepository(db) as repository:
        for reader in ("R01", "R02"):
            read = primary_read("S01", reader, [50, 30])
            repository.save(
                read, [AuditEntry("save", "read")], actor=Actor(reader, "u")
            )
    file = assignments_file(tmp_path, "S01,R01,R02,A01")
    assert main(["assign", str(file), "--db", db]) == 0
    with ReadRepository(db) as repository:
        (case,) = repository.adjudication_cases()
        # the reads of R01 and R02 were compared at their read cut
        assert (case.subject_id, case.cut, case.reader_1, case.reader_2) == (
            "S01",
            "FU1",
            "R01",
            "R02",
        )
        assert repository.list_reads(Viewer("R02", ReadType.CENTRAL)) == (
            primary_read("S01", "R02", [50]).key,
        )


def test_changing_an_assignment_after_a_read_has_started_is_refused(db_url):
    with ReadRepository(db_url) as repository:
        repository.assign(
            [Assignment("S01", "R01", "R02", "A01")], actor=MANAGER, source="a.csv"
        )
        read = primary_read("S01", "R02", [50], signed=0)
        repository.save(
            read, [AuditEntry("create_read", "read")], actor=Actor("R02", "u")
        )
        with pytest.raises(AssignmentError, match="reader R02's read has started"):
            repository.assign(
                [Assignment("S01", "R01", "R03", "A01")], actor=MANAGER, source="b.csv"
            )
        assert repository.assignment("S01") == Assignment("S01", "R01", "R02", "A01")
        # a reader whose read has not started may still be replaced
        repository.assign(
            [Assignment("S01", "R04", "R02", "A01")], actor=MANAGER, source="c.csv"
        )
        assert repository.assignment("S01") == Assignment("S01", "R04", "R02", "A01")
        assert repository.audit_trail()[-1].old_value == (
            "reader_1 R01, reader_2 R02, adjudicator A01"
        )
