"""Find every image series under a folder, zip archive or DICOMDIR (headers only).

``scan`` reads each file's header (``stop_before_pixels``), keeps the usable images and
lists every other file in ``skipped`` with the reason. Images are grouped by
SeriesInstanceUID, then within a series by image size, orientation and localizer flag
(ImageType LOCALIZER), so a 3-plane scout or a series of mixed sizes never becomes one
bogus volume. Each stack is ordered by position along its slice normal (never by file
name or InstanceNumber), and its slice spacing comes from those positions. Warnings name
what a reader should know: non-uniform spacing, missing slices, duplicate positions,
gantry tilt, several images per position (4-D), mixed sizes, missing PixelSpacing or
ImagePositionPatient, and geometry values ignored because they cannot be right (a
position that is not finite, a zero PixelSpacing, zero or parallel orientation vectors:
the warning names the tag and the value). Every number of a stack is finite.

Many files (:data:`POOL_THRESHOLD`) are read by a process pool (two processes on a
two-core machine): reading headers is pure Python and holds the GIL, so threads would
not help. A folder scanned before is read from its scan index
(:mod:`mrecist_reader.imaging.scan_index`): only files added or changed are read.

Progress: ``scan(..., on_progress=...)`` is told what was found so far
(:class:`ScanProgress`) each time a folder has been read to its last file, so that the
first series can be shown while the rest of a large folder is still being read. A
stack counts as *complete* once every folder holding one of its files has been read
entirely (files are read folder by folder): exports put a series in a folder of its
own, or several series in one folder, which is then complete only when that folder is.
A folder of many files (:data:`FLAT_FOLDER_FILES`: a flat export of a whole study) is
read series by series, each file's SeriesInstanceUID read first from its bytes; a stack
there is complete once no unread file of the folder holds its series or an unsure one
(:class:`_Tracker`).
A series split across folders still being read is not complete; one split across a
folder not yet *started* cannot be told apart, which is why the final result always
replaces what progress reported.
"""

import functools
import logging
import math
import multiprocessing
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from mrecist_reader.imaging.byte_header import read_byte_header
from mrecist_reader.imaging.files import open_regular
from mrecist_reader.imaging.geometry import slice_normal
from mrecist_reader.imaging.headers import (
    FileHeader,
    FrameGeometry,
    Unusable,
    _text,
    quiet_pydicom,
    read_header,
)
from mrecist_reader.imaging.identifiers import (
    SERIES,
    SHARED_SOP,
    STUDY,
    display_folder,
    file_digest,
    identifier_warnings,
    name_subjects_without_id,
    stand_in_uid,
)
from mrecist_reader.imaging.phase import classify_phase
from mrecist_reader.imaging.scan_index import read_with_index
from mrecist_reader.imaging.sources import SkippedFile, collect_files
from mrecist_reader.imaging.volume import (
    EncodedSlice,
    PatientIdentity,
    Phase,
    SeriesInfo,
)

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

logger = logging.getLogger(__name__)

__all__ = ["ScanProgress", "ScanResult", "SkippedFile", "scan"]

POOL_THRESHOLD = 8000
"""Files below this count are read in this process: a pool takes ~1 s to start, and
headers read from bytes take ~0.3 ms a file, so two processes win only beyond ~7,000."""

SAFE_ENTRY_POINTS = frozenset(
    {"mrecist-reader", "mrecist-reader-gui", "pytest", "py.test"}
)
"""Console scripts whose re-import by worker processes has no side effects."""

DEFAULT_ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Every image stack found, and every file that could not be used (with the reason).

    Each :class:`SkippedFile` names the file as the user knows it (zip members as
    ``archive.zip!member``) and says why in words;
    :mod:`mrecist_reader.imaging.report` groups them for a load report.
    """

    series: tuple[SeriesInfo, ...]
    skipped: tuple[SkippedFile, ...]
    extracted_to: Path | None = None
    """Where a zip archive was extracted (None otherwise): a blinded read removes it on
    closing with :func:`mrecist_reader.imaging.zip_cache.remove_extraction`."""
    files_reused: int = 0
    """Files of a folder taken unchanged from its scan index (not read again)."""
    files_read: int = 0
    """Files whose header was read (all of them when there was no index)."""

    @property
    def series_warnings(self) -> tuple[SeriesInfo, ...]:
        """Return the series that carry warnings (a load report lists them)."""
        return tuple(s for s in self.series if s.warnings)


_Group = tuple[Path, str]
"""Files of one folder that hold one SeriesInstanceUID (read series by series)."""
UNSURE = "?"
"""The group of a folder's files whose SeriesInstanceUID was not read from the bytes."""


