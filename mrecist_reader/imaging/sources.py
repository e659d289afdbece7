"""Where the files of a scan come from: a folder, a zip archive or a DICOMDIR.

:func:`collect_files` turns the path a user gave into the list of candidate files plus the
entries that could not even be located (a DICOMDIR record pointing at a missing file, a zip
member whose path escapes the archive). Zip archives are extracted once into a per-user
cache folder named after the archive's SHA-256, so the files stay available to the
loader for as long as the cache lives; members whose names would land outside that folder
("zip slip": ``../x``, absolute paths, drive letters) are refused, never written.
"""

import hashlib
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import platformdirs
import pydicom
from pydicom.errors import InvalidDicomError

logger = logging.getLogger(__name__)

APP_NAME = "mrecist_reader"
_COMPLETE_MARKER = ".complete"
_HASH_CHUNK = 1 << 20


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


def collect_files(path: Path, *, cache_dir: Path | None = None) -> CollectedFiles:
    """Return the candidate files under ``path`` (a folder, zip file, DICOMDIR or file).

    Parameters
    ----------
    path
        Folder (searched recursively), ``.zip`` archive, DICOMDIR file or a single file.
    cache_dir
        Where zip archives are extracted (default: the user's cache folder).

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
        return CollectedFiles(_walk_folder(path), ())
    if path.name.upper() == "DICOMDIR":
        return read_dicomdir(path)
    if zipfile.is_zipfile(path):
        return extract_zip(path, cache_dir=cache_dir)
    return CollectedFiles((path,), ())


def _walk_folder(folder: Path) -> tuple[Path, ...]:
    found: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        found.extend(Path(root) / name for name in sorted(names))
    return tuple(found)


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
        matches = [
            child for child in current.iterdir() if child.name.upper() == part.upper()
        ]
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


def extract_zip(path: Path, *, cache_dir: Path | None = None) -> CollectedFiles:
    """Extract a zip archive once into a cache folder keyed by its hash.

    Members whose names are absolute or climb out of the folder are refused (listed in
    ``skipped`` as ``archive.zip!member``) and never written. A finished extraction is
    marked complete, so a second scan reuses it; an interrupted one is redone.

    Parameters
    ----------
    path
        The zip archive.
    cache_dir
        Parent of the extraction folders (default :func:`default_cache_dir`).

    Returns
    -------
    CollectedFiles
        The extracted files and the refused or unreadable members.

    """
    parent = cache_dir or default_cache_dir()
    try:
        target = parent / _sha256(path)
        if (target / _COMPLETE_MARKER).is_file():
            refused = _unsafe_members(path)
            files = tuple(f for f in _walk_folder(target) if f.name != _COMPLETE_MARKER)
            return CollectedFiles(files, refused, path, target)
        parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="extract-", dir=parent))
        try:
            refused = _extract_safely(path, work)
            (work / _COMPLETE_MARKER).touch()
            if target.exists():
                shutil.rmtree(target)
            work.rename(target)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return CollectedFiles(
            (), (SkippedFile(str(path), f"unreadable zip archive: {error}"),)
        )
    files = tuple(f for f in _walk_folder(target) if f.name != _COMPLETE_MARKER)
    logger.info("extracted %d files of a zip archive into %s", len(files), target)
    return CollectedFiles(files, refused, path, target)


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
                refused.append(
                    SkippedFile(
                        f"{path}!{info.filename}", f"unreadable zip member: {error}"
                    )
                )
    return tuple(refused)
