"""Where the files of a scan come from: a folder, a zip archive or a DICOMDIR.

:func:`collect_files` turns the path a user gave into the list of candidate files plus the
entries that could not even be located (a DICOMDIR record pointing at a missing file, a zip
member whose path escapes the archive). Zip archives are extracted once into a per-user
cache folder named after the archive's SHA-256, so the files stay available to the
loader for as long as the cache lives; members whose names would land outside that folder
("zip slip": ``../x``, absolute paths, drive letters) are refused, never written.

The zip cache itself (extraction, reuse, size limit, crash leftovers) is
:mod:`mrecist_reader.imaging.zip_cache`; its folder and limit are passed in
(``cache_dir``, ``cache_limit_mb``; the application takes them from its settings).
Callers that pass no limit get the one of the ``MRECIST_READER_ZIP_CACHE_MB``
environment variable (the settings' own variable, read here only for them), else
5120 MiB.

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

Only regular files are ever opened (:mod:`mrecist_reader.imaging.files`): a FIFO, a
device or a socket (``x.zip -> /dev/zero``, a FIFO named ``DICOMDIR``), given as the
path, met in a folder or referenced by a DICOMDIR, is "not a regular file" in
``skipped`` and is never read, so nothing blocks or reads without end. A DICOMDIR
record whose file ID climbs out of the DICOMDIR's folder (``..``, an absolute path, a
link leading elsewhere) is "outside the DICOMDIR's folder", not "missing".
"""

import logging
import os
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pydicom
from pydicom.errors import BytesLengthException, InvalidDicomError

from mrecist_reader.imaging.files import (
    NOT_REGULAR_REASON,
    NotARegularFile,
    is_regular_file,
    open_regular,
)
from mrecist_reader.imaging.volume import SkippedFile
from mrecist_reader.imaging.zip_cache import (
    CACHE_FILES,
    DEFAULT_CACHE_LIMIT_MB,
    DEFAULT_CACHE_MAX_AGE_DAYS,
    ZIP_ERRORS,
    InvalidCacheLimit,
    UnsafeZipArchive,
    ZipCache,
    default_cache_dir,
    extraction_folder,
    remove_extraction,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CACHE_LIMIT_ENV",
    "DEFAULT_CACHE_LIMIT_MB",
    "DEFAULT_CACHE_MAX_AGE_DAYS",
    "NESTED_ZIP_REASON",
    "OUTSIDE_DICOMDIR_REASON",
    "ZIP_SIGNATURES",
    "CollectedFiles",
    "InvalidCacheLimit",
    "SkippedFile",
    "cache_limit_bytes",
    "collect_files",
    "default_cache_dir",
    "extract_zip",
    "extraction_folder",
    "read_dicomdir",
    "remove_extraction",
    "zip_archive_reason",
]

