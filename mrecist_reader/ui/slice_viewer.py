"""The slice viewer: one image series, scrolled, windowed, zoomed and measured.

Composed from pyqtgraph primitives (``GraphicsLayoutWidget`` + ``ViewBox`` + ``ImageItem``)
rather than ``ImageView``: the image is drawn row-major in pixel-index units (x = column,
y = row, pixel centres on whole numbers), the aspect ratio locked to the true pixel
spacing, window/level applied by ``ImageItem.setLevels`` so scrolling never recomputes
arrays. Images are in reading order whatever the order of the files (axial head to feet,
coronal front to back, sagittal right to left), as on PACS viewers; window and level are
kept per series kind (:mod:`~mrecist_reader.ui.windowing`).

Its parts: tool bar (:mod:`~mrecist_reader.ui.viewer_tool_bar`), overlays
(:mod:`~mrecist_reader.ui.viewer_overlays`), mouse and keys
(:mod:`~mrecist_reader.ui.viewer_input`), calipers and outline
(:mod:`~mrecist_reader.ui.viewer_calipers`), ROIs (:mod:`~mrecist_reader.ui.roi_tool`),
cine, magnifier, invert, toggles and overlay planes (:mod:`~mrecist_reader.ui.viewer_tools`).
"""

import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRect, Qt, Signal
from PySide6.QtGui import QKeyEvent, QTransform
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from mrecist_reader.imaging.geometry import index_to_patient, patient_to_index
from mrecist_reader.ui.caliper import CaliperItem, CaliperSpec, IndexPoint
from mrecist_reader.ui.image_stack import (
    CT_PRESETS,
    ImageStack,
    WindowPreset,
    auto_window,
    next_image_step,
    orientation_letter,
)
from mrecist_reader.ui.outline import OutlineItem, OutlineSpec
from mrecist_reader.ui.roi_tool import RoiSet
from mrecist_reader.ui.viewer_calipers import CaliperLayer
from mrecist_reader.ui.viewer_input import (
    IMAGE_KEYS,
    PAGE_STEP,
    ReadingViewBox,
    image_takes_key,
)
from mrecist_reader.ui.viewer_overlays import (
    ViewerOverlays,
    pixel_text,
    position_text,
)
from mrecist_reader.ui.viewer_tool_bar import (
    MEASURE_HINT,
    PAN_HINT,
    ROI_HINT,
    ViewerToolBar,
    mode_text,
)
from mrecist_reader.ui.viewer_tools import ViewerTools
from mrecist_reader.ui.windowing import Window, WindowMemory

__all__ = [
    "CT_PRESETS",
    "MEASURE_CURSOR",
    "MEASURE_HINT",
    "PAGE_STEP",
    "PAN_CURSOR",
    "PAN_HINT",
    "ROI_HINT",
    "ImageStack",
    "SliceViewer",
    "next_image_step",
    "orientation_letter",
]

logger = logging.getLogger(__name__)

DRAG_WL_SENSITIVITY = 2.0
MEASURE_CURSOR = Qt.CursorShape.CrossCursor
PAN_CURSOR = Qt.CursorShape.OpenHandCursor


