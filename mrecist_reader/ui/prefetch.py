"""Start-up prefetch: scan the path and decode the first image in another process.

``mrecist-reader PATH`` forks a process before Qt is imported. That process scans
``PATH``, builds the worklist and decodes the one slice the window shows first (the
middle slice of the first subject's baseline arterial series), while the main process
imports Qt and builds the window. The main process then shows that slice at once and
imports the pixel decoders (pydicom) only afterwards, to load the rest of the volume.

A large folder is scanned progressively: as soon as the series the window opens first
has been read entirely (:func:`mrecist_reader.desk.first_image.show_early`), the
process sends the worklist so far and that series' first slice ahead of the rest
(:func:`early_prefetched`), and goes on scanning.

Qt-free: imported before the "no display" check and in the forked process.
"""

import logging
import multiprocessing
import os
import pickle
import sys
import tempfile
import time
import weakref
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.queues import SimpleQueue
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.first_image import first_series, show_early
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry

if TYPE_CHECKING:
    from mrecist_reader.imaging.scan import ScanProgress

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FirstSlice:
    """One decoded slice of a series, shown before the rest of the volume is loaded."""

    series_uid: str
    index: int
    array: npt.NDArray[np.generic]
    affine: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """A scan's series and skipped files (``path``, ``reason``) as plain data.

    Sent back instead of :class:`~mrecist_reader.imaging.scan.ScanResult`, whose
    unpickling would import the scanner (and pydicom) in the main process before the
    first image.
    """

    series: tuple[SeriesInfo, ...]
    skipped: tuple[tuple[str, str], ...]
    extracted_to: Path | None = None
    """Where a zip archive was extracted (a blinded read removes it on closing)."""


@dataclass(frozen=True, slots=True)
class Prefetched:
    """What the prefetch process found: the scan, its worklist and the first slice."""

    scan: ScanSummary
    subjects: tuple[SubjectEntry, ...]
    first: FirstSlice | None


_early: "SimpleQueue[str] | None" = None
"""Where the prefetch process sends the file of its early result (inherited by fork).

Only the file's path goes through the pipe: a message that small is written whole at
once, so the prefetch process may end before the window reads it. A large worklist
sent through the pipe itself would be cut when the process ended mid-write (the
window waited for the rest for ever: found 2026-12-06 with the reader ID dialog open
while a 1,200-file folder was scanned)."""
_early_of: "weakref.WeakKeyDictionary[Future[Prefetched], SimpleQueue[str]]" = (
    weakref.WeakKeyDictionary()
)


def early_prefetched(future: "Future[Prefetched]") -> Prefetched | None:
    """Return the worklist so far and first slice a prefetch sent ahead, once.

    ``None`` until it arrives (and for a folder whose first series is complete only
    at the end of its scan: the future's result then comes alone).
    """
    queue = _early_of.get(future)
    if queue is None or queue.empty():
        return None
    del _early_of[future]
    return _read_early(Path(queue.get()))


def _read_early(path: Path) -> Prefetched | None:
    """Return the early result the prefetch process wrote to ``path``; remove it."""
    try:
        with path.open("rb") as stream:
            found = pickle.load(stream)  # written by this program's own fork (0600)
    except (OSError, pickle.UnpicklingError, EOFError) as error:
        logger.info("early prefetch result not read: %s", error)
        return None
    finally:
        path.unlink(missing_ok=True)
    return found if isinstance(found, Prefetched) else None


def _write_early(early: Prefetched) -> Path:
    """Write an early result to a new private file (mode 0600); return its path."""
    fd, name = tempfile.mkstemp(prefix="mrecist-early-", suffix=".pickle")
    with os.fdopen(fd, "wb") as stream:
        pickle.dump(early, stream, protocol=pickle.HIGHEST_PROTOCOL)
    return Path(name)


def zip_cache_settings() -> tuple[Path | None, int | None, int | None]:
    """Return the user settings' zip cache folder, size limit (MiB) and age limit (days).

    Read before Qt is imported, for the start-up prefetch; unreadable settings give
    the scanner's defaults here (the window reports them when it starts).
    """
    from mrecist_reader.settings import load_user_settings

    try:
        settings = load_user_settings()
    except (MrecistError, OSError) as error:
        logger.info("zip cache settings not read: %s", error)
        return None, None, None
    return settings.zip_cache_path, settings.zip_cache_mb, settings.zip_cache_days


def scan_index_setting() -> Path | None:
    """Return the user settings' scan index folder (``None``: the default).

    Read for each scan, before or without Qt; unreadable settings give the default
    here (the window reports them when it starts).
    """
    from mrecist_reader.settings import load_user_settings

    try:
        return load_user_settings().scan_index_path
    except (MrecistError, OSError) as error:
        logger.info("scan index setting not read: %s", error)
        return None


