"""A folder opened twice is scanned once: a per-folder index of what ``scan`` read.

The index of a folder lists, for each file, its size and modification time (ns) and what
``scan`` needs from it (the :class:`~mrecist_reader.imaging.headers.FileHeader` without
identity, or why the file is unusable). A second scan of the folder reads the status of every
file and re-reads only the files that are new or whose size or modification time
changed; files gone from the folder drop out of the index.

What the index holds, and what it does not
------------------------------------------
It is stored in the user's cache folder (``scan-index/`` beside the zip cache), one
JSON file per folder named by a SHA-256 of the folder's resolved path, the folder
``0700`` and each file ``0600``, written to a temporary file and renamed into place.
It holds **no patient identity**: no PatientName, PatientID, PatientBirthDate,
InstitutionName, study or series dates, StudyTime, AccessionNumber or StudyID, and no
file or folder names (files are keyed by a SHA-256 of their path within the folder).
It does hold what the worklist shows in a blinded read anyway: UIDs, the trial subject
ID or the pseudonym of the PatientID (``patient-1a2b3c4d``), timepoint, modality,
series description, protocol name, acquisition time of day, geometry and pixel layout.
Each file's identity is replaced by a number shared by the files of one identity; a
second scan re-reads the identity from one unchanged file per number (one file for a
folder of one patient's study), so an identity never reaches the disk through the
index, and a blinded read leaves none there. A file rewritten with the same size and
modification time (to the nanosecond) is not noticed, except when it is the file the
identity is read from.

Files whose Study or Series Instance UID is empty are never indexed (their stand-in
UIDs are made from identity values), nor are zip archives (their extraction has its
own cache). An index that cannot be read, is of another version, or holds a value of
the wrong type is ignored and rewritten: it is never trusted blindly.
"""

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from mrecist_reader import __version__
from mrecist_reader.imaging.files import NOT_REGULAR_REASON
from mrecist_reader.imaging.headers import (
    FileHeader,
    FrameGeometry,
    Unusable,
    read_header,
)
from mrecist_reader.imaging.volume import EncodedSlice, NativeSlice
from mrecist_reader.imaging.zip_cache import APP_NAME

logger = logging.getLogger(__name__)

__all__ = [
    "IDENTITY_FIELDS",
    "IndexedRead",
    "default_index_dir",
    "read_with_index",
]

INDEX_FORMAT = 2  # 2: JPEG 2000, JPEG-LS and JPEG Lossless fragments recorded
"""Bump when the index's layout or what ``read_header`` records changes."""
MAX_INDEX_BYTES = 256 << 20
"""An index larger than this is not read (a folder of 100,000 files needs ~150 MB)."""
IDENTITY_FIELDS = (
    "patient_name",
    "patient_id",
    "birth_date",
    "institution",
    "study_date",
    "series_date",
    "study_time",
    "accession_number",
    "study_id",
)
"""FileHeader fields never written to the index."""
_NOT_STORED = frozenset({"path", *IDENTITY_FIELDS})
_SCALARS: dict[str, tuple[type, ...]] = {
    "sop_instance_uid": (str,),
    "series_instance_uid": (str,),
    "study_instance_uid": (str,),
    "modality": (str,),
    "series_description": (str,),
    "protocol_name": (str,),
    "series_number": (int, type(None)),
    "instance_number": (int, type(None)),
    "rows": (int,),
    "columns": (int,),
    "transfer_syntax": (str,),
    "pixel_spacing_source": (str,),
    "subject_id": (str,),
    "timepoint_label": (str,),
    "trial_protocol_id": (str,),
    "trial_site_id": (str,),
    "acquisition_seconds": (float, int, type(None)),
    "contrast_agent": (str,),
    "bolus_start_seconds": (float, int, type(None)),
    "samples_per_pixel": (int,),
    "frame_of_reference_uid": (str,),
}
_TEXTS = ("image_type", "notes", "substituted_identifiers")
_STORED = frozenset(_SCALARS) | frozenset(_TEXTS) | {"frames", "native", "encoded"}


def default_index_dir() -> Path:
    """Return where folder indexes are kept: the user's cache folder, ``scan-index``."""
    return Path(platformdirs.user_cache_path(APP_NAME, appauthor=False)) / "scan-index"


@dataclass(frozen=True, slots=True)
class IndexedRead:
    """Each file's header record (in the order given) and how many came from the index."""

    results: tuple[FileHeader | Unusable, ...]
    reused: int
    reread: int


_Stat = tuple[int, int]


