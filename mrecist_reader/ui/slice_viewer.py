"""The slice viewer: one image series, scrolled, windowed, zoomed and measured.

Composed from pyqtgraph primitives (``GraphicsLayoutWidget`` + ``ViewBox`` + ``ImageItem``)
rather than ``ImageView``. The image is drawn row-major (``imageAxisOrder`` is set once in
:mod:`mrecist_reader.ui.app`) in pixel-index units (x = column, y = row, pixel centres on
whole numbers), the aspect ratio is locked to the true pixel spacing, and window/level is
applied by ``ImageItem.setLevels`` so scrolling never recomputes arrays.

Mouse: wheel scrolls slices (Ctrl+wheel zooms), left-drag pans (draws a caliper in measure
mode, where a click proposes a semi-automatic caliper), right- or middle-drag sets
window/level. Keys: arrows / Page Up / Page Down / Home / End scroll; 1-4 choose W/L
presets; R resets the view.

Measure mode is never a hidden toggle: the viewer's tool bar has a checkable *Measure*
button and says which mode is on, the cursor is a crosshair in measure mode and an open
hand in pan mode, **M** only ever enters measure mode (pressed again it stays on) and
**Esc** leaves it. Shift+drag pans in measure mode too.

Window and level are kept per series kind (:mod:`mrecist_reader.ui.windowing`): a new
series opens with the window last used on a series of its modality and phase, or that
kind's default (the liver window on arterial CT).

Scrolling follows radiology PACS viewers: wheel down, arrow down (or right) and Page Down
go to the *next image*, arrow up, wheel up and Page Up to the previous one, Home / End to
the first / last image. Images are in reading order whatever the order of the files:
axial series from head to feet, coronal from front to back, sagittal from the patient's
right to left (so on an axial series "down" moves towards the feet). The slice counter
("Slice 1 / 120") counts in that order.

A semi-automatic proposal's outline (:mod:`mrecist_reader.ui.outline`, set with
:meth:`SliceViewer.set_outline`) is built once per proposal and only shown or hidden as
the reader scrolls: it appears on its own slice.
"""

import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QTransform
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.imaging.geometry import index_to_patient, patient_to_index
from mrecist_reader.ui.caliper import (
    PROPOSAL_COLOUR,
    CaliperItem,
    CaliperSpec,
    IndexPoint,
    specs_on_slice,
)
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
from mrecist_reader.ui.theme import ACCENT, MUTED, PANEL
from mrecist_reader.ui.windowing import Window, WindowMemory

logger = logging.getLogger(__name__)

PAGE_STEP = 10
DRAG_WL_SENSITIVITY = 2.0
OVERLAY_MARGIN = 8
OVERLAY_STYLE = (
    "color: #e8e8e8; background: rgba(0, 0, 0, 130); padding: 0px 3px;"
    " border-radius: 2px; font-size: 10pt;"
)
"""Overlay text on a faint dark plate: readable over bright bone or contrast."""
ORIENT_SIZE = 20
SCALE_BAR_OFFSET = (-24, -12)
"""Where the scale bar's right end sits from the bottom-right corner (px)."""
SCALE_BAR_MAX_PX = 120
SCALE_BAR_STEPS_MM = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0)
PAN_HINT = "Drag pans  ·  M: measure"
MEASURE_HINT = "Measuring: drag draws, click proposes  ·  Esc: stop"
MODE_TIPS = {
    False: "Pan mode: a left drag moves the image. M (or the Measure button) enters "
    "measure mode.",
    True: "Measure mode: a drag draws a caliper, a click on a lesion proposes one "
    "(Enter accepts it). Shift+drag pans. Esc (or the Measure button) leaves it.",
}
ROI_HINT = "ROI: drag draws an ellipse, drag it to move  ·  Del removes  ·  Esc: stop"
ROI_TIP = (
    "ROI mode: a drag draws an ellipse; its mean, SD, min, max and area on the shown "
    "slice are written under it. Drag an ROI to move it, its handles to resize it; "
    "Delete removes the selected one. O enters ROI mode, Esc leaves it."
)
MEASURE_CURSOR = Qt.CursorShape.CrossCursor
PAN_CURSOR = Qt.CursorShape.OpenHandCursor


