"""The series still arriving from the archive, on screen in the panes' place.

A thin view over :mod:`mrecist_reader.desk.archive_arrival`: while a retrieval runs,
the first image of the series to read is shown as soon as its file is written
(decoded off the GUI thread from the arrived file, windowed like any image: the
panes' window memory), under a caption that says how many images have arrived; the
reader scrolls through the images arrived so far. Measure mode, an ROI, a lesion
placed and sign-off are refused with the desk's message. When the window opens what
arrived, the panes come back in the preview's place and the full series opens at
the image the reader was looking at (:meth:`ArrivalDisplay.hand_over`).
"""

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QSplitter, QVBoxLayout, QWidget

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.archive_arrival import (
    Action,
    ArrivalPreview,
    ArrivedImage,
    Arriving,
    HandOver,
    SeriesStillArriving,
    decode_arrived,
)
from mrecist_reader.ui.image_stack import ImageStack, next_image_step
from mrecist_reader.ui.slice_viewer import SliceViewer
from mrecist_reader.ui.windowing import WindowMemory, series_kind
from mrecist_reader.ui.workers import run_in_thread

logger = logging.getLogger(__name__)

Say = Callable[[str, int], None]
BLOCKED_TIP = "Lesions are placed once the series has arrived from the archive"
ARRIVING_HINT = "Arriving from the archive: scroll to look; measuring waits"
KEPT_IMAGES = 32
"""Arrived images kept decoded while the reader scrolls (the rest decode again)."""


class ArrivalPane(QWidget):
    """A slice viewer over the images of one series arrived so far (no measuring)."""

    def __init__(
        self, preview: ArrivalPreview, say: Say, memory: WindowMemory | None = None
    ) -> None:
        super().__init__()
        self.setObjectName("arrivalPane")
        self.preview = preview
        self.say = say
        self.viewer = SliceViewer(self, window_memory=memory)
        self.viewer.setObjectName("arrivalViewer")
        self.viewer.show_placeholder("Retrieving from the archive...")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.viewer)
        self.first: ArrivedImage | None = None
        self._files: tuple[Path, ...] = ()
        self._decoded: OrderedDict[Path, ArrivedImage] = OrderedDict()
        self._decoding = ""  # the series whose first image is being decoded
        self._reversed = False  # stack index n-1-a shows the a-th image arrived
        self.viewer.measure_mode_changed.connect(self._measure_asked)
        self.viewer.roi_button.toggled.connect(self._roi_asked)
        self.viewer.slice_changed.connect(self._looked_at)
        self._hint()

    def _hint(self) -> None:
        """Say in the tool bar that measuring waits (its mode hint would invite it)."""
        self.viewer.tool_bar.text = ARRIVING_HINT
        self.viewer.tool_bar.fit_hint()

    def show_arriving(self, arriving: Arriving) -> None:
        """Show more of the series arriving (its first image decoded in a thread)."""
        uid = arriving.series.series_uid
        if self.first is None or self.first.series.series_instance_uid != uid:
            # the series on screen (if any) keeps its files until this one's first
            # image is decoded (the preview's latest files are taken then)
            if self._decoding != uid:
                self._decoding = uid
                run_in_thread(
                    decode_arrived,
                    arriving.files[0],
                    on_done=lambda image: self._first_decoded(uid, image),
                    on_error=self._failed,
                )
            return
        self._grow(arriving)

    def arrival_index(self, k: int, count: int | None = None) -> int:
        """Return which image arrived (0: the first) slice ``k`` shows, and back.

        The viewer numbers slices in reading order from the stack's slice step; the
        images are kept in the order they arrived and numbered so: "Slice 3 / 37"
        is the third image arrived of 37.
        """
        n = len(self._files) if count is None else count
        return n - 1 - k if self._reversed else k

    def _first_decoded(self, uid: str, image: ArrivedImage) -> None:
        arriving = self.preview.arriving
        if arriving is None or arriving.series.series_uid != uid:
            return  # the preview ended or moved on meanwhile
        self.first, self._decoding = image, ""
        self._reversed = next_image_step(image.affine) < 0
        self._files = arriving.files
        self._decoded.clear()
        self._decoded[arriving.files[0]] = image
        self.viewer.set_stack(self._stack(arriving), slice_index=self.arrival_index(0))

    def _grow(self, arriving: Arriving) -> None:
        """Take in more images; the image on screen stays (nothing else is decoded)."""
        stack = self.viewer.stack
        if stack is None:
            self._files = arriving.files
            return
        looked_at = self.arrival_index(self.viewer.slice_index)
        self._files = arriving.files
        stack.shape = (arriving.arrived, *stack.shape[1:])
        stack.caption = arriving.caption()
        k = self.arrival_index(looked_at)
        if k != self.viewer.slice_index:
            self.viewer.set_slice(k)  # (numbered from the end: its index moved)
        else:
            self.viewer.set_caption(arriving.caption())

    def _stack(self, arriving: Arriving) -> ImageStack:
        assert self.first is not None
        series, array = self.first.series, self.first.array
        return ImageStack(
            shape=(arriving.arrived, *array.shape[:2]),
            affine=self.first.affine_at(self.arrival_index(0, arriving.arrived)),
            get_slice=self._slice,
            modality=series.modality,
            caption=arriving.caption(),
            kind=series_kind(series),
        )

    def _slice(self, k: int) -> npt.NDArray[np.generic]:
        """Return slice ``k``, and put the stack's geometry at that image's place."""
        path = self._files[self.arrival_index(k)]
        image = self._decoded.get(path)
        if image is None:
            try:
                image = decode_arrived(path)
            except (MrecistError, OSError, ValueError) as error:
                self.say(str(error), 5000)
                assert self.first is not None
                array = np.zeros_like(self.first.array)
                image = ArrivedImage(self.first.series, array, self.first.affine)
            self._decoded[path] = image
            while len(self._decoded) > KEPT_IMAGES:
                self._decoded.popitem(last=False)
        if self.viewer.stack is not None:  # its position read out right
            self.viewer.stack.affine = image.affine_at(k)
        return image.array

    def _looked_at(self, k: int) -> None:
        self.preview.looked_at(self.arrival_index(k))

    def _failed(self, error: BaseException) -> None:
        self._decoding = ""
        self.viewer.show_placeholder(f"No image shown yet: {error}")

    def _measure_asked(self, enabled: bool) -> None:
        if enabled and self.refused(Action.MEASURE):
            self.viewer.set_measure_mode(False)
            self._hint()

    def _roi_asked(self, enabled: bool) -> None:
        if enabled and self.refused(Action.ROI):
            self.viewer.roi_button.setChecked(False)
            self._hint()

    def refused(self, action: Action) -> bool:
        """Say why ``action`` is refused while the series arrives; ``False``: allowed."""
        try:
            self.preview.check(action)
        except SeriesStillArriving as refusal:
            self.say(str(refusal), 8000)
            return True
        return False


