"""The slice viewer's mouse gestures and keys, as a reader expects them.

Mouse (:class:`ReadingViewBox`): wheel scrolls images (Ctrl+wheel zooms), left-drag
pans (draws a caliper in measure mode, an ellipse in ROI mode; Shift+drag pans in
either), right- or middle-drag sets window/level, a click in measure mode proposes a
semi-automatic caliper and a click beside every ROI deselects them. Keys
(:data:`IMAGE_KEYS`): arrows and Page Up / Page Down move through the images in
reading order. What a gesture does is the viewer's: the view box only routes it.
"""

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent

if TYPE_CHECKING:
    from mrecist_reader.ui.slice_viewer import SliceViewer

PAGE_STEP = 10
"""Images moved by Page Up / Page Down."""

IMAGE_KEYS: dict[Qt.Key, int] = {
    Qt.Key.Key_Up: -1,
    Qt.Key.Key_Down: 1,
    Qt.Key.Key_Left: -1,
    Qt.Key.Key_Right: 1,
    Qt.Key.Key_PageUp: -PAGE_STEP,
    Qt.Key.Key_PageDown: PAGE_STEP,
}
"""Images each key moves in reading order (positive: next, towards the feet)."""


class ReadingViewBox(pg.ViewBox):
    """A ViewBox whose mouse gestures suit reading rather than plotting."""

    def __init__(self, viewer: "SliceViewer") -> None:
        super().__init__(invertY=True, lockAspect=True, enableMenu=False)
        self._viewer = viewer
        self.setMouseMode(pg.ViewBox.PanMode)

    def wheelEvent(self, ev: object, axis: object = None) -> None:  # noqa: D102
        modifiers = ev.modifiers()  # type: ignore[attr-defined]
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()  # type: ignore[attr-defined]
        if delta:
            self._viewer.scroll_images(-1 if delta > 0 else 1)
        ev.accept()  # type: ignore[attr-defined]

    def mouseDragEvent(self, ev: object, axis: object = None) -> None:  # noqa: D102
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

    def mouseClickEvent(self, ev: object) -> None:  # noqa: D102
        self._viewer.rois.select(None)  # a click beside every ROI deselects
        if ev.button() == Qt.MouseButton.LeftButton and self._viewer.measure_mode:  # type: ignore[attr-defined]
            ev.accept()  # type: ignore[attr-defined]
            point = self.mapSceneToView(ev.scenePos())  # type: ignore[attr-defined]
            self._viewer._on_measure_click(point)
            return
        ev.accept()  # type: ignore[attr-defined]


def image_takes_key(event: QKeyEvent, *, roi_selected: bool, roi_mode: bool) -> bool:
    """Return whether the image takes a window shortcut's key for itself.

    Del deletes a lesion and Esc rejects a proposal (window shortcuts); with an ROI
    selected (Del deletes it), or in ROI mode (Esc leaves it), the image takes them.
    """
    key = Qt.Key(event.key())
    deleting = key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
    return (deleting and roi_selected) or (key == Qt.Key.Key_Escape and roi_mode)
