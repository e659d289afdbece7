"""The viewer layouts 1×1, 1×2 and 2×2 (issue 15 item 2): which panes show, and what.

The top row is the window's comparison and current panes (the desk decides what they
show). In 2×2 a second row shows, under each, the same timepoint's other contrast phase
(:func:`~mrecist_reader.desk.layout.companion_series`): comparison arterial | current
arterial over comparison portal venous | current portal venous. Every pane is linked by
patient position (and window/level when linked) through the window's
:class:`~mrecist_reader.ui.view_links.ViewLinks`. The lower panes are for looking:
calipers are drawn on the read series above.

2×2 with MPR shows instead, under the top row, coronal and sagittal reformats of the
series read (:mod:`mrecist_reader.ui.mpr`), with reference lines on every pane; they
are not linked by position (each pane's slice is a line on the others).
"""

import logging
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QSplitter

from mrecist_reader.desk.desk import ReadingDesk, SeriesState
from mrecist_reader.desk.layout import Layout, companion_series
from mrecist_reader.imaging.volume import SeriesInfo, Volume
from mrecist_reader.ui.mpr import MprPanes, MprSource
from mrecist_reader.ui.timepoint_view import TimepointView
from mrecist_reader.ui.view_links import ViewLinks

logger = logging.getLogger(__name__)


class PaneGrid:
    """Arranges the panes for a layout and loads the 2×2 layout's lower row."""

    def __init__(
        self,
        window: QMainWindow,
        desk: ReadingDesk,
        top: tuple[TimepointView, TimepointView],
        links: ViewLinks,
        *,
        caption: Callable[[int, SeriesInfo], str],
    ) -> None:
        self.desk, self.top, self.links, self._caption = desk, top, links, caption
        self.layout = Layout.SIDE_BY_SIDE
        self.lower = (
            TimepointView(window, "comparisonCompanionViewer"),
            TimepointView(window, "currentCompanionViewer"),
        )
        top_row = window.takeCentralWidget()  # kept: setCentralWidget would delete it
        assert top_row is not None, "the window's panes are built first"
        bottom_row = QSplitter(Qt.Orientation.Horizontal)
        bottom_row.setObjectName("companionSplitter")
        self.grid = QSplitter(Qt.Orientation.Vertical)
        self.grid.setObjectName("paneGrid")
        window.setCentralWidget(self.grid)
        self.grid.addWidget(top_row)
        self.grid.addWidget(bottom_row)
        memory = top[0].viewer.window_memory
        for view in self.lower:
            view.viewer.set_window_memory(memory)
            # calipers are drawn on the read series above; an ROI here compares phases
            view.viewer.measure_button.setVisible(False)
            bottom_row.addWidget(view.viewer)
            self._link(view)
        self.mpr = MprPanes(memory, (top[0].viewer, top[1].viewer))
        for pane in self.mpr.panes:
            pane.viewer.setVisible(False)
            bottom_row.addWidget(pane.viewer)
        self._mpr_volume: Volume | None = None
        for view in top:  # a read series finishing its load is then reformatted
            view.viewer.slice_changed.connect(lambda _k: self._follow_volume())
        bottom_row.setVisible(False)
        self.bottom_row = bottom_row
        links.views = (*links.views, *self.lower)
        desk.timepoint_changed.connect(lambda _index: self.arrange())
        desk.series_changed.connect(lambda _index, _state: self.arrange())
        desk.comparison_changed.connect(lambda _index: self.arrange())

    def _link(self, view: TimepointView) -> None:
        links = self.links
        view.viewer.slice_changed.connect(lambda _k: links.on_slice_changed(view))
        view.viewer.window_changed.connect(
            lambda width, level: links.on_window_changed(view, width, level)
        )

    def set_layout(self, layout: Layout) -> None:
        """Show the panes of a layout (1×1, 1×2 or 2×2)."""
        self.layout = Layout(layout)
        self.arrange()

    def arrange(self) -> None:
        """Show and fill the panes the layout and the desk's timepoints call for."""
        reading, comparison = self.desk.timepoint_index, self.desk.comparison_index
        follow_up = reading != comparison
        self.top[0].viewer.setVisible(not follow_up or self.layout is not Layout.ONE)
        self.top[1].viewer.setVisible(follow_up)
        grid = self.layout is Layout.GRID
        mpr = self.layout is Layout.GRID_MPR
        self.bottom_row.setVisible(grid or mpr)
        self.lower[0].viewer.setVisible(grid)
        self.lower[1].viewer.setVisible(grid and follow_up)
        for pane in self.mpr.panes:
            pane.viewer.setVisible(mpr)
        if mpr:
            self._show_mpr()
        else:
            self._mpr_volume = None
            self.mpr.hide()
        if grid:
            self._fill(self.lower[0], comparison)
            self._fill(self.lower[1], reading if follow_up else None)
        else:
            for view in self.lower:
                if view.series is not None:
                    view.clear()

    def read_view(self) -> TimepointView:
        """Return the pane showing the timepoint read (the reformats' source)."""
        follow_up = self.desk.timepoint_index != self.desk.comparison_index
        return self.top[1] if follow_up else self.top[0]

    def _follow_volume(self) -> None:
        """Reformat the read series again when its volume changed (loaded, replaced)."""
        if self.layout is Layout.GRID_MPR and self.read_view().volume is not (
            self._mpr_volume
        ):
            self._show_mpr()

    def _show_mpr(self) -> None:
        """Show the read series' reformats (or wait for its volume)."""
        read = self.read_view()
        volume, stack = read.volume, read.viewer.stack
        if volume is not None and volume is self._mpr_volume:
            self.mpr.update_lines()
            return
        self._mpr_volume = volume
        source = (
            None
            if volume is None or stack is None
            else MprSource(array=volume.array, affine=volume.affine, stack=stack)
        )
        self.mpr.show(read.viewer, source)

    def _fill(self, view: TimepointView, index: int | None) -> None:
        """Load the other phase of timepoint ``index`` into a lower pane (or clear it)."""
        subject = self.desk.subject
        state: SeriesState | None = (
            None if index is None else self.desk.open_series(index)
        )
        entry = None if index is None else self.desk.timepoint_entry(index)
        if subject is None or index is None or state is None or entry is None:
            view.clear()
            return
        series = companion_series(entry.series, state.series)
        if series is None:
            view.clear()
            view.show_failure("No other contrast phase at this timepoint")
            return
        if view.shows(subject.subject_id, index, series):
            return
        view.load(
            index,
            series,
            self._caption(index, series),
            on_loaded=self._on_loaded,
            on_error=partial(_show_error, view),
            subject_id=subject.subject_id,
        )

    def _on_loaded(self, view: TimepointView) -> None:
        """Put a loaded lower pane at the position of the pane above it."""
        above = self.top[0] if view is self.lower[0] else self.top[1]
        if above.viewer.stack is not None and view.viewer.stack is not None:
            view.viewer.go_to_patient_point(above.viewer.slice_centre_mm())


def _show_error(view: TimepointView, error: BaseException) -> None:
    """Say in a lower pane why its series could not be shown."""
    logger.info("companion series not shown: %s", error)
    view.show_failure(str(error))
