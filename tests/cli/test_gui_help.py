"""`mrecist-reader --help` explains the desktop application's own PATH, --db, --protocol."""

import pytest

from mrecist_reader.cli import main


def test_top_level_help_names_the_application_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "mrecist-reader [PATH] [--db URL] [--protocol NAME]" in out
    for option in ("PATH ", "--db URL", "--protocol NAME"):
        assert option in out.split("desktop application (without a command):")[1]
    assert "SQLAlchemy URL of the reads database" in out
    assert "protocol profile" in out
    assert max(len(line) for line in out.splitlines()) <= 88


def test_the_bare_form_help_gives_each_option_its_meaning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["some_folder", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--db URL" in out
    assert "--protocol NAME" in out
    assert "default: the settings' db_url" in " ".join(out.split())


@pytest.mark.parametrize("command", ["export", "endpoints", "audit"])
def test_a_commands_help_starts_with_its_own_usage(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: mrecist-reader {command} [-h]"), out[:200]
