"""Hostile zip archives and the zip cache's privacy (issue 21, items 9 and 12).

Archives are crafted here: zip bombs (a small archive declaring gigabytes), entries
whose data overlap (one compressed kernel expanded again and again), too many members,
an archive larger than the free disk space. Each is refused before anything is
written. The cache forgets extractions after an age limit, keeps them private to the
user, and removes one archive's extraction on request (a blinded read, on closing).
"""

import os
import random
import shutil
import stat
import struct
import time
import zipfile
import zlib
from collections import namedtuple
from collections.abc import Callable
from pathlib import Path

import pytest

from mrecist_reader.imaging import zip_cache
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.sources import extract_zip
from mrecist_reader.imaging.zip_cache import (
    DEFAULT_CACHE_MAX_AGE_DAYS,
    UnsafeZipArchive,
    ZipCache,
    extraction_folder,
    remove_extraction,
)
from tests.kit.dicom import SeriesSpec, write_series

MIB = 1 << 20
DAY_S = 86400.0


def _extractions(cache: Path) -> list[Path]:
    if not cache.is_dir():
        return []
    return [p for p in cache.iterdir() if len(p.name) == 64]


def _written_bytes(cache: Path) -> int:
    if not cache.is_dir():
        return 0
    return sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())


def _archive(folder: Path, name: str, size: int = 64 * 1024, seed: int = 0) -> Path:
    """Write ``name.zip``: two incompressible members in ``study/series/``."""
    data = random.Random(seed).randbytes(size)
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("study/series/1.dcm", data[: size // 2])
        zipped.writestr("study/series/2.dcm", data[size // 2 :])
    return path


# ---------------------------------------------------------------- raw zip writing


def _local(name: bytes, data: bytes, size: int, crc: int, method: int) -> bytes:
    header = struct.pack(
        "<4sHHHHHIIIHH",
        b"PK\x03\x04",
        20,
        0,
        method,
        0,
        0,
        crc,
        len(data),
        size,
        len(name),
        0,
    )
    return header + name + data


def _central(
    name: bytes, offset: int, packed: int, size: int, crc: int, method: int
) -> bytes:
    header = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        20,
        20,
        0,
        method,
        0,
        0,
        crc,
        packed,
        size,
        len(name),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    return header + name


def _end(count: int, directory_size: int, directory_offset: int) -> bytes:
    return struct.pack(
        "<4sHHHHIIH",
        b"PK\x05\x06",
        0,
        0,
        count,
        count,
        directory_size,
        directory_offset,
        0,
    )


def _deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _write_raw(path: Path, body: bytes, entries: list[bytes]) -> Path:
    directory = b"".join(entries)
    path.write_bytes(body + directory + _end(len(entries), len(directory), len(body)))
    return path


# ---------------------------------------------------------------- 12 zip blow-ups


def test_a_zip_bomb_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zipped,
        zipped.open("zeros.dcm", "w", force_zip64=True) as member,
    ):
        for _ in range(80):  # 80 MiB of zeros: about 80 KB compressed
            member.write(bytes(MIB))
    cache = tmp_path / "cache"
    collected = extract_zip(bomb, cache_dir=cache)
    assert collected.files == ()
    ((path, reason),) = [(s.path, s.reason) for s in collected.skipped]
    assert path == str(bomb)
    assert "would expand to 83886080 bytes, more than 100 times its" in reason
    assert "zip bomb" in reason
    assert _extractions(cache) == []
    assert _written_bytes(cache) == 0


def test_overlapping_entries_are_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    zeros = bytes(MIB)
    kernel = _deflated(zeros)  # about 1 KB that inflates to 1 MiB
    crc = zlib.crc32(zeros)
    body = _local(b"a.dcm", kernel, len(zeros), crc, zipfile.ZIP_DEFLATED)
    entries = [
        _central(b"a.dcm", 0, len(kernel), len(zeros), crc, zipfile.ZIP_DEFLATED)
    ] * 40  # one kernel, forty entries: 40 MiB from a 40 KB file
    archive = _write_raw(tmp_path / "overlap.zip", body, entries)
    cache = tmp_path / "cache"
    collected = extract_zip(archive, cache_dir=cache)
    (skipped,) = collected.skipped
    assert skipped.path == str(archive)
    assert skipped.reason.startswith("zip archive entries overlap (")
    assert _extractions(cache) == []
    assert _written_bytes(cache) == 0


def test_an_entry_whose_data_holds_the_next_entry_is_refused(tmp_path: Path) -> None:
    inner_data = b"inner image bytes" * 64
    inner = _local(b"b.dcm", inner_data, len(inner_data), zlib.crc32(inner_data), 0)
    outer_header_length = 30 + len(b"a.dcm")
    outer = _local(b"a.dcm", inner, len(inner), zlib.crc32(inner), 0)
    entries = [
        _central(b"a.dcm", 0, len(inner), len(inner), zlib.crc32(inner), 0),
        _central(
            b"b.dcm",
            outer_header_length,
            len(inner_data),
            len(inner_data),
            zlib.crc32(inner_data),
            0,
        ),
    ]
    archive = _write_raw(tmp_path / "quoted.zip", outer, entries)
    with zipfile.ZipFile(archive) as readable:  # a well-formed archive otherwise
        assert readable.read("b.dcm") == inner_data
    collected = extract_zip(archive, cache_dir=tmp_path / "cache")
    (skipped,) = collected.skipped
    assert skipped.reason == (
        "zip archive entries overlap ('b.dcm' starts inside 'a.dcm'): not opened "
        "(a zip bomb?)"
    )


def test_an_archive_with_more_members_than_the_limit_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for k in range(11):
            zipped.writestr(f"f{k}.dcm", b"")
    cache = ZipCache(tmp_path / "cache", max_members=10)
    with pytest.raises(UnsafeZipArchive, match="has 11 members, more than 10"):
        cache.extract(archive)
    assert _extractions(tmp_path / "cache") == []
    assert (
        len(ZipCache(tmp_path / "cache", max_members=11).extract(archive).refused) == 0
    )


def test_an_archive_larger_than_the_free_disk_space_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _archive(tmp_path, "a", size=64 * 1024)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(
        shutil, "disk_usage", lambda _path: usage(10**9, 10**9 - 1000, 1000)
    )
    collected = extract_zip(archive, cache_dir=tmp_path / "cache")
    (skipped,) = collected.skipped
    assert skipped.reason == (
        "zip archive would expand to 65536 bytes; the zip cache's disk has 1000 bytes "
        "free: not opened"
    )
    assert _extractions(tmp_path / "cache") == []


# ---------------------------------------------------------------- 9 the cache's privacy


def _backdate(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when))


def test_extractions_unused_beyond_the_age_limit_are_removed_on_use(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    old = extract_zip(_archive(tmp_path, "old", seed=1), cache_dir=cache).extracted_to
    recent = extract_zip(_archive(tmp_path, "recent", seed=2), cache_dir=cache)
    assert old is not None
    assert recent.extracted_to is not None
    _backdate(old, (DEFAULT_CACHE_MAX_AGE_DAYS + 1) * DAY_S)
    _backdate(recent.extracted_to, (DEFAULT_CACHE_MAX_AGE_DAYS - 1) * DAY_S)
    extract_zip(
        _archive(tmp_path, "kept", seed=3), cache_dir=cache, cache_max_age_days=30
    )
    assert old.is_dir()  # within 30 days
    new = extract_zip(_archive(tmp_path, "new", seed=4), cache_dir=cache)
    assert not old.exists()
    assert recent.extracted_to.is_dir()
    assert new.extracted_to is not None
    assert new.extracted_to.is_dir()
    assert len(_extractions(cache)) == 3


def test_the_archive_just_opened_stays_whatever_the_age_limit(tmp_path: Path) -> None:
    archive = _archive(tmp_path, "a")
    collected = extract_zip(archive, cache_dir=tmp_path / "cache", cache_max_age_days=0)
    assert collected.extracted_to is not None
    assert [f.name for f in collected.files] == ["1.dcm", "2.dcm"]
    assert all(f.is_file() for f in collected.files)


def test_a_negative_age_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(zip_cache.InvalidCacheLimit, match="whole number of days"):
        ZipCache(tmp_path, max_age_days=-1)


def test_extracted_files_and_folders_are_private_to_the_user(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a usual umask: new files would be world-readable
    try:
        collected = extract_zip(_archive(tmp_path, "a"), cache_dir=tmp_path / "cache")
    finally:
        os.umask(previous)
    folder = collected.extracted_to
    assert folder is not None
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    modes = {
        path.relative_to(folder).as_posix(): stat.S_IMODE(path.stat().st_mode)
        for path in [folder, *folder.rglob("*")]
    }
    assert modes == {
        ".": 0o700,
        "study": 0o700,
        "study/series": 0o700,
        "study/series/1.dcm": 0o600,
        "study/series/2.dcm": 0o600,
        ".complete": 0o600,
        ".skipped.json": 0o600,
    }


def test_a_blinded_read_removes_its_extraction_when_it_closes(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write_series(source, SeriesSpec(n_slices=3))
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted(source.iterdir()):
            zipped.write(file, f"study/{file.name}")
    cache = tmp_path / "cache"
    other = extract_zip(_archive(tmp_path, "other"), cache_dir=cache).extracted_to
    result = scan(archive, cache_dir=cache)
    assert len(result.series) == 1
    folder = result.extracted_to
    assert folder is not None
    assert folder == extraction_folder(archive, cache)
    assert all(f.is_relative_to(folder) for f in result.series[0].files)
    assert remove_extraction(folder) is True
    assert not folder.exists()
    assert other is not None
    assert other.is_dir()  # another archive's extraction stays
    assert remove_extraction(folder) is False  # already gone
    with pytest.raises(ValueError, match="not an extraction folder"):
        remove_extraction(source)
    assert source.is_dir()


# ---------------------------------------------------------------- 14 damaged archives


def _sound_zip(folder: Path) -> tuple[Path, bytearray]:
    path = folder / "study.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("study/1.dcm", bytes(range(256)) * 64)
    return path, bytearray(path.read_bytes())


def _break_deflate(data: bytearray) -> None:
    name_length, extra_length = struct.unpack_from("<HH", data, 26)
    data[30 + name_length + extra_length] = 0x07  # block type 3: reserved, invalid


def _unknown_version(data: bytearray) -> None:
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 6, 172)  # "version needed": 17.2


def _encrypted(data: bytearray) -> None:
    for header, flags_at in (
        (data.find(b"PK\x03\x04"), 6),
        (data.rfind(b"PK\x01\x02"), 8),
    ):
        data[header + flags_at] |= 0x01


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            _break_deflate,
            ("study.zip!study/1.dcm", "damaged inside the zip archive (its"),
        ),
        (
            _unknown_version,
            ("study.zip", "unreadable zip archive: zip file version 17.2"),
        ),
        (_encrypted, ("study.zip!study/1.dcm", "encrypted in the zip archive")),
    ],
    ids=["deflate-damaged", "unknown-version", "encrypted"],
)
def test_a_damaged_zip_archive_is_a_skipped_entry_never_an_internal_error(
    tmp_path: Path,
    damage: Callable[[bytearray], None],
    expected: tuple[str, str],
) -> None:
    path, data = _sound_zip(tmp_path)
    damage(data)
    path.write_bytes(bytes(data))
    result = scan(path, cache_dir=tmp_path / "cache")
    assert result.series == ()
    ((shown, reason),) = [(s.path, s.reason) for s in result.skipped]
    assert shown == f"{tmp_path}/{expected[0]}"
    assert reason.startswith(expected[1])
