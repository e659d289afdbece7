"""The zip extraction cache: each archive extracted once, the cache kept to a size.

Zip archives are extracted once into a cache folder named after the archive's SHA-256,
so the files stay available to the loader for as long as the cache lives; members whose
names would land outside that folder ("zip slip": ``../x``, absolute paths, drive
letters) are refused, never written, and members that cannot be read (damaged, cut
short) are named with the reason, also when the extraction is reused.

An archive is extracted into a temporary ``extract-*`` folder (locked while in progress)
that is renamed into place only once complete, so no process ever sees a half-written
extraction under an archive's hash. After each extraction or reuse, the
least-recently-used extraction folders (by folder mtime, refreshed on every reuse) are
removed while the cache holds more than its limit. The folder just extracted or reused
is never removed, nor is a temporary folder another process is still writing. Leftovers
of a crash (a temporary folder whose lock is free, a folder without its completion
marker) are removed and the archive is extracted again the next time it is opened.

Extractions are also removed once unused for longer than an age limit (default
:data:`DEFAULT_CACHE_MAX_AGE_DAYS` days; the cache holds identifiable copies of the
patients' images), and :func:`remove_extraction` removes one archive's extraction at
once (a blinded read calls it when it closes). Extracted files and folders are private
to the user (0600 and 0700, whatever the umask).

An archive is refused as a whole, before anything is written, when it could hurt
(:class:`UnsafeZipArchive`): more than :data:`MAX_MEMBERS` members, members declaring
more than :data:`MAX_EXPANSION_RATIO` times the archive's size (with an allowance of
:data:`ALWAYS_ALLOWED_MB`), more than the free space of the cache's disk, or entries
whose data overlap (the local headers, walked in file order, must not share bytes: an
overlapping-entry "zip bomb" expands one compressed kernel thousands of times). While
extracting, no member may write more than it declared.

The cache's folder and limits are passed in (:class:`ZipCache`); this module reads
no environment variable and no settings file: the application's settings
(:mod:`mrecist_reader.settings`, ``zip_cache_dir``, ``zip_cache_mb`` and
``zip_cache_days``) give them.
"""

import hashlib
import json
import logging
import math
import os
import re
import shutil
import stat
import struct
import sys
import tempfile
import time
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import platformdirs

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.imaging.files import open_regular
from mrecist_reader.imaging.volume import SkippedFile

if sys.platform != "win32":
    import fcntl

logger = logging.getLogger(__name__)

APP_NAME = "mrecist_reader"
DEFAULT_CACHE_LIMIT_MB = 5120
"""Default zip cache limit (5 GiB)."""
DEFAULT_CACHE_MAX_AGE_DAYS = 7
"""Extractions unused for longer than this are removed the next time the cache is used."""
MAX_MEMBERS = 100_000
"""An archive with more members is refused (a trial timepoint holds a few thousand)."""
MAX_EXPANSION_RATIO = 100
"""Members may declare at most this many times the archive's size in all (DICOM images
deflate to about a half or a quarter; a zip bomb to a thousandth)."""
ALWAYS_ALLOWED_MB = 64
"""Archives expanding to at most this many MiB are never refused for their ratio."""
_DAY_S = 86400.0
_PRIVATE_FILE = 0o600
_PRIVATE_FOLDER = 0o700
_COMPLETE_MARKER = ".complete"
_HASH_CHUNK = 1 << 20
_MIB = 1 << 20
_TEMP_PREFIX = "extract-"
_TRASH_PREFIX = "trash-"
_LOCK_NAME = ".extracting"
_SKIPPED_RECORD = ".skipped.json"
"""Members not extracted (with their reasons), reported again when the cache is reused."""
CACHE_FILES = frozenset({_COMPLETE_MARKER, _LOCK_NAME, _SKIPPED_RECORD})
"""Names of the cache's own files inside an extraction folder (not the archive's)."""
_EXTRACTION_NAME = re.compile(r"[0-9a-f]{64}")
_LOCKED_GRACE_S = 60.0
"""A temporary folder younger than this is never removed (its owner may be starting)."""
_UNLOCKED_STALE_S = 3600.0
"""A temporary folder without a lock file is abandoned once this old."""


