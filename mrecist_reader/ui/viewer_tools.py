"""The slice viewer's reading tools: cine, magnifier, invert, toggles, overlay planes.

The rules are Qt-free (:mod:`mrecist_reader.desk.cine`, :mod:`~mrecist_reader.desk.magnifier`,
:mod:`~mrecist_reader.desk.overlay_toggles`, :mod:`mrecist_reader.imaging.overlay_planes`);
this module only drives them: a timer for cine, a lens label for the magnifier, an image
layer for the overlay planes, the tool bar's status for what is on. Cine loops through
the series and records nothing; it stops when another series is shown. A blinded read
draws no overlay plane (a plane is a bitmap that may hold burned-in identity).
"""

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QImage, QPixmap, QTransform
from PySide6.QtWidgets import QLabel

from mrecist_reader.desk.cine import Cine
from mrecist_reader.desk.magnifier import DEFAULT_FACTOR, magnifier_patch
from mrecist_reader.desk.overlay_toggles import OverlayToggles
from mrecist_reader.ui.errors import is_blinded_window

if TYPE_CHECKING:
    from mrecist_reader.ui.slice_viewer import SliceViewer

PLANE_COLOUR = (255, 210, 0, 230)
"""Overlay planes in amber, as scanners and PACS draw them."""
INVERTED_LUT: npt.NDArray[np.uint8] = np.arange(255, -1, -1, dtype=np.uint8)
LENS_OFFSET = 24
"""Distance (px) between the cursor and the magnifier's nearest corner."""
LENS_STYLE = "border: 2px solid #f0c000; background: #000000;"
BLINDED_PLANES = "Overlay planes not drawn (blinded read)"
"""Overlay planes may carry burned-in text (names, dates): a blinded read never draws
them, and says so on a slice that has some."""


