"""Locked calipers do not move: no handles, no hover, no drag, never an edit."""

import dataclasses

import pytest
from PySide6.QtCore import QPointF, Qt
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import Read, ReadStatus
from mrecist_reader.imaging.volume import Volume
from mrecist_reader.ui.caliper import CaliperSpec, caliper_lock_reason
from mrecist_reader.ui.slice_viewer import SliceViewer
from tests.gui.reads import two_target_read
from tests.gui.shots import save_screenshot
from tests.gui.viewers import drag_in_view, shown_viewer


def _signed(read: Read, *indices: int) -> Read:
    timepoints = tuple(
        dataclasses.replace(tp, read_status=ReadStatus.SIGNED)
        if tp.index in indices
        else tp
        for tp in read.timepoints
    )
    return dataclasses.replace(read, timepoints=timepoints)


# ---------------------------------------------------------------- the rule (Qt-free)
@pytest.fixture
def viewer(qtbot: QtBot, volume: Volume) -> SliceViewer:
    return shown_viewer(qtbot, volume, size=(500, 500), caption="S01  BASELINE")


def test_a_target_at_a_draft_timepoint_can_be_moved() -> None:
    assert caliper_lock_reason(two_target_read(), "T1", 1) == ""


def test_a_non_target_caliper_only_shows_where_the_lesion_is() -> None:
    reason = caliper_lock_reason(two_target_read(), "NT1", 0)
    assert "non-target" in reason
    assert "non_target" not in reason


def test_a_signed_timepoint_locks_its_calipers() -> None:
    read = _signed(two_target_read(), 0)
    assert "BASELINE is signed" in caliper_lock_reason(read, "T1", 0)
    assert caliper_lock_reason(read, "T1", 1) == ""


def test_a_later_signed_timepoint_locks_the_earlier_drafts() -> None:
    read = _signed(two_target_read(), 1)  # FU1 signed, baseline still a draft
    assert "FU1 is signed" in caliper_lock_reason(read, "T1", 0)


# ---------------------------------------------------------------- on screen
LOCKED = CaliperSpec(
    "NT1",
    12,
    (12.0, 32.0, 22.0),
    (12.0, 32.0, 42.0),
    editable=False,
    locked_reason="NT1 is a non-target lesion: its caliper only shows where it is",
)


def _flat(points: tuple[tuple[float, float], ...]) -> tuple[float, ...]:
    return tuple(value for point in points for value in point)


def test_a_locked_caliper_has_no_handles_and_no_hover_light(
    viewer: SliceViewer,
) -> None:
    viewer.set_calipers([LOCKED])
    item = viewer.caliper_items()[0]
    assert item.locked
    for handle in item.roi.getHandles():
        assert not handle.isVisible()
        assert handle.acceptedMouseButtons() == Qt.MouseButton.NoButton
    assert item.roi.hoverPen.color() == item.roi.pen.color()  # nothing to grab
    assert item.roi.toolTip() == LOCKED.locked_reason
    save_screenshot(viewer, "locked_caliper")


def test_a_locked_caliper_does_not_follow_adrag_in_view(
    qtbot: QtBot, viewer: SliceViewer
) -> None:
    viewer.set_calipers([LOCKED])
    item = viewer.caliper_items()[0]
    edited: list[object] = []
    viewer.caliper_edited.connect(lambda *args: edited.append(args))
    for start in ((42.0, 32.0), (32.0, 32.0)):  # an end, then the middle
        drag_in_view(viewer, start, (50.0, 20.0))
        assert _flat(item.handle_positions()) == pytest.approx((22.0, 32.0, 42.0, 32.0))
        assert item.length_mm() == pytest.approx(16.0)
    assert edited == []


def test_even_a_programmatic_drag_leaves_a_locked_caliper_where_it_was(
    viewer: SliceViewer,
) -> None:
    viewer.set_calipers([LOCKED])
    item = viewer.caliper_items()[0]
    edited: list[object] = []
    viewer.caliper_edited.connect(lambda *args: edited.append(args))
    handle = item.roi.getHandles()[1]
    item.roi.movePoint(handle, QPointF(55.0, 20.0), finish=False)  # live drag
    assert item.length_mm() == pytest.approx(16.0)
    assert "16.0 mm" in item.label.toPlainText()  # no live length of a move
    item.roi.movePoint(handle, QPointF(55.0, 20.0), finish=True)  # release
    assert _flat(item.handle_positions()) == pytest.approx((22.0, 32.0, 42.0, 32.0))
    assert edited == []


def test_an_editable_caliper_still_reports_itsdrag_in_view(viewer: SliceViewer) -> None:
    viewer.set_calipers([dataclasses.replace(LOCKED, lesion_id="T1", editable=True)])
    item = viewer.caliper_items()[0]
    assert not item.locked
    edited: list[object] = []
    viewer.caliper_edited.connect(lambda *args: edited.append(args))
    handle = item.roi.getHandles()[1]
    item.roi.movePoint(handle, QPointF(52.0, 32.0), finish=True)
    assert item.length_mm() == pytest.approx(24.0)
    assert len(edited) == 1
