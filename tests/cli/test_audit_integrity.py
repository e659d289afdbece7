"""`audit --verify` checks the reads, `--since` the trail's extension (issue 21, item 1)."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mrecist_reader.cli import main
from mrecist_reader.transfer.csv_out import write_measurements
from tests.storage.samples import sample_read


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Return a database with two reads imported from a measurements.csv."""
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    source = tmp_path / "measurements.csv"
    write_measurements(source, [sample_read(), sample_read("R2", subject_id="S02")])
    assert main(["import", str(source), "--db", url]) == 0
    return url


def tamper(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def test_a_signed_diameter_edited_with_sqlite_fails_verify(db, capsys):
    tamper(
        db, "UPDATE observations SET diameter_tenths = 999 WHERE diameter_tenths = 452"
    )
    capsys.readouterr()
    assert main(["audit", "--db", db, "--verify"]) == 1
    err = capsys.readouterr().err
    assert (
        "read NCT06779461/S01/R1/local: timepoint BASELINE (index 0) was changed" in err
    )
    assert (
        "read NCT06779461/S02/R2/local: timepoint BASELINE (index 0) was changed" in err
    )


def test_an_intact_database_verifies_with_its_reads(db, capsys):
    capsys.readouterr()
    assert main(["audit", "--db", db, "--verify"]) == 0
    out = capsys.readouterr().out
    assert "audit trail intact: 2 entries, every read matches its history" in out


def test_every_export_writes_the_audit_head_beside_the_csv_files(db, tmp_path, capsys):
    assert main(["export", "--db", db, "-o", str(tmp_path / "out")]) == 0
    head = (tmp_path / "out" / "audit_head.txt").read_text(encoding="utf-8")
    assert "audit_entries: 2\n" in head
    assert "audit_head_sha256: " in head
    capsys.readouterr()
    since = str(tmp_path / "out" / "audit_head.txt")
    assert main(["audit", "--db", db, "--verify", "--since", since]) == 0
    assert "extends" in capsys.readouterr().out


def test_a_trail_truncated_with_its_reads_rolled_back_fails_verify_since(
    db, tmp_path, capsys
):
    assert main(["export", "--db", db, "-o", str(tmp_path / "out")]) == 0
    # Remove the second read and its entry, and rewind the head: consistent, but short.
    tamper(
        db,
        "DELETE FROM reads WHERE reader_id = 'R2'",
        "DELETE FROM audit_events WHERE id = 2",
        "UPDATE audit_head SET last_event_id = 1, "
        "last_hash = (SELECT hash FROM audit_events WHERE id = 1)",
    )
    assert main(["audit", "--db", db, "--verify"]) == 0  # without an anchor: no tell
    capsys.readouterr()
    since = str(tmp_path / "out" / "audit_head.txt")
    assert main(["audit", "--db", db, "--verify", "--since", since]) == 1
    assert "fewer than the 2 of the earlier head" in capsys.readouterr().err


def test_a_file_that_is_not_an_audit_head_is_refused_clearly(db, tmp_path, capsys):
    bogus = tmp_path / "audit_head.txt"
    bogus.write_text("hello\n", encoding="utf-8")
    assert main(["audit", "--db", db, "--verify", "--since", str(bogus)]) == 2
    assert "not an audit head" in capsys.readouterr().err


def test_since_without_verify_is_a_usage_error(db, tmp_path, capsys):
    assert main(["audit", "--db", db, "--since", str(tmp_path / "x")]) == 2


def test_import_refuses_to_extend_a_broken_chain(db, tmp_path, capsys):
    tamper(db, "UPDATE audit_events SET reason = 'x' WHERE id = 1")
    other = tmp_path / "other.csv"
    write_measurements(other, [sample_read("R3", subject_id="S03")])
    capsys.readouterr()
    assert main(["import", str(other), "--db", db]) == 1
    err = capsys.readouterr().err
    assert "fails verification" in err
    assert "audit entry 1: its content was changed" in err
    assert "Traceback" not in err