class InvalidCacheLimit(MrecistError):
    """The zip cache limit (environment variable or argument) is not a size."""

    exit_status = 2


ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    NotImplementedError,  # an unknown compression method or zip version
    RuntimeError,  # an encrypted member
    ValueError,  # a name that does not decode, a negative size
    zlib.error,  # deflated data that does not inflate
    struct.error,
)
"""What reading a damaged archive or member raises (zipfile and zlib)."""


class UnsafeZipArchive(MrecistError):
    """An archive refused before extraction: it would expand beyond the limits."""

    exit_status = 2


@dataclass(frozen=True, slots=True)
class Extraction:
    """An archive's extraction folder and the members not written there (with why)."""

    folder: Path
    refused: tuple[SkippedFile, ...]


@dataclass(frozen=True, slots=True)
class ZipCache:
    """Where archives are extracted and how much the cache may hold.

    Attributes
    ----------
    folder
        Parent of the extraction folders (:func:`default_cache_dir` by default).
    limit_mb
        Size limit in MiB, 0 or more (0 keeps only the archive just opened).
    max_age_days
        Extractions unused for longer than this many days are removed, 0 or more
        (0 keeps only the archive just opened).
    max_members
        Archives with more members are refused.
    max_ratio
        Archives whose members declare more than this many times the archive's size
        (and more than :data:`ALWAYS_ALLOWED_MB`) are refused.

    """

    folder: Path
    limit_mb: int = DEFAULT_CACHE_LIMIT_MB
    max_age_days: int = DEFAULT_CACHE_MAX_AGE_DAYS
    max_members: int = MAX_MEMBERS
    max_ratio: int = MAX_EXPANSION_RATIO

    def __post_init__(self) -> None:
        """Refuse a negative limit or age."""
        if self.limit_mb < 0:
            raise InvalidCacheLimit(
                f"cache_limit_mb: {self.limit_mb!r} is not a size; expected a whole "
                "number of MiB, 0 or more"
            )
        if self.max_age_days < 0:
            raise InvalidCacheLimit(
                f"cache_max_age_days: {self.max_age_days!r} is not an age; expected "
                "a whole number of days, 0 or more"
            )

    def extract(self, path: Path) -> Extraction:
        """Extract ``path`` once (or reuse its extraction), then trim the cache.

        Raises
        ------
        zipfile.BadZipFile, OSError, EOFError
            When the archive itself cannot be read.
        UnsafeZipArchive
            When the archive would expand beyond the limits (nothing is written).

        """
        target = self.folder / _sha256(path)
        if _is_complete(target):
            _mark_used(target)
            refused = _recorded_refusals(path, target)
        else:
            refused = _extract_into_place(path, self.folder, target, limits=self)
            logger.info("extracted a zip archive into %s", target)
        prune_zip_cache(
            self.folder,
            self.limit_mb * _MIB,
            keep=target,
            max_age_s=self.max_age_days * _DAY_S,
        )
        return Extraction(target, refused)


def remove_extraction(folder: Path) -> bool:
    """Remove one archive's extraction folder now (a blinded read calls it on closing).

    Parameters
    ----------
    folder
        The folder an archive was extracted to
        (:attr:`mrecist_reader.imaging.sources.CollectedFiles.extracted_to`,
        :attr:`mrecist_reader.imaging.scan.ScanResult.extracted_to`).

    Returns
    -------
    bool
        True when the folder was removed, False when it was already gone.

    Raises
    ------
    ValueError
        When ``folder`` is not a zip cache extraction folder (nothing is removed).

    """
    if not _EXTRACTION_NAME.fullmatch(folder.name):
        raise ValueError(f"{folder}: not an extraction folder of the zip cache")
    if not folder.exists():
        return False
    if not (folder / _COMPLETE_MARKER).is_file() or folder.is_symlink():
        raise ValueError(f"{folder}: not an extraction folder of the zip cache")
    removed = _discard(folder)
    if removed:
        logger.info("zip cache: removed the extraction %s on request", folder.name)
    return removed


