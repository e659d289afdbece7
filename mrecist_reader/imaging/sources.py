"""Where the files of a scan come from: a folder, a zip archive or a DICOMDIR.

:func:`collect_files` turns the path a user gave into the list of candidate files plus the
entries that could not even be located (a DICOMDIR record pointing at a missing file, a zip
member whose path escapes the archive). Zip archives are extracted once into a per-user
cache folder named after the archive's SHA-256, so the files stay available to the
loader for as long as the cache lives; members whose names would land outside that folder
("zip slip": ``../x``, absolute paths, drive letters) are refused, never written.

The zip cache is bounded. An archive is extracted into a temporary ``extract-*`` folder
(locked while in progress) that is renamed into place only once complete, so no process
ever sees a half-written extraction under an archive's hash. After each extraction or
reuse, the least-recently-used extraction folders (by folder mtime, refreshed on every
reuse) are removed while the cache holds more than the limit: 5120 MiB by default, set
with the ``MRECIST_READER_ZIP_CACHE_MB`` environment variable (whole MiB; 0 keeps only
the archive just opened) or the ``cache_limit_mb`` keyword of :func:`collect_files` and
:func:`extract_zip`. The folder just extracted or reused is never removed, nor is a
temporary folder another process is still writing. Leftovers of a crash (a temporary
folder whose lock is free, a folder without its completion marker) are removed and the
archive is extracted again the next time it is opened.

Nothing is dropped without a word: a subfolder that cannot be listed is reported in
``skipped`` ("folder cannot be read: <reason>"), and so is a zip archive found inside the
folder or archive being scanned ("zip archive inside the study: not opened (open it on its
own)"). Nested archives are deliberately not opened: each extraction is one cache folder
that the size limit may evict, a folder holding many archives (a downloads folder) would
silently fill the cache, and a member of an archive inside an archive has no path the user
could open again. A damaged archive (zip signature but no readable table of contents),
given as the path or met in a folder by its ``.zip`` name, is "unreadable zip archive:
<reason>". :func:`zip_archive_reason` names any file that starts with a zip signature,
for readers that meet one among DICOM files.
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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import platformdirs
import pydicom
from pydicom.errors import InvalidDicomError

from mrecist_reader.core.errors import MrecistError

if sys.platform != "win32":
    import fcntl

logger = logging.getLogger(__name__)

APP_NAME = "mrecist_reader"
_COMPLETE_MARKER = ".complete"
_HASH_CHUNK = 1 << 20

CACHE_LIMIT_ENV = "MRECIST_READER_ZIP_CACHE_MB"
"""Environment variable holding the zip cache limit in MiB."""
DEFAULT_CACHE_LIMIT_MB = 5120
"""Default zip cache limit (5 GiB)."""
_MIB = 1 << 20
_TEMP_PREFIX = "extract-"
_TRASH_PREFIX = "trash-"
_LOCK_NAME = ".extracting"
_SKIPPED_RECORD = ".skipped.json"
"""Members not extracted (with their reasons), reported again when the cache is reused."""
_HIDDEN_NAMES = frozenset({_COMPLETE_MARKER, _LOCK_NAME, _SKIPPED_RECORD})
_EXTRACTION_NAME = re.compile(r"[0-9a-f]{64}")
_LOCKED_GRACE_S = 60.0
"""A temporary folder younger than this is never removed (its owner may be starting)."""
_UNLOCKED_STALE_S = 3600.0
"""A temporary folder without a lock file is abandoned once this old."""


class InvalidCacheLimit(MrecistError):
    """The zip cache limit (environment variable or argument) is not a size."""

    exit_status = 2


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file (or a reference to one) that ``scan`` could not use, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class CollectedFiles:
    """Candidate files to read, and entries already known to be unusable."""

    files: tuple[Path, ...]
    skipped: tuple[SkippedFile, ...]
    archive: Path | None = None
    extracted_to: Path | None = None

    def display_path(self, file: Path) -> str:
        """Name a file as the user knows it: ``archive.zip!member`` for zip members."""
        if self.archive is None or self.extracted_to is None:
            return str(file)
        try:
            member = file.relative_to(self.extracted_to).as_posix()
        except ValueError:
            return str(file)
        return f"{self.archive}!{member}"


def collect_files(
    path: Path, *, cache_dir: Path | None = None, cache_limit_mb: int | None = None
) -> CollectedFiles:
    """Return the candidate files under ``path`` (a folder, zip file, DICOMDIR or file).

    Parameters
    ----------
    path
        Folder (searched recursively), ``.zip`` archive, DICOMDIR file or a single file.
    cache_dir
        Where zip archives are extracted (default: the user's cache folder).
    cache_limit_mb
        Size limit of the zip cache in MiB (default: :func:`cache_limit_bytes`).

    Returns
    -------
    CollectedFiles
        Files in a stable (sorted) order and the unusable entries found on the way.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.

    """
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        return CollectedFiles(*_walk_folder(path))
    if path.name.upper() == "DICOMDIR":
        return read_dicomdir(path)
    if zipfile.is_zipfile(path):
        return extract_zip(path, cache_dir=cache_dir, cache_limit_mb=cache_limit_mb)
    if _is_zip_name(path) or _starts_like_zip(path):
        return CollectedFiles((), (SkippedFile(str(path), zip_archive_reason(path)),))
    return CollectedFiles((path,), ())


ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
"""First bytes of a zip archive (local file header, empty archive, spanned archive)."""
NESTED_ZIP_REASON = "zip archive inside the study: not opened (open it on its own)"
"""Why a zip archive found inside a scanned folder or archive is not read."""


def zip_archive_reason(path: Path) -> str:
    """Say why a file that is (or claims to be) a zip archive is not read as an image.

    Parameters
    ----------
    path
        A file named ``*.zip`` or starting with a zip signature.

    Returns
    -------
    str
        ``unreadable zip archive: <reason>`` when the archive's table of contents cannot
        be read, else :data:`NESTED_ZIP_REASON` (a sound archive met among images).

    """
    try:
        with zipfile.ZipFile(path) as archive:
            archive.infolist()
    except zipfile.BadZipFile as error:
        return f"unreadable zip archive: {_bad_zip_detail(path, error)}"
    except (OSError, EOFError, ValueError) as error:
        return f"unreadable zip archive: {error}"
    return NESTED_ZIP_REASON


def _bad_zip_detail(path: Path, error: zipfile.BadZipFile) -> str:
    if str(error) != "File is not a zip file":
        return str(error)
    if _starts_like_zip(path):
        return (
            "its table of contents (end of central directory) is missing; "
            "the file is cut short or damaged"
        )
    return "no zip signature in the file; expected a zip archive"


def _starts_like_zip(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return stream.read(4) in ZIP_SIGNATURES
    except OSError:
        return False


def _is_zip_name(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def _walk_folder(folder: Path) -> tuple[tuple[Path, ...], tuple[SkippedFile, ...]]:
    """Return the files under ``folder`` (sorted), and the folders and archives skipped.

    A subfolder that cannot be listed and a ``*.zip`` file go to the second tuple, each
    with its reason; nothing is dropped silently.
    """
    found: list[Path] = []
    skipped: list[SkippedFile] = []

    def unreadable(error: OSError) -> None:
        where = error.filename if error.filename is not None else folder
        reason = error.strerror or str(error)
        skipped.append(SkippedFile(str(where), f"folder cannot be read: {reason}"))

    for root, dirs, names in os.walk(folder, onerror=unreadable):
        dirs.sort()
        for name in sorted(names):
            file = Path(root) / name
            if _is_zip_name(file):
                skipped.append(SkippedFile(str(file), zip_archive_reason(file)))
            else:
                found.append(file)
    return tuple(found), tuple(skipped)


def read_dicomdir(path: Path) -> CollectedFiles:
    """Return the files a DICOMDIR references; missing ones go to ``skipped``.

    Parameters
    ----------
    path
        The DICOMDIR file.

    Returns
    -------
    CollectedFiles
        Existing referenced files, and one ``SkippedFile`` per record whose file is
        missing (with the path it pointed to) or per unreadable DICOMDIR.

    """
    try:
        dicomdir = pydicom.dcmread(path, force=True)
        records = dicomdir.DirectoryRecordSequence
    except (InvalidDicomError, AttributeError, OSError, ValueError, EOFError) as error:
        return CollectedFiles(
            (), (SkippedFile(str(path), f"unreadable DICOMDIR: {error}"),)
        )
    root = path.parent
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    seen: set[Path] = set()
    for record in records:
        file_id = record.get("ReferencedFileID")
        if not file_id:
            continue
        parts = [file_id] if isinstance(file_id, str) else [str(p) for p in file_id]
        target = _resolve_case_insensitive(root, parts)
        if target is None or not _is_within(target, root):
            pointed = root.joinpath(*parts)
            skipped.append(
                SkippedFile(str(pointed), "DICOMDIR record points at a missing file")
            )
            continue
        if target not in seen:
            seen.add(target)
            files.append(target)
    return CollectedFiles(tuple(files), tuple(skipped))


def _resolve_case_insensitive(root: Path, parts: list[str]) -> Path | None:
    """Find ``root/parts`` allowing case differences (DICOMDIR IDs are upper case)."""
    current = root
    for part in parts:
        if part in ("..", ".", ""):
            return None
        exact = current / part
        if exact.exists():
            current = exact
            continue
        if not current.is_dir():
            return None
        try:
            children = list(current.iterdir())
        except OSError:  # a folder that cannot be listed: the record stays dangling
            return None
        matches = [child for child in children if child.name.upper() == part.upper()]
        if not matches:
            return None
        current = matches[0]
    return current if current.is_file() else None


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def default_cache_dir() -> Path:
    """Return the per-user folder where zip archives are extracted."""
    return Path(platformdirs.user_cache_path(APP_NAME, appauthor=False)) / "zips"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def extract_zip(
    path: Path, *, cache_dir: Path | None = None, cache_limit_mb: int | None = None
) -> CollectedFiles:
    """Extract a zip archive once into a cache folder keyed by its hash.

    Members whose names are absolute or climb out of the folder are refused (listed in
    ``skipped`` as ``archive.zip!member``) and never written. The archive is extracted
    into a temporary folder renamed into place once complete, so a second scan reuses
    it and a crashed one is redone. The cache is then trimmed to its size limit, least
    recently used folders first (:func:`prune_zip_cache`).

    Parameters
    ----------
    path
        The zip archive.
    cache_dir
        Parent of the extraction folders (default :func:`default_cache_dir`).
    cache_limit_mb
        Size limit of the cache in MiB (default: :func:`cache_limit_bytes`).

    Returns
    -------
    CollectedFiles
        The extracted files and the refused or unreadable members.

    Raises
    ------
    InvalidCacheLimit
        When the limit (argument or environment variable) is not a size.

    """
    parent = cache_dir or default_cache_dir()
    limit = cache_limit_bytes(limit_mb=cache_limit_mb)
    try:
        target = parent / _sha256(path)
        if _is_complete(target):
            _mark_used(target)
            refused = _recorded_refusals(path, target)
        else:
            refused = _extract_into_place(path, parent, target)
            logger.info("extracted a zip archive into %s", target)
        found, unused = _walk_folder(target)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return CollectedFiles(
            (), (SkippedFile(str(path), f"unreadable zip archive: {error}"),)
        )
    prune_zip_cache(parent, limit, keep=target)
    files = tuple(f for f in found if f.name not in _HIDDEN_NAMES)
    collected = CollectedFiles(files, (), path, target)
    inner = tuple(
        SkippedFile(collected.display_path(Path(s.path)), s.reason) for s in unused
    )
    return replace(collected, skipped=refused + inner)


def cache_limit_bytes(
    env: Mapping[str, str] | None = None, *, limit_mb: int | None = None
) -> int:
    """Return the zip cache limit in bytes.

    Parameters
    ----------
    env
        The environment to read ``MRECIST_READER_ZIP_CACHE_MB`` from (default
        ``os.environ``).
    limit_mb
        A limit in MiB that overrides the environment.

    Returns
    -------
    int
        The limit in bytes (5120 MiB when nothing is set).

    Raises
    ------
    InvalidCacheLimit
        When the value is not a whole number of MiB, or is negative.

    """
    if limit_mb is not None:
        if limit_mb < 0:
            raise InvalidCacheLimit(
                f"cache_limit_mb: {limit_mb!r} is not a size; expected a whole "
                "number of MiB, 0 or more"
            )
        return limit_mb * _MIB
    raw = (os.environ if env is None else env).get(CACHE_LIMIT_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_CACHE_LIMIT_MB * _MIB
    text = raw.strip()
    if not text.isdecimal():
        raise InvalidCacheLimit(
            f"${CACHE_LIMIT_ENV}: {raw!r} is not a size; expected a whole number of "
            f"MiB, 0 or more (e.g. {DEFAULT_CACHE_LIMIT_MB})"
        )
    return int(text) * _MIB


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