def read_with_index(
    folder: Path,
    files: Sequence[Path],
    read_all: Any,
    *,
    index_dir: Path | None = None,
    on_reused: Callable[[Mapping[Path, FileHeader | Unusable]], None] | None = None,
) -> IndexedRead:
    """Return the header records of ``files``, reading only those the index lacks.

    Parameters
    ----------
    folder
        The folder scanned (names the index).
    files
        The files found under it.
    read_all
        ``read_all(paths) -> list[FileHeader | Unusable]``: reads what changed.
    index_dir
        Where indexes are kept (default :func:`default_index_dir`).
    on_reused
        Told the records taken from the index before the changed files are read (a
        progressive scan counts their folders as seen).

    Returns
    -------
    IndexedRead
        One record per file of ``files``, in that order.

    """
    where = index_dir or default_index_dir()
    index_file = where / f"{_digest(str(folder.resolve()))}.json"
    stats = {f: _stat(f) for f in files}
    prefix = str(folder) + os.sep
    keys = {f: _file_key(prefix, f) for f in files}
    entries = _load(index_file)
    reused = _reuse(files, stats, keys, entries)
    missing = [f for f in files if f not in reused]
    if on_reused is not None:
        on_reused(reused)
    fresh = dict(zip(missing, read_all(missing), strict=True))
    results = tuple(reused.get(f) or fresh[f] for f in files)
    if missing or len(entries) != len(reused):  # unchanged: nothing to write
        _save(index_file, _entries(results, stats, keys))
    logger.info(
        "scan index: %d of %d files unchanged since the last scan, %d read",
        len(reused),
        len(files),
        len(missing),
    )
    return IndexedRead(results, len(reused), len(missing))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _file_key(prefix: str, file: Path) -> str:
    """Return the key of ``file``: a digest of its path within the folder ``prefix``."""
    text = str(file)
    relative = text[len(prefix) :] if text.startswith(prefix) else text
    return _digest(relative.replace(os.sep, "/"))[:32]


def _stat(path: Path) -> _Stat | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_size, status.st_mtime_ns


# ------------------------------------------------------------------ reuse


def _reuse(
    files: Sequence[Path],
    stats: dict[Path, _Stat | None],
    keys: dict[Path, str],
    entries: dict[str, Any],
) -> dict[Path, FileHeader | Unusable]:
    """Return the records of unchanged files, identity restored from one file each."""
    found: dict[Path, FileHeader | Unusable] = {}
    by_identity: dict[int, list[tuple[Path, FileHeader]]] = {}
    for file in files:
        entry = entries.get(keys[file])
        stat = stats[file]
        if entry is None or stat is None or tuple(entry["stat"]) != stat:
            continue
        record = entry["record"]
        if isinstance(record, str):
            found[file] = Unusable(file, record)
        else:
            by_identity.setdefault(entry["identity"], []).append((file, record))
    for members in by_identity.values():
        found.update(_with_identity(members))
    return found


def _with_identity(
    members: list[tuple[Path, FileHeader]],
) -> dict[Path, FileHeader | Unusable]:
    """Return ``members`` with the identity read again from the first of them.

    Empty (every member read again) when that file is no longer a usable image of the
    recorded series: it changed without its size or time changing.
    """
    first_path, cached = members[0]
    first = read_header(first_path)
    if (
        not isinstance(first, FileHeader)
        or first.series_instance_uid != cached.series_instance_uid
    ):
        return {}
    identity = {name: getattr(first, name) for name in IDENTITY_FIELDS}
    return {
        path: dataclasses.replace(record, path=path, **identity)
        for path, record in members
    }


# ------------------------------------------------------------------ writing


def _entries(
    results: Sequence[FileHeader | Unusable],
    stats: dict[Path, _Stat | None],
    keys: dict[Path, str],
) -> dict[str, Any]:
    identities: dict[tuple[Any, ...], int] = {}
    entries: dict[str, Any] = {}
    for record in results:
        stat = stats.get(record.path)
        if stat is None:
            continue
        if isinstance(record, Unusable):
            if not _may_change_unmodified(record.reason):
                entries[keys[record.path]] = {
                    "stat": list(stat),
                    "record": record.reason,
                }
            continue
        if not record.study_instance_uid or not record.series_instance_uid:
            continue  # stand-in UIDs are made from identity values: read each time
        identity = tuple(getattr(record, name) for name in IDENTITY_FIELDS)
        number = identities.setdefault(identity, len(identities))
        entries[keys[record.path]] = {
            "stat": list(stat),
            "identity": number,
            "record": _encode(record),
        }
    return entries


def _may_change_unmodified(reason: str) -> bool:
    """Return whether a file may become readable without its size or time changing.

    A permission denied, an I/O error (``[Errno ...]``) or a path that is not a regular
    file: such files are read again on every scan.
    """
    return "[Errno" in reason or reason.startswith(NOT_REGULAR_REASON)


def _encode(header: FileHeader) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for field in dataclasses.fields(header):
        if field.name in _NOT_STORED:
            continue
        value = getattr(header, field.name)
        if field.name == "frames":
            value = [[f.position, f.orientation, f.pixel_spacing] for f in value]
        elif field.name == "native" and value is not None:
            value = dataclasses.asdict(value)
            value["element_header"] = value["element_header"].hex()
        elif field.name == "encoded" and value is not None:
            value = dataclasses.asdict(value)
        stored[field.name] = value
    return stored