def extraction_folder(path: Path, cache_dir: Path | None = None) -> Path:
    """Return the folder where archive ``path`` is (or would be) extracted.

    Raises
    ------
    OSError
        When the archive cannot be read (its SHA-256 names the folder).

    """
    return (cache_dir or default_cache_dir()) / _sha256(path)


def default_cache_dir() -> Path:
    """Return the per-user folder where zip archives are extracted."""
    return Path(platformdirs.user_cache_path(APP_NAME, appauthor=False)) / "zips"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def prune_zip_cache(
    parent: Path,
    limit: int,
    *,
    keep: Path | None = None,
    max_age_s: float | None = None,
) -> list[Path]:
    """Trim the zip cache under ``parent`` to ``limit`` bytes, least recently used first.

    Leftovers of crashed extractions are removed first, then extraction folders unused
    for longer than ``max_age_s``. Then complete extraction folders
    are removed, oldest mtime first, while their total size exceeds ``limit``. ``keep``
    (the folder just extracted or reused) and temporary folders another process is
    still writing are never removed. Folders that cannot be removed are logged and
    skipped.

    Parameters
    ----------
    parent
        The cache folder (parent of the extraction folders).
    limit
        Size limit in bytes.
    keep
        An extraction folder that must stay whatever its age.
    max_age_s
        Extraction folders whose mtime (refreshed on every use) is older than this many
        seconds are removed; None keeps them whatever their age.

    Returns
    -------
    list of Path
        The extraction folders removed, in removal order.

    """
    if not parent.is_dir():
        return []
    _remove_leftovers(parent)
    entries = sorted(_complete_extractions(parent), key=lambda e: (e[1], e[0].name))
    total = sum(size for _, _, size in entries)
    removed: list[Path] = []
    oldest_kept = -math.inf if max_age_s is None else time.time() - max_age_s
    for folder, mtime, size in entries:
        if total <= limit and mtime >= oldest_kept:
            break
        if keep is not None and folder.name == keep.name:
            continue
        if _discard(folder):
            total -= size
            removed.append(folder)
    if removed:
        logger.info(
            "zip cache: removed %d least recently used or expired extraction(s); "
            "%d MiB kept (limit %d MiB)",
            len(removed),
            total // _MIB,
            limit // _MIB,
        )
    return removed


def _is_complete(folder: Path) -> bool:
    """Return whether an extraction finished (with its record of members not written).

    An older extraction, made before that record existed, counts as unfinished and is
    redone, so that its damaged members are named again.
    """
    return (folder / _COMPLETE_MARKER).is_file() and (
        folder / _SKIPPED_RECORD
    ).is_file()


def _mark_used(folder: Path) -> None:
    """Refresh a reused extraction's mtime (which orders eviction); keep it private."""
    try:
        os.utime(folder)
        if stat.S_IMODE(folder.stat().st_mode) != _PRIVATE_FOLDER:
            folder.chmod(_PRIVATE_FOLDER)
    except OSError as error:
        logger.warning("zip cache: cannot mark %s as used: %s", folder, error)


def _extract_into_place(
    path: Path, parent: Path, target: Path, *, limits: ZipCache
) -> tuple[SkippedFile, ...]:
    """Extract ``path`` into a locked temporary folder, then rename it to ``target``."""
    parent.mkdir(mode=_PRIVATE_FOLDER, parents=True, exist_ok=True)
    with open_regular(path) as stream, zipfile.ZipFile(stream) as archive:
        budget = _check_expansion(archive, stream, parent, limits=limits)
        with _extraction_folder(parent) as work:
            refused = _extract_safely(path, archive, work, budget)
            _record_refusals(work, path, refused)
            size = _tree_size(work)
            _write_private(work / _COMPLETE_MARKER, f"{size}\n".encode("ascii"))
            _publish(work, target)
    return refused


