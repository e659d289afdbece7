"""Wiring of the viewer's reading tools: cine, magnifier, invert, toggles, overlay planes.

The rules are tested without Qt (tests/desk/test_viewer_tools_rules.py,
tests/imaging/test_overlay_planes.py); these tests check the widgets follow them.
"""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.load import load_volume
from mrecist_reader.imaging.scan import scan
from mrecist_reader.ui.slice_viewer import ImageStack, SliceViewer
from mrecist_reader.ui.viewer_tools import INVERTED_LUT, PLANE_COLOUR
from tests.gui.conftest import make_volume
from tests.kit.dicom import SeriesSpec, overlay_plane, rewrite, write_series


@pytest.fixture
def viewer(qtbot: QtBot) -> SliceViewer:
    widget = SliceViewer()
    qtbot.addWidget(widget)
    widget.resize(500, 500)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_stack(ImageStack.from_volume(make_volume()))
    return widget


def test_cine_steps_through_the_series_loops_and_stops_on_another_series(
    viewer: SliceViewer,
) -> None:
    viewer.go_to_image(23)
    tools = viewer.tools
    assert tools.toggle_cine() is True
    assert "Cine 10 fps" in viewer.tool_bar.status.text()
    numbers = []
    for _ in range(3):
        tools._tick()  # the timer's tick, without waiting for it
        numbers.append(viewer.image_number())
    assert numbers == [24, 1, 2]  # 24 images: loops to the first
    tools.cine_faster()
    assert tools._timer.interval() == tools.cine.interval_ms == round(1000 / 15)
    viewer.set_stack(ImageStack.from_volume(make_volume(uid="2.2")))
    assert not tools.cine.playing
    assert not tools._timer.isActive()
    assert viewer.tool_bar.status.text() == ""
    tools.toggle_cine()
    viewer.hide()  # a layout without this pane
    tools._tick()
    assert not tools.cine.playing


def test_invert_sets_the_lookup_table_and_is_kept_per_series_kind(
    viewer: SliceViewer,
) -> None:
    assert viewer.tools.toggle_invert() is True
    assert np.array_equal(viewer.image.lut, INVERTED_LUT)
    assert "Inverted" in viewer.tool_bar.status.text()
    viewer.set_stack(ImageStack.from_volume(make_volume(uid="3.3")))  # same kind
    assert viewer.tools.inverted
    assert viewer.image.lut is not None
    viewer.set_stack(ImageStack.from_volume(make_volume(uid="4.4", modality="MR")))
    assert not viewer.tools.inverted
    assert viewer.image.lut is None


def test_t_hides_the_text_and_shift_t_the_annotations(viewer: SliceViewer) -> None:
    corners = (viewer.top_left, viewer.top_right, viewer.bottom_left)
    assert all(label.isVisible() for label in corners)
    viewer.tools.toggle_text()
    assert not any(label.isVisible() for label in corners)
    assert not viewer.scale_bar.isVisible()
    assert not any(label.isVisible() for label in viewer.orient.values())
    viewer.set_slice(3)  # scrolling does not bring them back
    assert not viewer.bottom_left.isVisible()
    viewer.tools.toggle_text()
    assert viewer.bottom_left.isVisible()
    assert viewer.top_right.isVisible()

    view = viewer.view
    viewer.rois.add(QPointF(20, 20), QPointF(40, 40))
    viewer.tools.apply_annotations()
    drawn = [item for item in view.childGroup.childItems() if item is not viewer.image]
    assert viewer.tools.planes in drawn  # added without bounds, hidden all the same
    assert drawn
    assert all(item.opacity() == 1.0 for item in drawn)
    viewer.tools.toggle_annotations()
    assert all(item.opacity() == 0.0 and not item.isEnabled() for item in drawn)
    assert viewer.image.opacity() == 1.0  # the image itself stays
    assert viewer.tool_bar.status.text() == "Hidden: annotations"
    viewer.tools.toggle_annotations()
    assert all(item.opacity() == 1.0 and item.isEnabled() for item in drawn)


def test_the_magnifier_follows_the_cursor_with_the_image_s_pixels(
    viewer: SliceViewer,
) -> None:
    tools = viewer.tools
    scene = viewer.view.mapViewToScene(QPointF(32.0, 32.0))
    viewer._on_mouse_moved(scene)
    assert not tools.lens.isVisible()
    tools.toggle_magnifier()
    assert tools.lens.isVisible()
    pixmap = tools.lens.pixmap()
    assert (pixmap.width(), pixmap.height()) == (49 * 3, 49 * 3)
    image = pixmap.toImage()
    centre = image.pixelColor(pixmap.width() // 2, pixmap.height() // 2)
    low, high = viewer.levels()
    expected = round(np.clip((200 - low) / (high - low), 0, 1) * 255)  # the lesion
    assert centre.red() == expected
    lens = tools.lens.geometry()
    assert viewer.canvas.rect().contains(lens)
    tools.mouse_moved(None)  # the mouse left the image
    assert not tools.lens.isVisible()


def test_overlay_planes_of_the_files_are_drawn_on_their_slice(
    qtbot: QtBot, tmp_path: Path
) -> None:
    spec = SeriesSpec(n_slices=3, rows=16, columns=16, shuffle=False)
    paths = write_series(tmp_path, spec)
    mark = np.zeros((16, 16), dtype=bool)
    mark[4:8, 5:9] = True
    rewrite(paths[1:2], overlay_plane(mark))
    (series,) = scan(tmp_path, workers=1, use_index=False).series
    widget = SliceViewer()
    qtbot.addWidget(widget)
    widget.set_stack(ImageStack.from_volume(load_volume(series, workers=1)))
    volume_slice = series.volume_slice_of_image[1]
    widget.set_slice(volume_slice)
    assert widget.tools.planes_shown
    drawn = widget.tools.planes.image
    assert drawn is not None
    assert np.array_equal(drawn[..., 3] > 0, mark)
    assert tuple(drawn[5, 6]) == PLANE_COLOUR
    widget.set_slice(series.volume_slice_of_image[0])
    assert not widget.tools.planes_shown