class ScanProgress:
    """What a scan still running has found so far (see :func:`scan`'s ``on_progress``).

    Its stacks are built only when asked for (:attr:`series`): once a window shows
    its first series it only counts files, and the scan does not slow down for it.
    """

    def __init__(
        self,
        build: Callable[[], list[SeriesInfo]],
        folders_done: frozenset[Path],
        files_seen: int,
        files_total: int,
        by_series: frozenset[Path] = frozenset(),
        pending: frozenset[_Group] = frozenset(),
    ) -> None:
        self._build = build
        self._done = folders_done
        self.files_seen = files_seen
        self.files_total = files_total
        self._by_series = by_series
        self._pending = pending

    def _whole(self, stack: SeriesInfo) -> bool:
        """Return whether no file still unread can join ``stack``.

        Each folder holding one of its files has been read, or is read series by
        series and has no unread file of the stack's series or of an unsure one.
        """
        uid = stack.series_instance_uid
        return all(
            folder in self._done
            or (
                folder in self._by_series
                and (folder, uid) not in self._pending
                and (folder, UNSURE) not in self._pending
            )
            for folder in {f.parent for f in stack.files}
        )

    @functools.cached_property
    def series(self) -> tuple[SeriesInfo, ...]:
        """Return the stacks of the files read so far, sorted as :func:`scan` does."""
        return tuple(self._build())

    @functools.cached_property
    def complete(self) -> frozenset[tuple[str, str]]:
        """Return (series UID, stack label) of the stacks no unread file can join.

        A stack is complete when every folder holding one of its files has been read,
        or, in a folder read series by series, when every file of its series has been.
        """
        return frozenset(
            (s.series_instance_uid, s.stack_label)
            for s in self.series
            if self._whole(s)
        )

    def is_complete(self, series: SeriesInfo) -> bool:
        """Return whether every folder holding ``series``' files has been read."""
        return (series.series_instance_uid, series.stack_label) in self.complete

    @property
    def complete_series(self) -> tuple[SeriesInfo, ...]:
        """Return the complete stacks (a worklist of what can be opened already)."""
        return tuple(s for s in self.series if self.is_complete(s))


ProgressCallback = Callable[[ScanProgress], None]

_GROWTH = 1.5
"""Progress is reported only once this many times more files have been read than at
the last report: in a folder of a thousand one-file folders, building the stacks at
each would cost more than the reading (this way all builds together cost at most
about three final builds, and nothing when no one asks for the stacks)."""


FLAT_FOLDER_FILES = 300
"""A folder with this many files still to read is read series by series (see
:meth:`_Tracker.reading_order`): a flat export of a whole study shows its first series
before the folder's last file is read. Fewer take a fraction of a second."""


class _Tracker:
    """Count the files read per folder; report progress when a folder is finished.

    A large folder (:data:`FLAT_FOLDER_FILES`) is also counted per series: each file's
    SeriesInstanceUID is read first from its bytes (:func:`_series_hint`), by the same
    element parser and conversion the header reader uses. Files whose UID this cannot
    read with certainty are read first (they could belong to any series), then the
    folder series after series; a series is done once every file of it has been read,
    so no file still unread can join its stacks. Should a file read turn out to hold
    another series than its hint said, the hints are no longer trusted: stacks of that
    scan are complete only when their folders are.
    """

    def __init__(
        self,
        files: Sequence[Path],
        report: ProgressCallback,
        build: Callable[[list[FileHeader]], list[SeriesInfo]],
    ) -> None:
        self._left = Counter(f.parent for f in files)
        self._total = len(files)
        self._report = report
        self._build = build
        self._known: dict[Path, FileHeader | Unusable] = {}
        self._done: set[Path] = set()
        self._reported = 0
        self._group: dict[Path, _Group] = {}
        self._group_left: Counter[_Group] = Counter()
        self._by_series: set[Path] = set()
        self._hints_trusted = True

    def reading_order(self, files: Sequence[Path]) -> list[Path]:
        """Return ``files`` (those still to read) in the order to read them.

        Folder after folder (stable), so that folders finish early; a folder with
        :data:`FLAT_FOLDER_FILES` or more of them series after series, files whose
        series is unsure first.
        """
        by_folder: dict[Path, list[Path]] = {}
        for path in files:
            by_folder.setdefault(path.parent, []).append(path)
        order: list[Path] = []
        for folder, members in by_folder.items():
            if len(members) < FLAT_FOLDER_FILES:
                order.extend(members)
                continue
            hints = {path: _series_hint(path) for path in members}
            first_seen = {uid: k for k, uid in enumerate(dict.fromkeys(hints.values()))}
            order.extend(
                sorted(
                    members,
                    key=lambda f: (hints[f] is not None, first_seen[hints[f]]),
                )
            )
            self._split(folder, hints)
        return order

    def _split(self, folder: Path, hints: Mapping[Path, str | None]) -> None:
        """Count ``folder``'s files still to read per series (unsure ones together)."""
        for path, hint in hints.items():
            group = (folder, hint or UNSURE)
            self._group[path] = group
            self._group_left[group] += 1
        self._by_series.add(folder)

    def add(self, path: Path, record: FileHeader | Unusable) -> None:
        """Count one file read (or taken from the index)."""
        if path in self._known:
            return
        self._known[path] = record
        folder = path.parent
        self._left[folder] -= 1
        finished = self._left[folder] == 0
        if finished:
            self._done.add(folder)
        group = self._group.get(path)
        if group is not None:
            self._check_hint(group, record)
            self._group_left[group] -= 1
            finished = finished or self._group_left[group] == 0
        if finished:
            self._maybe_report()

    def _check_hint(self, group: _Group, record: FileHeader | Unusable) -> None:
        """Stop trusting the hints if ``record`` holds another series than its hint."""
        if (
            group[1] != UNSURE
            and isinstance(record, FileHeader)
            and record.series_instance_uid != group[1]
        ):
            logger.warning("series hint %s differs from %s", group[1], record.path)
            self._hints_trusted = False

    def add_many(self, records: Mapping[Path, FileHeader | Unusable]) -> None:
        """Count records taken from a scan index."""
        for path, record in records.items():
            self.add(path, record)

    def _maybe_report(self) -> None:
        seen = len(self._known)
        if seen < self._reported * _GROWTH or seen == self._total:
            return  # the final result follows at once when everything was read
        headers = [r for r in self._known.values() if isinstance(r, FileHeader)]
        self._reported = seen
        trusted = self._hints_trusted
        self._report(
            ScanProgress(
                partial(self._build, headers),
                frozenset(self._done),
                seen,
                self._total,
                frozenset(self._by_series if trusted else ()),
                frozenset(g for g, n in self._group_left.items() if n > 0),
            )
        )