def _write_private(file: Path, data: bytes) -> None:
    """Write a new file readable by its owner only (0600 whatever the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(file, flags | getattr(os, "O_BINARY", 0), _PRIVATE_FILE)
    with os.fdopen(fd, "wb") as sink:
        sink.write(data)


def _check_expansion(
    archive: zipfile.ZipFile, stream: Any, parent: Path, *, limits: ZipCache
) -> int:
    """Refuse an archive that would expand beyond the limits; return its declared size.

    Raises
    ------
    UnsafeZipArchive
        Too many members, too large a total or ratio, not enough free disk space, or
        overlapping entries.

    """
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise UnsafeZipArchive(
            f"zip archive has {len(members)} members, more than {limits.max_members}: "
            "not opened (a zip bomb?)"
        )
    declared = sum(info.file_size for info in members)
    size = os.fstat(stream.fileno()).st_size
    allowed = max(ALWAYS_ALLOWED_MB * _MIB, limits.max_ratio * size)
    if declared > allowed:
        raise UnsafeZipArchive(
            f"zip archive would expand to {declared} bytes, more than "
            f"{limits.max_ratio} times its {size} bytes: not opened (a zip bomb?)"
        )
    free = shutil.disk_usage(parent).free
    if declared > free:
        raise UnsafeZipArchive(
            f"zip archive would expand to {declared} bytes; the zip cache's disk has "
            f"{free} bytes free: not opened"
        )
    overlap = _overlapping_entry(members, stream, archive.start_dir)
    if overlap:
        raise UnsafeZipArchive(
            f"zip archive entries overlap ({overlap}): not opened (a zip bomb?)"
        )
    return declared


_LOCAL_HEADER = struct.Struct("<4s22xHH")
"""Signature, then (after 22 bytes) the name and extra field lengths (APPNOTE 4.3.7)."""


def _overlapping_entry(
    members: list[zipfile.ZipInfo], stream: Any, central_directory: int
) -> str:
    """Name the first member whose local header or data overlaps another's ('' if none).

    Each member's local header is read (its own name and extra lengths, which may
    differ from the central directory's) to find where its data ends; walked in file
    order, every member must start at or after the end of the one before, and all must
    end before the central directory.
    """
    end = 0
    previous = ""
    for info in sorted(members, key=lambda i: i.header_offset):
        if info.header_offset < end:
            return f"{info.filename!r} starts inside {previous!r}"
        stream.seek(info.header_offset)
        raw = stream.read(_LOCAL_HEADER.size)
        if len(raw) < _LOCAL_HEADER.size:
            return f"{info.filename!r} starts beyond the end of the archive"
        signature, name_length, extra_length = _LOCAL_HEADER.unpack(raw)
        if signature != b"PK\x03\x04":
            return f"{info.filename!r} has no local header where it should start"
        end = (
            info.header_offset
            + _LOCAL_HEADER.size
            + name_length
            + extra_length
            + info.compress_size
        )
        previous = info.filename
    if end > central_directory:
        return f"{previous!r} runs into the archive's table of contents"
    return ""


@contextmanager
def _extraction_folder(parent: Path) -> Iterator[Path]:
    """Yield a new ``extract-*`` folder, locked until the block ends, then removed.

    The lock (``flock`` on a file inside the folder, released by the kernel when the
    process dies) tells other processes the folder is in use; once published, the
    folder has been renamed away and only its lock file is left to delete.
    """
    work = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=parent))  # mode 0700
    lock_fd: int | None = None
    try:
        if sys.platform != "win32":
            lock_fd = os.open(work / _LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
        yield work
    finally:
        if work.exists():
            _remove_tree(work)
        if lock_fd is not None:
            os.close(lock_fd)


def _publish(work: Path, target: Path) -> None:
    """Rename a complete extraction into place (another process may have won the race)."""
    if _is_complete(target):
        return
    if target.exists():
        logger.info("zip cache: redoing the incomplete extraction %s", target.name)
        _discard(target)
    try:
        work.rename(target)
    except OSError:
        if not _is_complete(target):
            raise
        return
    (target / _LOCK_NAME).unlink(missing_ok=True)


def _tree_size(folder: Path) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                continue
    return total


def _recorded_size(folder: Path) -> int:
    """Return an extraction's size from its marker (older markers are empty)."""
    try:
        text = (folder / _COMPLETE_MARKER).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    return int(text) if text.isdecimal() else _tree_size(folder)


