"""`make run` on a fresh machine says what it is doing before each slow step."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make")


def _dry_run(tmp_path: Path, target: str) -> list[str]:
    """Return the commands ``make -n`` would run for ``target`` on a fresh machine."""
    result = subprocess.run(
        [
            "make",
            "-n",
            "--no-print-directory",
            target,
            f"VENV={tmp_path / 'venv'}",
            f"STAMP={tmp_path / 'venv' / '.installed'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.splitlines()


def _first(lines: list[str], text: str) -> int:
    return next(i for i, line in enumerate(lines) if text in line)


def test_make_run_announces_the_environment_and_the_install(tmp_path: Path) -> None:
    lines = _dry_run(tmp_path, "run")
    creating = _first(lines, "creating the environment")
    venv = _first(lines, "-m venv")
    announce = _first(lines, "installing Python packages (about a minute)")
    install = _first(lines, "pip install --quiet -e")
    assert creating <= venv < announce < install
    opening = _first(lines, "opening sample_dicom/")
    assert opening < _first(lines, "mrecist-reader sample_dicom")
