"""The calipers on one slice viewer: the series' calipers, the one being drawn, the outline.

The viewer is given every caliper of its series (:class:`~mrecist_reader.ui.caliper.CaliperSpec`,
in index coordinates) and draws those of the shown slice; a measure-mode drag draws a
new caliper in the proposal's colour until the mouse is released; a semi-automatic
proposal's outline is built once and only shown or hidden as the reader scrolls (it
appears on its own slice).
"""

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import SignalInstance

from mrecist_reader.ui.caliper import (
    PROPOSAL_COLOUR,
    CaliperItem,
    CaliperSpec,
    IndexPoint,
    specs_on_slice,
)
from mrecist_reader.ui.outline import OutlineItem, OutlineSpec

MIN_DRAWN_MM = 0.5
"""A drawn caliper shorter than this is a click that slipped, not a measurement."""


class CaliperLayer:
    """The calipers and the proposal's outline drawn on a view box."""

    def __init__(
        self, view: pg.ViewBox, edited: SignalInstance, clicked: SignalInstance
    ) -> None:
        self.view = view
        self._edited = edited
        self._clicked = clicked
        self.specs: list[CaliperSpec] = []
        self.items: list[CaliperItem] = []
        self.drawing: CaliperItem | None = None
        self.outline: OutlineItem | None = None

    # ------------------------------------------------------------------ the series'
    def set_specs(self, specs: Sequence[CaliperSpec]) -> None:
        """Keep every caliper of the series (drawn by :meth:`show_slice`)."""
        self.specs = list(specs)

    def clear(self) -> None:
        """Remove the calipers drawn on the view."""
        for item in self.items:
            item.remove_from(self.view)
        self.items = []

    def show_slice(
        self, slice_index: int, pixel_spacing_mm: tuple[float, float] | None
    ) -> None:
        """Draw the calipers of a slice (none without an image)."""
        self.clear()
        if pixel_spacing_mm is None:
            return
        for spec in specs_on_slice(self.specs, slice_index):
            item = CaliperItem(spec, pixel_spacing_mm)
            item.signals.edited.connect(self._edited)
            item.signals.clicked.connect(self._clicked)
            item.add_to(self.view)
            self.items.append(item)
        if self.outline is not None:  # shown or hidden, never recomputed
            self.outline.show_on(slice_index)

    # ------------------------------------------------------------------ outline
    def set_outline(self, spec: OutlineSpec | None, slice_index: int) -> None:
        """Draw a proposal's outline on its slice (``None``: none).

        The same outline set again changes nothing; another replaces it.
        """
        if self.outline is not None and self.outline.spec == spec:
            return
        if self.outline is not None:
            self.outline.remove_from(self.view)
            self.outline = None
        if spec is None:
            return
        self.outline = OutlineItem(spec)
        self.outline.add_to(self.view)
        self.outline.show_on(slice_index)

    # ------------------------------------------------------------------ drawing
    def start_drawing(
        self, start: IndexPoint, pixel_spacing_mm: tuple[float, float]
    ) -> None:
        """Begin a caliper at ``start`` (drawn in the proposal's colour)."""
        spec = CaliperSpec("new", int(start[0]), start, start, proposal=True)
        self.drawing = CaliperItem(spec, pixel_spacing_mm)
        self.drawing.label.setColor(PROPOSAL_COLOUR)
        self.drawing.add_to(self.view)

    def draw_to(self, x: float, y: float) -> None:
        """Move the end of the caliper being drawn (view coordinates)."""
        if self.drawing is not None:
            self.drawing.set_end((x, y))

    def finish_drawing(self) -> tuple[IndexPoint, IndexPoint] | None:
        """End the caliper being drawn; return its end points unless it is a slip."""
        drawing, self.drawing = self.drawing, None
        if drawing is None:
            return None
        p1, p2 = drawing.endpoints()
        drawing.remove_from(self.view)
        return (p1, p2) if drawing.length_mm() > MIN_DRAWN_MM else None
