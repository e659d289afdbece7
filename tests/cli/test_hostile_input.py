"""Hostile input to the command line: bad files, bad paths, bad URLs; clear exits, no loss."""

import shutil
from pathlib import Path

import pytest

from mrecist_reader.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "measurements"
GOOD = DATA / "nct06779461_central_two_subjects.csv"
FIRST_DIAMETER = "measured,45.0"
FIRST_CALIPER = "-60.25,20.50,110.00,-15.25"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "measurements.csv"
    shutil.copyfile(GOOD, path)
    return path


def edited(tmp_path: Path, old: str, new: str) -> Path:
    """Return a copy of the example with the first ``old`` replaced by ``new``."""
    text = GOOD.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "edited.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8", newline="")
    return path


def assess_errors(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Run ``assess`` expecting exit 1; return the stderr lines (and no stdout)."""
    assert main(["assess", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "internal error" not in captured.err
    return captured.err.splitlines()


def test_assess_refuses_to_write_responses_over_its_input(good, capsys):
    before = good.read_bytes()
    assert main(["assess", str(good), "-o", str(good.parent / "." / good.name)]) == 2
    assert "is the measurements file being read" in capsys.readouterr().err
    assert good.read_bytes() == before


def test_a_diameter_with_hundreds_of_digits_is_invalid_input(tmp_path, capsys):
    path = edited(tmp_path, FIRST_DIAMETER, "measured," + "9" * 400 + ".0")
    (line,) = assess_errors(path, capsys)
    assert line.startswith(f"{path}:2: viable_diameter_mm ")
    assert "larger than any lesion" in line
    assert "9" * 100 not in line  # the 400 digits are not echoed in full


def test_a_study_day_too_large_for_an_integer_is_invalid_input(tmp_path, capsys):
    path = edited(tmp_path, ",2026-01-05,0,T1", ",2026-01-05," + "9" * 5000 + ",T1")
    lines = assess_errors(path, capsys)
    assert any(
        line.startswith(f"{path}:2: study_day ") and "too large" in line
        for line in lines
    )


def test_a_coordinate_beyond_floating_point_is_invalid_input(tmp_path, capsys):
    path = edited(tmp_path, FIRST_CALIPER, "1e400,20.50,110.00,-15.25")
    (line,) = assess_errors(path, capsys)
    assert line.startswith(f"{path}:2: p1_x_mm '1e400' is not a number")


def test_non_ascii_digits_are_not_read_as_a_diameter(tmp_path, capsys):
    path = edited(tmp_path, FIRST_DIAMETER, "measured,\u06634.0")  # Arabic-Indic 3
    (line,) = assess_errors(path, capsys)
    assert line.startswith(f"{path}:2: viable_diameter_mm ")


def test_a_semicolon_separated_file_gets_one_clear_message(tmp_path, capsys):
    path = tmp_path / "semicolons.csv"
    path.write_text(GOOD.read_text(encoding="utf-8").replace(",", ";"), "utf-8")
    (line,) = assess_errors(path, capsys)
    assert line.startswith(f"{path}:1: the header row is separated by ';'")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:", " "])
def test_import_refuses_a_database_that_would_keep_nothing(good, url, capsys):
    assert main(["import", str(good), "--db", url]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: --db")
    assert "imported" not in captured.out


def test_a_database_url_with_a_driver_not_installed_is_a_usage_error(good, capsys):
    assert main(["import", str(good), "--db", "mysql://reader@dbhost/reads"]) == 2
    err = capsys.readouterr().err
    assert "is not a database URL this application can use" in err
    assert "internal error" not in err


@pytest.mark.parametrize("command", ["import", "export", "audit"])
def test_a_file_that_is_not_a_database_is_unreadable_and_untouched(
    good, tmp_path, command, capsys
):
    before = good.read_bytes()
    url = f"sqlite:///{good}"
    args = {
        "import": ["import", str(good), "--db", url],
        "export": ["export", "--db", url, "-o", str(tmp_path / "out")],
        "audit": ["audit", "--db", url],
    }[command]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"cannot open the reads database {url}: file is not a database" in err
    assert good.read_bytes() == before


def test_export_into_a_path_that_is_a_file_names_it(good, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    assert main(["import", str(good), "--db", db]) == 0
    capsys.readouterr()
    before = good.read_bytes()
    assert main(["export", "--db", db, "-o", str(good)]) == 2
    assert f"-o: {good}: is a file, expected the folder" in capsys.readouterr().err
    assert good.read_bytes() == before


def test_the_application_is_not_opened_on_a_path_that_does_not_exist(
    tmp_path, monkeypatch, capsys
):
    opened: list[object] = []
    monkeypatch.setattr(
        "mrecist_reader.ui.app.run_gui", lambda *a, **k: opened.append(a) or 0
    )
    missing = tmp_path / "no such study"
    assert main([str(missing)]) == 2
    assert f"error: {missing}: no such file or folder" in capsys.readouterr().err
    assert opened == []


def test_the_application_is_not_opened_with_an_unknown_protocol(
    tmp_path, monkeypatch, capsys
):
    opened: list[object] = []
    monkeypatch.setattr(
        "mrecist_reader.ui.app.run_gui", lambda *a, **k: opened.append(a) or 0
    )
    assert main([str(tmp_path), "--protocol", "no_such_profile"]) == 2
    assert "--protocol: unknown protocol profile" in capsys.readouterr().err
    assert opened == []


@pytest.mark.parametrize("command", ["export", "audit"])
def test_a_mistyped_database_path_is_not_created_by_a_reading_command(
    command, tmp_path, capsys
):
    typo = tmp_path / "reds.db"
    argv = {
        "export": ["export", "--db", f"sqlite:///{typo}", "-o", str(tmp_path / "out")],
        "audit": ["audit", "--db", f"sqlite:///{typo}"],
    }[command]
    assert main(argv) == 2
    assert f"no reads database at {typo}" in capsys.readouterr().err
    assert not typo.exists()
    assert not (tmp_path / "out").exists()