HINT_BYTES = 1 << 14
"""Bytes read for a file's series hint (a longer header: no hint, read first)."""


def _series_hint(path: Path) -> str | None:
    """Return the SeriesInstanceUID ``read_header`` will record for ``path``.

    None when unsure: the file's first :data:`HINT_BYTES` do not hold its whole header
    in a form the byte-level reader reads with certainty (then pydicom reads it), or
    the UID is empty (``scan`` makes a stand-in from the file's contents).
    """
    try:
        with open_regular(path) as stream:
            head = stream.read(HINT_BYTES)
    except OSError:
        return None
    found = read_byte_header(head, ("SeriesInstanceUID",))
    if found is None:
        return None
    dataset = cast("Dataset", found[0])  # answers get() like pydicom's, as read_header
    return _text(dataset, "SeriesInstanceUID") or None


@dataclass(frozen=True, slots=True)
class _Image:
    header: FileHeader
    frame: int
    geometry: FrameGeometry


def scan(
    path: Path,
    *,
    workers: int | None = None,
    spacing_tolerance: float = 0.05,
    tilt_tolerance_deg: float = 0.5,
    cache_dir: Path | None = None,
    cache_limit_mb: int | None = None,
    cache_max_age_days: int | None = None,
    index_dir: Path | None = None,
    use_index: bool = True,
    on_progress: ProgressCallback | None = None,
) -> ScanResult:
    """Return the image series under ``path`` and the files that could not be used.

    Parameters
    ----------
    path
        Folder (recursive), zip archive, DICOMDIR or single DICOM file.
    workers
        Processes reading headers (default: one per CPU, used from 1000 files up and
        only where workers can re-import the main module safely: the application's
        entry points, ``python -m``, interactive sessions; see
        :func:`_processes_can_start`).
    spacing_tolerance
        Relative tolerance (fraction of the typical step) before slice steps count as
        non-uniform or as a gap; 0.05 = 5 %.
    tilt_tolerance_deg
        Angle, degrees, between the slice step and the slice normal above which a gantry
        tilt is reported.
    cache_dir
        Where zip archives are extracted (default: the user's cache folder; the
        application passes its settings' ``zip_cache_dir``).
    cache_limit_mb
        Size limit of that zip cache in MiB (the settings' ``zip_cache_mb``; default:
        :func:`mrecist_reader.imaging.sources.cache_limit_bytes`).
    cache_max_age_days
        Extractions unused for longer than this many days are removed from that cache
        (the settings' ``zip_cache_days``; default
        :data:`mrecist_reader.imaging.zip_cache.DEFAULT_CACHE_MAX_AGE_DAYS`).
    index_dir
        Where folder scan indexes are kept (default: the user's cache folder; see
        :mod:`mrecist_reader.imaging.scan_index`, which says what an index holds: no
        patient identity).
    use_index
        Whether a folder's scan index is used and updated: a folder scanned again
        re-reads only the files added or changed since (by size and modification
        time). Zip archives, DICOMDIRs and single files are always read.
    on_progress
        Told what was found so far (:class:`ScanProgress`, called in this thread)
        each time a folder has been read entirely, once half as many files again
        were read as at its last call; not called for the last folder (the result
        follows).

    Returns
    -------
    ScanResult
        Stacks sorted by subject, study date, timepoint label, study, series number
        and description.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist. Bad files never raise; they go to ``skipped``.

    """
    quiet_pydicom()
    collected = collect_files(
        Path(path),
        cache_dir=cache_dir,
        cache_limit_mb=cache_limit_mb,
        cache_max_age_days=cache_max_age_days,
    )
    skipped = list(collected.skipped)
    headers: list[FileHeader] = []
    reused, results = 0, None
    tracker = (
        None
        if on_progress is None
        else _Tracker(
            collected.files,
            on_progress,
            partial(
                build_stacks,
                spacing_tolerance=spacing_tolerance,
                tilt_tolerance_deg=tilt_tolerance_deg,
                display_path=collected.display_path,
            ),
        )
    )
    if use_index and collected.archive is None and Path(path).is_dir():
        indexed = read_with_index(
            Path(path),
            collected.files,
            lambda files: _read_all(files, workers, tracker),
            index_dir=index_dir,
            on_reused=None if tracker is None else tracker.add_many,
        )
        reused, results = indexed.reused, list(indexed.results)
    for result in (
        results if results is not None else _read_all(collected.files, workers, tracker)
    ):
        if isinstance(result, Unusable):
            shown = collected.display_path(result.path)
            skipped.append(SkippedFile(shown, result.reason))
        else:
            headers.append(result)
    stacks = build_stacks(
        headers,
        spacing_tolerance=spacing_tolerance,
        tilt_tolerance_deg=tilt_tolerance_deg,
        display_path=collected.display_path,
    )
    logger.info("scan: %d stacks, %d files skipped", len(stacks), len(skipped))
    return ScanResult(
        tuple(stacks),
        tuple(skipped),
        collected.extracted_to,
        files_reused=reused,
        files_read=len(collected.files) - reused,
    )