CACHE_LIMIT_ENV = "MRECIST_READER_ZIP_CACHE_MB"
"""Environment variable holding the zip cache limit in MiB (read by the settings)."""
_MIB = 1 << 20


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
    path: Path,
    *,
    cache_dir: Path | None = None,
    cache_limit_mb: int | None = None,
    cache_max_age_days: int | None = None,
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
    cache_max_age_days
        Age limit of the zip cache's extractions in days (default
        :data:`DEFAULT_CACHE_MAX_AGE_DAYS`).

    Returns
    -------
    CollectedFiles
        Files in a stable (sorted) order and the unusable entries found on the way
        (``path`` itself when it is a device, a FIFO or a socket).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.

    """
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        return CollectedFiles(*_walk_folder(path))
    if not is_regular_file(path):
        return CollectedFiles((), (SkippedFile(str(path), NOT_REGULAR_REASON),))
    if path.name.upper() == "DICOMDIR":
        return read_dicomdir(path)
    if _is_zip_file(path):
        return extract_zip(
            path,
            cache_dir=cache_dir,
            cache_limit_mb=cache_limit_mb,
            cache_max_age_days=cache_max_age_days,
        )
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
        with open_regular(path) as stream, zipfile.ZipFile(stream) as archive:
            archive.infolist()
    except zipfile.BadZipFile as error:
        return f"unreadable zip archive: {_bad_zip_detail(path, error)}"
    except NotARegularFile:
        return NOT_REGULAR_REASON
    except ZIP_ERRORS as error:
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
        with open_regular(path) as stream:
            return stream.read(4) in ZIP_SIGNATURES
    except OSError:
        return False


def _is_zip_file(path: Path) -> bool:
    """Return whether a regular file has a zip table of contents (never opens others)."""
    try:
        with open_regular(path) as stream:
            return zipfile.is_zipfile(stream)
    except OSError:
        return False


def _is_zip_name(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def _walk_folder(folder: Path) -> tuple[tuple[Path, ...], tuple[SkippedFile, ...]]:
    """Return the files under ``folder`` (sorted), and the folders and archives skipped.

    A subfolder that cannot be listed, a ``*.zip`` file and anything that is not a
    regular file (a FIFO, a device, a socket, or a link to one) go to the second tuple,
    each with its reason; nothing is dropped silently. Folders are walked depth first
    in name order, as :func:`os.walk` would; links to folders are not followed.
    """
    found: list[Path] = []
    skipped: list[SkippedFile] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as error:
            reason = error.strerror or str(error)
            skipped.append(
                SkippedFile(str(current), f"folder cannot be read: {reason}")
            )
            continue
        subfolders: list[Path] = []
        for entry in entries:
            _sort_entry(entry, subfolders, found, skipped)
        pending.extend(reversed(subfolders))
    return tuple(found), tuple(skipped)


def _sort_entry(
    entry: os.DirEntry[str],
    subfolders: list[Path],
    found: list[Path],
    skipped: list[SkippedFile],
) -> None:
    """File one folder entry: a subfolder to walk, a candidate file, or a skipped one."""
    path = Path(entry.path)
    try:
        if entry.is_dir():
            if not entry.is_symlink():
                subfolders.append(path)
            return
        regular = entry.is_file()  # no system call for a plain file
    except OSError:
        regular = False
    if regular and _is_zip_name(path):
        skipped.append(SkippedFile(str(path), zip_archive_reason(path)))
    elif regular or not _exists(path):
        found.append(path)  # a dangling link: its reader says why it is unusable
    else:
        skipped.append(SkippedFile(str(path), NOT_REGULAR_REASON))


def _exists(path: Path) -> bool:
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


OUTSIDE_DICOMDIR_REASON = (
    "DICOMDIR record points outside the DICOMDIR's folder: not read"
)
"""Why a DICOMDIR record whose file ID leaves the DICOMDIR's folder is skipped."""
_MISSING_REASON = "DICOMDIR record points at a missing file"


def read_dicomdir(path: Path) -> CollectedFiles:
    """Return the files a DICOMDIR references; unusable references go to ``skipped``.

    Parameters
    ----------
    path
        The DICOMDIR file.

    Returns
    -------
    CollectedFiles
        Existing referenced files, and one ``SkippedFile`` per record whose file is
        missing, outside the DICOMDIR's folder or not a regular file (with the path it
        pointed to), or per unreadable DICOMDIR.

    """
    try:
        with open_regular(path) as stream:
            dicomdir = pydicom.dcmread(stream, force=True)
        records = dicomdir.DirectoryRecordSequence
    except NotARegularFile:
        return CollectedFiles((), (SkippedFile(str(path), NOT_REGULAR_REASON),))
    except (InvalidDicomError, AttributeError, OSError, ValueError, EOFError) as error:
        return CollectedFiles(
            (), (SkippedFile(str(path), f"unreadable DICOMDIR: {error}"),)
        )
    except (
        NotImplementedError,
        LookupError,
        TypeError,
        ArithmeticError,
        RecursionError,
        MemoryError,  # an element length far beyond the file: pydicom reads it at once
        struct.error,
        BytesLengthException,
    ) as error:
        return CollectedFiles(
            (),
            (
                SkippedFile(
                    str(path), f"unreadable DICOMDIR: {str(error) or 'damaged'}"
                ),
            ),
        )
    root = path.parent
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    seen: set[Path] = set()
    for record in records:
        try:
            file_id = record.get("ReferencedFileID")
        except (
            ValueError,
            NotImplementedError,
            LookupError,
            TypeError,
            OSError,
            BytesLengthException,
        ) as error:
            skipped.append(
                SkippedFile(str(path), f"DICOMDIR record unreadable: {error}")
            )
            continue
        if not file_id:
            continue
        parts = [file_id] if isinstance(file_id, str) else [str(p) for p in file_id]
        target, reason = _locate_record(root, parts)
        if target is None:
            skipped.append(SkippedFile(str(_pointed(root, parts)), reason))
        elif target not in seen:
            seen.add(target)
            files.append(target)
    return CollectedFiles(tuple(files), tuple(skipped))


