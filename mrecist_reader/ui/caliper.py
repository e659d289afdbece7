"""Calipers: a measured diameter drawn on a slice, editable by dragging its two ends.

Coordinates on the image are pixel indices: the view's ``x`` is the column and ``y`` the
row, with pixel centres at whole numbers (the image item is offset by half a pixel, so a
handle at ``(x, y) = (12, 30)`` sits on the centre of row 30, column 12, matching DICOM's
pixel-centre positions). :func:`handle_to_index` is the one conversion to
``(slice, row, column)``; :func:`mrecist_reader.imaging.geometry.index_to_patient` then
gives patient millimetres.
"""

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Signal

from mrecist_reader.core.model import (
    Caliper,
    LesionType,
    PointMm,
    Read,
    ReadStatus,
)
from mrecist_reader.core.wording import word
from mrecist_reader.imaging.geometry import index_to_patient, patient_to_index

logger = logging.getLogger(__name__)

IndexPoint = tuple[float, float, float]
"""A fractional voxel index ``(slice, row, column)``."""

CALIPER_COLOUR = "#ffd24d"
SELECTED_COLOUR = "#4dd2ff"
PROPOSAL_COLOUR = "#7dff7a"
READ_ONLY_COLOUR = "#d8c27a"


def handle_to_index(x: float, y: float, slice_index: int) -> IndexPoint:
    """Convert a handle position on a slice to a voxel index ``(slice, row, column)``.

    Parameters
    ----------
    x, y
        The handle's view position: ``x`` is the column, ``y`` the row (pixel centres at
        whole numbers).
    slice_index
        The slice the caliper lies on.

    """
    return (float(slice_index), float(y), float(x))


def index_to_handle(point: IndexPoint) -> tuple[float, float]:
    """Return the view position ``(x, y)`` of a voxel index (inverse of the above)."""
    return (float(point[2]), float(point[1]))


def caliper_from_indices(affine: np.ndarray, p1: IndexPoint, p2: IndexPoint) -> Caliper:
    """Return the patient-space :class:`Caliper` of two voxel indices (mm, LPS)."""
    patient = index_to_patient(affine, np.asarray([p1, p2], dtype=np.float64))
    first = (float(patient[0][0]), float(patient[0][1]), float(patient[0][2]))
    second = (float(patient[1][0]), float(patient[1][1]), float(patient[1][2]))
    return Caliper(p1_mm=first, p2_mm=second)


def indices_from_caliper(
    affine: np.ndarray, caliper: Caliper
) -> tuple[IndexPoint, IndexPoint]:
    """Return the voxel indices of a caliper's end points (inverse of the above)."""
    return (
        point_to_index(affine, caliper.p1_mm),
        point_to_index(affine, caliper.p2_mm),
    )


def point_to_index(affine: np.ndarray, point: PointMm) -> IndexPoint:
    """Return the fractional voxel index ``(slice, row, column)`` of a patient point."""
    index = patient_to_index(affine, np.asarray(point, dtype=np.float64))
    return (float(index[0]), float(index[1]), float(index[2]))


def in_plane_length_mm(
    p1: tuple[float, float],
    p2: tuple[float, float],
    spacing_mm: tuple[float, float],
) -> float:
    """Return the distance in mm between two handle positions on one slice.

    ``spacing_mm`` is (row spacing, column spacing); positions are ``(x, y)``.
    """
    d_col = (p2[0] - p1[0]) * spacing_mm[1]
    d_row = (p2[1] - p1[1]) * spacing_mm[0]
    return math.hypot(d_col, d_row)


def caliper_lock_reason(read: Read, lesion_id: str, timepoint_index: int) -> str:
    """Return why a lesion's caliper at a timepoint cannot be moved ("" if it can).

    The same rules the session applies when a changed caliper is recorded, asked before
    the caliper is drawn, so that a locked caliper is drawn locked (no handles, not
    draggable) instead of being dragged and refused on release:

    - only target and new lesions are measured: a non-target's caliper only shows
      where the lesion is;
    - a signed timepoint is read-only, and so is a draft with a signed timepoint after
      it (its response depends on this one).
    """
    lesion = next((le for le in read.lesions if le.lesion_id == lesion_id), None)
    if lesion is not None and lesion.lesion_type is LesionType.NON_TARGET:
        return (
            f"{lesion_id} is a {word(LesionType.NON_TARGET)} lesion: its caliper only "
            "shows where it is"
        )
    timepoint = read.timepoint(timepoint_index)
    if timepoint is not None and timepoint.read_status is ReadStatus.SIGNED:
        return f"{timepoint.label} is signed: amend it to change a caliper"
    later = sorted(
        (
            tp
            for tp in read.timepoints
            if tp.index > timepoint_index and tp.read_status is ReadStatus.SIGNED
        ),
        key=lambda tp: tp.index,
    )
    if later:
        here = timepoint.label if timepoint is not None else "this timepoint"
        return (
            f"{later[0].label} is signed and depends on {here}: amend it to change "
            "a caliper"
        )
    return ""