def _read_all(
    files: Sequence[Path], workers: int | None, tracker: _Tracker | None = None
) -> list[FileHeader | Unusable]:
    """Return the header record of each file of ``files``, in that order.

    With a ``tracker`` (a progressive scan) files are read in its
    :meth:`~_Tracker.reading_order` (folder after folder, a large folder series after
    series) and each record is counted as it arrives.
    """
    order = files if tracker is None else tracker.reading_order(files)
    count = workers if workers is not None else (os.cpu_count() or 1)
    if len(files) < POOL_THRESHOLD or count <= 1 or not _processes_can_start():
        found = dict(_counted(order, map(read_header, order), tracker))
        return [found[f] for f in files]
    context = multiprocessing.get_context("forkserver")
    chunk = max(16, len(files) // (count * 8))
    try:
        with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
            records = pool.map(read_header, order, chunksize=chunk)
            found = dict(_counted(order, records, tracker))
    except (RuntimeError, OSError) as error:  # BrokenProcessPool is a RuntimeError
        logger.warning(
            "header-reading processes failed (%s); reading in-process", error
        )
        found = dict(_counted(order, map(read_header, order), tracker))
    return [found[f] for f in files]


def _counted(
    files: Sequence[Path],
    records: Iterable[FileHeader | Unusable],
    tracker: _Tracker | None,
) -> Iterable[tuple[Path, FileHeader | Unusable]]:
    for path, record in zip(files, records, strict=True):
        if tracker is not None:
            tracker.add(path, record)
        yield path, record


_main_is_guarded = False


def allow_worker_processes() -> None:
    """Declare that this program's main module may be re-imported by worker processes.

    For scripts whose work runs under ``if __name__ == "__main__":`` (the benchmarks):
    the application's entry points need not call it.
    """
    global _main_is_guarded
    _main_is_guarded = True


def _processes_can_start() -> bool:
    """Return whether worker processes may be started without side effects.

    ``forkserver`` workers re-import the main module: harmless for the application's
    entry points, ``python -m ...`` and interactive sessions, but an unguarded user
    script would run again, code read from stdin cannot be imported, and frozen
    (PyInstaller) applications need ``freeze_support``. Elsewhere headers are read in
    this process.
    """
    if getattr(sys, "frozen", False):
        return False
    if _main_is_guarded:
        return True
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if main_file is None:
        return True
    spec_name = getattr(getattr(main, "__spec__", None), "name", "") or ""
    if spec_name.endswith("__main__"):
        return True
    return Path(main_file).name in SAFE_ENTRY_POINTS and Path(main_file).is_file()


def build_stacks(
    headers: Iterable[FileHeader],
    *,
    spacing_tolerance: float = 0.05,
    tilt_tolerance_deg: float = 0.5,
    display_path: Callable[[Path], str] = str,
) -> list[SeriesInfo]:
    """Group header records into stacks and describe each one (see the module docstring).

    Empty Study and Series Instance UIDs get stand-ins, and stacks without a subject
    ID a subject of their own (:mod:`mrecist_reader.imaging.identifiers`).

    Parameters
    ----------
    headers
        One record per usable file.
    spacing_tolerance
        Relative tolerance of slice steps (see :func:`scan`).
    tilt_tolerance_deg
        Gantry-tilt threshold in degrees.
    display_path
        How a file is named to the user (zip members as ``archive.zip!member``); the
        folder of a subject without PatientID is named from it.

    Returns
    -------
    list[SeriesInfo]
        Sorted by subject, study date, timepoint label, study, series number,
        description and stack label.

    """
    by_series: dict[str, list[_Image]] = defaultdict(list)
    for header in _with_stand_in_uids(list(headers)):
        for frame, geometry in enumerate(header.frames):
            by_series[header.series_instance_uid].append(
                _Image(header, frame, geometry)
            )
    stacks: list[SeriesInfo] = []
    for all_images in by_series.values():
        images, copies = _without_copies(all_images)
        groups = _as_localizer_if_survey(_split_series(images))
        sizes = {(g[0].header.rows, g[0].header.columns) for g in groups.values()}
        extra: tuple[str, ...] = (
            (f"series has mixed image sizes ({len(sizes)} sizes): split into stacks",)
            if len(sizes) > 1
            else ()
        )
        if copies:
            extra += (
                f"{copies} duplicate {'copy' if copies == 1 else 'copies'} of images "
                "already found (same SOP Instance UID) ignored",
            )
        labels = _stack_labels(list(groups))
        for key, group in groups.items():
            stacks.append(
                _describe(
                    group,
                    labels[key],
                    extra,
                    spacing_tolerance=spacing_tolerance,
                    tilt_tolerance_deg=tilt_tolerance_deg,
                )
            )
    stacks = _with_phases(stacks, _headers_by_uid(by_series))
    stacks = name_subjects_without_id(
        stacks, lambda stack: display_folder(display_path(stack.files[0]))
    )
    stacks.sort(
        key=lambda s: (
            s.subject_id,
            s.identity.study_date or date.max,
            s.timepoint_label,
            s.study_instance_uid,
            s.series_number if s.series_number is not None else 1 << 30,
            s.series_description,
            s.series_instance_uid,
            s.stack_label,
        )
    )
    return stacks


def _with_stand_in_uids(headers: list[FileHeader]) -> list[FileHeader]:
    """Return the headers with stand-ins for empty Study and Series Instance UIDs.

    Study first (series are grouped within their study). A stand-in comes from the
    sorted SOP Instance UIDs of the images it names (themselves from the files'
    contents when empty), so it does not depend on where the files lie.
    """
    headers = _unshared_sop_uids(headers)
    headers = _fill(headers, STUDY, _study_key)
    return _fill(headers, SERIES, _series_key)


def _unshared_sop_uids(headers: list[FileHeader]) -> list[FileHeader]:
    """Give content stand-ins to different images that carry one SOP Instance UID.

    Files sharing a UID and lying at the same positions with the same size are one
    image (copies, or one image saved in two transfer syntaxes): they keep the UID and
    :func:`_without_copies` keeps one. Files sharing a UID at different positions (an
    anonymiser that wrote one constant UID) are different images: each gets the
    stand-in of its contents. Only files in such a collision are hashed.
    """
    by_uid: dict[str, list[int]] = defaultdict(list)
    for k, header in enumerate(headers):
        by_uid[header.sop_instance_uid].append(k)
    result = list(headers)
    for members in by_uid.values():
        places = {_place(headers[k]) for k in members}
        if len(places) < 2:
            continue  # one image, perhaps in several files
        for k in members:
            header = headers[k]
            result[k] = replace(
                header,
                sop_instance_uid=stand_in_uid("sop", [file_digest(header.path)]),
                substituted_identifiers=(*header.substituted_identifiers, SHARED_SOP),
            )
    return result


def _place(header: FileHeader) -> tuple[object, ...]:
    """Return what tells two images apart whatever their encoding: size and positions."""
    return (header.rows, header.columns, tuple(f.position for f in header.frames))


def _fill(
    headers: list[FileHeader],
    keyword: str,
    key_of: Callable[[FileHeader], tuple[str, ...]],
) -> list[FileHeader]:
    field = "study_instance_uid" if keyword == STUDY else "series_instance_uid"
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for k, header in enumerate(headers):
        if not getattr(header, field):
            groups[key_of(header)].append(k)
    result = list(headers)
    for members in groups.values():
        uid = stand_in_uid(
            keyword, sorted(headers[k].sop_instance_uid for k in members)
        )
        for k in members:
            header = headers[k]
            result[k] = replace(
                header,
                **{field: uid},  # type: ignore[arg-type]
                substituted_identifiers=(*header.substituted_identifiers, keyword),
            )
    return result


def _study_key(header: FileHeader) -> tuple[str, ...]:
    """Group images without a Study Instance UID into studies.

    With a PatientID: by study date, time, accession number and study ID when the date
    or the accession number is known. Otherwise (and always without PatientID, where
    equal dates could join two patients): by frame of reference, else by folder and
    those study fields.
    """
    described = (
        header.study_date.isoformat() if header.study_date else "",
        header.study_time,
        header.accession_number,
        header.study_id,
    )
    if header.patient_id and (described[0] or described[2]):
        return ("described", header.patient_id, *described)
    if header.frame_of_reference_uid:
        return ("frame", header.patient_id, header.frame_of_reference_uid)
    return ("folder", header.patient_id, str(header.path.parent), *described)


def _series_key(header: FileHeader) -> tuple[str, ...]:
    return (
        header.study_instance_uid,
        header.frame_of_reference_uid,
        str(header.series_number),
        header.modality,
        header.series_description,
        str(header.path.parent),
    )


def _without_copies(images: list[_Image]) -> tuple[list[_Image], int]:
    """Drop extra copies of one image (same SOP Instance UID and frame).

    Exports often hold a file twice (two folders, a re-sent series); the copy found
    first in path order is kept. Images without a SOP Instance UID are all kept.
    """
    kept: dict[tuple[str, int], _Image] = {}
    unnamed: list[_Image] = []
    for image in sorted(images, key=lambda i: (str(i.header.path), i.frame)):
        uid = image.header.sop_instance_uid
        if not uid:
            unnamed.append(image)
        else:
            kept.setdefault((uid, image.frame), image)
    result = [*kept.values(), *unnamed]
    return result, len(images) - len(result)


def _headers_by_uid(by_series: dict[str, list[_Image]]) -> dict[str, FileHeader]:
    """Return one representative header per series UID."""
    return {uid: images[0].header for uid, images in by_series.items()}


_GroupKey = tuple[int, int, tuple[float, ...] | None, bool]


def _split_series(images: list[_Image]) -> dict[_GroupKey, list[_Image]]:
    groups: dict[_GroupKey, list[_Image]] = defaultdict(list)
    for image in images:
        orientation = image.geometry.orientation
        rounded = tuple(round(v, 3) + 0.0 for v in orientation) if orientation else None
        key = (
            image.header.rows,
            image.header.columns,
            rounded,
            image.header.is_localizer,
        )
        groups[key].append(image)
    return dict(groups)


SURVEY_PLANES = 3
"""A series whose images lie in this many planes (axial, coronal, sagittal) is a survey."""


def _as_localizer_if_survey(
    groups: dict[_GroupKey, list[_Image]],
) -> dict[_GroupKey, list[_Image]]:
    """Mark every stack of a multi-plane survey as a localizer.

    A series with images in all three planes is a 3-plane localizer / survey, whatever
    its ImageType says (Philips writes ORIGINAL, PRIMARY, M_FFE): none of its stacks
    is a volume to read, and the worklist sets them aside.
    """
    planes = {_plane_name(key[2]) for key in groups}
    if len(planes & {"axial", "coronal", "sagittal"}) < SURVEY_PLANES:
        return groups
    marked: dict[_GroupKey, list[_Image]] = defaultdict(list)
    for (rows, columns, orientation, _), images in groups.items():
        marked[(rows, columns, orientation, True)].extend(images)
    return dict(marked)


def _plane_name(orientation: tuple[float, ...] | None) -> str:
    if orientation is None:
        return "unknown orientation"
    normal = np.abs(slice_normal(orientation))
    axis = int(np.argmax(normal))
    if normal[axis] < 0.9:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _stack_labels(keys: list[_GroupKey]) -> dict[_GroupKey, str]:
    if len(keys) == 1 and not keys[0][3]:
        return {keys[0]: ""}
    labels: dict[_GroupKey, str] = {}
    for key in keys:
        rows, columns, orientation, localizer = key
        parts = ["localizer"] if localizer else []
        parts.append(_plane_name(orientation))
        if len({(k[0], k[1]) for k in keys}) > 1:
            parts.append(f"{columns}x{rows}")
        labels[key] = " ".join(parts)
    counts: dict[str, int] = defaultdict(int)
    for label in labels.values():
        counts[label] += 1
    seen: dict[str, int] = defaultdict(int)
    for key in keys:
        label = labels[key]
        if counts[label] > 1:
            seen[label] += 1
            labels[key] = f"{label} {seen[label]}"
    return labels


@dataclass(frozen=True, slots=True)
class _Geometry:
    order: list[int]
    spacing: float | None
    first_position: tuple[float, float, float]
    warnings: tuple[str, ...]
    slots: tuple[int, ...] = ()  # volume slice of each image when slices are missing


def _describe(
    group: list[_Image],
    label: str,
    extra: tuple[str, ...],
    *,
    spacing_tolerance: float,
    tilt_tolerance_deg: float,
) -> SeriesInfo:
    first = group[0]
    header = first.header
    orientation = first.geometry.orientation
    warnings: list[str] = list(extra)
    warnings.extend(_header_notes(group))
    geometry = _order_and_check(
        group,
        orientation or DEFAULT_ORIENTATION,
        spacing_tolerance=spacing_tolerance,
        tilt_tolerance_deg=tilt_tolerance_deg,
    )
    ordered = [group[i] for i in geometry.order]
    warnings.extend(geometry.warnings)
    spacing = first.geometry.pixel_spacing
    if spacing is None:
        warnings.append(
            "no PixelSpacing: 1 mm x 1 mm assumed, distances are not reliable"
        )
        spacing = (1.0, 1.0)
    elif header.pixel_spacing_source == "ImagerPixelSpacing":
        warnings.append("no PixelSpacing: ImagerPixelSpacing (at the detector) used")
    if orientation is None:
        warnings.append("no ImageOrientationPatient: axial orientation assumed")
    if any(i.header.samples_per_pixel == 3 for i in group):
        warnings.append("colour images: shown in grey (their luminance)")
    substituted = tuple(
        dict.fromkeys(k for i in group for k in i.header.substituted_identifiers)
    )
    warnings.extend(identifier_warnings(substituted))
    times = [
        i.header.acquisition_seconds for i in group if i.header.acquisition_seconds
    ]
    return SeriesInfo(
        series_instance_uid=header.series_instance_uid,
        study_instance_uid=header.study_instance_uid,
        modality=header.modality,
        series_description=header.series_description,
        phase=Phase.UNKNOWN,
        rows=header.rows,
        columns=header.columns,
        pixel_spacing_mm=(float(spacing[0]), float(spacing[1])),
        slice_spacing_mm=geometry.spacing,
        image_orientation=orientation or DEFAULT_ORIENTATION,
        first_position_mm=geometry.first_position,
        transfer_syntaxes=tuple(sorted({i.header.transfer_syntax for i in group})),
        files=tuple(i.header.path for i in ordered),
        frames=tuple(i.frame for i in ordered),
        sop_instance_uids=tuple(i.header.sop_instance_uid for i in ordered),
        warnings=tuple(warnings),
        series_number=header.series_number,
        stack_label=label,
        subject_id=header.subject_id,
        timepoint_label=header.timepoint_label,
        trial_protocol_id=header.trial_protocol_id,
        trial_site_id=header.trial_site_id,
        acquisition_seconds=min(times) if times else None,
        slice_positions_mm=tuple(i.geometry.position for i in ordered),
        slice_indices=geometry.slots,
        native_slices=tuple(
            i.header.native if len(i.header.frames) == 1 else None for i in ordered
        ),
        encoded_slices=_encoded_slices(ordered),
        frame_of_reference_uid=header.frame_of_reference_uid,
        substituted_identifiers=substituted,
        identity=PatientIdentity(
            patient_name=header.patient_name,
            patient_id=header.patient_id,
            birth_date=header.birth_date,
            institution=header.institution,
            study_date=header.study_date,
            series_date=header.series_date,
        ),
    )


def _encoded_slices(ordered: list[_Image]) -> tuple[EncodedSlice | None, ...]:
    """Return each image's recorded RLE fragment; empty when none was recorded."""
    encoded = tuple(
        i.header.encoded if len(i.header.frames) == 1 else None for i in ordered
    )
    return encoded if any(e is not None for e in encoded) else ()


MAX_NOTES = 3
"""Header notes shown per stack (each file of a bad series would repeat them)."""


def _header_notes(group: list[_Image]) -> list[str]:
    """Return the stack's header notes (values ignored), each once, at most a few."""
    notes = list(dict.fromkeys(n for image in group for n in image.header.notes))
    if len(notes) <= MAX_NOTES:
        return notes
    return [
        *notes[:MAX_NOTES],
        f"and {len(notes) - MAX_NOTES} more such values ignored",
    ]


def _fallback_order(group: list[_Image]) -> list[int]:
    return sorted(range(len(group)), key=lambda i: _tie_break(group[i]))


def _tie_break(image: _Image) -> tuple[int, int, str, str]:
    """Order images at one position by what the scanner wrote, never by file name.

    InstanceNumber, then the frame, then the SOP Instance UID; the path comes last, for
    images that have none of these (so that renaming files never reorders a series).
    """
    header = image.header
    return (
        header.instance_number or 0,
        image.frame,
        header.sop_instance_uid,
        str(header.path),
    )


def _order_and_check(
    group: list[_Image],
    orientation: Sequence[float],
    *,
    spacing_tolerance: float,
    tilt_tolerance_deg: float,
) -> _Geometry:
    positions = [image.geometry.position for image in group]
    if any(p is None for p in positions):
        warnings = ["no ImagePositionPatient: slice positions unknown"]
        if len(group) > 1:
            warnings.append(
                "slices ordered by InstanceNumber because positions are missing"
            )
        known = next((p for p in positions if p is not None), (0.0, 0.0, 0.0))
        return _Geometry(_fallback_order(group), None, known, tuple(warnings))
    points = np.asarray(positions, dtype=np.float64)
    normal = slice_normal(orientation)
    distances = points @ normal
    order = sorted(
        range(len(group)),
        key=lambda i: (distances[i], *_tie_break(group[i])),
    )
    sorted_points = points[order]
    sorted_distances = distances[order]
    first = (
        float(sorted_points[0, 0]),
        float(sorted_points[0, 1]),
        float(sorted_points[0, 2]),
    )
    if len(group) == 1:
        return _Geometry(order, None, first, ())
    spacing, warnings = _spacing_checks(
        sorted_points,
        sorted_distances,
        normal,
        spacing_tolerance=spacing_tolerance,
        tilt_tolerance_deg=tilt_tolerance_deg,
    )
    slots = _gap_slots(np.diff(sorted_distances), spacing_tolerance)
    return _Geometry(order, spacing, first, tuple(warnings), slots)


def _spacing_checks(
    points: np.ndarray,
    distances: np.ndarray,
    normal: np.ndarray,
    *,
    spacing_tolerance: float,
    tilt_tolerance_deg: float,
) -> tuple[float | None, list[str]]:
    warnings: list[str] = []
    unique, counts = _unique_positions(distances)
    if len(unique) < len(distances):
        per_position = set(counts.tolist())
        if len(unique) > 1 and len(per_position) == 1:
            warnings.append(
                f"4-D series: {counts[0]} images at each of {len(unique)} positions "
                "(time or another dimension); not a single volume"
            )
        elif len(unique) == 1:
            warnings.append(
                f"all {len(distances)} images at one position: not a volume (4-D or repeats)"
            )
        else:
            duplicated = [
                f"{u:.1f}" for u, c in zip(unique, counts, strict=True) if c > 1
            ]
            warnings.append(
                "duplicate positions: several images at "
                f"{', '.join(duplicated[:5])} mm along the slice normal"
            )
    if len(unique) < 2:
        return None, warnings
    steps = np.diff(unique)
    spacing = float(np.median(steps))
    warnings.extend(_step_warnings(steps, spacing_tolerance))
    tilt = _tilt_degrees(points, normal)
    if tilt > tilt_tolerance_deg:
        warnings.append(
            f"gantry tilt {tilt:.1f} deg: slices are sheared (the slice step is not "
            "along the slice normal)"
        )
    return spacing, warnings


def _unique_positions(
    distances: np.ndarray, tolerance_mm: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    values: list[float] = []
    counts: list[int] = []
    for d in distances:
        if values and abs(d - values[-1]) <= tolerance_mm:
            counts[-1] += 1
        else:
            values.append(float(d))
            counts.append(1)
    return np.asarray(values), np.asarray(counts)


def _step_warnings(steps: np.ndarray, tolerance: float) -> list[str]:
    smallest = float(steps.min())
    largest = float(steps.max())
    typical = float(np.median(steps))
    if largest - smallest <= max(tolerance * typical, 0.01):
        return []
    multiples = _missing_slice_multiples(steps, tolerance)
    if multiples is not None:
        missing = int(multiples.sum()) - len(steps)
        filled = (
            "blank slices fill the gaps, so every slice keeps its true position"
            if missing <= len(steps) + 1
            else "too many to fill: distances across slices are approximate"
        )
        return [
            f"missing slices: {missing} missing between positions "
            f"(steps {smallest:.2f}-{largest:.2f} mm); {filled}"
        ]
    return [
        f"non-uniform slice spacing: steps {smallest:.2f}-{largest:.2f} mm "
        f"(median {typical:.2f} mm); distances across slices are approximate"
    ]


def _missing_slice_multiples(steps: np.ndarray, tolerance: float) -> np.ndarray | None:
    """Return each step as a whole number of regular steps, or None.

    Not None when the regular (smallest, also typical) step divides every step within
    the tolerance and at least one step spans several: whole slices are missing.
    """
    smallest = float(steps.min())
    typical = float(np.median(steps))
    allowed = max(tolerance * typical, 0.01)
    if smallest <= 0 or abs(typical - smallest) > allowed:
        return None
    multiples = np.round(steps / smallest)
    if np.any(np.abs(steps / smallest - multiples) * smallest > allowed):
        return None
    if multiples.max() < 2:
        return None
    return multiples.astype(np.int64)


def _gap_slots(steps: np.ndarray, tolerance: float) -> tuple[int, ...]:
    """Return the volume slice of each image when blank slices fill missing ones.

    Empty when no slice is missing, or when more are missing than were acquired (the
    volume would be mostly blank: the series loads with its mean step instead).
    """
    if len(steps) == 0 or float(steps.min()) <= 0:
        return ()
    multiples = _missing_slice_multiples(steps, tolerance)
    if multiples is None or int(multiples.sum()) - len(steps) > len(steps) + 1:
        return ()
    return (0, *(int(v) for v in np.cumsum(multiples)))


def _tilt_degrees(points: np.ndarray, normal: np.ndarray) -> float:
    step = points[-1] - points[0]
    length = float(np.linalg.norm(step))
    if length == 0.0:
        return 0.0
    cosine = min(1.0, abs(float(step @ normal)) / length)
    return math.degrees(math.acos(cosine))


def _with_phases(
    stacks: list[SeriesInfo], headers: dict[str, FileHeader]
) -> list[SeriesInfo]:
    contrast_times: dict[str, list[float]] = defaultdict(list)
    bolus_starts: dict[str, list[float]] = defaultdict(list)
    for header in headers.values():
        if header.contrast_agent and header.acquisition_seconds is not None:
            contrast_times[header.study_instance_uid].append(header.acquisition_seconds)
        if header.bolus_start_seconds is not None:
            bolus_starts[header.study_instance_uid].append(header.bolus_start_seconds)
    result: list[SeriesInfo] = []
    for stack in stacks:
        header = headers[stack.series_instance_uid]
        study_bolus = bolus_starts.get(header.study_instance_uid)
        phase = classify_phase(
            header.series_description,
            protocol_name=header.protocol_name,
            contrast_agent=header.contrast_agent,
            # a series without ContrastBolusStartTime is timed from its study's bolus
            bolus_start_seconds=header.bolus_start_seconds
            if header.bolus_start_seconds is not None
            else (min(study_bolus) if study_bolus else None),
            acquisition_seconds=stack.acquisition_seconds,
            study_contrast_seconds=tuple(contrast_times[header.study_instance_uid]),
            is_localizer=stack.stack_label.startswith("localizer"),
        )
        result.append(replace(stack, phase=phase))
    return result
