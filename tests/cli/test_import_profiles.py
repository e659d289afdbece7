"""A CSV cannot make import open a file by naming it as its profile (issue 21, item 3)."""

from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.storage.repository import ReadRepository
from tests.transfer.csv_edit import edit, two_subjects

PROFILE_FILE = Path(__file__).with_name("recist11_confirm28.toml")


def with_profile(tmp_path: Path, value: str) -> Path:
    text = two_subjects()
    for line in range(2, len(text.splitlines()) + 1):
        text = edit(text, line, "protocol_profile", value)
    path = tmp_path / "m.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("named", ["/etc/passwd", "/proc/self/environ", "../x.toml"])
def test_a_path_named_as_the_profile_in_a_csv_is_never_opened(tmp_path, capsys, named):
    path = with_profile(tmp_path, named)
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    assert main(["import", str(path), "--db", db]) == 1
    err = capsys.readouterr().err
    assert (
        f"{path}:2: protocol_profile {named!r}: not a shipped protocol profile" in err
    )
    assert "root:" not in err
    with ReadRepository(db) as repository:
        assert repository.all_reads() == ()


def test_a_profile_file_the_user_chose_is_accepted_by_its_name(tmp_path, capsys):
    path = with_profile(tmp_path, "recist11_confirm28")
    text = path.read_text(encoding="utf-8")
    for line in range(2, len(text.splitlines()) + 1):
        text = edit(text, line, "criteria", "RECIST1.1")
    path.write_text(text, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    assert main(["import", str(path), "--db", db]) == 1  # not shipped: refused
    assert "not a shipped protocol profile" in capsys.readouterr().err
    argv = ["import", str(path), "--db", db, "--protocol", str(PROFILE_FILE)]
    assert main(argv) == 0
    with ReadRepository(db) as repository:
        profiles = {read.protocol_profile for read in repository.all_reads()}
    assert profiles == {"recist11_confirm28"}
