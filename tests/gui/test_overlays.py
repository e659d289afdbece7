"""The viewer's overlays: corner texts, orientation letters and scale bar never overlap."""

import pytest
from PySide6.QtCore import QPointF, QRect
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.volume import Volume
from mrecist_reader.ui.slice_viewer import ImageStack, SliceViewer
from tests.gui.helpers import save_screenshot

CAPTION = "S01   BASELINE   day 0\nArterial 1.25 mm late arterial phase, liver protocol"


def _scale_bar_on_screen(viewer: SliceViewer) -> QRect:
    """Where the scale bar and its label really are (from the graphics scene)."""
    bar = viewer.scale_bar
    scene_rect = bar.mapRectToScene(bar.childrenBoundingRect())
    return viewer.canvas.mapFromScene(scene_rect).boundingRect()


def _shown_rects(viewer: SliceViewer) -> dict[str, QRect]:
    labels = [
        viewer.top_left,
        viewer.top_right,
        viewer.bottom_left,
        viewer.cursor_value,
        *viewer.orient.values(),
    ]
    rects = {
        label.objectName(): label.geometry()
        for label in labels
        if label.isVisible() and label.text()
    }
    if viewer.scale_bar.isVisible():
        rects["scaleBar"] = _scale_bar_on_screen(viewer)
    return rects


def _hover_lesion(viewer: SliceViewer) -> None:
    viewer._on_mouse_moved(viewer.view.mapViewToScene(QPointF(32.0, 32.0)))


@pytest.mark.parametrize(
    "size", [(230, 200), (320, 260), (500, 420), (800, 600), (1300, 950)]
)
def test_nothing_overlaps_at_any_size(
    qtbot: QtBot, volume: Volume, size: tuple[int, int]
) -> None:
    viewer = SliceViewer()
    qtbot.addWidget(viewer)
    viewer.resize(*size)
    viewer.show()
    viewer.set_stack(ImageStack.from_volume(volume, caption=CAPTION))
    qtbot.waitExposed(viewer)
    _hover_lesion(viewer)
    assert viewer.cursor_value.text() == "(32, 32)  200 HU"
    rects = _shown_rects(viewer)
    bounds = viewer.canvas.rect()
    for name, rect in rects.items():
        assert bounds.contains(rect), f"{name} {rect} is clipped by {bounds}"
    names = sorted(rects)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert not rects[first].intersects(rects[second]), (first, second, size)
    if size[0] >= 500:
        assert {"scaleBar", "overlayTopLeft", "overlayCursorValue"} <= set(rects)
    if size == (800, 600):
        save_screenshot(viewer, "viewer_overlays_800x600")


def test_scale_bar_length_follows_the_zoom(qtbot: QtBot, volume: Volume) -> None:
    viewer = SliceViewer()
    qtbot.addWidget(viewer)
    viewer.resize(600, 600)
    viewer.show()
    viewer.set_stack(ImageStack.from_volume(volume))
    qtbot.waitExposed(viewer)
    # 64 columns x 0.8 mm = 51 mm across 600 px: a 1 cm bar fits in 120 px
    assert viewer.scale_bar_text == "1 cm"
    viewer.zoom_by(4.0)
    assert viewer.scale_bar_text in ("2 mm", "5 mm")
    bar_px = viewer.scale_bar.bar.rect().width()
    assert 0 < bar_px <= 120


def test_long_caption_is_elided_not_overlapping(qtbot: QtBot, volume: Volume) -> None:
    viewer = SliceViewer()
    qtbot.addWidget(viewer)
    viewer.resize(360, 300)
    viewer.show()
    viewer.set_stack(ImageStack.from_volume(volume, caption=CAPTION))
    assert viewer.top_left.text().endswith("…")
    assert not viewer.top_left.geometry().intersects(viewer.top_right.geometry())