def first_shown_slice(series: SeriesInfo) -> int:
    """Return the volume slice a newly opened series shows first (its middle image)."""
    return series.volume_slice_of_image[series.n_images // 2] if series.n_images else 0


def start_prefetch(
    path: str | None,
    *,
    cache_dir: Path | None = None,
    cache_limit_mb: int | None = None,
    cache_max_age_days: int | None = None,
) -> "Future[Prefetched] | None":
    """Start :func:`prefetch` of ``path`` in a forked process; ``None`` when not possible.

    Returns ``None`` (the window scans in a thread instead) without a path, for a
    missing path, or where processes cannot be forked (Windows, macOS default).
    ``cache_dir``, ``cache_limit_mb``, ``cache_max_age_days``: the settings' zip
    cache (``None``: defaults).
    """
    if not path or "fork" not in multiprocessing.get_all_start_methods():
        return None
    if sys.platform != "linux" or not Path(path).exists():
        return None
    global _early
    context = multiprocessing.get_context("fork")
    _early = context.SimpleQueue()
    executor = ProcessPoolExecutor(1, mp_context=context)
    future: Future[Prefetched] = executor.submit(
        prefetch,
        path,
        cache_dir=cache_dir,
        cache_limit_mb=cache_limit_mb,
        cache_max_age_days=cache_max_age_days,
    )
    executor.shutdown(wait=False)
    _early_of[future] = _early
    return future


def prefetch(
    path: str,
    *,
    cache_dir: Path | None = None,
    cache_limit_mb: int | None = None,
    cache_max_age_days: int | None = None,
) -> Prefetched:
    """Scan ``path``, build its worklist and decode the first slice the window shows.

    ``cache_dir``, ``cache_limit_mb``, ``cache_max_age_days``: the settings' zip
    cache (``None``: defaults).
    """
    from mrecist_reader.imaging.scan import scan
    from mrecist_reader.imaging.worklist import build_worklist

    start = time.perf_counter()
    sender = _EarlySender(_early)
    result = scan(
        Path(path),
        cache_dir=cache_dir,
        cache_limit_mb=cache_limit_mb,
        cache_max_age_days=cache_max_age_days,
        index_dir=scan_index_setting(),
        on_progress=sender.progress if _early is not None else None,
    )
    subjects = build_worklist(result.series)
    scanned = time.perf_counter()
    first = None
    chosen = first_series(subjects)
    if chosen is not None and chosen != sender.sent_series:
        first = decode_first_slice(chosen)
    logger.info(
        "start-up prefetch: scan %.2f s, first slice %.2f s",
        scanned - start,
        time.perf_counter() - scanned,
    )
    summary = ScanSummary(
        series=tuple(result.series),
        skipped=tuple((skip.path, skip.reason) for skip in result.skipped),
        extracted_to=result.extracted_to,
    )
    return Prefetched(scan=summary, subjects=tuple(subjects), first=first)


class _EarlySender:
    """Sends the worklist so far and its first slice once the first series is read."""

    def __init__(self, queue: "SimpleQueue[str] | None") -> None:
        self._queue = queue
        self.sent_series: SeriesInfo | None = None

    def progress(self, found: "ScanProgress") -> None:
        """Send ahead once the series opened first is complete (see the module)."""
        if self._queue is None or self.sent_series is not None:
            return  # (the stacks are built only when asked for)
        subjects = show_early(
            found.complete_series,
            shown=False,
            files_left=found.files_total - found.files_seen,
        )
        chosen = None if subjects is None else first_series(subjects)
        if subjects is None or chosen is None:
            return
        self.sent_series = chosen
        early = Prefetched(
            scan=ScanSummary(series=found.complete_series, skipped=()),
            subjects=subjects,
            first=decode_first_slice(chosen),
        )
        # the file's path only: written whole, never blocks (see _early)
        self._queue.put(str(_write_early(early)))


def decode_first_slice(series: SeriesInfo) -> FirstSlice | None:
    """Decode the slice a series shows first; ``None`` when it cannot be decoded.

    A failure is only logged here: the window loads the series again and reports the
    error to the reader.
    """
    from mrecist_reader.imaging.load import open_volume, series_affine

    index = first_shown_slice(series)
    try:
        loader = open_volume(series, workers=1)
        try:
            array = np.array(loader.request_slice(index))
        finally:
            loader.cancel()
    except (MrecistError, OSError, ValueError) as error:
        logger.info("first slice not prefetched: %s", error)
        return None
    return FirstSlice(series.series_instance_uid, index, array, series_affine(series))
