"""The adjudicator's image pane: both readers' calipers on the same images.

A thin view of :meth:`AdjudicationDesk.images
<mrecist_reader.desk.adjudication.AdjudicationDesk.images>` (issue 17 item 4): a
timepoint chooser, a read-only :class:`~mrecist_reader.ui.slice_viewer.SliceViewer`
showing the series most calipers are on, reader 1's calipers in reader 1's colour and
reader 2's in reader 2's (labelled ``R1 T1`` / ``R2 T1``), locked with a tooltip saying
why. No measuring, no editing: nothing in either read can be changed here.
"""

import logging
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from mrecist_reader.core.adjudication import Role
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.adjudication import (
    READER_COLOURS,
    AdjudicationDesk,
    AdjudicationScreen,
)
from mrecist_reader.desk.adjudication_images import (
    ImagePane,
    ReaderCaliper,
    SeriesChoice,
)
from mrecist_reader.desk.worklist import Worklist
from mrecist_reader.imaging.volume import SeriesInfo, Volume
from mrecist_reader.ui.caliper import CaliperSpec, point_to_index
from mrecist_reader.ui.image_stack import ImageStack
from mrecist_reader.ui.slice_viewer import SliceViewer

logger = logging.getLogger(__name__)

LOCKED = (
    "{label}: reader {reader}'s caliper. Nothing in either read can be changed on "
    "the adjudicator's screen."
)


