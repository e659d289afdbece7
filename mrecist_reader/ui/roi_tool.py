"""Enhancement ROIs on a slice viewer: ellipses with their mean, SD, min, max and area.

mRECIST asks whether a lesion enhances in the arterial phase; the reader compares the
lesion's attenuation with the liver's (issue 15 item 1). An ROI is drawn in ROI mode by a
left drag (the ellipse inscribed in the dragged box), moved by dragging it and resized by
its four edge handles; its label, under the ellipse so that it never covers what is
measured, gives the statistics of the pixels inside on the *shown* slice (HU on CT, signal
units on MR) and, from the second ROI on, the difference of its mean from ROI 1's (lesion
minus liver when the liver ROI is drawn first). An ellipse's context menu makes it
freehand: a closed polygon whose points the reader drags onto the lesion's edge
(pyqtgraph's ``PolyLineROI``; statistics by
:func:`~mrecist_reader.imaging.roi_stats.polygon_stats`). Clicking an ROI selects it; Delete removes
the selected one. ROIs drawn belong to the series on screen; an ROI's context menu (right
click) keeps it with the read as evidence, with the selected lesion or as the liver
reference: :attr:`RoiSet.keep_requested` asks for it and
:mod:`mrecist_reader.ui.roi_keeping` passes it to the desk
(:func:`mrecist_reader.desk.rois.keep_roi`), which decides.

Statistics are computed by :func:`mrecist_reader.imaging.roi_stats.ellipse_stats` only
when an ROI moves or the shown slice changes, never while nothing changes.
"""

import logging
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from psygnal import Signal
from PySide6.QtCore import QPointF
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from mrecist_reader.imaging.roi_stats import (
    PixelEllipse,
    PixelPoint,
    RoiError,
    RoiStats,
    ellipse_outline,
    ellipse_stats,
    mean_difference,
    polygon_stats,
)

logger = logging.getLogger(__name__)

ROI_COLOUR = "#ff9de2"
ROI_SELECTED_COLOUR = "#4dd2ff"
LABEL_GAP_PX = 1.5
"""Gap between the ellipse's lower edge and its label, in image pixels."""
MIN_SIZE_PX = 2.0
FREEHAND_POINTS = 12
"""How many points a freehand ROI made from an ellipse starts with."""


def _menu(actions: list[tuple[str, Callable[[], None]]]) -> QMenu:
    """Return an ROI's context menu with these actions."""
    menu = QMenu()
    menu.setObjectName("roiMenu")
    for text, run in actions:
        action = QAction(text, menu)
        action.triggered.connect(lambda _checked=False, r=run: r())
        menu.addAction(action)
    return menu


class RoiEllipse(pg.EllipseROI):
    """An axis-aligned ellipse ROI: moved by a drag, resized by four edge handles.

    pyqtgraph's ellipse has a rotate handle; the statistics are of an axis-aligned
    ellipse, so this one resizes only. Its context menu keeps it with the read (when
    ``keep`` is set: called with the ROI and whether it is the liver reference).
    """

    keep: Callable[[object, bool], None] | None = None
    freehand: Callable[["RoiEllipse"], object] | None = None
    menu: QMenu | None

    def contextMenuEnabled(self) -> bool:
        """Return whether right-clicking it offers to keep it."""
        return self.keep is not None

    def getMenu(self) -> QMenu:
        """Return the menu: keep (with the lesion, as the reference), make freehand."""
        if self.menu is None:
            self.menu = _menu(
                [
                    ("Keep with the selected lesion", lambda: self._keep(False)),
                    ("Keep as liver reference", lambda: self._keep(True)),
                    ("Make freehand (drag its points)", self._make_freehand),
                ]
            )
        return self.menu

    def _keep(self, reference: bool) -> None:
        if self.keep is not None:
            self.keep(self, reference)

    def _make_freehand(self) -> None:
        if self.freehand is not None:
            self.freehand(self)

    def _addHandles(self) -> None:
        self.addScaleHandle([1.0, 0.5], [0.0, 0.5])
        self.addScaleHandle([0.0, 0.5], [1.0, 0.5])
        self.addScaleHandle([0.5, 1.0], [0.5, 0.0])
        self.addScaleHandle([0.5, 0.0], [0.5, 1.0])

    def pixel_ellipse(self) -> PixelEllipse:
        """Return the ellipse in pixel-index units (x = column, y = row)."""
        x, y = float(self.pos().x()), float(self.pos().y())
        width, height = float(self.size().x()), float(self.size().y())
        return PixelEllipse(
            centre_row=y + height / 2.0,
            centre_column=x + width / 2.0,
            radius_rows=abs(height) / 2.0,
            radius_columns=abs(width) / 2.0,
        )