class _ReadingViewBox(pg.ViewBox):
    """A ViewBox whose mouse gestures suit reading rather than plotting."""

    def __init__(self, viewer: "SliceViewer") -> None:
        super().__init__(invertY=True, lockAspect=True, enableMenu=False)
        self._viewer = viewer
        self.setMouseMode(pg.ViewBox.PanMode)

    def wheelEvent(self, ev: object, axis: object = None) -> None:
        modifiers = ev.modifiers()  # type: ignore[attr-defined]
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()  # type: ignore[attr-defined]
        if delta:
            self._viewer.scroll_images(-1 if delta > 0 else 1)
        ev.accept()  # type: ignore[attr-defined]

    def mouseDragEvent(self, ev: object, axis: object = None) -> None:
        button = ev.button()  # type: ignore[attr-defined]
        if button in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton):
            ev.accept()  # type: ignore[attr-defined]
            delta = ev.pos() - ev.lastPos()  # type: ignore[attr-defined]
            self._viewer.adjust_window(float(delta.x()), float(delta.y()))
            return
        shift = ev.modifiers() & Qt.KeyboardModifier.ShiftModifier  # type: ignore[attr-defined]
        left = button == Qt.MouseButton.LeftButton
        if self._viewer.roi_mode and left and not shift:
            ev.accept()  # type: ignore[attr-defined]
            self._viewer._on_roi_drag(ev)
            return
        if self._viewer.measure_mode and not shift:
            ev.accept()  # type: ignore[attr-defined]
            self._viewer._on_measure_drag(ev)
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev: object) -> None:
        self._viewer.rois.select(None)  # a click beside every ROI deselects
        if ev.button() == Qt.MouseButton.LeftButton and self._viewer.measure_mode:  # type: ignore[attr-defined]
            ev.accept()  # type: ignore[attr-defined]
            point = self.mapSceneToView(ev.scenePos())  # type: ignore[attr-defined]
            self._viewer._on_measure_click(point)
            return
        ev.accept()  # type: ignore[attr-defined]


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
        self._specs: list[CaliperSpec] = []
        self._items: list[CaliperItem] = []
        self._drawing: CaliperItem | None = None
        self._outline: OutlineItem | None = None
        self._build()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._build_tool_bar())
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground("#000000")
        self.canvas.ci.setContentsMargins(0, 0, 0, 0)
        self.canvas.setSizePolicy(
            QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding
        )
        self.canvas.setFocusProxy(self)
        layout.addWidget(self.canvas)
        self.view = _ReadingViewBox(self)
        self.canvas.addItem(self.view)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.rois = RoiSet(self.view)
        self.scale_bar = pg.ScaleBar(size=10, width=4, brush="#d0d0d0", suffix="")
        self.scale_bar.setParentItem(self.view)
        self.scale_bar.anchor((1, 1), (1, 1), offset=SCALE_BAR_OFFSET)
        self.scale_bar.setVisible(False)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.viewport().installEventFilter(self)
        self._build_overlays()
        self._show_mode()

    def _build_tool_bar(self) -> QFrame:
        """Build the tool bar: the Measure button and what the mouse does now."""
        bar = QFrame()
        bar.setObjectName("viewerToolBar")
        bar.setStyleSheet(f"QFrame#viewerToolBar {{ background: {PANEL}; }}")
        row = QHBoxLayout(bar)
        row.setContentsMargins(2, 2, 2, 2)
        row.setSpacing(0)
        self.measure_button = QToolButton()
        self.measure_button.setObjectName("measureButton")
        self.measure_button.setText("Measure (M)")
        self.measure_button.setCheckable(True)
        # the keyboard's way is M / Esc: the image keeps the focus (arrows scroll)
        self.measure_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.measure_button.setToolTip(
            "Measure mode: drag draws a caliper, a click proposes one. "
            "M enters it, Esc leaves it."
        )
        self.measure_button.setStyleSheet(
            "QToolButton { border: 1px solid #4a525e; border-radius: 3px;"
            " padding: 3px 8px; }"
            f" QToolButton:checked {{ background: {ACCENT}; color: #000000;"
            f" border-color: {ACCENT}; font-weight: bold; }}"
        )
        self.measure_button.toggled.connect(self.set_measure_mode)
        row.addWidget(self.measure_button)
        row.addWidget(self._build_roi_button())
        self.mode_hint = QLabel()
        self.mode_hint.setObjectName("modeHint")
        self.mode_hint.setContentsMargins(8, 0, 4, 0)
        self.mode_hint.setSizePolicy(
            QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred
        )
        row.addWidget(self.mode_hint, stretch=1)
        self.tool_bar = bar
        return bar

    def _build_roi_button(self) -> QToolButton:
        """Build the checkable ROI button beside Measure (same look, O / Esc)."""
        self.roi_button = QToolButton()
        self.roi_button.setObjectName("roiButton")
        self.roi_button.setText("ROI (O)")
        self.roi_button.setCheckable(True)
        self.roi_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.roi_button.setToolTip(ROI_TIP)
        self.roi_button.setStyleSheet(self.measure_button.styleSheet())
        self.roi_button.toggled.connect(self.set_roi_mode)
        return self.roi_button

    def _fit_mode_hint(self) -> None:
        """Show the mode's hint, elided to the tool bar's room (full text as tooltip)."""
        text = self.mode_text
        margins = self.mode_hint.contentsMargins()
        room = (
            self.tool_bar.width()
            - self.measure_button.sizeHint().width()
            - self.roi_button.sizeHint().width()
            - margins.left()
            - margins.right()
            - 16
        )
        if not self.tool_bar.isVisible() or room <= 0:
            self.mode_hint.setText(text)
            return
        metrics = self.mode_hint.fontMetrics()
        self.mode_hint.setText(
            metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)
        )

    @property
    def mode_text(self) -> str:
        """Return the full hint of the current mode (what the tool bar says)."""
        if self.roi_mode:
            return ROI_HINT
        return MEASURE_HINT if self.measure_mode else PAN_HINT

    def _show_mode(self) -> None:
        """Show the mode in the tool bar and by the cursor."""
        measuring = self.measure_mode
        for button, on in (
            (self.measure_button, measuring),
            (self.roi_button, self.roi_mode),
        ):
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
        self._fit_mode_hint()
        self.mode_hint.setToolTip(ROI_TIP if self.roi_mode else MODE_TIPS[measuring])
        measuring = measuring or self.roi_mode
        self.mode_hint.setStyleSheet(
            f"color: {ACCENT}; font-weight: bold;" if measuring else f"color: {MUTED};"
        )
        self.canvas.viewport().setCursor(MEASURE_CURSOR if measuring else PAN_CURSOR)

    def _build_overlays(self) -> None:
        self.top_left = self._overlay("overlayTopLeft")
        self.top_right = self._overlay("overlayTopRight", Qt.AlignmentFlag.AlignRight)
        self.bottom_left = self._overlay("overlayBottomLeft")
        # the value under the cursor: its own line under the slice position (bottom
        # left), so it never meets the scale bar in the bottom-right corner
        self.cursor_value = self._overlay("overlayCursorValue")
        self.orient = {
            side: self._overlay(f"orient{side}", Qt.AlignmentFlag.AlignCenter)
            for side in ("Left", "Right", "Top", "Bottom")
        }
        for label in self.orient.values():
            label.setProperty("orientation", True)
        self.placeholder = self._overlay("placeholder", Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setText("No series open")
        self.placeholder.setWordWrap(True)  # a failure's reason can be long
        self._full_text: dict[QLabel, str] = {}
        self.view.sigRangeChanged.connect(self._update_scale_bar)

    def _overlay(
        self, name: str, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft
    ) -> QLabel:
        label = QLabel(self.canvas)
        label.setObjectName(name)
        label.setAlignment(align | Qt.AlignmentFlag.AlignTop)
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        label.setStyleSheet(
            OVERLAY_STYLE
            if name != "placeholder"
            else "color: #888; background: transparent; font-size: 14pt;"
        )
        return label

    def _set_overlay_text(self, label: QLabel, text: str) -> None:
        """Set an overlay's full text (it is elided to the room it gets, if needed)."""
        self._full_text[label] = text
        label.setText(text)
        self._place_overlays()

    def resizeEvent(self, event: object) -> None:  # noqa: D102
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._fit_mode_hint()
        self._update_scale_bar()
        self._place_overlays()

    def _fit_label(self, label: QLabel, max_width: int) -> QSize:
        """Elide each line of a label to ``max_width`` px; return its size."""
        text = self._full_text.get(label, label.text())
        metrics = label.fontMetrics()
        lines = [
            metrics.elidedText(line, Qt.TextElideMode.ElideRight, max(max_width, 0))
            for line in text.split("\n")
        ]
        label.setText("\n".join(lines) if text else "")
        hint = label.sizeHint() if text else QSize(0, 0)
        return QSize(min(hint.width(), max(max_width, 0)), hint.height())

    def _place_overlays(self) -> None:
        """Lay the corner texts, orientation letters and scale bar out without overlap.

        Top left: caption (elided to leave room for the window/level at top right).
        Bottom left: slice, position and the value under the cursor. Bottom right: the
        scale bar (hidden when the viewer is too small for it). Orientation letters sit
        at the middle of each edge, moved clear of the corner texts.
        """
        width, height = self.canvas.width(), self.canvas.height()
        margin = OVERLAY_MARGIN
        right = self._fit_label(self.top_right, width - 2 * margin)
        self.top_right.setGeometry(
            width - margin - right.width(), margin, right.width(), right.height()
        )
        room = width - 3 * margin - right.width()
        left = self._fit_label(self.top_left, room)
        self.top_left.setGeometry(margin, margin, left.width(), left.height())
        self._place_bottom_left(width, height)
        self._place_placeholder(width, height)
        self._place_scale_bar()
        self._place_orientation(width, height)

    def show_placeholder(self, text: str) -> None:
        """Show a text instead of an image (wrapped, centred, as tall as it needs)."""
        self.placeholder.setText(text)
        self._place_overlays()

    def _place_placeholder(self, width: int, height: int) -> None:
        """Centre the placeholder, wrapped to the viewer's width and as tall as its text."""
        margin = 2 * OVERLAY_MARGIN
        room = max(width - 2 * margin, 1)
        tall = max(self.placeholder.heightForWidth(room), 40)
        top = max((height - tall) // 2, 0)
        self.placeholder.setGeometry(margin, top, room, min(tall, height))

    def _place_bottom_left(self, width: int, height: int) -> None:
        margin = OVERLAY_MARGIN
        value = self._fit_label(self.cursor_value, width - 2 * margin)
        line = self.cursor_value.fontMetrics().height()  # kept free: no jumping text
        value_top = height - margin - max(value.height(), line)
        self.cursor_value.setGeometry(margin, value_top, value.width(), value.height())
        slice_text = self._fit_label(self.bottom_left, width - 2 * margin)
        self.bottom_left.setGeometry(
            margin,
            value_top - slice_text.height(),
            slice_text.width(),
            slice_text.height(),
        )

    def _place_scale_bar(self) -> None:
        if self.stack is None:
            self.scale_bar.setVisible(False)
            return
        self.scale_bar.setVisible(True)
        bar = self.scale_bar_rect()
        corners = (self.bottom_left, self.cursor_value, self.top_left, self.top_right)
        blocked = any(
            label.text() and label.geometry().intersects(bar) for label in corners
        )
        inside = self.canvas.rect().contains(bar)
        self.scale_bar.setVisible(inside and not blocked)

    def scale_bar_rect(self) -> QRect:
        """Return where the scale bar and its label are drawn (canvas pixels)."""
        bar = self.scale_bar.bar.rect()
        text = self.scale_bar.text.boundingRect()
        width = max(bar.width(), text.width())
        right = self.canvas.width() + SCALE_BAR_OFFSET[0]
        bottom = self.canvas.height() + SCALE_BAR_OFFSET[1] + bar.height()
        top = bottom - bar.height() - text.height()
        centre = right - bar.width() / 2
        return QRect(
            int(centre - width / 2) - 1,
            int(top) - 1,
            int(width) + 2,
            int(bottom - top) + 2,
        )

    def _place_orientation(self, width: int, height: int) -> None:
        size = QSize(ORIENT_SIZE, ORIENT_SIZE)
        places = {
            "Top": QPoint(width // 2 - size.width() // 2, OVERLAY_MARGIN),
            "Bottom": QPoint(
                width // 2 - size.width() // 2,
                height - OVERLAY_MARGIN - size.height(),
            ),
            "Left": QPoint(2, height // 2 - size.height() // 2),
            "Right": QPoint(width - size.width() - 2, height // 2 - size.height() // 2),
        }
        corners = (self.top_left, self.top_right, self.bottom_left, self.cursor_value)
        others = [label.geometry() for label in corners if label.text()]
        if self.scale_bar.isVisible():
            others.append(self.scale_bar_rect())
        for side, point in places.items():
            label = self.orient[side]
            rect = QRect(point, size)
            clashes = [other for other in others if other.intersects(rect)]
            if clashes and side == "Top":
                rect.moveTop(max(other.bottom() for other in clashes) + 2)
            elif clashes and side == "Bottom":
                rect.moveBottom(min(other.top() for other in clashes) - 2)
            clear = not any(other.intersects(rect) for other in others)
            label.setGeometry(rect)
            label.setVisible(clear and self.stack is not None)

    def _update_scale_bar(self) -> None:
        """Give the scale bar a round length (1-2-5 mm steps) that fits the zoom."""
        if self.stack is None or self.view.width() <= 0:
            return
        pixel = self.view.viewPixelSize()[0]  # view units (columns) per screen pixel
        if pixel <= 0:
            return
        mm_per_px = pixel * self.stack.pixel_spacing_mm[1]
        longest = min(SCALE_BAR_MAX_PX, 0.25 * self.canvas.width()) * mm_per_px
        bar_mm = SCALE_BAR_STEPS_MM[0]
        for step in SCALE_BAR_STEPS_MM:
            if step <= longest:
                bar_mm = step
        self.scale_bar.size = bar_mm / self.stack.pixel_spacing_mm[1]
        label = f"{bar_mm / 10:g} cm" if bar_mm >= 10 else f"{bar_mm:g} mm"
        self.scale_bar.text.setText(label)
        self.scale_bar.updateBar()
        self._place_overlays()

    @property
    def scale_bar_text(self) -> str:
        """Return the scale bar's label ("5 cm", "2 cm", "5 mm"...)."""
        return str(self.scale_bar.text.textItem.toPlainText())

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
        self._clear_calipers()
        self.rois.clear()  # an ROI belongs to the series it was drawn on
        self.set_outline(None)  # a proposal's outline belongs to the series it was on
        self.placeholder.setVisible(stack is None)
        # another image: the value once under the cursor is not this image's
        self._mouse_scene_pos = None
        self._full_text[self.cursor_value] = ""
        self.cursor_value.setText("")
        if stack is None:
            self.image.clear()
            self._current = None
            for label in (self.top_left, self.top_right, self.bottom_left):
                self._full_text[label] = ""
            self._place_overlays()
            return
        self._apply_geometry(stack)
        self.window_level = window or self._window_for(stack)
        if window is not None:
            self.window_memory.remember(stack.window_kind, self.window_level)
        middle = stack.shape[0] // 2
        self.slice_index = -1
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
        self.refresh_slice()

    def _apply_geometry(self, stack: ImageStack) -> None:
        row_mm, col_mm = stack.pixel_spacing_mm
        self.rois.set_geometry((row_mm, col_mm), unit="HU" if stack.is_ct else "SI")
        # pixel centres on whole numbers: x = column, y = row (see ui/caliper.py)
        self.image.setTransform(QTransform.fromTranslate(-0.5, -0.5))
        self.view.setAspectLocked(True, ratio=col_mm / row_mm)
        self._set_orientation_labels(stack)

    def _set_orientation_labels(self, stack: ImageStack) -> None:
        column_dir = stack.affine[:3, 2]
        row_dir = stack.affine[:3, 1]
        self.orient["Right"].setText(orientation_letter(column_dir))
        self.orient["Left"].setText(orientation_letter(-column_dir))
        self.orient["Bottom"].setText(orientation_letter(row_dir))
        self.orient["Top"].setText(orientation_letter(-row_dir))

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
        if self._outline is not None:  # shown or hidden, never recomputed
            self._outline.show_on(index)
        # ROI statistics follow the shown slice (no ROI: the image is only kept)
        self.rois.set_image(None if index in self.stack.gaps else self._current)
        self._update_text()
        self._update_cursor_value()
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

    def set_window(self, width: float, level: float) -> None:
        """Set window width and level (values in the image's units, HU on CT)."""
        self.window_level = (max(float(width), 1.0), float(level))
        if self.stack is not None:
            self.window_memory.remember(self.stack.window_kind, self.window_level)
        self.image.setLevels(self._levels())
        self._update_text()
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
        n_slices = self.stack.shape[0]
        width, level = self.window_level
        self._full_text[self.top_left] = self.stack.caption
        self._full_text[self.top_right] = f"W {width:.0f}  L {level:.0f}"
        gap = (
            "\nNo image here: the series has a gap"
            if self.slice_index in self.stack.gaps
            else ""
        )
        self._set_overlay_text(
            self.bottom_left,
            f"Slice {self.image_number()} / {n_slices}\n"
            f"Position {self.slice_position_mm():.1f} mm{gap}",
        )

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self._mouse_scene_pos = QPointF(scene_pos)
        self._update_cursor_value()

    def _update_cursor_value(self) -> None:
        """Show the value under the cursor of the image shown now (or nothing)."""
        if self._mouse_scene_pos is None or self.stack is None or self._current is None:
            if self._full_text.get(self.cursor_value):
                self._set_overlay_text(self.cursor_value, "")
            return
        point = self.view.mapSceneToView(self._mouse_scene_pos)
        row, col = round(point.y()), round(point.x())
        n_rows, n_cols = self._current.shape[:2]
        if not (0 <= row < n_rows and 0 <= col < n_cols):
            self._set_overlay_text(self.cursor_value, "")
            return
        if self.slice_index in self.stack.gaps:
            self._set_overlay_text(self.cursor_value, f"({col}, {row})  no image")
            return
        value = float(self._current[row, col])
        unit = " HU" if self.stack.is_ct else ""
        self._set_overlay_text(self.cursor_value, f"({col}, {row})  {value:.0f}{unit}")

    def eventFilter(self, watched: object, event: QEvent) -> bool:  # noqa: D102
        if (
            watched is self.canvas.viewport()
            and event.type() == QEvent.Type.Leave
            and self._mouse_scene_pos is not None
        ):
            self._mouse_scene_pos = None  # the mouse left the image
            self._update_cursor_value()
        return super().eventFilter(watched, event)  # type: ignore[arg-type]

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: D102
        images = {
            Qt.Key.Key_Up: -1,
            Qt.Key.Key_Down: 1,
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_PageUp: -PAGE_STEP,
            Qt.Key.Key_PageDown: PAGE_STEP,
        }
        key = Qt.Key(event.key())
        if key in images:
            self.scroll_images(images[key])
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
        self._specs = list(specs)
        self._show_calipers()

    def caliper_items(self) -> list[CaliperItem]:
        """Return the calipers drawn on the current slice."""
        return list(self._items)

    def _clear_calipers(self) -> None:
        for item in self._items:
            item.remove_from(self.view)
        self._items = []

    def _show_calipers(self) -> None:
        self._clear_calipers()
        if self.stack is None:
            return
        spacing = self.stack.pixel_spacing_mm
        for spec in specs_on_slice(self._specs, self.slice_index):
            item = CaliperItem(spec, spacing)
            item.signals.edited.connect(self.caliper_edited)
            item.signals.clicked.connect(self.caliper_clicked)
            item.add_to(self.view)
            self._items.append(item)

    def set_outline(self, spec: OutlineSpec | None) -> None:
        """Draw a proposal's outline on its slice (``None``: none).

        The same outline set again changes nothing; another replaces it.
        """
        if self._outline is not None and self._outline.spec == spec:
            return
        if self._outline is not None:
            self._outline.remove_from(self.view)
            self._outline = None
        if spec is None:
            return
        self._outline = OutlineItem(spec)
        self._outline.add_to(self.view)
        self._outline.show_on(self.slice_index)

    @property
    def outline(self) -> OutlineItem | None:
        """Return the proposal's outline on this viewer (shown or not), if any."""
        return self._outline

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
            p1 = self._index_at(start)
            spec = CaliperSpec("new", self.slice_index, p1, p1, proposal=True)
            assert self.stack is not None
            self._drawing = CaliperItem(spec, self.stack.pixel_spacing_mm)
            self._drawing.label.setColor(PROPOSAL_COLOUR)
            self._drawing.add_to(self.view)
        if self._drawing is None:
            return
        self._drawing.set_end((float(here.x()), float(here.y())))
        if ev.isFinish():  # type: ignore[attr-defined]
            self.finish_drawing()

    def finish_drawing(self) -> None:
        """End the caliper being drawn and emit ``caliper_drawn``."""
        drawing, self._drawing = self._drawing, None
        if drawing is None:
            return
        p1, p2 = drawing.endpoints()
        drawing.remove_from(self.view)
        if drawing.length_mm() > 0.5:
            self.caliper_drawn.emit(p1, p2)

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
        if ev.isStart():  # type: ignore[attr-defined]
            self.rois.add(start, here)
        elif self.rois.rois:
            self.rois.resize_last(start, here)

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
        # Del deletes a lesion and Esc rejects a proposal (window shortcuts); with an
        # ROI selected, or in ROI mode, the image takes these keys itself
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(
            event, QKeyEvent
        ):
            key = Qt.Key(event.key())
            deleting = key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
            if (deleting and self.rois.selected is not None) or (
                key == Qt.Key.Key_Escape and self.roi_mode
            ):
                event.accept()
                return True
        return super().event(event)
