"""The outline of what a semi-automatic proposal segmented, drawn on its slice.

A proposal carries, in patient millimetres, the outline of the viable (enhancing) region
it measured and of the necrotic part it left out (:class:`~mrecist_reader.desk.desk.
Proposal`). :class:`~mrecist_reader.ui.timepoint_view.TimepointView` converts them once
to view positions (an :class:`OutlineSpec`); the viewer draws them as two curves under
the caliper (viable: a thin solid line in the proposal's colour; necrotic: a dashed
orange line) and, as the reader scrolls, only shows or hides them: they appear on their
own slice only.
"""

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from mrecist_reader.ui.caliper import PROPOSAL_COLOUR

Polygon = tuple[tuple[float, float], ...]
"""A closed polygon in view positions ``(x, y)`` (column, row; pixel centres whole)."""

NECROTIC_COLOUR = "#ff9a4d"
OUTLINE_WIDTH = 1.5
OUTLINE_Z = 5.0
"""Above the image, under the calipers (a caliper's ROI is drawn at z 10)."""
OUTLINE_ALPHA = 200
"""A little see-through: the proposal's caliper (opaque, wider) stays on top of it."""
LEGEND = (
    "What the proposal segmented: solid green, the viable (enhancing) part measured; "
    "dashed orange, the necrotic part left out"
)


@dataclass(frozen=True, slots=True)
class OutlineSpec:
    """What the viewer draws of a proposal's segmentation, on one slice."""

    slice_index: int
    viable: tuple[Polygon, ...]
    necrotic: tuple[Polygon, ...] = ()


def _curve_arrays(polygons: tuple[Polygon, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Return x, y of closed polygons joined in one curve (NaN between polygons)."""
    xs: list[float] = []
    ys: list[float] = []
    for polygon in polygons:
        if not polygon:
            continue
        closed = (*polygon, polygon[0])
        xs.extend(x for x, _y in closed)
        ys.extend(y for _x, y in closed)
        xs.append(np.nan)
        ys.append(np.nan)
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


class OutlineItem:
    """A proposal's outlines on a view: the viable and necrotic curves."""

    def __init__(self, spec: OutlineSpec) -> None:
        self.spec = spec
        viable_colour = pg.mkColor(PROPOSAL_COLOUR)
        viable_colour.setAlpha(OUTLINE_ALPHA)
        necrotic_colour = pg.mkColor(NECROTIC_COLOUR)
        necrotic_colour.setAlpha(OUTLINE_ALPHA)
        self.viable = self._curve(
            spec.viable, pg.mkPen(viable_colour, width=OUTLINE_WIDTH)
        )
        self.necrotic = self._curve(
            spec.necrotic,
            pg.mkPen(necrotic_colour, width=OUTLINE_WIDTH, style=Qt.PenStyle.DashLine),
        )
        self.viable.setObjectName("proposalViableOutline")
        self.necrotic.setObjectName("proposalNecroticOutline")

    @staticmethod
    def _curve(polygons: tuple[Polygon, ...], pen: object) -> pg.PlotCurveItem:
        xs, ys = _curve_arrays(polygons)
        curve = pg.PlotCurveItem(xs, ys, pen=pen, connect="finite")
        curve.setZValue(OUTLINE_Z)
        curve.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks go through
        curve.setToolTip(LEGEND)
        return curve

    @property
    def curves(self) -> tuple[pg.PlotCurveItem, pg.PlotCurveItem]:
        """Return the viable and necrotic curves."""
        return (self.viable, self.necrotic)

    def add_to(self, view: pg.ViewBox) -> None:
        """Put both curves on a view (they never change its range)."""
        for curve in self.curves:
            view.addItem(curve, ignoreBounds=True)

    def remove_from(self, view: pg.ViewBox) -> None:
        """Take both curves off a view."""
        for curve in self.curves:
            view.removeItem(curve)

    def show_on(self, slice_index: int) -> None:
        """Show the outline on its own slice, hide it on any other (nothing else)."""
        visible = slice_index == self.spec.slice_index
        self.viable.setVisible(visible and bool(self.spec.viable))
        self.necrotic.setVisible(visible and bool(self.spec.necrotic))

    def is_shown(self) -> bool:
        """Return whether any part of the outline is visible."""
        return any(curve.isVisible() for curve in self.curves)

    def view_points(self) -> np.ndarray:
        """Return the viable outline's points as an ``(n, 2)`` array of ``(x, y)``."""
        xs, ys = _curve_arrays(self.spec.viable)
        points = np.column_stack([xs, ys])
        finite: np.ndarray = points[np.isfinite(points).all(axis=1)]
        return finite
