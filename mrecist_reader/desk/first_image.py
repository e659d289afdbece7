"""Which series to show while a folder is still being scanned (Qt-free).

A large folder is read folder by folder (:func:`mrecist_reader.imaging.scan.scan`'s
``on_progress``), and a flat one (every file in one directory) series by series. The
worklist so far holds only the stacks no unread file can join (their folders, or their
series in a flat folder, all read:
:attr:`~mrecist_reader.imaging.scan.ScanProgress.complete_series`): a stack still
being read would open as a volume with slices missing. The series the window opens
first is the one it opens after the whole scan: the first subject's first timepoint's
preferred series (arterial first, :func:`~mrecist_reader.desk.worklist.preferred_series`),
chosen again as series arrive, so an arterial series found later replaces a portal one
until the first image is on screen. Then the worklist fills in as series are found
(:func:`grown_worklist`) and the complete one follows at the end, the reader left
where they are (the desk's ``grow_worklist``).
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


def grown_worklist(
    complete: Sequence[SeriesInfo], *, shown: int
) -> tuple[SubjectEntry, ...] | None:
    """Return the bigger worklist to show as the scan goes on, or ``None`` (no change).

    Once the first image is on screen the worklist fills in as series are found:
    ``complete`` are the complete stacks so far, ``shown`` how many the worklist on
    screen holds. The window hands it to the desk's ``grow_worklist``, which leaves the
    reader's subject, timepoint and read open.
    """
    if len(complete) <= shown:
        return None
    return worklist_so_far(complete)


def show_early(
    complete: Sequence[SeriesInfo],
    *,
    shown: bool,
    files_left: int,
    min_files_left: int | None = None,
) -> tuple[SubjectEntry, ...] | None:
    """Return the worklist to show before the scan ends, or ``None`` to wait.

    ``complete``: the complete stacks found so far; ``shown``: whether a worklist was
    already shown for this scan (the first image is shown once; later series join it
    through :func:`grown_worklist`, which moves no one); ``files_left``:
    files still to read, at least ``min_files_left`` (default :data:`MIN_FILES_LEFT`)
    for an early show to be worth it.
    """
    least = MIN_FILES_LEFT if min_files_left is None else min_files_left
    if shown or files_left < least:
        return None
    subjects = worklist_so_far(complete)
    return subjects if first_series(subjects) is not None else None