def _pointed(root: Path, parts: list[str]) -> Path:
    """Return the path a record names, for its skipped entry (never resolved)."""
    return root.joinpath(*(p.replace("\\", "/") for p in parts))


def _file_id_parts(parts: list[str]) -> list[str] | None:
    """Split a file ID into folder names; None when it leaves the DICOMDIR's folder.

    File IDs are one name per value; some writers put a slash or a backslash inside a
    value, which is split too. ``..``, an absolute path, a drive letter or a home folder
    (``~``) leave the folder.
    """
    names: list[str] = []
    for part in parts:
        text = part.replace("\\", "/")
        if text.startswith(("/", "~")) or (len(text) > 1 and text[1] == ":"):
            return None
        for name in text.split("/"):
            if name == "..":
                return None
            if name not in ("", "."):
                names.append(name)
    return names


def _locate_record(root: Path, parts: list[str]) -> tuple[Path | None, str]:
    """Return (the file a record references, '') or (None, why it cannot be used)."""
    names = _file_id_parts(parts)
    if names is None:
        return None, OUTSIDE_DICOMDIR_REASON
    target = _resolve_case_insensitive(root, names) if names else None
    if target is None:
        return None, _MISSING_REASON
    if not _is_within(target, root):
        return None, OUTSIDE_DICOMDIR_REASON
    if not is_regular_file(target):
        return None, NOT_REGULAR_REASON
    return target, ""


def _resolve_case_insensitive(root: Path, parts: list[str]) -> Path | None:
    """Find ``root/parts`` allowing case differences (DICOMDIR IDs are upper case)."""
    current = root
    for part in parts:
        if part == "":
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
    return None if current.is_dir() else current


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def extract_zip(
    path: Path,
    *,
    cache_dir: Path | None = None,
    cache_limit_mb: int | None = None,
    cache_max_age_days: int | None = None,
) -> CollectedFiles:
    """Extract a zip archive through the zip cache and list its files.

    Members whose names are absolute or climb out of the folder are refused (listed in
    ``skipped`` as ``archive.zip!member``), damaged members are named with the reason
    (:mod:`mrecist_reader.imaging.zip_cache`).

    Parameters
    ----------
    path
        The zip archive.
    cache_dir
        Parent of the extraction folders (default :func:`default_cache_dir`).
    cache_limit_mb
        Size limit of the cache in MiB (default: :func:`cache_limit_bytes`).
    cache_max_age_days
        Extractions unused for longer are removed (default
        :data:`DEFAULT_CACHE_MAX_AGE_DAYS`).

    Returns
    -------
    CollectedFiles
        The extracted files and the refused or unreadable members; the archive
        itself, with the reason, when it is refused as a whole (a zip bomb: too many
        members, too large, overlapping entries) or cannot be read.

    Raises
    ------
    InvalidCacheLimit
        When the limit (argument or environment variable) is not a size.

    """
    limit_mb = cache_limit_bytes(limit_mb=cache_limit_mb) // _MIB
    age_days = (
        DEFAULT_CACHE_MAX_AGE_DAYS if cache_max_age_days is None else cache_max_age_days
    )
    cache = ZipCache(cache_dir or default_cache_dir(), limit_mb, age_days)
    try:
        extraction = cache.extract(path)
        found, unused = _walk_folder(extraction.folder)
    except UnsafeZipArchive as error:
        return CollectedFiles((), (SkippedFile(str(path), str(error)),))
    except NotARegularFile:
        return CollectedFiles((), (SkippedFile(str(path), NOT_REGULAR_REASON),))
    except ZIP_ERRORS as error:
        return CollectedFiles(
            (), (SkippedFile(str(path), f"unreadable zip archive: {error}"),)
        )
    files = tuple(f for f in found if f.name not in CACHE_FILES)
    collected = CollectedFiles(files, (), path, extraction.folder)
    inner = tuple(
        SkippedFile(collected.display_path(Path(s.path)), s.reason) for s in unused
    )
    return replace(collected, skipped=extraction.refused + inner)


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
