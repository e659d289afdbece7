"""Window/level kept per series kind, and a value readout that never goes stale."""

import dataclasses

import pytest
from PySide6.QtCore import QPointF
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.volume import Phase, Volume
from mrecist_reader.ui.slice_viewer import ImageStack, SliceViewer
from mrecist_reader.ui.windowing import (
    ABDOMEN_WINDOW,
    LIVER_WINDOW,
    WindowMemory,
    default_window,
    kind_of,
    series_kind,
)
from tests.gui.conftest import make_series, make_volume


# ---------------------------------------------------------------- the memory (Qt-free)
def test_a_series_kind_is_its_modality_and_phase() -> None:
    assert series_kind(make_series()) == "CT arterial"
    assert series_kind(make_series(phase=Phase.PORTAL_VENOUS)) == "CT portal_venous"
    assert kind_of("mr") == "MR"


def test_defaults_liver_on_arterial_ct_abdomen_on_other_ct_auto_on_mr() -> None:
    assert default_window("CT arterial") == LIVER_WINDOW == (150.0, 70.0)
    assert default_window("CT portal_venous") == ABDOMEN_WINDOW == (400.0, 40.0)
    assert default_window("CT") == ABDOMEN_WINDOW
    assert default_window("MR arterial") is None


def test_the_memory_keeps_one_window_per_kind() -> None:
    memory = WindowMemory()
    memory.remember("CT arterial", (200.0, 80.0))
    assert memory.window_for("CT arterial") == (200.0, 80.0)
    assert memory.window_for("CT portal_venous") == ABDOMEN_WINDOW
    memory.forget()
    assert memory.window_for("CT arterial") == LIVER_WINDOW


# ---------------------------------------------------------------- in the viewer
def _with_phase(volume: Volume, phase: Phase, uid: str) -> Volume:
    series = dataclasses.replace(volume.series, phase=phase, series_instance_uid=uid)
    return dataclasses.replace(volume, series=series)


@pytest.fixture
def viewer(qtbot: QtBot) -> SliceViewer:
    widget = SliceViewer()
    qtbot.addWidget(widget)
    widget.resize(500, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_window_and_level_survive_a_series_change(viewer: SliceViewer) -> None:
    arterial = make_volume(uid="1.1")
    venous = _with_phase(make_volume(uid="1.2"), Phase.PORTAL_VENOUS, "1.2")
    viewer.set_stack(ImageStack.from_volume(arterial))
    assert viewer.window_level == LIVER_WINDOW
    viewer.set_window(220.0, 90.0)  # the reader's own window on arterial CT
    viewer.set_stack(ImageStack.from_volume(venous))
    assert viewer.window_level == ABDOMEN_WINDOW  # venous keeps its own
    viewer.set_window(350.0, 50.0)
    viewer.set_stack(ImageStack.from_volume(make_volume(uid="2.1")))  # next arterial
    assert viewer.window_level == (220.0, 90.0)
    assert "W 220  L 90" in viewer.top_right.text()
    viewer.set_stack(ImageStack.from_volume(venous))
    assert viewer.window_level == (350.0, 50.0)


def test_two_viewers_can_share_one_memory(qtbot: QtBot, viewer: SliceViewer) -> None:
    other = SliceViewer(window_memory=viewer.window_memory)
    qtbot.addWidget(other)
    viewer.set_stack(ImageStack.from_volume(make_volume(uid="1.1")))
    viewer.set_window(260.0, 100.0)
    other.set_stack(ImageStack.from_volume(make_volume(uid="2.1")))
    assert other.window_level == (260.0, 100.0)


def _hover(viewer: SliceViewer, column: float, row: float) -> None:
    viewer._on_mouse_moved(viewer.view.mapViewToScene(QPointF(column, row)))


def test_the_value_under_the_cursor_follows_the_slice(viewer: SliceViewer) -> None:
    viewer.set_stack(ImageStack.from_volume(make_volume()))
    _hover(viewer, 32.0, 32.0)
    assert viewer.cursor_value.text() == "(32, 32)  200 HU"  # in the lesion
    viewer.set_slice(0)  # far above the lesion: liver there
    assert viewer.cursor_value.text() == "(32, 32)  60 HU"


def test_the_value_under_the_cursor_is_cleared_when_the_series_changes(
    viewer: SliceViewer,
) -> None:
    viewer.set_stack(ImageStack.from_volume(make_volume()))
    _hover(viewer, 32.0, 32.0)
    assert viewer.cursor_value.text() == "(32, 32)  200 HU"
    viewer.set_stack(ImageStack.from_volume(make_volume(uid="9.9", lesion_radius_px=2)))
    assert viewer.cursor_value.text() == ""
    _hover(viewer, 32.0, 20.0)
    assert viewer.cursor_value.text() == "(32, 20)  60 HU"
    viewer.set_stack(None)
    assert viewer.cursor_value.text() == ""
