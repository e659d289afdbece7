"""Enhancement ROI on a viewer (issue 15 item 1): O / the ROI button, drawn by a drag.

The test volume is 60 HU liver with a 200 HU sphere (radius 10 px, 0.8 mm pixels) centred
on slice 12, row 32, column 32.
"""

import math

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.volume import Volume
from mrecist_reader.ui.slice_viewer import (
    MEASURE_HINT,
    ROI_HINT,
    ImageStack,
    SliceViewer,
)
from tests.gui.shots import save_screenshot
from tests.gui.viewers import drag_in_view, shown_viewer


def _draw_lesion_and_liver(qtbot: QtBot, viewer: SliceViewer) -> None:
    qtbot.keyClick(viewer, Qt.Key.Key_O)
    drag_in_view(viewer, (26.0, 26.0), (38.0, 38.0))  # inside the 200 HU sphere
    drag_in_view(viewer, (44.0, 26.0), (56.0, 38.0))  # 60 HU liver beside it


@pytest.fixture
def viewer(qtbot: QtBot, volume: Volume) -> SliceViewer:
    return shown_viewer(qtbot, volume, size=(560, 560), caption="S01  BASELINE  day 0")


def test_o_enters_roi_mode_esc_leaves_it_and_m_measures_instead(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    qtbot.keyClick(viewer, Qt.Key.Key_O)
    assert viewer.roi_mode
    assert viewer.roi_button.isChecked()
    assert viewer.mode_text == ROI_HINT
    qtbot.keyClick(viewer, Qt.Key.Key_M)
    assert viewer.measure_mode
    assert not viewer.roi_mode
    assert not viewer.roi_button.isChecked()
    assert viewer.mode_text == MEASURE_HINT
    qtbot.mouseClick(viewer.roi_button, Qt.MouseButton.LeftButton)
    assert viewer.roi_mode
    assert not viewer.measure_mode
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.roi_mode
    assert not viewer.roi_button.isChecked()


def test_a_drag_in_roi_mode_gives_the_lesion_mean_sd_and_area(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    drag_in_view(viewer, (26.0, 26.0), (38.0, 38.0))
    assert viewer.rois.rois == []  # pan mode: the drag panned
    viewer.reset_view()
    _draw_lesion_and_liver(qtbot, viewer)
    lesion, liver = viewer.rois.stats
    assert lesion is not None
    assert liver is not None
    assert (lesion.mean, lesion.sd, lesion.minimum, lesion.maximum) == (
        200,
        0,
        200,
        200,
    )
    # a 12-pixel-wide disc of 0.8 mm pixels, within a few pixels' area
    assert lesion.area_mm2 == pytest.approx(math.pi * (6 * 0.8) ** 2, abs=6 * 0.64)
    assert liver.mean == 60.0
    label = viewer.rois.labels[1].toPlainText()
    assert "ROI 2: mean 60 ± 0 HU" in label
    assert "ROI 2 − ROI 1: -140 HU" in label
    save_screenshot(viewer, "roi_lesion_and_liver")


def test_statistics_follow_the_slice_and_a_moved_roi(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    _draw_lesion_and_liver(qtbot, viewer)
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    qtbot.keyClick(viewer, Qt.Key.Key_Home)  # slice 23, far above the sphere
    assert viewer.rois.stats[0] is not None
    assert viewer.rois.stats[0].mean == 60.0
    viewer.set_slice(12)
    assert viewer.rois.stats[0] is not None
    assert viewer.rois.stats[0].mean == 200.0
    # pyqtgraph's ROI drag translates it (setPos, not finished): onto the lesion
    liver_roi = viewer.rois.rois[1]
    liver_roi.setPos((26.0, 26.0), finish=False)
    liver = viewer.rois.stats[1]
    assert liver is not None
    assert liver.mean == 200.0
    assert "ROI 2 − ROI 1: +0 HU" in viewer.rois.labels[1].toPlainText()
    liver_roi.setSize((24.0, 24.0), finish=False)  # a handle's resize: 60 HU rim too
    resized = viewer.rois.stats[1]
    assert resized is not None
    assert 60.0 < resized.mean < 200.0
    assert resized.area_mm2 > liver.area_mm2
    assert viewer.rois.labels[1].pos().y() > 26.0 + 24.0  # the label stays below it


def test_delete_removes_the_selected_roi_only(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    _draw_lesion_and_liver(qtbot, viewer)
    first = viewer.rois.rois[0]
    assert viewer.rois.selected is viewer.rois.rois[1]  # the one just drawn
    qtbot.keyClick(viewer, Qt.Key.Key_Delete)
    assert viewer.rois.rois == [first]
    assert "ROI 1: mean 200 ± 0 HU" in viewer.rois.labels[0].toPlainText()
    qtbot.keyClick(viewer, Qt.Key.Key_Delete)  # nothing selected: nothing removed
    assert viewer.rois.rois == [first]


def test_another_series_clears_the_rois(
    qtbot: QtBot, viewer: SliceViewer, volume: Volume
) -> None:
    _draw_lesion_and_liver(qtbot, viewer)
    viewer.set_stack(ImageStack.from_volume(volume))
    assert viewer.rois.rois == []
    assert [
        i for i in viewer.view.addedItems if i.__class__.__name__ == "TextItem"
    ] == []
