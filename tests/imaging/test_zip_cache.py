"""The zip extraction cache: reuse, least-recently-used trimming, crash leftovers."""

import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.imaging.sources import (
    CACHE_LIMIT_ENV,
    DEFAULT_CACHE_LIMIT_MB,
    InvalidCacheLimit,
    cache_limit_bytes,
    collect_files,
    extract_zip,
)
from mrecist_reader.imaging.zip_cache import ZipCache
from mrecist_reader.settings import DEFAULT_ZIP_CACHE_MB, load_settings

MIB = 1 << 20
LONG_AGO = 3 * 3600.0


def _archive(folder: Path, name: str, size: int, seed: int) -> Path:
    """Write ``name.zip`` holding two incompressible members, ``size`` bytes in all."""
    data = random.Random(seed).randbytes(size)
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("study/series/1.dcm", data[: size // 2])
        zipped.writestr("study/series/2.dcm", data[size // 2 :])
    return path


def _backdate(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when))


def _extractions(cache: Path) -> set[str]:
    return {entry.name for entry in cache.iterdir()}


def _extract(archive: Path, cache: Path, limit_mb: int) -> Path:
    collected = extract_zip(archive, cache_dir=cache, cache_limit_mb=limit_mb)
    assert collected.skipped == ()
    assert collected.extracted_to is not None
    assert [f.name for f in collected.files] == ["1.dcm", "2.dcm"]
    return collected.extracted_to


def test_reuse_keeps_the_folder_and_marks_it_recently_used(tmp_path: Path) -> None:
    archive = _archive(tmp_path, "a", 64 * 1024, seed=1)
    cache = tmp_path / "cache"
    first = _extract(archive, cache, limit_mb=10)
    _backdate(first, LONG_AGO)
    again = _extract(archive, cache, limit_mb=10)
    assert again == first
    assert time.time() - again.stat().st_mtime < LONG_AGO / 2
    assert _extractions(cache) == {first.name}


def test_least_recently_used_extraction_goes_first(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    a, b, c = (
        _archive(tmp_path, name, 800 * 1024, seed) for seed, name in enumerate("abc")
    )
    folder_a = _extract(a, cache, limit_mb=2)
    folder_b = _extract(b, cache, limit_mb=2)
    _backdate(folder_a, 200)
    _backdate(folder_b, 100)
    assert _extract(a, cache, limit_mb=2) == folder_a  # reused: now the most recent
    folder_c = _extract(c, cache, limit_mb=2)
    assert _extractions(cache) == {folder_a.name, folder_c.name}
    assert (folder_a / "study/series/1.dcm").stat().st_size == 400 * 1024


def test_the_archive_just_opened_stays_even_over_the_limit(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _extract(_archive(tmp_path, "a", 64 * 1024, 1), cache, limit_mb=0)
    second = _extract(_archive(tmp_path, "b", 64 * 1024, 2), cache, limit_mb=0)
    assert _extractions(cache) == {second.name}
    assert not first.exists()
    assert all(path.is_file() for path in second.rglob("*.dcm"))


def test_limit_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_LIMIT_ENV, "0")
    cache = tmp_path / "cache"
    collect_files(_archive(tmp_path, "a", 4096, 1), cache_dir=cache)
    last = collect_files(_archive(tmp_path, "b", 4096, 2), cache_dir=cache)
    assert last.extracted_to is not None
    assert _extractions(cache) == {last.extracted_to.name}


def test_the_command_line_takes_folder_and_limit_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "settings-cache"
    monkeypatch.setenv("MRECIST_READER_ZIP_CACHE_DIR", str(cache))
    monkeypatch.setenv(CACHE_LIMIT_ENV, "0")
    settings = load_settings(os.environ, None)
    assert (settings.zip_cache_path, settings.zip_cache_mb) == (cache, 0)
    for seed, name in enumerate("ab"):
        assert main(["scan", str(_archive(tmp_path, name, 4096, seed))]) == 0
    assert len(_extractions(cache)) == 1  # limit 0: only the archive just opened
    capsys.readouterr()
    monkeypatch.setenv(CACHE_LIMIT_ENV, "5GB")
    assert main(["scan", str(_archive(tmp_path, "c", 4096, 3))]) == 2
    error = capsys.readouterr().err
    assert f"${CACHE_LIMIT_ENV}: '5GB' is not a size" in error


def test_the_cache_module_takes_its_folder_and_limit(tmp_path: Path) -> None:
    cache = ZipCache(tmp_path / "cache", limit_mb=0)
    first = cache.extract(_archive(tmp_path, "a", 4096, 1))
    second = cache.extract(_archive(tmp_path, "b", 4096, 2))
    assert not first.folder.exists()
    assert second.refused == ()
    assert _extractions(tmp_path / "cache") == {second.folder.name}
    with pytest.raises(InvalidCacheLimit):
        ZipCache(tmp_path, limit_mb=-1)
    assert DEFAULT_ZIP_CACHE_MB == DEFAULT_CACHE_LIMIT_MB


def test_default_limit_is_five_gib() -> None:
    assert DEFAULT_CACHE_LIMIT_MB == 5120
    assert cache_limit_bytes({}) == 5 * 1024 * MIB
    assert cache_limit_bytes({CACHE_LIMIT_ENV: " 300 "}) == 300 * MIB
    assert cache_limit_bytes({CACHE_LIMIT_ENV: "300"}, limit_mb=7) == 7 * MIB


def test_a_limit_that_is_not_a_size_is_named_and_nothing_is_extracted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_LIMIT_ENV, "5GB")
    cache = tmp_path / "cache"
    with pytest.raises(InvalidCacheLimit) as caught:
        collect_files(_archive(tmp_path, "a", 4096, 1), cache_dir=cache)
    assert str(caught.value).startswith(f"${CACHE_LIMIT_ENV}: '5GB' is not a size")
    assert "whole number of MiB" in str(caught.value)
    assert caught.value.exit_status == 2
    assert not cache.exists()
    with pytest.raises(InvalidCacheLimit, match="cache_limit_mb: -1"):
        cache_limit_bytes({}, limit_mb=-1)


def test_files_of_others_in_the_cache_folder_are_left_alone(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "mine").mkdir(parents=True)
    (cache / "notes.txt").write_text("keep me")
    kept = _extract(_archive(tmp_path, "a", 4096, 1), cache, limit_mb=0)
    assert _extractions(cache) == {"mine", "notes.txt", kept.name}


def test_a_folder_without_its_completion_marker_is_extracted_again(
    tmp_path: Path,
) -> None:
    archive = _archive(tmp_path, "a", 64 * 1024, seed=1)
    cache = tmp_path / "cache"
    target = _extract(archive, cache, limit_mb=10)
    (target / ".complete").unlink()
    (target / "study/series/2.dcm").unlink()
    (target / "study/series/1.dcm").write_bytes(b"half written")
    again = _extract(archive, cache, limit_mb=10)
    assert again == target
    assert (target / "study/series/1.dcm").stat().st_size == 32 * 1024
    assert (target / "study/series/2.dcm").stat().st_size == 32 * 1024


_CRASH = """
import os, sys
from pathlib import Path
from mrecist_reader.imaging import sources, zip_cache
zip_cache._publish = lambda work, target: os._exit(3)
sources.extract_zip(Path(sys.argv[1]), cache_dir=Path(sys.argv[2]))
"""


def test_an_extraction_killed_midway_is_cleaned_up_and_redone(tmp_path: Path) -> None:
    archive = _archive(tmp_path, "a", 64 * 1024, seed=1)
    cache = tmp_path / "cache"
    crashed = subprocess.run(
        [sys.executable, "-c", _CRASH, str(archive), str(cache)], check=False
    )
    assert crashed.returncode == 3
    (leftover,) = cache.iterdir()
    assert leftover.name.startswith("extract-")
    assert (leftover / "study/series/1.dcm").is_file()
    _backdate(leftover, LONG_AGO)
    target = _extract(archive, cache, limit_mb=10)
    assert _extractions(cache) == {target.name}
    assert (target / ".complete").is_file()


_HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_an_extraction_another_process_is_writing_is_never_removed(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    busy = cache / "extract-busy"
    (busy / "study").mkdir(parents=True)
    (busy / "study/1.dcm").write_bytes(b"\0" * 4096)
    (busy / ".extracting").touch()
    _backdate(busy, LONG_AGO)
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(busy / ".extracting")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdout is not None
        assert writer.stdin is not None
        assert writer.stdout.readline() == "locked\n"
        first = _extract(_archive(tmp_path, "a", 4096, 1), cache, limit_mb=0)
        assert _extractions(cache) == {busy.name, first.name}
        writer.stdin.close()
        assert writer.wait() == 0
    second = _extract(_archive(tmp_path, "b", 4096, 2), cache, limit_mb=0)
    assert _extractions(cache) == {second.name}