class SliceViewer(QWidget):
    """One series on screen, with overlays, scrolling, window/level and calipers.

    Signals
    -------
    slice_changed(int)
        The shown slice changed.
    window_changed(float, float)
        Window width and level changed.
    point_clicked(object)
        Measure mode click: ``(slice, row, column)`` index (semi-automatic proposal).
    caliper_drawn(object, object)
        Measure mode drag ended: two ``(slice, row, column)`` end points.
    caliper_edited(str, object, object)
        A lesion's caliper was moved: lesion id and its two end points.
    caliper_clicked(str)
        A lesion's caliper was clicked.
    measure_mode_changed(bool)
        Measure mode was entered (``True``) or left: by **M** / **Esc** on the viewer,
        its tool bar button or :meth:`set_measure_mode`.

    """

    slice_changed = Signal(int)
    window_changed = Signal(float, float)
    point_clicked = Signal(object)
    caliper_drawn = Signal(object, object)
    caliper_edited = Signal(str, object, object)
    caliper_clicked = Signal(str)
    measure_mode_changed = Signal(bool)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        window_memory: WindowMemory | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sliceViewer")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.stack: ImageStack | None = None
        self.slice_index = 0
        self.window_level: tuple[float, float] = (400.0, 40.0)
        self.window_memory = (
            window_memory if window_memory is not None else WindowMemory()
        )
        self.measure_mode = False
        self.roi_mode = False
        self._mouse_scene_pos: QPointF | None = None
        self._current: npt.NDArray[np.generic] | None = None
        self._build()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.tool_bar = ViewerToolBar()
        self.measure_button = self.tool_bar.measure_button
        self.roi_button = self.tool_bar.roi_button
        self.mode_hint = self.tool_bar.mode_hint
        self.measure_button.toggled.connect(self.set_measure_mode)
        self.roi_button.toggled.connect(self.set_roi_mode)
        layout.addWidget(self.tool_bar)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground("#000000")
        self.canvas.ci.setContentsMargins(0, 0, 0, 0)
        self.canvas.setSizePolicy(
            QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding
        )
        self.canvas.setFocusProxy(self)
        layout.addWidget(self.canvas)
        self.view = ReadingViewBox(self)
        self.canvas.addItem(self.view)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.rois = RoiSet(self.view)
        self.calipers = CaliperLayer(
            self.view, self.caliper_edited, self.caliper_clicked
        )
        self.overlays = ViewerOverlays(self.canvas, self.view)
        self._expose_overlays()
        self.tools = ViewerTools(self)  # cine, magnifier, invert, toggles, planes
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.viewport().installEventFilter(self)
        self._show_mode()

    def _expose_overlays(self) -> None:
        overlays = self.overlays
        self.top_left, self.top_right = overlays.top_left, overlays.top_right
        self.bottom_left, self.cursor_value = (
            overlays.bottom_left,
            overlays.cursor_value,
        )
        self.orient, self.placeholder = overlays.orient, overlays.placeholder
        self.scale_bar = overlays.scale_bar

    @property
    def mode_text(self) -> str:
        """Return the full hint of the current mode (what the tool bar says)."""
        return mode_text(measuring=self.measure_mode, roi=self.roi_mode)

    def _show_mode(self) -> None:
        """Show the mode in the tool bar and by the cursor."""
        self.tool_bar.show_mode(measuring=self.measure_mode, roi=self.roi_mode)
        active = self.measure_mode or self.roi_mode
        self.canvas.viewport().setCursor(MEASURE_CURSOR if active else PAN_CURSOR)

    def resizeEvent(self, event: object) -> None:  # noqa: D102
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.tool_bar.fit_hint()
        self.overlays.update_scale_bar()
        self.overlays.place()

    def show_placeholder(self, text: str) -> None:
        """Show a text instead of an image (wrapped, centred, as tall as it needs)."""
        self.overlays.show_placeholder(text)

    def scale_bar_rect(self) -> QRect:
        """Return where the scale bar and its label are drawn (canvas pixels)."""
        return self.overlays.scale_bar_rect()

    @property
    def scale_bar_text(self) -> str:
        """Return the scale bar's label ("5 cm", "2 cm", "5 mm"...)."""
        return self.overlays.scale_bar_text

    # ------------------------------------------------------------------ content
    def set_stack(
        self,
        stack: ImageStack | None,
        *,
        slice_index: int | None = None,
        window: tuple[float, float] | None = None,
    ) -> None:
        """Show a stack (``None`` clears the viewer), at a slice and window if given."""
        self.stack = stack
        self.calipers.clear()
        self.rois.clear()  # an ROI belongs to the series it was drawn on
        self.set_outline(None)  # a proposal's outline belongs to the series it was on
        self.placeholder.setVisible(stack is None)
        # another image: the value once under the cursor is not this image's
        self._mouse_scene_pos = None
        self.overlays.clear_cursor_value()
        if stack is None:
            self.image.clear()
            self._current = None
            self.overlays.clear()
            self.tools.stack_changed()
            return
        self._apply_geometry(stack)
        self.window_level = window or self._window_for(stack)
        if window is not None:
            self.window_memory.remember(stack.window_kind, self.window_level)
        middle = stack.shape[0] // 2
        self.slice_index = -1
        self.tools.stack_changed()
        self.set_slice(middle if slice_index is None else slice_index)
        self.reset_view()
        self._emit_window()

    def refresh_slice(self) -> None:
        """Fetch the current slice again (after progressive loading finished)."""
        if self.stack is not None:
            index, self.slice_index = self.slice_index, -1
            self.set_slice(index)

    def replace_stack(self, stack: ImageStack) -> None:
        """Swap the data source keeping slice, window, zoom and calipers."""
        self.stack = stack
        self.rois.set_geometry(
            stack.pixel_spacing_mm, unit="HU" if stack.is_ct else "SI"
        )
        self.overlays.show_image(stack.pixel_spacing_mm)
        self.refresh_slice()

    def _apply_geometry(self, stack: ImageStack) -> None:
        row_mm, col_mm = stack.pixel_spacing_mm
        self.rois.set_geometry((row_mm, col_mm), unit="HU" if stack.is_ct else "SI")
        # pixel centres on whole numbers: x = column, y = row (see ui/caliper.py)
        self.image.setTransform(QTransform.fromTranslate(-0.5, -0.5))
        self.view.setAspectLocked(True, ratio=col_mm / row_mm)
        self.overlays.show_image(stack.pixel_spacing_mm)
        self.overlays.set_orientation(stack.affine)

    def _window_for(self, stack: ImageStack) -> Window:
        """Return the window a stack opens with: its kind's last, else the default."""
        remembered = self.window_memory.window_for(stack.window_kind)
        if remembered is not None:
            return remembered
        if stack.is_ct:
            return (400.0, 40.0)
        sample = stack.sample if stack.sample is not None else stack.get_slice(0)
        return auto_window(sample)

    def set_window_memory(self, memory: WindowMemory) -> None:
        """Share a window memory (e.g. one for the baseline and follow-up viewers)."""
        self.window_memory = memory

    def set_caption(self, text: str) -> None:
        """Set the top-left caption (subject, timepoint, study day, series)."""
        if self.stack is not None:
            self.stack.caption = text
        self._update_text()

    # ------------------------------------------------------------------ scrolling
    def set_slice(self, index: int) -> None:
        """Show slice ``index`` (clamped to the stack)."""
        if self.stack is None:
            return
        index = int(min(max(index, 0), self.stack.shape[0] - 1))
        if index == self.slice_index:
            return
        self.slice_index = index
        self._current = self.stack.get_slice(index)
        low, high = self._levels()
        self.image.setImage(self._current, autoLevels=False, levels=(low, high))
        self._show_calipers()
        # ROI statistics follow the shown slice (no ROI: the image is only kept)
        self.rois.set_image(None if index in self.stack.gaps else self._current)
        self._update_text()
        self._update_cursor_value()
        self.tools.slice_shown()
        self.slice_changed.emit(index)

    def scroll_by(self, step: int) -> None:
        """Move ``step`` slice indices (negative: towards slice 0)."""
        self.set_slice(self.slice_index + step)

    @property
    def next_step(self) -> int:
        """Return the index step (+1 or -1) to the next image in reading order."""
        return 1 if self.stack is None else next_image_step(self.stack.affine)

    def scroll_images(self, count: int) -> None:
        """Move ``count`` images in reading order (positive: next, towards the feet)."""
        self.scroll_by(count * self.next_step)

    def image_number(self, index: int | None = None) -> int:
        """Return the 1-based number of a slice in reading order (the overlay's)."""
        k = self.slice_index if index is None else index
        if self.stack is None:
            return k + 1
        return k + 1 if self.next_step > 0 else self.stack.shape[0] - k

    def go_to_image(self, number: int) -> None:
        """Show the image with this 1-based number in reading order (clamped)."""
        if self.stack is None:
            return
        n = self.stack.shape[0]
        number = min(max(number, 1), n)
        self.set_slice(number - 1 if self.next_step > 0 else n - number)

    def slice_position_mm(self, index: int | None = None) -> float:
        """Return the slice's position along the slice normal, mm."""
        if self.stack is None:
            return 0.0
        k = self.slice_index if index is None else index
        centre = index_to_patient(self.stack.affine, (k, 0.0, 0.0))
        normal = self.stack.affine[:3, 0]
        norm = float(np.linalg.norm(normal)) or 1.0
        return float(np.dot(centre, normal / norm))

    def slice_centre_mm(self) -> npt.NDArray[np.float64]:
        """Return the patient position of the current slice's centre pixel."""
        if self.stack is None:
            return np.zeros(3)
        _, rows, cols = self.stack.shape
        centre = (self.slice_index, (rows - 1) / 2, (cols - 1) / 2)
        return index_to_patient(self.stack.affine, centre)

    def go_to_patient_point(self, point_mm: npt.ArrayLike) -> None:
        """Show the slice nearest to a patient point (linked scrolling, lesion jumps)."""
        if self.stack is None:
            return
        index = patient_to_index(self.stack.affine, np.asarray(point_mm, dtype=float))
        self.set_slice(round(float(index[0])))

    # ------------------------------------------------------------------ window/level
    def _levels(self) -> tuple[float, float]:
        width, level = self.window_level
        return (level - width / 2.0, level + width / 2.0)

    def levels(self) -> tuple[float, float]:
        """Return the window as (lowest, highest) value shown (black to white)."""
        return self._levels()

    @property
    def current_image(self) -> npt.NDArray[np.generic] | None:
        """Return the slice shown now (``None``: no image)."""
        return self._current

    def set_window(self, width: float, level: float) -> None:
        """Set window width and level (values in the image's units, HU on CT)."""
        self.window_level = (max(float(width), 1.0), float(level))
        if self.stack is not None:
            self.window_memory.remember(self.stack.window_kind, self.window_level)
        self.image.setLevels(self._levels())
        self._update_text()
        self.tools.refresh_lens()
        self._emit_window()

    def _emit_window(self) -> None:
        self.window_changed.emit(self.window_level[0], self.window_level[1])

    def adjust_window(self, dx: float, dy: float) -> None:
        """Change the window by a drag: right widens, down raises the level."""
        scale = DRAG_WL_SENSITIVITY * max(self.window_level[0], 10.0) / 400.0
        self.set_window(
            self.window_level[0] + dx * scale, self.window_level[1] + dy * scale
        )

    def apply_preset(self, preset: WindowPreset) -> None:
        """Apply a named window (percentiles of the series for "Auto")."""
        if self.stack is None:
            return
        if preset.width is None or preset.level is None or not self.stack.is_ct:
            sample = self.stack.sample
            values = sample if sample is not None else self._current
            if values is None:
                return
            self.set_window(*auto_window(values))
            return
        self.set_window(preset.width, preset.level)

    # ------------------------------------------------------------------ view
    def reset_view(self) -> None:
        """Fit the whole image in the view."""
        if self.stack is not None:
            _, rows, cols = self.stack.shape
            self.view.setRange(
                xRange=(-0.5, cols - 0.5), yRange=(-0.5, rows - 0.5), padding=0.0
            )

    def zoom_by(self, factor: float) -> None:
        """Zoom around the view centre (factor > 1 enlarges)."""
        self.view.scaleBy((1.0 / factor, 1.0 / factor))

    # ------------------------------------------------------------------ overlays
    def _update_text(self) -> None:
        if self.stack is None:
            return
        width, level = self.window_level
        self.overlays.keep_text(self.top_left, self.stack.caption)
        self.overlays.keep_text(self.top_right, f"W {width:.0f}  L {level:.0f}")
        gap = self.slice_index in self.stack.gaps
        self.overlays.set_text(
            self.bottom_left,
            position_text(
                self.image_number(),
                self.stack.shape[0],
                self.slice_position_mm(),
                gap=gap,
            ),
        )

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self._mouse_scene_pos = QPointF(scene_pos)
        self._update_cursor_value()
        self.tools.mouse_moved(scene_pos)

    def _update_cursor_value(self) -> None:
        """Show the value under the cursor of the image shown now (or nothing)."""
        if self._mouse_scene_pos is None or self.stack is None or self._current is None:
            if self.overlays.full_text.get(self.cursor_value):
                self.overlays.set_text(self.cursor_value, "")
            return
        point = self.view.mapSceneToView(self._mouse_scene_pos)
        gap, is_ct = self.slice_index in self.stack.gaps, self.stack.is_ct
        text = pixel_text(
            self._current, round(point.y()), round(point.x()), gap=gap, is_ct=is_ct
        )
        self.overlays.set_text(self.cursor_value, text)

    def eventFilter(self, watched: object, event: QEvent) -> bool:  # noqa: D102
        if (
            watched is self.canvas.viewport()
            and event.type() == QEvent.Type.Leave
            and self._mouse_scene_pos is not None
        ):
            self._mouse_scene_pos = None  # the mouse left the image
            self._update_cursor_value()
            self.tools.mouse_moved(None)
        return super().eventFilter(watched, event)  # type: ignore[arg-type]

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: D102
        key = Qt.Key(event.key())
        if key in IMAGE_KEYS:
            self.scroll_images(IMAGE_KEYS[key])
        elif key == Qt.Key.Key_Home:
            self.go_to_image(1)
        elif key == Qt.Key.Key_End and self.stack is not None:
            self.go_to_image(self.stack.shape[0])
        elif key == Qt.Key.Key_M and not event.modifiers():
            self.set_measure_mode(True)  # M enters; pressed again it stays on
        elif key == Qt.Key.Key_Escape and self.measure_mode:
            self.set_measure_mode(False)
        elif self._roi_key(key, event):
            return
        elif not self._preset_key(event.text()):
            super().keyPressEvent(event)

    def _preset_key(self, text: str) -> bool:
        for preset in CT_PRESETS:
            if text == preset.key:
                self.apply_preset(preset)
                return True
        return False

    # ------------------------------------------------------------------ calipers
    def set_calipers(self, specs: Sequence[CaliperSpec]) -> None:
        """Set every caliper of this series; those on the shown slice are drawn."""
        self.calipers.set_specs(specs)
        self._show_calipers()
        self.tools.apply_annotations()

    def caliper_items(self) -> list[CaliperItem]:
        """Return the calipers drawn on the current slice."""
        return list(self.calipers.items)

    def _show_calipers(self) -> None:
        spacing = None if self.stack is None else self.stack.pixel_spacing_mm
        self.calipers.show_slice(self.slice_index, spacing)

    def set_outline(self, spec: OutlineSpec | None) -> None:
        """Draw a proposal's outline on its slice (``None``: none).

        The same outline set again changes nothing; another replaces it.
        """
        self.calipers.set_outline(spec, self.slice_index)
        self.tools.apply_annotations()

    @property
    def outline(self) -> OutlineItem | None:
        """Return the proposal's outline on this viewer (shown or not), if any."""
        return self.calipers.outline

    def set_measure_mode(self, enabled: bool) -> None:
        """Turn measure mode on (left-drag draws, click proposes) or off (left pans).

        The tool bar button, its hint and the cursor follow; ``measure_mode_changed``
        is emitted when the mode changes. Measuring leaves ROI mode.
        """
        changed = bool(enabled) != self.measure_mode
        self.measure_mode = bool(enabled)
        if enabled:
            self.roi_mode = False
        self._show_mode()
        if changed:
            self.measure_mode_changed.emit(self.measure_mode)

    def _on_measure_click(self, point: QPointF) -> None:
        self.point_clicked.emit(self._index_at(point))

    def _index_at(self, point: QPointF) -> IndexPoint:
        return (float(self.slice_index), float(point.y()), float(point.x()))

    def _on_measure_drag(self, ev: object) -> None:
        start = self.view.mapSceneToView(ev.buttonDownScenePos())  # type: ignore[attr-defined]
        here = self.view.mapSceneToView(ev.scenePos())  # type: ignore[attr-defined]
        if ev.isStart():  # type: ignore[attr-defined]
            assert self.stack is not None
            self.calipers.start_drawing(
                self._index_at(start), self.stack.pixel_spacing_mm
            )
        if self.calipers.drawing is None:
            return
        self.calipers.draw_to(float(here.x()), float(here.y()))
        if ev.isFinish():  # type: ignore[attr-defined]
            self.finish_drawing()

    def finish_drawing(self) -> None:
        """End the caliper being drawn and emit ``caliper_drawn``."""
        drawn = self.calipers.finish_drawing()
        if drawn is not None:
            self.caliper_drawn.emit(*drawn)

    # ------------------------------------------------------------------ ROIs
    def set_roi_mode(self, enabled: bool) -> None:
        """Turn ROI mode on (left-drag draws an ellipse ROI) or off; it leaves measuring."""
        self.roi_mode = bool(enabled)
        if enabled and self.measure_mode:
            self.set_measure_mode(False)
        self._show_mode()

    def _on_roi_drag(self, ev: object) -> None:
        if self.stack is None:
            return
        start = self.view.mapSceneToView(ev.buttonDownScenePos())  # type: ignore[attr-defined]
        here = self.view.mapSceneToView(ev.scenePos())  # type: ignore[attr-defined]
        if self.rois.drag(start, here, starting=ev.isStart()):  # type: ignore[attr-defined]
            self.tools.apply_annotations()

    def _roi_key(self, key: Qt.Key, event: QKeyEvent) -> bool:
        """Handle O (ROI mode), Esc (leave it) and Delete (the selected ROI)."""
        if key == Qt.Key.Key_O and not event.modifiers():
            self.set_roi_mode(True)
        elif key == Qt.Key.Key_Escape and self.roi_mode:
            self.set_roi_mode(False)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            return self.rois.remove_selected()
        else:
            return False
        return True

    def event(self, event: QEvent) -> bool:  # noqa: D102
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and image_takes_key(
                event,
                roi_selected=self.rois.selected is not None,
                roi_mode=self.roi_mode,
            )
        ):
            event.accept()
            return True
        return super().event(event)
