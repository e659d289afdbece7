"""The slice viewer: scrolling, window/level, geometry, overlays and calipers."""

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.volume import Volume
from mrecist_reader.ui.caliper import CaliperSpec
from mrecist_reader.ui.slice_viewer import (
    CT_PRESETS,
    ImageStack,
    SliceViewer,
    next_image_step,
    orientation_letter,
)
from tests.gui.conftest import make_volume


@pytest.fixture
def viewer(qtbot: QtBot, volume: Volume) -> SliceViewer:
    widget = SliceViewer()
    qtbot.addWidget(widget)
    widget.resize(500, 500)
    widget.show()
    widget.set_stack(ImageStack.from_volume(volume, caption="S01  BASELINE  day 0"))
    return widget


def test_arterial_ct_opens_on_the_middle_slice_with_the_liver_window(
    viewer: SliceViewer,
) -> None:
    assert viewer.slice_index == 12
    assert viewer.window_level == (150.0, 70.0)  # mRECIST reads arterial CT
    # reading order is head to feet: slice index 12 of 24 (z ascending) is image 12
    assert "Slice 12 / 24" in viewer.bottom_left.text()
    assert "W 150  L 70" in viewer.top_right.text()


def _z(viewer: SliceViewer) -> float:
    return float(viewer.slice_centre_mm()[2])


