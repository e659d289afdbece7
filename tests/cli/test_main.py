"""The command line's dispatch: subcommands, usage errors, negative coordinates."""

from pathlib import Path

import pytest

from mrecist_reader.cli import _join_signed_values, main


def test_a_negative_coordinate_after_at_is_a_value_not_an_option() -> None:
    argv = ["measure", "series", "--at", "-52,12,-130", "--json"]
    assert _join_signed_values(argv) == [
        "measure",
        "series",
        "--at=-52,12,-130",
        "--json",
    ]


def test_an_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", "--no-such-option", "m.csv"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("scan", "measure", "assess", "import", "export", "audit"):
        assert command in out


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "0.1.0"


def test_a_database_url_that_cannot_be_used_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--db", "nonsense://x", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "nonsense://x is not a database URL" in err
    assert "Traceback" not in err


def test_an_unreachable_database_server_is_named_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://reader:s3cret@127.0.0.1:1/reads"  # nothing listens on port 1
    assert main(["export", "--db", url, "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "cannot open the reads database postgresql://reader:***@127.0.0.1:1" in err
    assert "s3cret" not in err
    assert not (tmp_path / "out").exists()