@dataclass(frozen=True, slots=True)
class CaliperSpec:
    """What the viewer draws for one lesion's caliper on its slice.

    A caliper that is not ``editable`` is locked: drawn without handles, it cannot be
    dragged and never reports an edit; ``locked_reason`` (see
    :func:`caliper_lock_reason`) is its tooltip. A ``marker`` is a position, not a
    caliper (a non-target added with N): a cross labelled with the lesion only. A
    ``note`` is a second line of the label (a proposal's warnings); ``label_below``
    (a view ``y``) keeps a proposal's label below it (under its outline). A
    ``colour`` (``"#rrggbb"``) draws the caliper in that colour instead of the state's
    (the adjudicator's screen: each reader's calipers in the reader's colour);
    ``label_under`` puts the label under the line (reader 2's there, reader 1's above:
    two readers' calipers of one lesion keep legible labels).
    """

    lesion_id: str
    slice_index: int
    p1: IndexPoint
    p2: IndexPoint
    editable: bool = True
    selected: bool = False
    proposal: bool = False
    locked_reason: str = ""
    marker: bool = False
    note: str = ""
    label_below: float | None = None
    colour: str = ""
    label_under: bool = False


class _CaliperSignals(QObject):
    edited = Signal(str, object, object)
    clicked = Signal(str)


