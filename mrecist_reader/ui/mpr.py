"""MPR panes: coronal and sagittal reformats of the read series (issue 15 item 4).

Each pane is a :class:`~mrecist_reader.ui.slice_viewer.SliceViewer` over a reformat
(:mod:`mrecist_reader.imaging.reformat`: a patient-aligned grid, so a tilted series is
shown with its true geometry), chosen in the pane's tool bar (Coronal / Sagittal).
Reference lines (pyqtgraph ``InfiniteLine``) show where the planes cut each other: on a
reformat, the axial slice shown by the read pane and the other reformat's slice; on the
axial panes, each reformat's slice (one colour per plane on every pane). Calipers stay on the acquired axial images, as mRECIST requires: the Measure
button of a reformat pane is disabled and its tooltip says why (M does nothing there).
"""

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from mrecist_reader.imaging.reformat import (
    Plane,
    Reformat,
    build_reformat,
    reference_line,
    reformat_slice,
)
from mrecist_reader.ui.image_stack import ImageStack
from mrecist_reader.ui.slice_viewer import SliceViewer
from mrecist_reader.ui.viewer_tool_bar import BUTTON_STYLE
from mrecist_reader.ui.windowing import WindowMemory

NO_CALIPER_TIP = (
    "Calipers stay on the acquired axial images (mRECIST measures there): "
    "this pane shows a reformat, for checking extent and vessels."
)
WAITING_TEXT = "The reformat shows when the series has loaded"
DISABLED_STYLE = " QToolButton:disabled { color: #5c6370; border: 1px dashed #3a404a; }"
REFORMAT_PLANES = (Plane.CORONAL, Plane.SAGITTAL)
LINE_COLOURS: dict[Plane, str] = {
    Plane.AXIAL: "#ffd54f",
    Plane.CORONAL: "#4fc3f7",
    Plane.SAGITTAL: "#81c784",
}
"""The reference line of a plane has the same colour on every pane."""


@dataclass(frozen=True, eq=False)
class MprSource:
    """The acquired volume a reformat is made from, and how the read pane shows it."""

    array: npt.NDArray[np.generic]
    affine: npt.NDArray[np.float64]
    stack: ImageStack
    """The read pane's (axial) stack: modality, kind, caption and sample."""


def reference_line_item(plane: Plane) -> pg.InfiniteLine:
    """Return a hidden, unmovable reference line in the plane's colour."""
    line = pg.InfiniteLine(
        angle=0, movable=False, pen=pg.mkPen(LINE_COLOURS[plane], width=1)
    )
    line.setZValue(20)
    line.setVisible(False)
    return line


def place_line(
    line: pg.InfiniteLine,
    ends: tuple[tuple[float, float], tuple[float, float]] | None,
) -> None:
    """Put a line through two ``(row, column)`` image points (hide it for ``None``)."""
    if ends is None:
        line.setVisible(False)
        return
    (r0, c0), (r1, c1) = ends
    line.setPos((c0, r0))  # x = column, y = row
    line.setAngle(math.degrees(math.atan2(r1 - r0, c1 - c0)))
    line.setVisible(True)


