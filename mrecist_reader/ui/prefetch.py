"""Start-up prefetch: scan the path and decode the first image in another process.

``mrecist-reader PATH`` forks a process before Qt is imported. That process scans
``PATH``, builds the worklist and decodes the one slice the window shows first (the
middle slice of the first subject's baseline arterial series), while the main process
imports Qt and builds the window. The main process then shows that slice at once and
imports the pixel decoders (pydicom) only afterwards, to load the rest of the volume.

Qt-free: imported before the "no display" check and in the forked process.
"""

import logging
import multiprocessing
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.worklist import preferred_series
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry

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
    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    future: Future[Prefetched] = executor.submit(
        prefetch,
        path,
        cache_dir=cache_dir,
        cache_limit_mb=cache_limit_mb,
        cache_max_age_days=cache_max_age_days,
    )
    executor.shutdown(wait=False)
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
    result = scan(
        Path(path),
        cache_dir=cache_dir,
        cache_limit_mb=cache_limit_mb,
        cache_max_age_days=cache_max_age_days,
    )
    subjects = build_worklist(result.series)
    scanned = time.perf_counter()
    first = None
    if subjects and subjects[0].timepoints:
        chosen = preferred_series(subjects[0].timepoints[0].series)
        if chosen is not None:
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
