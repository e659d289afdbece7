"""Exports follow the umask, blinded ones are private, killed ones leave nothing.

Issue 21, item 10.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mrecist_reader.core.model import ReadType
from mrecist_reader.desk.export import export_reads
from tests.storage.samples import sample_read

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture
def umask() -> Iterator[object]:
    """Let a test set the umask; restore it afterwards."""
    saved = os.umask(0o022)
    yield os.umask
    os.umask(saved)


def modes(folder: Path) -> set[int]:
    return {p.stat().st_mode & 0o777 for p in folder.iterdir()}


def test_an_export_under_umask_077_is_readable_by_its_owner_only(umask, tmp_path):
    os.umask(0o077)
    export_reads([sample_read()], tmp_path / "out")
    assert modes(tmp_path / "out") == {0o600}


def test_a_local_export_under_umask_022_is_readable_by_others(umask, tmp_path):
    export_reads([sample_read()], tmp_path / "out")
    assert modes(tmp_path / "out") == {0o644}


def test_a_blinded_export_is_readable_by_its_owner_only(umask, tmp_path):
    export_reads([sample_read("C1", ReadType.CENTRAL)], tmp_path / "out")
    assert modes(tmp_path / "out") == {0o600}
    export_reads([sample_read()], tmp_path / "local", blinded=True)
    assert modes(tmp_path / "local") == {0o600}


def test_the_temporary_files_of_a_killed_export_are_removed(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    killed = (
        "import os, signal\n"
        "from pathlib import Path\n"
        "from mrecist_reader.transfer.atomic import atomic_write_all\n"
        f"folder = Path({str(folder)!r})\n"
        "with atomic_write_all([folder / 'measurements.csv', folder / 'responses.csv'])"
        " as streams:\n"
        "    streams[0].write('half a fi'); streams[0].flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    run = subprocess.run([sys.executable, "-c", killed], check=False, timeout=60)
    assert run.returncode == -9
    assert len([p for p in folder.iterdir() if p.name.endswith(".tmp")]) == 2
    export_reads([sample_read()], folder)
    assert sorted(p.name for p in folder.iterdir()) == [
        "measurements.csv",
        "responses.csv",
    ]


def test_a_live_writers_temporary_file_is_kept(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    live = folder / f".measurements.csv.{os.getpid()}.abcd.tmp"
    live.write_text("being written", encoding="utf-8")
    export_reads([sample_read()], folder)
    assert live.exists()