def _complete_extractions(parent: Path) -> Iterator[tuple[Path, float, int]]:
    """Yield (folder, mtime, size) of every complete extraction folder."""
    for folder in parent.iterdir():
        if not _EXTRACTION_NAME.fullmatch(folder.name) or not _is_complete(folder):
            continue
        try:
            mtime = folder.stat().st_mtime
        except FileNotFoundError:
            continue
        yield folder, mtime, _recorded_size(folder)


def _remove_leftovers(parent: Path) -> None:
    """Remove what crashed processes left: trash, abandoned temporaries, half folders."""
    for entry in parent.iterdir():
        name = entry.name
        if name.startswith(_TRASH_PREFIX):
            _remove_tree(entry)
        elif name.startswith(_TEMP_PREFIX) and entry.is_dir():
            _remove_if_abandoned(entry)
        elif _EXTRACTION_NAME.fullmatch(name) and not _is_complete(entry):
            logger.info("zip cache: removing the half-written extraction %s", name)
            _discard(entry)


def _remove_if_abandoned(work: Path) -> None:
    """Remove a temporary extraction folder whose process has died."""
    try:
        age = time.time() - work.stat().st_mtime
    except FileNotFoundError:
        return
    if sys.platform == "win32":
        if age > _UNLOCKED_STALE_S:
            _discard(work)
        return
    try:
        fd = os.open(work / _LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        if age > _UNLOCKED_STALE_S and work.exists():
            _discard(work)
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        if age > _LOCKED_GRACE_S:
            logger.info("zip cache: removing an abandoned extraction %s", work.name)
            _discard(work)
    finally:
        os.close(fd)


def _discard(folder: Path) -> bool:
    """Move a folder out of the way atomically, then delete it; False when it failed."""
    trash = folder.with_name(f"{_TRASH_PREFIX}{uuid.uuid4().hex}")
    try:
        folder.rename(trash)
    except FileNotFoundError:
        return False
    except OSError as error:
        logger.warning("zip cache: cannot remove %s: %s", folder, error)
        return False
    _remove_tree(trash)
    return True


def _remove_tree(folder: Path) -> None:
    def report(_function: object, failed: str, error: BaseException) -> None:
        if not isinstance(error, FileNotFoundError):
            logger.warning("zip cache: cannot delete %s: %s", failed, error)

    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=report)
    else:
        shutil.rmtree(folder, onerror=lambda f, p, info: report(f, p, info[1]))


def _member_is_safe(name: str) -> bool:
    normalised = name.replace("\\", "/")
    pure = PurePosixPath(normalised)
    if pure.is_absolute() or normalised.startswith("/"):
        return False
    if len(normalised) > 1 and normalised[1] == ":":
        return False
    return ".." not in pure.parts


def _unsafe_members(path: Path) -> tuple[SkippedFile, ...]:
    with open_regular(path) as stream, zipfile.ZipFile(stream) as archive:
        return tuple(
            _refusal(path, info.filename)
            for info in archive.infolist()
            if not _member_is_safe(info.filename)
        )


def _record_refusals(
    folder: Path, path: Path, refused: tuple[SkippedFile, ...]
) -> None:
    """Write the members not extracted into the extraction folder (member, reason)."""
    prefix = f"{path}!"
    members = [[s.path.removeprefix(prefix), s.reason] for s in refused]
    _write_private(folder / _SKIPPED_RECORD, json.dumps(members).encode("utf-8"))


