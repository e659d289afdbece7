"""The command line's dispatch: subcommands, usage errors, negative coordinates."""

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