def plane_rgba(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    """Return an RGBA image drawing ``mask`` in the planes' colour (clear elsewhere)."""
    rgba = np.zeros((*mask.shape, 4), dtype=np.uint8)
    rgba[mask] = PLANE_COLOUR
    return rgba


def lens_place(cursor: QPoint, size: tuple[int, int], room: tuple[int, int]) -> QPoint:
    """Return the lens's top-left: below right of the cursor, flipped to stay inside."""
    width, height = size
    x = cursor.x() + LENS_OFFSET
    y = cursor.y() + LENS_OFFSET
    if x + width > room[0]:
        x = cursor.x() - LENS_OFFSET - width
    if y + height > room[1]:
        y = cursor.y() - LENS_OFFSET - height
    return QPoint(max(x, 0), max(y, 0))


class ViewerTools:
    """Cine, magnifier, inversion, overlay toggles and overlay planes of one viewer."""

    def __init__(self, viewer: "SliceViewer") -> None:
        self.viewer = viewer
        self.cine = Cine()
        self.toggles = OverlayToggles()
        self.magnifying = False
        self.inverted = False
        self._timer = QTimer(viewer)
        self._timer.timeout.connect(self._tick)
        self.planes = pg.ImageItem(axisOrder="row-major")
        self.planes.setTransform(QTransform.fromTranslate(-0.5, -0.5))
        self.planes.setZValue(5)
        viewer.view.addItem(self.planes, ignoreBounds=True)
        self.lens = QLabel(viewer.canvas)
        self.lens.setObjectName("magnifier")
        self.lens.setStyleSheet(LENS_STYLE)
        self.lens.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.lens.hide()
        self._scene_pos: QPointF | None = None
        self.planes_withheld = False
        """Whether the shown slice has overlay planes a blinded read does not draw."""

    # ------------------------------------------------------------------ cine
    def toggle_cine(self) -> bool:
        """Play cine if paused (with a series shown), pause it if playing."""
        if self.viewer.stack is None and not self.cine.playing:
            return False
        if self.cine.toggle():
            self._timer.start(self.cine.interval_ms)
        else:
            self._timer.stop()
        self.show_status()
        return self.cine.playing

    def stop_cine(self) -> None:
        """Pause cine (another series, or the viewer is cleared)."""
        self.cine.playing = False
        self._timer.stop()
        self.show_status()

    def cine_faster(self) -> int:
        """Raise the frame rate one step; return it."""
        return self._set_rate(self.cine.faster())

    def cine_slower(self) -> int:
        """Lower the frame rate one step; return it."""
        return self._set_rate(self.cine.slower())

    def _set_rate(self, fps: int) -> int:
        if self._timer.isActive():
            self._timer.setInterval(self.cine.interval_ms)
        self.show_status()
        return fps

    def _tick(self) -> None:
        stack = self.viewer.stack
        if stack is None or not self.viewer.isVisible():  # cleared, or laid out away
            self.stop_cine()
            return
        count, step = stack.shape[0], self.viewer.next_step
        self.viewer.set_slice(Cine.next_index(self.viewer.slice_index, count, step))

    # ------------------------------------------------------------------ status
    def status_text(self) -> str:
        """Return what the tool bar says of the tools ("Cine 10 fps · Inverted"...)."""
        parts = [
            self.cine.label(),
            "Magnifier" if self.magnifying else "",
            "Inverted" if self.inverted else "",
            self.toggles.hidden_note(),
            BLINDED_PLANES if self.planes_withheld else "",
        ]
        return "  ·  ".join(part for part in parts if part)

    def show_status(self) -> None:
        """Show the tools' state in the viewer's tool bar."""
        self.viewer.tool_bar.show_status(self.status_text())

    # ------------------------------------------------------------------ invert
    def toggle_invert(self) -> bool:
        """Invert the grey scale (kept for the series kind); return whether inverted."""
        stack = self.viewer.stack
        if stack is None:
            return self.inverted
        self.set_inverted(not self.inverted)
        self.viewer.window_memory.set_inverted(stack.window_kind, self.inverted)
        return self.inverted

    def set_inverted(self, inverted: bool) -> None:
        """Show the image inverted (black on white) or not."""
        self.inverted = inverted
        self.viewer.image.setLookupTable(INVERTED_LUT if inverted else None)
        self.refresh_lens()
        self.show_status()

    # ------------------------------------------------------------------ toggles
    def toggle_text(self) -> bool:
        """Hide the corner texts, letters and scale bar, or show them again."""
        shown = self.toggles.toggle_text()
        self.viewer.overlays.set_text_shown(shown)
        self.show_status()
        return shown

    def toggle_annotations(self) -> bool:
        """Hide the calipers, ROIs, outline and overlay planes, or show them again."""
        shown = self.toggles.toggle_annotations()
        self.apply_annotations()
        self.show_status()
        return shown

    def apply_annotations(self) -> None:
        """Show or hide every item drawn over the image (not the image itself).

        Hidden items are transparent and disabled (no hidden caliper can be dragged);
        their own visibility (a caliper's slice, an outline's parts) is left alone.
        """
        shown = self.toggles.annotations
        for item in self.viewer.view.childGroup.childItems():  # all, bounds or not
            if item is self.viewer.image:
                continue
            item.setOpacity(1.0 if shown else 0.0)
            item.setEnabled(shown)

    # ------------------------------------------------------------------ content
    def stack_changed(self) -> None:
        """Another series (or none): cine stops, its kind's inversion applies."""
        self.stop_cine()
        stack = self.viewer.stack
        kind_inverted = stack is not None and self.viewer.window_memory.inverted(
            stack.window_kind
        )
        self.set_inverted(kind_inverted)
        self.slice_shown()

    def slice_shown(self) -> None:
        """Draw the shown slice's overlay planes; the lens follows."""
        stack, index = self.viewer.stack, self.viewer.slice_index
        mask = None
        if stack is not None and stack.overlays is not None:
            mask = stack.overlays.mask(index)
        withheld = mask is not None and is_blinded_window(self.viewer)
        if withheld != self.planes_withheld:
            self.planes_withheld = withheld
            self.show_status()
        if mask is None or withheld:
            self.planes.clear()
            self.planes.setVisible(False)
        else:
            self.planes.setImage(plane_rgba(mask), autoLevels=False)
            self.planes.setVisible(True)
        self.apply_annotations()
        self.refresh_lens()

    @property
    def planes_shown(self) -> bool:
        """Return whether overlay planes are drawn on the shown slice."""
        return self.planes.isVisible() and self.planes.image is not None

    # ------------------------------------------------------------------ magnifier
    def toggle_magnifier(self) -> bool:
        """Turn the magnifier on (it follows the cursor) or off."""
        self.magnifying = not self.magnifying
        self.refresh_lens()
        self.show_status()
        return self.magnifying

    def mouse_moved(self, scene_pos: QPointF | None) -> None:
        """Follow the cursor (``None``: it left the image)."""
        self._scene_pos = None if scene_pos is None else QPointF(scene_pos)
        self.refresh_lens()

    def refresh_lens(self) -> None:
        """Draw the magnified pixels around the cursor, or hide the lens."""
        image = self.viewer.current_image
        if not self.magnifying or self._scene_pos is None or image is None:
            self.lens.hide()
            return
        point = self.viewer.view.mapSceneToView(self._scene_pos)
        patch = magnifier_patch(
            image,
            round(point.y()),
            round(point.x()),
            self.viewer.levels(),
            invert=self.inverted,
        )
        rows, cols = patch.shape
        qimage = QImage(patch.data, cols, rows, cols, QImage.Format.Format_Grayscale8)
        row_mm, col_mm = (
            self.viewer.stack.pixel_spacing_mm if self.viewer.stack else (1.0, 1.0)
        )
        size = (round(cols * DEFAULT_FACTOR * col_mm / row_mm), rows * DEFAULT_FACTOR)
        pixmap = QPixmap.fromImage(qimage.copy()).scaled(
            size[0], size[1], Qt.AspectRatioMode.IgnoreAspectRatio
        )
        self.lens.setPixmap(pixmap)
        canvas = self.viewer.canvas
        cursor = canvas.mapFromScene(self._scene_pos)
        room = (canvas.width(), canvas.height())
        self.lens.setGeometry(*lens_place(cursor, size, room).toTuple(), *size)
        self.lens.show()
        self.lens.raise_()
