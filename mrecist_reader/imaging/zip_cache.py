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

The cache's folder and size limit are passed in (:class:`ZipCache`); this module reads
no environment variable and no settings file: the application's settings
(:mod:`mrecist_reader.settings`, ``zip_cache_dir`` and ``zip_cache_mb``) give them.
"""

import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import platformdirs

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.imaging.volume import SkippedFile

if sys.platform != "win32":
    import fcntl

logger = logging.getLogger(__name__)

APP_NAME = "mrecist_reader"
DEFAULT_CACHE_LIMIT_MB = 5120
"""Default zip cache limit (5 GiB)."""
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

    """

    folder: Path
    limit_mb: int = DEFAULT_CACHE_LIMIT_MB

    def __post_init__(self) -> None:
        """Refuse a negative limit."""
        if self.limit_mb < 0:
            raise InvalidCacheLimit(
                f"cache_limit_mb: {self.limit_mb!r} is not a size; expected a whole "
                "number of MiB, 0 or more"
            )

    def extract(self, path: Path) -> Extraction:
        """Extract ``path`` once (or reuse its extraction), then trim the cache.

        Raises
        ------
        zipfile.BadZipFile, OSError, EOFError
            When the archive itself cannot be read.

        """
        target = self.folder / _sha256(path)
        if _is_complete(target):
            _mark_used(target)
            refused = _recorded_refusals(path, target)
        else:
            refused = _extract_into_place(path, self.folder, target)
            logger.info("extracted a zip archive into %s", target)
        prune_zip_cache(self.folder, self.limit_mb * _MIB, keep=target)
        return Extraction(target, refused)


def default_cache_dir() -> Path:
    """Return the per-user folder where zip archives are extracted."""
    return Path(platformdirs.user_cache_path(APP_NAME, appauthor=False)) / "zips"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def prune_zip_cache(
    parent: Path, limit: int, *, keep: Path | None = None
) -> list[Path]:
    """Trim the zip cache under ``parent`` to ``limit`` bytes, least recently used first.

    Leftovers of crashed extractions are removed first. Then complete extraction folders
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

    Returns
    -------
    list of Path
        The extraction folders removed to meet the limit, in removal order.

    """
    if not parent.is_dir():
        return []
    _remove_leftovers(parent)
    entries = sorted(_complete_extractions(parent), key=lambda e: (e[1], e[0].name))
    total = sum(size for _, _, size in entries)
    removed: list[Path] = []
    for folder, _, size in entries:
        if total <= limit:
            break
        if keep is not None and folder.name == keep.name:
            continue
        if _discard(folder):
            total -= size
            removed.append(folder)
    if removed:
        logger.info(
            "zip cache: removed %d least recently used extraction(s); %d MiB kept "
            "(limit %d MiB)",
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
    """Refresh a reused extraction's mtime, which orders the cache's eviction."""
    try:
        os.utime(folder)
    except OSError as error:
        logger.warning("zip cache: cannot mark %s as used: %s", folder, error)


def _extract_into_place(
    path: Path, parent: Path, target: Path
) -> tuple[SkippedFile, ...]:
    """Extract ``path`` into a locked temporary folder, then rename it to ``target``."""
    parent.mkdir(parents=True, exist_ok=True)
    with _extraction_folder(parent) as work:
        refused = _extract_safely(path, work)
        _record_refusals(work, path, refused)
        size = _tree_size(work)
        (work / _COMPLETE_MARKER).write_text(f"{size}\n", encoding="ascii")
        _publish(work, target)
    return refused


@contextmanager
def _extraction_folder(parent: Path) -> Iterator[Path]:
    """Yield a new ``extract-*`` folder, locked until the block ends, then removed.

    The lock (``flock`` on a file inside the folder, released by the kernel when the
    process dies) tells other processes the folder is in use; once published, the
    folder has been renamed away and only its lock file is left to delete.
    """
    work = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=parent))
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
    with zipfile.ZipFile(path) as archive:
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
    (folder / _SKIPPED_RECORD).write_text(json.dumps(members), encoding="utf-8")


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
    if isinstance(error, OSError):
        return f"could not be extracted from the zip archive: {error.strerror or text}"
    return f"damaged inside the zip archive: {text}"


def _refusal(path: Path, member: str) -> SkippedFile:
    return SkippedFile(
        f"{path}!{member}", "zip member path leaves the archive's folder: refused"
    )


def _extract_safely(path: Path, folder: Path) -> tuple[SkippedFile, ...]:
    refused: list[SkippedFile] = []
    root = folder.resolve()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not _member_is_safe(info.filename):
                refused.append(_refusal(path, info.filename))
                continue
            destination = (root / info.filename.replace("\\", "/")).resolve()
            if not destination.is_relative_to(root):
                refused.append(_refusal(path, info.filename))
                continue
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as source, destination.open("wb") as sink:
                    shutil.copyfileobj(source, sink, _HASH_CHUNK)
            except (
                zipfile.BadZipFile,
                OSError,
                EOFError,
                NotImplementedError,
            ) as error:
                destination.unlink(missing_ok=True)  # never leave a partial file
                refused.append(
                    SkippedFile(f"{path}!{info.filename}", _member_reason(error))
                )
    return tuple(refused)
