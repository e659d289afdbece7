"""Which series to show while a folder is still being scanned (Qt-free).

A large folder is read folder by folder (:func:`mrecist_reader.imaging.scan.scan`'s
``on_progress``). The worklist so far holds only the stacks whose folders have all been
read (:attr:`~mrecist_reader.imaging.scan.ScanProgress.complete_series`): a stack still
being read would open as a volume with slices missing. The series the window opens
first is the one it opens after the whole scan: the first subject's first timepoint's
preferred series (arterial first, :func:`~mrecist_reader.desk.worklist.preferred_series`),
chosen again as series arrive, so an arterial series found later replaces a portal one
until the first image is on screen; the complete worklist replaces this one at the end.
"""

from collections.abc import Sequence

from mrecist_reader.desk.worklist import preferred_series
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry, build_worklist

MIN_FILES_LEFT = 300
"""Nothing is shown early with fewer files left to read (a fraction of a second): the
whole worklist follows at once, and a subject shown early is opened again when the
full scan finds it more timepoints."""


def worklist_so_far(complete: Sequence[SeriesInfo]) -> tuple[SubjectEntry, ...]:
    """Return the worklist of the complete stacks found so far."""
    return build_worklist(complete)


def first_series(subjects: Sequence[SubjectEntry]) -> SeriesInfo | None:
    """Return the series a worklist opens first; ``None`` when it has none yet."""
    if not subjects or not subjects[0].timepoints:
        return None
    return preferred_series(subjects[0].timepoints[0].series)


def show_early(
    complete: Sequence[SeriesInfo],
    *,
    shown: bool,
    files_left: int,
    min_files_left: int | None = None,
) -> tuple[SubjectEntry, ...] | None:
    """Return the worklist to show before the scan ends, or ``None`` to wait.

    ``complete``: the complete stacks found so far; ``shown``: whether a worklist was
    already shown for this scan (the first image is shown once; later series wait for
    the end of the scan, so the reader is not moved while reading); ``files_left``:
    files still to read, at least ``min_files_left`` (default :data:`MIN_FILES_LEFT`)
    for an early show to be worth it.
    """
    least = MIN_FILES_LEFT if min_files_left is None else min_files_left
    if shown or files_left < least:
        return None
    subjects = worklist_so_far(complete)
    return subjects if first_series(subjects) is not None else None