def test_down_keys_go_to_the_next_image_towards_the_feet(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    z = _z(viewer)
    qtbot.keyClick(viewer, Qt.Key.Key_Down)
    assert _z(viewer) == pytest.approx(z - 2.5)
    assert "Slice 13 / 24" in viewer.bottom_left.text()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert _z(viewer) == pytest.approx(z - 5.0)
    qtbot.keyClick(viewer, Qt.Key.Key_PageDown)
    assert _z(viewer) == pytest.approx(z - 30.0)
    qtbot.keyClick(viewer, Qt.Key.Key_Up)
    qtbot.keyClick(viewer, Qt.Key.Key_PageUp)
    assert _z(viewer) == pytest.approx(z - 2.5)
    qtbot.keyClick(viewer, Qt.Key.Key_Home)
    assert "Slice 1 / 24" in viewer.bottom_left.text()
    assert _z(viewer) == pytest.approx(-30.0 + 23 * 2.5)  # the most cranial image
    qtbot.keyClick(viewer, Qt.Key.Key_End)
    assert "Slice 24 / 24" in viewer.bottom_left.text()
    assert _z(viewer) == pytest.approx(-30.0)  # the most caudal image
    qtbot.keyClick(viewer, Qt.Key.Key_PageDown)
    assert _z(viewer) == pytest.approx(-30.0)


def _wheel(viewer: SliceViewer, notches: int) -> None:
    viewport = viewer.canvas.viewport()
    centre = QPointF(viewport.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(viewport.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)


def test_wheel_down_agrees_with_the_down_arrow(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    z = _z(viewer)
    _wheel(viewer, -1)  # towards the reader: down
    assert _z(viewer) == pytest.approx(z - 2.5)
    _wheel(viewer, 1)
    _wheel(viewer, 1)
    assert _z(viewer) == pytest.approx(z + 2.5)


def test_files_ordered_feet_first_scroll_the_same_way(qtbot: QtBot) -> None:
    volume = make_volume()
    flipped = volume.affine.copy()
    flipped[:3, 3] = volume.affine[:3, 3] + volume.affine[:3, 0] * 23
    flipped[:3, 0] = -volume.affine[:3, 0]  # index 0 is now the most cranial slice
    widget = SliceViewer()
    qtbot.addWidget(widget)
    stack = ImageStack.from_volume(volume)
    stack.affine = flipped
    widget.set_stack(stack)
    z = _z(widget)
    qtbot.keyClick(widget, Qt.Key.Key_Down)
    assert widget.slice_index == 13
    assert _z(widget) == pytest.approx(z - 2.5)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ((0.0, 0.0, 2.5), -1),  # axial, index towards the head: next is index - 1
        ((0.0, 0.0, -2.5), 1),
        ((0.0, 1.0, 0.0), 1),  # coronal, index towards the back: next is index + 1
        ((-1.0, 0.0, 0.0), -1),  # sagittal, index towards the right: next is - 1
    ],
)
def test_reading_order_of_each_plane(
    step: tuple[float, float, float], expected: int
) -> None:
    affine = np.eye(4)
    affine[:3, 0] = step
    assert next_image_step(affine) == expected


def test_shown_image_is_the_slice_of_the_volume(
    viewer: SliceViewer, volume: Volume
) -> None:
    viewer.set_slice(5)
    np.testing.assert_array_equal(viewer.image.image, volume.array[5])


def test_window_presets_set_levels_without_touching_the_pixels(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    before = viewer.image.image
    qtbot.keyClick(viewer, Qt.Key.Key_2)
    abdomen = CT_PRESETS[1]
    assert viewer.window_level == (abdomen.width, abdomen.level)
    assert viewer.image.getLevels() == pytest.approx((-160.0, 240.0))
    qtbot.keyClick(viewer, Qt.Key.Key_1)
    liver = CT_PRESETS[0]
    assert viewer.window_level == (liver.width, liver.level)
    assert viewer.image.getLevels() == pytest.approx((-5.0, 145.0))
    assert viewer.image.image is before
    assert "W 150  L 70" in viewer.top_right.text()


def test_right_drag_widens_the_window(viewer: SliceViewer) -> None:
    width = viewer.window_level[0]
    viewer.adjust_window(50.0, 0.0)
    assert viewer.window_level[0] > width


def test_auto_window_spans_the_image_values_on_mr(qtbot: QtBot) -> None:
    widget = SliceViewer()
    qtbot.addWidget(widget)
    widget.set_stack(ImageStack.from_volume(make_volume(modality="MR")))
    width, level = widget.window_level
    assert level - width / 2 <= 60 <= level + width / 2


def test_aspect_follows_the_pixel_spacing(qtbot: QtBot) -> None:
    widget = SliceViewer()
    qtbot.addWidget(widget)
    widget.set_stack(ImageStack.from_volume(make_volume(spacing=(1.0, 0.5))))
    assert widget.view.state["aspectLocked"] == pytest.approx(0.5)


def test_axial_orientation_labels(viewer: SliceViewer) -> None:
    letters = {side: label.text() for side, label in viewer.orient.items()}
    assert letters == {"Left": "R", "Right": "L", "Top": "A", "Bottom": "P"}


def test_orientation_letter_of_oblique_vector() -> None:
    assert orientation_letter((0.2, -0.9, 0.1)) == "A"
    assert orientation_letter((0.0, 0.1, -0.99)) == "F"


def test_slice_position_in_mm(viewer: SliceViewer) -> None:
    viewer.set_slice(4)
    assert viewer.slice_position_mm() == pytest.approx(-30.0 + 4 * 2.5)
    assert "Position -20.0 mm" in viewer.bottom_left.text()


def test_go_to_patient_point_picks_the_nearest_slice(viewer: SliceViewer) -> None:
    viewer.go_to_patient_point((0.0, 0.0, 1.4))
    assert viewer.slice_index == 13


def test_value_under_cursor_in_hu(viewer: SliceViewer, qtbot: QtBot) -> None:
    scene = viewer.view.mapViewToScene(
        viewer.view.mapFromView(viewer.view.mapToView(viewer.view.rect().center()))
    )
    centre = viewer.view.mapViewToScene(
        type(scene)(32.0, 32.0)  # column 32, row 32: inside the lesion
    )
    viewer._on_mouse_moved(centre)
    assert viewer.cursor_value.text() == "(32, 32)  200 HU"


def test_calipers_show_on_their_slice_only(viewer: SliceViewer) -> None:
    spec = CaliperSpec("T1", 12, (12.0, 32.0, 22.0), (12.0, 32.0, 42.0))
    viewer.set_calipers([spec])
    assert [item.spec.lesion_id for item in viewer.caliper_items()] == ["T1"]
    assert viewer.caliper_items()[0].length_mm() == pytest.approx(16.0)
    viewer.set_slice(11)
    assert viewer.caliper_items() == []


def test_dragging_a_caliper_end_reports_the_new_end_points(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    viewer.set_calipers([CaliperSpec("T1", 12, (12.0, 32.0, 22.0), (12.0, 32.0, 42.0))])
    item = viewer.caliper_items()[0]
    with qtbot.waitSignal(viewer.caliper_edited) as blocker:
        handle = item.roi.getHandles()[1]
        item.roi.movePoint(
            handle,
            viewer.view.mapViewToScene(
                type(viewer.view.mapToView(viewer.view.rect().center()))(45.0, 30.0)
            ),
            coords="scene",
            finish=True,
        )
    lesion_id, p1, p2 = blocker.args
    assert lesion_id == "T1"
    assert p1 == pytest.approx((12.0, 32.0, 22.0))
    assert p2 == pytest.approx((12.0, 30.0, 45.0))


def test_a_slice_filling_a_gap_in_the_series_says_so(qtbot: QtBot) -> None:
    volume = make_volume(shape=(6, 32, 32))
    images = list(range(6))
    del images[2]  # the scan found no image at slice 2: a blank slice fills it
    series = dataclasses.replace(
        volume.series,
        files=volume.series.files[:5],
        frames=volume.series.frames[:5],
        sop_instance_uids=volume.series.sop_instance_uids[:5],
        slice_indices=tuple(images),
    )
    gapped = dataclasses.replace(
        volume, series=series, sop_instance_uids=series.slice_sop_instance_uids
    )
    widget = SliceViewer()
    qtbot.addWidget(widget)
    widget.show()
    widget.set_stack(ImageStack.from_volume(gapped))
    widget.set_slice(2)
    assert "No image here: the series has a gap" in widget.bottom_left.text()
    widget.set_slice(3)
    assert "gap" not in widget.bottom_left.text()