def _save(index_file: Path, entries: dict[str, Any]) -> None:
    document = {"format": INDEX_FORMAT, "version": __version__, "files": entries}
    try:
        index_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(index_file.parent, 0o700)
        fd, temporary = tempfile.mkstemp(dir=index_file.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:  # mkstemp: 0600
                json.dump(document, stream, separators=(",", ":"))
            os.replace(temporary, index_file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:  # a read-only cache costs the next scan time, no more
        logger.warning("scan index not written (%s)", error.strerror or error)


# ------------------------------------------------------------------ reading


def _load(index_file: Path) -> dict[str, Any]:
    """Return the index's entries, records decoded; {} when absent or not trusted."""
    try:
        if index_file.stat().st_size > MAX_INDEX_BYTES:
            return {}
        document = json.loads(index_file.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RecursionError) as error:
        logger.info("scan index unreadable (%s): rebuilt", error)
        return {}
    try:
        return _decoded(document)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
        logger.info("scan index not trusted (%s): rebuilt", error)
        return {}


def _decoded(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise TypeError("not an object")
    if document.get("format") != INDEX_FORMAT or document.get("version") != __version__:
        raise ValueError("another version")
    entries: dict[str, Any] = {}
    for key, entry in document["files"].items():
        stat = entry["stat"]
        if len(stat) != 2 or not all(type(v) is int for v in stat):
            raise TypeError("stat")
        record = entry["record"]
        if isinstance(record, str):
            entries[key] = {"stat": stat, "record": record}
            continue
        identity = entry["identity"]
        if type(identity) is not int:
            raise TypeError("identity")
        entries[key] = {"stat": stat, "identity": identity, "record": _decode(record)}
    return entries


def _decode(stored: dict[str, Any]) -> FileHeader:
    if set(stored) != _STORED:
        raise KeyError(f"fields {sorted(set(stored) ^ _STORED)}")
    values: dict[str, Any] = {}
    for name, kinds in _SCALARS.items():
        value = stored[name]
        if type(value) not in kinds:
            raise TypeError(name)
        values[name] = value
    for name in _TEXTS:
        values[name] = _strings(stored[name], name)
    values["frames"] = tuple(_frame(f) for f in stored["frames"])
    if not values["frames"] or values["rows"] < 1 or values["columns"] < 1:
        raise ValueError("no frames or no size")
    values["native"] = _native(stored["native"])
    values["encoded"] = _encoded(stored["encoded"])
    return FileHeader(path=Path(), **values)


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(name)
    return tuple(value)


def _numbers(value: Any, count: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    if len(value) != count or not all(type(v) in (float, int) for v in value):
        raise TypeError("geometry")
    return tuple(float(v) for v in value)


def _frame(value: Any) -> FrameGeometry:
    position, orientation, spacing = value
    return FrameGeometry(
        _numbers(position, 3),  # type: ignore[arg-type]
        _numbers(orientation, 6),  # type: ignore[arg-type]
        _numbers(spacing, 2),  # type: ignore[arg-type]
    )


_NATIVE_KINDS: dict[str, tuple[type, ...]] = {
    "value_offset": (int,),
    "element_header": (str,),
    "bits_allocated": (int,),
    "bits_stored": (int,),
    "signed": (bool,),
    "slope": (float, int),
    "intercept": (float, int),
    "file_size": (int,),
    "mtime_ns": (int,),
}


def _check_fields(value: Any, kinds: dict[str, tuple[type, ...]], what: str) -> None:
    """Raise unless ``value`` has exactly these fields, each of its allowed types."""
    if set(value) != set(kinds):
        raise KeyError(what)
    for name, allowed in kinds.items():
        if type(value[name]) not in allowed:
            raise TypeError(name)


def _native(value: Any) -> NativeSlice | None:
    if value is None:
        return None
    _check_fields(value, _NATIVE_KINDS, "native")
    return NativeSlice(
        value_offset=value["value_offset"],
        element_header=bytes.fromhex(value["element_header"]),
        bits_allocated=value["bits_allocated"],
        bits_stored=value["bits_stored"],
        signed=value["signed"],
        slope=float(value["slope"]),
        intercept=float(value["intercept"]),
        file_size=value["file_size"],
        mtime_ns=value["mtime_ns"],
    )


_ENCODED_KINDS: dict[str, tuple[type, ...]] = {
    "syntax": (str,),
    "fragments": (list,),
    "bits_allocated": (int,),
    "bits_stored": (int,),
    "signed": (bool,),
    "slope": (float, int),
    "intercept": (float, int),
    "file_size": (int,),
    "mtime_ns": (int,),
}


def _encoded(value: Any) -> EncodedSlice | None:
    if value is None:
        return None
    _check_fields(value, _ENCODED_KINDS, "encoded")
    fragments = tuple(_fragment(f) for f in value["fragments"])
    return EncodedSlice(
        syntax=value["syntax"],
        fragments=fragments,
        bits_allocated=value["bits_allocated"],
        bits_stored=value["bits_stored"],
        signed=value["signed"],
        slope=float(value["slope"]),
        intercept=float(value["intercept"]),
        file_size=value["file_size"],
        mtime_ns=value["mtime_ns"],
    )


def _fragment(value: Any) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(type(v) is int and v >= 0 for v in value)
    ):
        raise TypeError("fragments")
    return (value[0], value[1])