def _recorded_refusals(path: Path, folder: Path) -> tuple[SkippedFile, ...]:
    """Return the members an earlier extraction did not write, named for ``path``.

    Extractions made before the record existed: the unsafe members are found again
    (damaged ones, then, are not known).
    """
    try:
        members = json.loads((folder / _SKIPPED_RECORD).read_text(encoding="utf-8"))
        return tuple(SkippedFile(f"{path}!{m}", str(r)) for m, r in members)
    except (OSError, ValueError, TypeError):
        return _unsafe_members(path)


def _member_reason(error: BaseException) -> str:
    """Say in words why a zip member could not be extracted."""
    text = str(error)
    if isinstance(error, zipfile.BadZipFile) and "CRC" in text:
        return (
            "damaged inside the zip archive (its checksum does not match): not used; "
            "ask for the archive again"
        )
    if isinstance(error, EOFError):
        return "cut short inside the zip archive (incomplete download?): not used"
    if isinstance(error, NotImplementedError):
        return f"packed in the zip archive in a way that cannot be unpacked ({text})"
    if isinstance(error, RuntimeError) and "encrypted" in text:
        return "encrypted in the zip archive (password protected): not used"
    if isinstance(error, zlib.error):
        return (
            "damaged inside the zip archive (its compressed data cannot be unpacked): "
            "not used; ask for the archive again"
        )
    if isinstance(error, OSError):
        return f"could not be extracted from the zip archive: {error.strerror or text}"
    return f"damaged inside the zip archive: {text}"


def _refusal(path: Path, member: str) -> SkippedFile:
    return SkippedFile(
        f"{path}!{member}", "zip member path leaves the archive's folder: refused"
    )


def _extract_safely(
    path: Path, archive: zipfile.ZipFile, folder: Path, budget: int
) -> tuple[SkippedFile, ...]:
    """Write the archive's safe members into ``folder`` (private: 0700 and 0600).

    ``budget`` is the total the members declared; no member may write more than it
    declared, so the extraction never exceeds what :func:`_check_expansion` allowed.
    """
    refused: list[SkippedFile] = []
    root = folder.resolve()
    written = 0
    for info in archive.infolist():
        if not _member_is_safe(info.filename):
            refused.append(_refusal(path, info.filename))
            continue
        destination = (root / info.filename.replace("\\", "/")).resolve()
        if not destination.is_relative_to(root):
            refused.append(_refusal(path, info.filename))
            continue
        if info.is_dir():
            _make_private_folders(root, destination)
            continue
        _make_private_folders(root, destination.parent)
        try:
            written += _copy_member(archive, info, destination, budget - written)
        except ZIP_ERRORS as error:
            destination.unlink(missing_ok=True)  # never leave a partial file
            refused.append(
                SkippedFile(f"{path}!{info.filename}", _member_reason(error))
            )
    return tuple(refused)


def _make_private_folders(root: Path, folder: Path) -> None:
    """Create ``folder`` and its missing parents under ``root``, each 0700."""
    missing: list[Path] = []
    current = folder
    while current != root and not current.is_dir():
        missing.append(current)
        current = current.parent
    for created in reversed(missing):
        created.mkdir(mode=_PRIVATE_FOLDER, exist_ok=True)


def _copy_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path, budget: int
) -> int:
    """Copy one member into a new private file; return the bytes written.

    Raises
    ------
    zipfile.BadZipFile
        When the member expands beyond its declared size or the archive's budget.

    """
    allowed = min(info.file_size, max(budget, 0))
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(destination, flags | getattr(os, "O_BINARY", 0), _PRIVATE_FILE)
    written = 0
    with archive.open(info) as source, os.fdopen(fd, "wb") as sink:
        while chunk := source.read(_HASH_CHUNK):
            written += len(chunk)
            if written > allowed:
                raise zipfile.BadZipFile(
                    "expands beyond its declared size (a zip bomb?)"
                )
            sink.write(chunk)
    return written