class RoiPolygon(pg.PolyLineROI):
    """A freehand ROI: a closed polygon whose points are dragged; moved by a drag."""

    keep: Callable[[object, bool], None] | None = None
    menu: QMenu | None

    def contextMenuEnabled(self) -> bool:
        """Return whether right-clicking it offers to keep it."""
        return self.keep is not None

    def getMenu(self) -> QMenu:
        """Return the menu: keep with the selected lesion or as the liver reference."""
        if self.menu is None:
            self.menu = _menu(
                [
                    ("Keep with the selected lesion", lambda: self._keep(False)),
                    ("Keep as liver reference", lambda: self._keep(True)),
                ]
            )
        return self.menu

    def _keep(self, reference: bool) -> None:
        if self.keep is not None:
            self.keep(self, reference)

    def vertices(self) -> tuple[PixelPoint, ...]:
        """Return its points in pixel-index units, (row, column)."""
        points = [self.mapToParent(h.pos()) for h in self.getHandles()]
        return tuple((float(p.y()), float(p.x())) for p in points)


Roi = RoiEllipse | RoiPolygon


def format_stats(number: int, stats: RoiStats, unit: str) -> str:
    """Return an ROI label's first lines: its number, mean ± SD, min-max and area."""
    return (
        f"ROI {number}: mean {stats.mean:.0f} ± {stats.sd:.0f} {unit}\n"
        f"min {stats.minimum:.0f}  max {stats.maximum:.0f}\n"
        f"area {stats.area_mm2:.0f} mm²"
    )


