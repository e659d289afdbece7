"""Which timepoint the comparison pane shows beside the one being read (issue 15 item 2).

A follow-up is compared with the baseline (the reference for response), the previous
timepoint (what changed since the last read) or the nadir timepoint: the earlier
timepoint with the smallest sum of target diameters, the reference for progression
(mrecist-rules.md §Target response, "nadir"). The choice is the reader's; this module
says which timepoint it means, without Qt.
"""

from collections.abc import Sequence
from enum import StrEnum

from mrecist_reader.core.assess import Assessment


class Comparison(StrEnum):
    """What the comparison pane shows: the baseline, previous or nadir timepoint."""

    BASELINE = "baseline"
    PREVIOUS = "previous"
    NADIR = "nadir"


COMPARISON_TEXT: dict[Comparison, str] = {
    Comparison.BASELINE: "Compare with &baseline",
    Comparison.PREVIOUS: "Compare with &previous timepoint",
    Comparison.NADIR: "Compare with &nadir timepoint",
}
"""The menu text of each choice (one source for the View menu and its tests)."""


def comparison_timepoint(
    choice: Comparison,
    current: int,
    timepoint_indices: Sequence[int],
    assessment: Assessment | None,
) -> int:
    """Return the index of the timepoint to show beside timepoint ``current``.

    Parameters
    ----------
    choice
        Baseline, previous or nadir.
    current
        The timepoint being read (at baseline the answer is the baseline itself).
    timepoint_indices
        The subject's timepoints, baseline first.
    assessment
        The read's assessment: its target sums find the nadir. Without one, or when no
        earlier timepoint has every target evaluable, the nadir is the baseline.

    Returns
    -------
    int
        The baseline for :attr:`Comparison.BASELINE`; the timepoint just before
        ``current`` for :attr:`Comparison.PREVIOUS`; for :attr:`Comparison.NADIR` the
        earlier timepoint with the smallest target sum, the latest of equal ones (the
        most recent images of the same tumour burden).
    """
    earlier = [k for k in timepoint_indices if k < current]
    if not earlier or choice is Comparison.BASELINE:
        return timepoint_indices[0] if timepoint_indices else current
    if choice is Comparison.PREVIOUS:
        return earlier[-1]
    return _nadir_timepoint(earlier, assessment)


def _nadir_timepoint(earlier: list[int], assessment: Assessment | None) -> int:
    """Return the earlier timepoint with the smallest target sum (latest of ties)."""
    sums = (
        {}
        if assessment is None
        else {
            row.timepoint_index: row.target_sum
            for row in assessment.timepoints
            if row.target_sum is not None
        }
    )
    known = [(sums[k], -k) for k in earlier if k in sums]
    return -min(known)[1] if known else earlier[0]
