"""Enhancement ROIs in the main window (issue 15 item 1): keys next to the read's own.

Del deletes the selected lesion and Esc rejects a proposal (window shortcuts); with an
ROI selected on the focused image, Del removes the ROI and never touches the read.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.geometry import patient_to_index
from mrecist_reader.ui.main_window import MainWindow
from tests.gui.dicom_study import CENTRE
from tests.gui.helpers import central_read_window, save_screenshot, wait_until_ready

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicom"


def test_o_then_del_on_the_image_remove_the_roi_not_the_lesion(
    qtbot: QtBot, window: MainWindow
) -> None:
    viewer = window.baseline_view.viewer
    viewer.set_slice(CENTRE)
    viewer.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is viewer)
    deletions: list[bool] = []
    window._actions["delete"].triggered.connect(lambda *_: deletions.append(True))
    qtbot.keyClick(viewer, Qt.Key.Key_O)
    assert viewer.roi_mode
    viewer.rois.add(QPointF(26.0, 26.0), QPointF(37.0, 37.0))
    assert viewer.rois.stats[0] is not None
    qtbot.keyClick(viewer, Qt.Key.Key_Delete)
    assert viewer.rois.rois == []
    assert deletions == []  # the read's Del shortcut did not fire
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.roi_mode
    qtbot.keyClick(viewer, Qt.Key.Key_Delete)  # no ROI selected: the read's Del
    assert deletions == [True]


def _truth_seed_mm(subject: int, lesion: int) -> tuple[float, float, float]:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    timepoint = truth["subjects"][subject]["lesions"][lesion]["timepoints"][0]
    x, y, z = timepoint["measurements"][0]["viable_seed_mm"]
    return (float(x), float(y), float(z))


def _pixels_inside(
    image: np.ndarray, centre: tuple[float, float], radius: float
) -> list[float]:
    """Read the pixels whose centres lie in a circle, one by one (independently)."""
    values = []
    for row in range(image.shape[0]):
        for column in range(image.shape[1]):
            if (row - centre[0]) ** 2 + (column - centre[1]) ** 2 <= radius**2:
                values.append(float(image[row, column]))
    return values


@pytest.mark.slow
def test_sample_dicom_lesion_and_liver_rois(qtbot: QtBot, tmp_path: Path) -> None:
    if not (SAMPLE / "truth.json").is_file():
        pytest.skip("sample_dicom has not been generated")
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1920, 1080)
    )
    try:
        main.open_path(SAMPLE)
        wait_until_ready(qtbot, main, timeout_ms=60000)
        view = main.baseline_view
        assert view.volume is not None
        seed = patient_to_index(view.volume.affine, np.asarray(_truth_seed_mm(0, 0)))
        k, row, col = (float(v) for v in seed)
        viewer = view.viewer
        viewer.set_slice(round(k))
        viewer.set_roi_mode(True)
        radius = 4.0
        viewer.rois.add(
            QPointF(round(col) - radius, round(row) - radius),
            QPointF(round(col) + radius, round(row) + radius),
        )
        liver_col = round(col) + 40
        viewer.rois.add(
            QPointF(liver_col - 6.0, round(row) - 6.0),
            QPointF(liver_col + 6.0, round(row) + 6.0),
        )
        image = view.volume.array[round(k)]
        lesion = viewer.rois.stats[0]
        assert lesion is not None
        expected = _pixels_inside(image, (round(row), round(col)), radius)
        assert lesion.n_pixels == len(expected)
        assert lesion.mean == pytest.approx(np.mean(expected))
        assert lesion.sd == pytest.approx(np.std(expected))
        assert viewer.rois.stats[1] is not None
        save_screenshot(main, "roi_sample_dicom_1920x1080")
    finally:
        main.shutdown()
