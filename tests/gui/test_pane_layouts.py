"""View ▸ Layout 1×1, 1×2, 2×2 (issue 15 item 2), on a two-phase study."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mrecist_reader.ui.main_window import MainWindow
from tests.gui.conftest import study_window
from tests.gui.helpers import save_screenshot


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, two_phase_study: Path) -> Iterator[MainWindow]:
    with study_window(qtbot, tmp_path, two_phase_study, (1920, 1080)) as main:
        main.set_current_timepoint(1)
        current = main.current_view
        qtbot.waitUntil(lambda: current.volume is not None, timeout=10000)
        yield main


def test_2x2_shows_both_phases_of_both_timepoints_linked_by_position(
    qtbot: QtBot, window: MainWindow
) -> None:
    window._actions["layoutGrid"].trigger()
    lower_left, lower_right = window.panes.lower
    qtbot.waitUntil(  # loaded and captioned (the overlay follows the volume)
        lambda: all(
            pane.volume is not None and pane.viewer.top_left.text().strip()
            for pane in (lower_left, lower_right)
        ),
        timeout=10000,
    )
    assert lower_left.viewer.isVisible()
    assert lower_right.viewer.isVisible()
    top_left = window.baseline_view.viewer.top_left.text()
    assert "BASELINE" in top_left
    assert "Arterial" in top_left
    assert "BASELINE" in lower_left.viewer.top_left.text()
    assert "Portal venous" in lower_left.viewer.top_left.text()
    assert "FU1" in lower_right.viewer.top_left.text()
    assert "Portal venous" in lower_right.viewer.top_left.text()
    current = window.current_view.viewer
    current.setFocus()
    qtbot.keyClick(current, Qt.Key.Key_PageDown)
    z = float(current.slice_centre_mm()[2])
    for view in (lower_left, lower_right, window.baseline_view):
        assert float(view.viewer.slice_centre_mm()[2]) == pytest.approx(z, abs=1.3)
    save_screenshot(window, "layout_2x2_1920x1080")
    assert not lower_left.viewer.measure_button.isVisible()  # calipers go above
    assert lower_left.viewer.roi_button.isVisible()  # washout ROIs go here


def test_1x1_shows_the_timepoint_read_alone_and_1x2_brings_the_comparison_back(
    window: MainWindow,
) -> None:
    window._actions["layoutOne"].trigger()
    assert window.current_view.viewer.isVisible()
    assert not window.baseline_view.viewer.isVisible()
    assert not window.panes.bottom_row.isVisible()
    window._actions["layoutSideBySide"].trigger()
    assert window.baseline_view.viewer.isVisible()
    assert window.current_view.viewer.isVisible()
    assert not window.panes.bottom_row.isVisible()
