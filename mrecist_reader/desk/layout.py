"""The viewer layouts and what their extra panes show (issue 15 item 2), without Qt.

1×1 shows the timepoint being read alone; 1×2 (the default) puts the comparison
timepoint beside it; 2×2 adds, under each, the same timepoint's other contrast phase:
comparison arterial | current arterial over comparison portal venous | current portal
venous (mRECIST reads enhancement in the arterial phase and washout in the portal venous
phase).

2×2 with MPR keeps the top row and shows, under it, coronal and sagittal reformats of
the series read (:mod:`mrecist_reader.imaging.reformat`), with reference lines.
"""

from collections.abc import Sequence
from enum import StrEnum

from mrecist_reader.imaging.volume import Phase, SeriesInfo


class Layout(StrEnum):
    """How many panes the images take: one, two side by side, or two by two."""

    ONE = "1x1"
    SIDE_BY_SIDE = "1x2"
    GRID = "2x2"
    GRID_MPR = "2x2-mpr"


LAYOUT_TEXT: dict[Layout, str] = {
    Layout.ONE: "Layout &1 × 1 (the timepoint read)",
    Layout.SIDE_BY_SIDE: "Layout 1 × &2 (comparison | current)",
    Layout.GRID: "Layout 2 × 2 (&arterial over portal venous)",
    Layout.GRID_MPR: "Layout 2 × 2 with &MPR (coronal | sagittal under the panes)",
}
"""The View menu's text of each layout."""


def companion_series(
    series: Sequence[SeriesInfo], shown: SeriesInfo | None
) -> SeriesInfo | None:
    """Return the series of the same timepoint to show under ``shown`` in 2×2.

    Under an arterial series its portal venous one, under any other series the
    arterial one; ``None`` when the timepoint has no such series (the pane says so).
    """
    if shown is None:
        return None
    wanted = (
        Phase.ARTERIAL if shown.phase is not Phase.ARTERIAL else Phase.PORTAL_VENOUS
    )
    return next(
        (
            info
            for info in series
            if info.phase is wanted
            and info.series_instance_uid != shown.series_instance_uid
        ),
        None,
    )