class AdjudicationImages(QWidget):
    """The image pane of the adjudication window (read-only)."""

    def __init__(
        self,
        desk: AdjudicationDesk,
        worklist_of: Callable[[], Worklist],
        series_choice: SeriesChoice | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("adjudicationImages")
        self.desk = desk
        self._worklist_of = worklist_of
        self._series_choice = series_choice
        self.pane: ImagePane | None = None
        self._loader: object | None = None
        self.loading = False
        """Whether a series is still being decoded in the background."""
        self.timepoint = QComboBox(self)
        self.timepoint.setObjectName("adjudicationTimepoint")
        self.timepoint.currentIndexChanged.connect(self._on_timepoint)
        self.legend = QLabel("", self)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.message = QLabel("", self)
        self.message.setObjectName("adjudicationImagesMessage")
        self.message.setWordWrap(True)
        self.viewer = SliceViewer(self)
        self._make_read_only()
        top = QHBoxLayout()
        top.addWidget(QLabel("Timepoint", self))
        top.addWidget(self.timepoint)
        top.addWidget(self.legend, stretch=1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.viewer, stretch=1)

    def _make_read_only(self) -> None:
        """No measuring or ROI here: the adjudicator changes nothing of either read."""
        viewer = self.viewer
        for button in (viewer.measure_button, viewer.roi_button):
            button.setEnabled(False)
            button.setToolTip("Nothing in either read can be changed here.")
        viewer.mode_hint.setVisible(False)  # no measuring to hint at
        viewer.measure_mode_changed.connect(self._no_measuring)

    def _no_measuring(self, measuring: bool) -> None:
        if measuring:  # M on the viewer: left at once
            self.viewer.set_measure_mode(False)

    def show_screen(self, screen: AdjudicationScreen | None) -> None:
        """Fill the chooser with the cut's timepoints and show the cut's one."""
        self.timepoint.blockSignals(True)
        self.timepoint.clear()
        for index, label in self.desk.timepoints():
            self.timepoint.addItem(label, index)
        self.timepoint.blockSignals(False)
        if screen is None or self.timepoint.count() == 0:
            self.legend.setText("")
            self._show(None)
            return
        self.legend.setText(
            "    ".join(
                f"<span style='color:{side.colour}; font-weight:bold'>"
                f"━ R{1 if side.role is Role.READER_1 else 2}</span> {side.title}"
                for side in screen.sides
            )
        )
        self.timepoint.setCurrentIndex(self.timepoint.count() - 1)  # the cut
        self._on_timepoint(self.timepoint.currentIndex())

    def refresh(self, *_changed: object) -> None:
        """Show the chosen timepoint again (the adjudicator opened other images)."""
        if self.timepoint.count():
            self._on_timepoint(self.timepoint.currentIndex())

    def choose_timepoint(self, label: str) -> None:
        """Show a timepoint of the cut by its label."""
        position = self.timepoint.findText(label)
        if position >= 0 and position != self.timepoint.currentIndex():
            self.timepoint.setCurrentIndex(position)

    def jump_to(self, role: Role, lesion_id: str) -> None:
        """Show the slice of a reader's caliper of a lesion (at the timepoint shown)."""
        pane, stack = self.pane, self.viewer.stack
        if pane is not None and pane.series is None:
            self.message.setText(pane.message)  # why there is no image to go to
            return
        caliper = None if pane is None else pane.caliper_of(role, lesion_id)
        if caliper is None or stack is None:
            where = "" if pane is None else f" at {pane.timepoint_label}"
            self.message.setText(
                f"R{1 if role is Role.READER_1 else 2} {lesion_id}: no caliper on "
                f"the series shown{where}."
            )
            return
        self.viewer.set_slice(round(point_to_index(stack.affine, caliper.p1_mm)[0]))

    def _on_timepoint(self, position: int) -> None:
        index = self.timepoint.itemData(position)
        if index is None:
            return
        try:
            pane = self.desk.images(
                int(index), self._worklist_of(), self._series_choice
            )
        except MrecistError as error:  # a worklist without the subject
            logger.info("no images for the adjudicator: %s", error)
            pane = None
        self._show(pane)

    def _show(self, pane: ImagePane | None) -> None:
        shown = None if self.pane is None else self.pane.series
        self.pane = pane
        self.message.setText("" if pane is None else pane.message)
        if pane is None or pane.series is None:
            self._loader, self.loading = None, False
            self.viewer.set_stack(None)
            if pane is not None:
                self.viewer.show_placeholder(pane.message)
            return
        if pane.series is not shown or self.viewer.stack is None:
            self._load(pane.series, f"{pane.timepoint_label}: both readers' calipers")
        else:
            self._draw()

    def _load(self, series: SeriesInfo, caption: str) -> None:
        from mrecist_reader.imaging.load import open_volume
        from mrecist_reader.ui.workers import run_in_thread

        try:
            loader = open_volume(series)
        except (MrecistError, OSError, ValueError) as error:
            self._failed(error)
            return
        self._loader, self.loading = loader, True
        self.viewer.set_stack(ImageStack.from_loader(loader, caption))
        self._draw(go_to_first=True)

        def done(volume: Volume) -> None:
            if self._loader is loader:
                self.loading = False
                self.viewer.replace_stack(ImageStack.from_volume(volume, caption))
                self._draw()

        def failed(error: BaseException) -> None:
            if self._loader is loader:
                self._failed(error)

        run_in_thread(loader.wait, on_done=done, on_error=failed)

    def _failed(self, error: BaseException) -> None:
        self._loader, self.loading = None, False
        self.viewer.set_stack(None)
        text = f"The series could not be shown: {error}"
        self.message.setText(text)
        self.viewer.show_placeholder(text)

    def _draw(self, *, go_to_first: bool = False) -> None:
        stack, pane = self.viewer.stack, self.pane
        if stack is None or pane is None:
            return
        specs = [_spec(stack.affine, caliper) for caliper in pane.calipers]
        if go_to_first and specs:
            self.viewer.set_slice(specs[0].slice_index)
        self.viewer.set_calipers(specs)


def _spec(affine: np.ndarray, caliper: ReaderCaliper) -> CaliperSpec:
    p1, p2 = (
        point_to_index(affine, caliper.p1_mm),
        point_to_index(affine, caliper.p2_mm),
    )
    return CaliperSpec(
        caliper.label,
        round(p1[0]),
        p1,
        p2,
        editable=False,
        locked_reason=LOCKED.format(label=caliper.label, reader=caliper.reader),
        colour=READER_COLOURS[caliper.role],
        label_under=caliper.role is Role.READER_2,
    )
