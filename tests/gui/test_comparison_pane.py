"""View ▸ Compare with... puts the chosen timepoint in the left pane (issue 15 item 2)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mrecist_reader.ui.main_window import MainWindow
from tests.gui import dicom_study
from tests.gui.helpers import central_read_window, save_screenshot, wait_until_ready


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    radii = {"BASELINE": 20.0, "FU1": 12.0, "FU2": 16.0}
    return dicom_study.write_study(root / "study", radii)


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, study: Path) -> Iterator[MainWindow]:
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1920, 1080)
    )
    main.open_path(study)
    wait_until_ready(qtbot, main)
    yield main
    main.shutdown()


def _left_shows(window: MainWindow, index: int) -> bool:
    view = window.baseline_view
    return view.timepoint_index == index and view.volume is not None


def test_compare_with_previous_shows_fu1_beside_fu2_and_back(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.set_current_timepoint(2)
    qtbot.waitUntil(lambda: window.current_view.volume is not None, timeout=10000)
    assert window.baseline_view.timepoint_index == 0
    assert window._actions["compareBaseline"].isChecked()
    window._actions["comparePrevious"].trigger()
    assert window._actions["comparePrevious"].isChecked()
    assert not window._actions["compareBaseline"].isChecked()
    qtbot.waitUntil(lambda: _left_shows(window, 1), timeout=10000)
    assert "FU1" in window.baseline_view.viewer.top_left.text()
    assert window.current_view.timepoint_index == 2  # the read timepoint stays
    save_screenshot(window, "comparison_previous_1920x1080")
    window._actions["compareBaseline"].trigger()
    qtbot.waitUntil(lambda: _left_shows(window, 0), timeout=10000)
    assert "BASELINE" in window.baseline_view.viewer.top_left.text()