def cut_of(
    shown: SliceViewer, other: SliceViewer
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Return where ``other``'s slice cuts ``shown``'s image (``None``: nowhere)."""
    if shown.stack is None or other.stack is None:
        return None
    return reference_line(
        shown.stack.affine,
        shown.stack.shape,
        shown.slice_index,
        other.stack.affine,
        other.slice_index,
    )


REFORMAT_HINT = "Drag pans  ·  calipers on the axial images"
"""A reformat pane's hint: M does nothing here (mRECIST measures on acquired slices)."""


class MprPane:
    """One reformat pane: its viewer, the plane chosen in its tool bar, its grid."""

    def __init__(self, plane: Plane, memory: WindowMemory, name: str) -> None:
        self.viewer = SliceViewer(window_memory=memory)
        self.viewer.setObjectName(name)
        # M (or a shortcut) may ask for measure mode: a reformat pane leaves it at once
        self.viewer.measure_mode_changed.connect(self._refuse_measuring)
        self.viewer.measure_button.setEnabled(False)
        self.viewer.measure_button.setStyleSheet(
            BUTTON_STYLE + DISABLED_STYLE  # dimmed: it is not this pane's tool
        )
        self.viewer.measure_button.setToolTip(NO_CALIPER_TIP)
        self.viewer.tool_bar.pan_hint = REFORMAT_HINT
        self.viewer.tool_bar.show_mode(measuring=False, roi=False)
        self.plane_choice = QComboBox()
        self.plane_choice.setObjectName("planeChoice")
        self.plane_choice.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.plane_choice.setToolTip("The plane this pane shows (a reformat)")
        for choice in REFORMAT_PLANES:
            self.plane_choice.addItem(choice.value, choice)
        self.plane_choice.setCurrentIndex(REFORMAT_PLANES.index(plane))
        bar = self.viewer.tool_bar.layout()
        assert bar is not None
        bar.insertWidget(0, self.plane_choice)  # type: ignore[attr-defined]
        self.plane = plane
        self.grid: Reformat | None = None
        self.source: MprSource | None = None
        self.axial_line = reference_line_item(Plane.AXIAL)
        self.viewer.view.addItem(self.axial_line, ignoreBounds=True)
        self.plane_choice.currentIndexChanged.connect(self._on_plane_chosen)
        self.viewer.show_placeholder(WAITING_TEXT)

    def _refuse_measuring(self, measuring: bool) -> None:
        if measuring:
            self.viewer.set_measure_mode(False)

    def _on_plane_chosen(self, index: int) -> None:
        self.set_plane(REFORMAT_PLANES[index])

    def set_plane(self, plane: Plane) -> None:
        """Show another reformat plane of the same volume."""
        if plane is self.plane:
            return
        self.plane = plane
        self.plane_choice.blockSignals(True)
        self.plane_choice.setCurrentIndex(REFORMAT_PLANES.index(plane))
        self.plane_choice.blockSignals(False)
        source, self.source = self.source, None
        if source is not None:
            self.show_source(source)

    def show_source(
        self,
        source: MprSource | None,
        *,
        at_mm: npt.ArrayLike | None = None,
        window: tuple[float, float] | None = None,
    ) -> None:
        """Reformat a volume (``None``: wait for one), at a patient point if given."""
        if source is self.source:
            return
        self.source = source
        if source is None:
            self.grid = None
            self.viewer.set_stack(None)
            self.viewer.show_placeholder(WAITING_TEXT)
            return
        grid = build_reformat(
            (source.array.shape[0], source.array.shape[1], source.array.shape[2]),
            source.affine,
            self.plane,
        )
        self.grid = grid
        sample = source.stack.sample
        fill = float(np.min(sample)) if sample is not None else 0.0
        array = source.array
        stack = ImageStack(
            shape=grid.shape,
            affine=grid.affine,
            get_slice=lambda k: reformat_slice(array, grid, k, fill),
            modality=source.stack.modality,
            caption=f"{self.plane.value} reformat · {source.stack.caption}",
            sample=sample,
            kind=source.stack.kind,
        )
        self.viewer.set_stack(stack, window=window)
        if at_mm is not None:
            self.viewer.go_to_patient_point(at_mm)


class MprPanes:
    """The reformat panes and the reference lines between them and the axial panes."""

    def __init__(self, memory: WindowMemory, axial: tuple[SliceViewer, ...]) -> None:
        self.panes = (
            MprPane(Plane.CORONAL, memory, "coronalViewer"),
            MprPane(Plane.SAGITTAL, memory, "sagittalViewer"),
        )
        self.axial = axial
        self.read: SliceViewer | None = None
        self.active = False
        # the line of each reformat pane on each axial pane
        self.lines: dict[tuple[int, int], pg.InfiniteLine] = {}
        for a, viewer in enumerate(axial):
            for p, pane in enumerate(self.panes):
                line = reference_line_item(pane.plane)
                viewer.view.addItem(line, ignoreBounds=True)
                self.lines[(a, p)] = line
            viewer.slice_changed.connect(lambda _k: self.update_lines())
        # the line of each reformat pane on the other one
        self.cross: dict[tuple[int, int], pg.InfiniteLine] = {}
        for p, pane in enumerate(self.panes):
            for q, other in enumerate(self.panes):
                if q != p:
                    line = reference_line_item(other.plane)
                    pane.viewer.view.addItem(line, ignoreBounds=True)
                    self.cross[(p, q)] = line
        for pane in self.panes:
            pane.viewer.slice_changed.connect(lambda _k: self.update_lines())
            pane.plane_choice.currentIndexChanged.connect(
                lambda _i: self.update_lines()
            )

    def show(self, read: SliceViewer | None, source: MprSource | None) -> None:
        """Reformat the read pane's volume (``None``: still loading) and draw lines."""
        self.active = True
        self.read = read
        at = None if read is None or read.stack is None else read.slice_centre_mm()
        window = None if read is None else read.window_level
        for pane in self.panes:
            pane.show_source(source, at_mm=at, window=window)
        self.update_lines()

    def hide(self) -> None:
        """Stop drawing reference lines (the layout has no reformat panes)."""
        self.active = False
        self.update_lines()

    def update_lines(self) -> None:
        """Put every reference line where its planes meet now."""
        for (a, p), line in self.lines.items():
            viewer, pane = self.axial[a], self.panes[p]
            shown = self.active and viewer.isVisible() and pane.grid is not None
            place_line(line, cut_of(viewer, pane.viewer) if shown else None)
            if shown:
                line.setPen(pg.mkPen(LINE_COLOURS[pane.plane], width=1))
        for (p, q), line in self.cross.items():
            pane, other = self.panes[p], self.panes[q]
            shown = self.active and pane.grid is not None and other.grid is not None
            place_line(line, cut_of(pane.viewer, other.viewer) if shown else None)
            if shown:
                line.setPen(pg.mkPen(LINE_COLOURS[other.plane], width=1))
        for pane in self.panes:
            read = self.read
            ok = self.active and read is not None and pane.grid is not None
            place_line(
                pane.axial_line,
                cut_of(pane.viewer, read) if ok and read is not None else None,
            )
