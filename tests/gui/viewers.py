"""A slice viewer on screen over a test volume, and a mouse drag across it."""

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.volume import Volume
from mrecist_reader.ui.slice_viewer import ImageStack, SliceViewer


def shown_viewer(
    qtbot: QtBot,
    volume: Volume,
    *,
    size: tuple[int, int] = (500, 500),
    caption: str = "S01  BASELINE  day 0",
) -> SliceViewer:
    """Return a viewer of ``size`` pixels, shown and exposed, holding ``volume``."""
    widget = SliceViewer()
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_stack(ImageStack.from_volume(volume, caption=caption))
    return widget


def at_view(viewer: SliceViewer, x: float, y: float) -> QPointF:
    """Return the viewport point of view coordinates (column ``x``, row ``y``)."""
    return viewer.canvas.mapFromScene(viewer.view.mapViewToScene(QPointF(x, y)))


def drag_in_view(
    viewer: SliceViewer,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    hover: bool = False,
) -> None:
    """Drag the left button from ``start`` to ``end`` (view coordinates) in ten steps.

    ``hover`` first moves the mouse to ``start``: pyqtgraph gives a drag to the item
    the mouse hovered (an ROI). The next press waits past the double-click interval.
    """
    port = viewer.canvas.viewport()
    first, last = at_view(viewer, *start), at_view(viewer, *end)
    left = Qt.MouseButton.LeftButton
    if hover:
        QTest.mouseMove(port, first)
    QTest.mousePress(port, left, Qt.KeyboardModifier.NoModifier, first)
    for step in range(1, 11):
        QTest.mouseMove(port, first + (last - first) * (step / 10))
    QTest.mouseRelease(port, left, Qt.KeyboardModifier.NoModifier, last)
    QTest.qWait(QApplication.doubleClickInterval() + 50)