class ArrivalDisplay:
    """Puts the arriving series in the panes' place, and the panes back after.

    ``keep`` is told the series and image shown when the window opens what arrived
    (the panes then open that image of the full series).
    """

    def __init__(
        self,
        window: QMainWindow,
        say: Say,
        keep: Callable[[HandOver | None], None],
        memory: WindowMemory | None = None,
    ) -> None:
        self.window = window
        self.say = say
        self.keep = keep
        self.memory = memory
        self.preview = ArrivalPreview()
        self.pane: ArrivalPane | None = None
        self._hidden: list[QWidget] = []
        self._ended = False
        self._blocked: list[QAction] = []

    def block(self, actions: Sequence[QAction]) -> None:
        """Disable these actions while a series arrives (e.g. Add lesion)."""
        self._blocked = list(actions)

    def begin(self) -> None:
        """Let a retrieval starting show its series arriving."""
        self._ended = False

    def arrive(self, arriving: Arriving) -> None:
        """Show the series arriving (the first time: in the panes' place)."""
        if self._ended:
            return  # the window opened what arrived: the panes stay
        if self.pane is None:
            self.pane = ArrivalPane(self.preview, self.say, self.memory)
            self._cover(self.pane)
            for action in self._blocked:
                action.setEnabled(False)
                action.setStatusTip(BLOCKED_TIP)
        self.preview.show(arriving)
        self.pane.show_arriving(arriving)

    def refuses(self, action: Action) -> bool:
        """Say why ``action`` waits while a series arrives on screen (else ``False``)."""
        return self.pane is not None and self.pane.refused(action)

    def unchecks(self, action: QAction, what: Action) -> bool:
        """Uncheck ``action`` and say why while a series arrives (else ``False``)."""
        if self.pane is None:
            return False
        action.setChecked(False)  # (its own slot speaks first: the refusal is last)
        return self.refuses(what)

    def hand_over(self, _folder: object = None) -> None:
        """End the preview: the window opens what arrived, at the image looked at."""
        self._ended = True
        handed = self.preview.hand_over()
        if handed is not None:  # a second call (the retrieval's end) keeps the first's
            self.keep(handed)
        self._restore()

    def end(self, reason: str = "") -> None:
        """End the preview (the panes come back).

        ``reason``: why the retrieval stopped (failed, cancelled); empty when the
        reader opened something else meanwhile (nothing to say).
        """
        self._ended = True
        if self.preview.hand_over() is not None and reason:
            self.say(f"Retrieval stopped: {reason}", 8000)
        self._restore()

    def _restore(self) -> None:
        if self.pane is None:
            return
        pane, self.pane = self.pane, None
        for action in self._blocked:
            action.setEnabled(True)
            action.setStatusTip("")
        pane.hide()
        pane.setParent(None)
        for widget in self._hidden:
            widget.setVisible(True)
        self._hidden = []
        pane.deleteLater()

    def _cover(self, pane: ArrivalPane) -> None:
        """Put ``pane`` in the central splitter (the window's panes), hiding the rest.

        The central widget stays: a main window without one gives its room to the
        docks.
        """
        central = self.window.centralWidget()
        assert isinstance(central, QSplitter), "the panes are in a splitter"
        widgets = (central.widget(k) for k in range(central.count()))
        self._hidden = [w for w in widgets if w is not None and w.isVisibleTo(central)]
        for widget in self._hidden:
            widget.setVisible(False)
        central.insertWidget(0, pane)