class CaliperItem:
    """A lesion's caliper: a :class:`pyqtgraph.LineSegmentROI` with a live mm label.

    Drag either end to edit; the label shows the lesion and the length in mm (from the
    pixel spacing) while dragging. When a drag ends, ``signals.edited`` is emitted with the
    lesion id and the two end points as ``(slice, row, column)`` indices.
    """

    def __init__(
        self,
        spec: CaliperSpec,
        spacing_mm: tuple[float, float],
    ) -> None:
        self.spec = spec
        self.signals = _CaliperSignals()
        self._spacing_mm = spacing_mm
        colour = _colour_of(spec)
        pen = pg.mkPen(colour, width=2)
        self._positions = (index_to_handle(spec.p1), index_to_handle(spec.p2))
        self.roi = pg.LineSegmentROI(
            positions=list(self._positions),
            pen=pen,
            # a locked caliper does not light up under the mouse: nothing to drag
            hoverPen=pg.mkPen(SELECTED_COLOUR, width=3) if spec.editable else pen,
            handlePen=pg.mkPen(colour, width=2),
            movable=spec.editable,
            rotatable=False,
            resizable=spec.editable,
        )
        for handle in self.roi.getHandles():
            handle.setVisible(spec.editable)
            handle.setEnabled(spec.editable)
            if not spec.editable:
                handle.setAcceptedMouseButtons(pg.QtCore.Qt.MouseButton.NoButton)
                handle.setAcceptHoverEvents(False)
        if not spec.editable:
            self.roi.setToolTip(spec.locked_reason or f"{spec.lesion_id}: locked")
        # a proposal's label goes under its line: over a drawn caliper both stay legible
        anchor = (0.5, -0.3) if spec.proposal or spec.label_under else (0.5, 1.3)
        if spec.marker:  # beside its cross, clear of a caliper through the point
            anchor = (-0.25, 0.5)
        self.label = pg.TextItem(color=colour, anchor=anchor, fill=(0, 0, 0, 150))
        self._view: pg.ViewBox | None = None
        self.roi.sigRegionChanged.connect(self._on_moved)
        self.roi.sigRegionChangeFinished.connect(self._on_finished)
        self.roi.sigClicked.connect(self._on_clicked)
        self.roi.setAcceptedMouseButtons(pg.QtCore.Qt.MouseButton.LeftButton)
        self.cross: pg.ScatterPlotItem | None = None
        if spec.marker:
            x, y = index_to_handle(spec.p1)
            self.cross = pg.ScatterPlotItem(
                [x], [y], symbol="+", size=16, pen=pen, brush=colour
            )
            self.cross.setToolTip(self.roi.toolTip())
            self.cross.sigClicked.connect(self._on_clicked)
        self._on_moved()

    def add_to(self, view: pg.ViewBox) -> None:
        """Put the caliper and its label on a view."""
        view.addItem(self.roi)
        view.addItem(self.label, ignoreBounds=True)
        if self.cross is not None:
            view.addItem(self.cross, ignoreBounds=True)
        self._view = view
        view.sigRangeChanged.connect(self._keep_label_in_view)
        self._keep_label_in_view()

    def remove_from(self, view: pg.ViewBox) -> None:
        """Take the caliper and its label off a view."""
        if self._view is not None:
            self._view.sigRangeChanged.disconnect(self._keep_label_in_view)
            self._view = None
        view.removeItem(self.roi)
        view.removeItem(self.label)
        if self.cross is not None:
            view.removeItem(self.cross)

    def handle_positions(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Return the two handle positions ``(x, y)`` in view (pixel index) units."""
        points = [self.roi.mapToParent(h.pos()) for h in self.roi.getHandles()]
        return (
            (float(points[0].x()), float(points[0].y())),
            (float(points[1].x()), float(points[1].y())),
        )

    def set_end(self, p2: tuple[float, float]) -> None:
        """Move the second end (while drawing a new caliper)."""
        handle = self.roi.getHandles()[1]
        self.roi.movePoint(handle, QPointF(*p2), finish=False)

    def endpoints(self) -> tuple[IndexPoint, IndexPoint]:
        """Return both ends as ``(slice, row, column)`` indices."""
        first, second = self.handle_positions()
        k = self.spec.slice_index
        return (handle_to_index(*first, k), handle_to_index(*second, k))

    def length_mm(self) -> float:
        """Return the in-plane length in mm."""
        first, second = self.handle_positions()
        return in_plane_length_mm(first, second, self._spacing_mm)

    @property
    def locked(self) -> bool:
        """Return whether the caliper is locked (drawn where it was recorded, fixed)."""
        return not self.spec.editable

    def _on_moved(self) -> None:
        if self.locked and not _same_positions(
            self.handle_positions(), self._positions
        ):
            # nothing moves a locked caliper, not even a programmatic drag
            self._restore()
            return
        first, second = self.handle_positions()
        if self.spec.marker:  # a position: no length to show
            self.label.setText(self.spec.lesion_id)
            self.label.setPos(*first)
            return
        text = f"{self.spec.lesion_id}  {self.length_mm():.1f} mm"
        self.label.setText(f"{text}\n{self.spec.note}" if self.spec.note else text)
        top = min(first[1], second[1])
        bottom = max(first[1], second[1])
        y = bottom if self.spec.proposal or self.spec.label_under else top
        if self.spec.proposal and self.spec.label_below is not None:
            y = max(y, self.spec.label_below)  # the label never hides the outline
        self.label.setPos((first[0] + second[0]) / 2, y)
        self._keep_label_in_view()

    def _keep_label_in_view(self, *_args: object) -> None:
        """Slide a centred label sideways so that none of it is cut off by the view.

        A caliper near the image's edge (a lesion under the liver's capsule) would
        otherwise hide the start of its length and checks outside the pane.
        """
        view = self._view
        if view is None or self.spec.marker:
            return
        pixel_width = view.viewPixelSize()[0]
        visible = view.viewRect()
        anchor = label_anchor_x(
            self.label.pos().x(),
            self.label.boundingRect().width() * pixel_width,
            (visible.left(), visible.right()),
        )
        self.label.setAnchor((anchor, self.label.anchor.y()))

    def _restore(self) -> None:
        handles = self.roi.getHandles()
        self.roi.blockSignals(True)
        for handle, position in zip(handles, self._positions, strict=True):
            self.roi.movePoint(handle, QPointF(*position), finish=False)
        self.roi.blockSignals(False)
        self._on_moved()

    def _on_finished(self) -> None:
        if self.locked:
            return  # a locked caliper never reports an edit
        p1, p2 = self.endpoints()
        self.signals.edited.emit(self.spec.lesion_id, p1, p2)

    def _on_clicked(self, *_args: object) -> None:
        self.signals.clicked.emit(self.spec.lesion_id)


def label_anchor_x(centre: float, width: float, visible: tuple[float, float]) -> float:
    """Return the horizontal anchor putting a label of ``width`` at ``centre`` in view.

    0.5 (centred) when it fits; less to push it right of a left edge, more to push it
    left of a right edge; centred again when it is wider than the view.
    """
    left, right = visible
    if width <= 0 or width >= right - left:
        return 0.5
    if centre - width / 2 < left:
        return max(0.0, (centre - left) / width)
    if centre + width / 2 > right:
        return min(1.0, 1 - (right - centre) / width)
    return 0.5


def _same_positions(
    first: tuple[tuple[float, float], ...], second: tuple[tuple[float, float], ...]
) -> bool:
    return all(
        math.isclose(a, b, abs_tol=1e-3)
        for one, other in zip(first, second, strict=True)
        for a, b in zip(one, other, strict=True)
    )


def _colour_of(spec: CaliperSpec) -> str:
    if spec.proposal:
        return PROPOSAL_COLOUR
    if spec.colour:
        return spec.colour
    if spec.selected:
        return SELECTED_COLOUR
    if not spec.editable:
        return READ_ONLY_COLOUR
    return CALIPER_COLOUR


def specs_on_slice(specs: Sequence[CaliperSpec], slice_index: int) -> list[CaliperSpec]:
    """Return the calipers that lie on one slice."""
    return [spec for spec in specs if spec.slice_index == slice_index]
