"""Measure mode is visible and M is unambiguous: M enters it, Esc leaves it."""

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.volume import Volume
from mrecist_reader.ui.slice_viewer import (
    MEASURE_CURSOR,
    MEASURE_HINT,
    PAN_CURSOR,
    PAN_HINT,
    SliceViewer,
)
from tests.gui.shots import save_screenshot
from tests.gui.viewers import drag_in_view, shown_viewer


def _cursor(viewer: SliceViewer) -> Qt.CursorShape:
    return viewer.canvas.viewport().cursor().shape()


@pytest.fixture
def viewer(qtbot: QtBot, volume: Volume) -> SliceViewer:
    return shown_viewer(qtbot, volume, size=(560, 520), caption="S01  BASELINE  day 0")


def test_pan_mode_is_shown_by_the_tool_bar_and_an_open_hand(
    viewer: SliceViewer,
) -> None:
    assert not viewer.measure_mode
    assert viewer.measure_button.isVisible()
    assert viewer.measure_button.isCheckable()
    assert not viewer.measure_button.isChecked()
    assert viewer.mode_text == PAN_HINT
    assert _cursor(viewer) == PAN_CURSOR
    save_screenshot(viewer, "viewer_pan_mode")


def test_m_enters_measure_mode_and_pressed_again_keeps_it(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    changes: list[bool] = []
    viewer.measure_mode_changed.connect(changes.append)
    viewer.setFocus()
    qtbot.keyClick(viewer, Qt.Key.Key_M)
    assert viewer.measure_mode
    assert viewer.measure_button.isChecked()
    assert viewer.mode_text == MEASURE_HINT
    assert viewer.mode_hint.text().startswith("Measuring")
    assert _cursor(viewer) == MEASURE_CURSOR
    qtbot.keyClick(viewer, Qt.Key.Key_M)  # "to measure", again: still measuring
    assert viewer.measure_mode
    assert changes == [True]
    save_screenshot(viewer, "viewer_measure_mode")
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.measure_mode
    assert not viewer.measure_button.isChecked()
    assert _cursor(viewer) == PAN_CURSOR
    assert changes == [True, False]


def test_the_tool_bar_button_switches_the_mode(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    changes: list[bool] = []
    viewer.measure_mode_changed.connect(changes.append)
    qtbot.mouseClick(viewer.measure_button, Qt.MouseButton.LeftButton)
    assert viewer.measure_mode
    qtbot.mouseClick(viewer.measure_button, Qt.MouseButton.LeftButton)
    assert not viewer.measure_mode
    assert changes == [True, False]


def test_setting_the_mode_it_is_in_changes_nothing(viewer: SliceViewer) -> None:
    changes: list[bool] = []
    viewer.measure_mode_changed.connect(changes.append)
    viewer.set_measure_mode(False)
    viewer.set_measure_mode(True)
    viewer.set_measure_mode(True)
    assert changes == [True]
    assert viewer.measure_button.isChecked()


def test_a_drag_draws_only_in_measure_mode(qtbot: QtBot, viewer: SliceViewer) -> None:
    drawn: list[object] = []
    viewer.caliper_drawn.connect(lambda p1, p2: drawn.append((p1, p2)))
    drag_in_view(viewer, (22.0, 32.0), (42.0, 32.0))
    assert drawn == []  # pan mode: the drag panned
    qtbot.keyClick(viewer, Qt.Key.Key_M)
    drag_in_view(viewer, (22.0, 32.0), (42.0, 32.0))
    assert len(drawn) == 1
    qtbot.keyClick(viewer, Qt.Key.Key_M)  # pressing M again does not switch it off
    drag_in_view(viewer, (22.0, 40.0), (42.0, 40.0))
    assert len(drawn) == 2