class RoiSet:
    """The ROIs drawn on one viewer, their labels and statistics on the shown slice.

    ``keep_requested(index, reference)``: the reader asked to keep ROI ``index`` with
    the selected lesion (``reference`` False) or as the liver reference.
    """

    keep_requested = Signal(int, bool)

    def __init__(self, view: pg.ViewBox) -> None:
        self.view = view
        self.rois: list[Roi] = []
        self.labels: list[pg.TextItem] = []
        self.stats: list[RoiStats | None] = []
        self.selected: Roi | None = None
        self._image: npt.NDArray[np.generic] | None = None
        self._spacing_mm = (1.0, 1.0)
        self.unit = "HU"
        self.notes: dict[int, str] = {}  # id(roi) -> what it was kept as

    def set_geometry(self, spacing_mm: tuple[float, float], *, unit: str) -> None:
        """Set the series' pixel spacing (row, column; mm) and value unit ("HU")."""
        self._spacing_mm = spacing_mm
        self.unit = unit

    def set_image(self, image: npt.NDArray[np.generic] | None) -> None:
        """Measure the ROIs on another image (the shown slice; ``None``: no image).

        Without ROIs this only keeps the image: scrolling costs nothing more.
        """
        self._image = image
        if self.rois:
            self.update_all()

    def add(self, corner: QPointF, other: QPointF) -> RoiEllipse:
        """Add the ellipse inscribed in the box between two view points; select it."""
        x0, x1 = sorted((float(corner.x()), float(other.x())))
        y0, y1 = sorted((float(corner.y()), float(other.y())))
        roi = RoiEllipse(
            (x0, y0),
            (max(x1 - x0, MIN_SIZE_PX), max(y1 - y0, MIN_SIZE_PX)),
            pen=pg.mkPen(ROI_COLOUR, width=2),
            removable=False,
        )
        label = pg.TextItem(color=ROI_COLOUR, anchor=(0.5, 0.0), fill=(0, 0, 0, 170))
        roi.freehand = self.make_freehand
        self._wire(roi)
        self.view.addItem(label)
        self.rois.append(roi)
        self.labels.append(label)
        self.stats.append(None)
        self.select(roi)
        self.update_all()
        return roi

    def _wire(self, roi: Roi) -> None:
        buttons = pg.QtCore.Qt.MouseButton
        roi.setAcceptedMouseButtons(buttons.LeftButton | buttons.RightButton)
        roi.keep = self._request_keep
        self.view.addItem(roi)
        roi.sigRegionChanged.connect(self._on_changed)
        roi.sigRegionChangeStarted.connect(self.select)
        roi.sigClicked.connect(self.select)

    def make_freehand(self, roi: RoiEllipse) -> RoiPolygon | None:
        """Replace an ellipse by a freehand polygon along it (its points to drag)."""
        if roi not in self.rois:
            return None
        index = self.rois.index(roi)
        outline = ellipse_outline(roi.pixel_ellipse(), FREEHAND_POINTS)
        polygon = RoiPolygon(
            [(column, row) for row, column in outline],
            closed=True,
            pen=pg.mkPen(ROI_COLOUR, width=2),
            removable=False,
        )
        self.view.removeItem(roi)
        self.notes.pop(id(roi), None)
        self._wire(polygon)
        self.rois[index] = polygon
        self.select(polygon)
        self.update_all()
        return polygon

    def shape_of(self, index: int) -> str:
        """Return ROI ``index``'s shape: "ellipse" or "freehand"."""
        return "freehand" if isinstance(self.rois[index], RoiPolygon) else "ellipse"

    def drag(self, start: QPointF, here: QPointF, *, starting: bool) -> bool:
        """Draw a new ellipse (a drag starting) or reshape the newest; True when new."""
        if starting:
            self.add(start, here)
        elif self.rois:
            self.resize_last(start, here)
        return starting

    def resize_last(self, corner: QPointF, other: QPointF) -> None:
        """Reshape the newest ROI to the box between two view points (while drawing)."""
        x0, x1 = sorted((float(corner.x()), float(other.x())))
        y0, y1 = sorted((float(corner.y()), float(other.y())))
        roi = self.rois[-1]
        if not isinstance(roi, RoiEllipse):
            return
        roi.setPos((x0, y0), update=False, finish=False)
        roi.setSize(
            (max(x1 - x0, MIN_SIZE_PX), max(y1 - y0, MIN_SIZE_PX)), finish=False
        )

    def select(self, roi: object = None, *_: object) -> None:
        """Select an ROI (``None``: none); it is drawn in the selection colour."""
        self.selected = roi if isinstance(roi, RoiEllipse | RoiPolygon) else None
        for each in self.rois:
            colour = ROI_SELECTED_COLOUR if each is self.selected else ROI_COLOUR
            each.setPen(pg.mkPen(colour, width=2))

    def _request_keep(self, roi: object, reference: bool) -> None:
        if isinstance(roi, RoiEllipse | RoiPolygon) and roi in self.rois:
            self.select(roi)
            self.keep_requested.emit(self.rois.index(roi), reference)

    def keep_selected(self, *, reference: bool = False) -> bool:
        """Ask to keep the selected ROI (as from its menu); return whether one is."""
        if self.selected is None or self.selected not in self.rois:
            return False
        self._request_keep(self.selected, reference)
        return True

    def outline(self, index: int) -> tuple[PixelPoint, ...]:
        """Return ROI ``index``'s outline, (row, column) pixel-index points."""
        roi = self.rois[index]
        if isinstance(roi, RoiPolygon):
            return roi.vertices()
        return ellipse_outline(roi.pixel_ellipse())

    def note(self, index: int, text: str) -> None:
        """Add a line to ROI ``index``'s label (what it was kept as)."""
        self.notes[id(self.rois[index])] = text
        self._update(index)

    def remove_selected(self) -> bool:
        """Remove the selected ROI; return whether one was removed."""
        if self.selected is None or self.selected not in self.rois:
            return False
        index = self.rois.index(self.selected)
        self._remove(index)
        self.selected = None
        self.update_all()
        return True

    def clear(self) -> None:
        """Remove every ROI (another series is shown)."""
        while self.rois:
            self._remove(len(self.rois) - 1)
        self.selected = None

    def _remove(self, index: int) -> None:
        roi = self.rois.pop(index)
        self.notes.pop(id(roi), None)
        label = self.labels.pop(index)
        self.stats.pop(index)
        self.view.removeItem(roi)
        self.view.removeItem(label)

    def _on_changed(self, roi: object) -> None:
        # the difference of means of later ROIs depends on ROI 1: update them all
        if not isinstance(roi, RoiEllipse | RoiPolygon) or roi not in self.rois:
            return
        if roi is self.rois[0]:
            self.update_all()
        else:
            self._update(self.rois.index(roi))

    def update_all(self) -> None:
        """Recompute every ROI's statistics and label on the current image."""
        for index in range(len(self.rois)):
            self._update(index)

    def _place_label(self, index: int) -> None:
        """Put a label under its ROI, lowered below earlier labels it would cover."""
        label = self.labels[index]
        outline = self.outline(index)
        bottom = max(row for row, _ in outline) + LABEL_GAP_PX
        label.setPos(sum(c for _, c in outline) / len(outline), bottom)
        for other in self.labels[:index]:
            mine, theirs = label.sceneBoundingRect(), other.sceneBoundingRect()
            if mine.intersects(theirs):
                top = self.view.mapSceneToView(QPointF(0.0, theirs.bottom() + 2.0))
                label.setPos(label.pos().x(), float(top.y()))

    def _update(self, index: int) -> None:
        roi, label = self.rois[index], self.labels[index]
        self.stats[index] = self._measure(roi)
        label.setText(self.label_text(index))
        self._place_label(index)
        # the labels after this one may have been lowered below it
        for later in range(index + 1, len(self.rois)):
            self._place_label(later)

    def _measure(self, roi: Roi) -> RoiStats | None:
        if self._image is None:
            return None
        try:
            if isinstance(roi, RoiPolygon):
                return polygon_stats(self._image, roi.vertices(), self._spacing_mm)
            return ellipse_stats(self._image, roi.pixel_ellipse(), self._spacing_mm)
        except RoiError:  # moved off the image: the label says so
            return None

    def label_text(self, index: int) -> str:
        """Return ROI ``index``'s label (its statistics, and its mean minus ROI 1's)."""
        stats = self.stats[index]
        if stats is None:
            return f"ROI {index + 1}: no image pixels inside"
        text = format_stats(index + 1, stats, self.unit)
        first = self.stats[0]
        if index > 0 and first is not None:
            difference = mean_difference(stats, first)
            text += f"\nROI {index + 1} − ROI 1: {difference:+.0f} {self.unit}"
        note = self.notes.get(id(self.rois[index]))
        return text if note is None else f"{text}\n{note}"
