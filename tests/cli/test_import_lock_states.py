"""Impossible lock states are refused on import; the same file twice is no conflict.

Issue 21, item 5: each refusal names FILE:LINE and exits 1 with nothing written.
"""

from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.storage.repository import ReadRepository
from tests.transfer.csv_edit import TWO_SUBJECTS, edit, two_subjects

BASELINE_S01, FU2_S01 = (2, 3, 4), (8, 9, 10)


def edited(text: str, lines: tuple[int, ...], **cells: str) -> str:
    for line in lines:
        for column, value in cells.items():
            text = edit(text, line, column, value)
    return text


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reads.db'}"


def refused(db: str, tmp_path: Path, text: str, capsys) -> str:
    path = tmp_path / "measurements.csv"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["import", str(path), "--db", db]) == 1
    with ReadRepository(db) as repository:
        assert repository.all_reads() == ()
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "INSERT" not in err
    return err.replace(str(path), "FILE")


def test_a_signed_follow_up_after_a_draft_baseline_is_refused(db, tmp_path, capsys):
    text = edited(two_subjects(), BASELINE_S01, read_status="draft", signed_at="")
    err = refused(db, tmp_path, text, capsys)
    assert (
        "FILE:5: timepoint FU1 (timepoint_index 1) is signed but the earlier timepoint "
        "BASELINE is a draft (timepoints are signed from baseline on)"
    ) in err


def test_a_sign_off_in_the_future_is_refused(db, tmp_path, capsys):
    text = edited(two_subjects(), FU2_S01, signed_at="2099-01-01T00:00:00Z")
    err = refused(db, tmp_path, text, capsys)
    assert (
        "FILE:8: timepoint FU2 (timepoint_index 2) is signed_at 2099-01-01T00:00:00Z, "
        "in the future"
    ) in err


def test_signed_without_signed_at_is_refused_not_an_internal_error(
    db, tmp_path, capsys
):
    text = edited(two_subjects(), FU2_S01, signed_at="")
    err = refused(db, tmp_path, text, capsys)
    assert (
        "FILE:8: timepoint FU2 (timepoint_index 2) is signed but signed_at is empty"
        in err
    )


def test_signed_at_on_a_draft_is_refused(db, tmp_path, capsys):
    text = edited(two_subjects(), FU2_S01, read_status="draft")
    err = refused(db, tmp_path, text, capsys)
    assert (
        "FILE:8: timepoint FU2 (timepoint_index 2) is a draft but has signed_at" in err
    )


def test_reimporting_the_same_central_file_is_already_imported(db, capsys):
    assert main(["import", str(TWO_SUBJECTS), "--db", db]) == 0
    capsys.readouterr()
    assert main(["import", str(TWO_SUBJECTS), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "already imported: the 2 read(s)" in out
    with ReadRepository(db) as repository:
        assert [e.action for e in repository.audit_trail()] == ["import", "import"]
