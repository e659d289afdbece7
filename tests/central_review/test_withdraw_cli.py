"""``mrecist-reader assign --withdraw SUBJECT READER --reason TEXT [FILE]``."""

from mrecist_reader.cli import main
from mrecist_reader.core.adjudication import Assignment
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository
from tests.central_review.reads import (
    ASSIGNMENTS_HEADER,
    MANAGER,
    primary_read,
    write_csv,
)


def stored(tmp_path) -> str:
    db = f"sqlite:///{tmp_path}/reads.db"
    with ReadRepository(db) as repository:
        repository.assign(
            [Assignment("S01", "R01", "R02", "A01")], actor=MANAGER, source="a.csv"
        )
        for reader, sizes in (("R01", [50, 30]), ("R02", [50, 45])):
            read = primary_read("S01", reader, sizes)
            repository.save(
                read, [AuditEntry("save", "read")], actor=Actor(reader, "u")
            )
    return db


def test_withdraw_then_reassign_in_one_command(tmp_path, capsys):
    db = stored(tmp_path)
    new = write_csv(tmp_path / "new.csv", ASSIGNMENTS_HEADER, "S01,R01,R03,A01")
    assert main(["assign", str(new), "--db", db]) == 1  # R02's read has started
    capsys.readouterr()
    argv = ["assign", str(new), "--db", db, "--withdraw", "S01", "R02",
            "--reason", "read the wrong series"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "withdrew R02's read of subject S01 (kept as 'R02 (withdrawn 1)')" in out
    assert "changed 1" in out
    with ReadRepository(db) as repository:
        assert repository.assignment("S01") == Assignment("S01", "R01", "R03", "A01")
        entry = next(e for e in repository.audit_trail() if e.action == "withdraw")
        assert entry.reason == "read the wrong series"


def test_a_withdrawal_needs_a_reason_and_an_assigned_primary_reader(tmp_path, capsys):
    db = stored(tmp_path)
    assert main(["assign", "--db", db, "--withdraw", "S01", "R02"]) == 2
    assert "--withdraw needs --reason" in capsys.readouterr().err
    argv = ["assign", "--db", db, "--withdraw", "S01", "A01", "--reason", "x"]
    assert main(argv) == 1
    assert "A01 is not a primary reader of subject S01" in capsys.readouterr().err
    assert main(["assign", "--db", db]) == 2


def test_a_withdrawn_read_is_not_exported_and_the_export_says_so(tmp_path, capsys):
    """A withdrawn read is no trial data: no row names it as a primary read."""
    db = stored(tmp_path)
    argv = ["assign", "--db", db, "--withdraw", "S01", "R02", "--reason", "wrong"]
    assert main(argv) == 0
    capsys.readouterr()
    assert (
        main(["export", "--db", db, "--reader", "PM01", "-o", str(tmp_path / "o")]) == 0
    )
    said = capsys.readouterr().out
    assert "exported 1 read(s)" in said
    assert "1 withdrawn read(s) not exported" in said
    rows = (tmp_path / "o" / "measurements.csv").read_text(encoding="utf-8")
    assert "withdrawn" not in rows
    assert ",R01," in rows
