"""Baseline and follow-up side by side: linked scrolling and window/level, presets, zoom.

Scrolling is linked by patient position (the same anatomy, not the same slice
number); window/level only when the reader links it.
"""

import logging
from collections.abc import Sequence

from PySide6.QtWidgets import QApplication

from mrecist_reader.ui.image_stack import WindowPreset
from mrecist_reader.ui.slice_viewer import SliceViewer
from mrecist_reader.ui.timepoint_view import TimepointView

logger = logging.getLogger(__name__)


class ViewLinks:
    """Keeps the timepoint views in step: position always, window/level on request."""

    def __init__(self, views: Sequence[TimepointView]) -> None:
        self.views = tuple(views)
        self.scrolling = True
        self.window = False

    def active_viewers(self) -> list[SliceViewer]:
        """Return the viewers a preset or zoom applies to (focused one, all if linked)."""
        focused = QApplication.focusWidget()
        viewers = [v.viewer for v in self.views if v.viewer.isVisible()]
        if self.window or focused not in viewers:
            return viewers
        return [v for v in viewers if v is focused]

    def apply_preset(self, preset: WindowPreset) -> None:
        """Apply a window preset."""
        for viewer in self.active_viewers():
            viewer.apply_preset(preset)

    def zoom(self, factor: float) -> None:
        """Zoom by a factor (> 1 enlarges)."""
        for viewer in self.active_viewers():
            viewer.zoom_by(factor)

    def on_slice_changed(self, source: TimepointView) -> None:
        """Show the same patient position in the other views."""
        if not self.scrolling or source.viewer.stack is None:
            return
        point = source.viewer.slice_centre_mm()
        for view in self.views:
            if view is not source and view.viewer.stack is not None:
                view.viewer.blockSignals(True)
                view.viewer.go_to_patient_point(point)
                view.viewer.blockSignals(False)

    def on_window_changed(
        self, source: TimepointView, width: float, level: float
    ) -> None:
        """Give the other views the same window/level when linked."""
        if not self.window:
            return
        for view in self.views:
            if view is not source and view.viewer.window_level != (width, level):
                view.viewer.blockSignals(True)
                view.viewer.set_window(width, level)
                view.viewer.blockSignals(False)
