"""A caliper's label stays whole inside its pane, even beside the image's edge."""

import pytest
from pytestqt.qtbot import QtBot

from mrecist_reader.ui.caliper import CaliperSpec, label_anchor_x
from mrecist_reader.ui.slice_viewer import SliceViewer
from tests.gui.test_slice_viewer import viewer  # noqa: F401 - the fixture

CHECKS = "touches the liver edge: check the outline\nlow contrast to the liver: check"


def test_a_label_that_fits_stays_centred() -> None:
    assert label_anchor_x(50.0, 20.0, (0.0, 100.0)) == 0.5


def test_a_label_beside_the_left_edge_slides_right() -> None:
    anchor = label_anchor_x(5.0, 40.0, (0.0, 100.0))
    assert 5.0 - anchor * 40.0 >= 0.0  # its left end is in view
    assert anchor == pytest.approx(0.125)


def test_a_label_beside_the_right_edge_slides_left() -> None:
    anchor = label_anchor_x(95.0, 40.0, (0.0, 100.0))
    assert 95.0 + (1 - anchor) * 40.0 <= 100.0  # its right end is in view


def test_a_label_wider_than_the_view_stays_centred() -> None:
    assert label_anchor_x(5.0, 140.0, (0.0, 100.0)) == 0.5


def test_a_proposal_at_the_panes_left_edge_shows_its_whole_label(
    qtbot: QtBot,
    viewer: SliceViewer,  # noqa: F811 - the fixture
) -> None:
    viewer.resize(400, 400)
    viewer.show()
    qtbot.waitExposed(viewer)
    left = viewer.view.viewRect().left()
    spec = CaliperSpec(
        "T1", 12, (12.0, 32.0, left + 1.0), (12.0, 32.0, left + 4.0), note=CHECKS
    )
    viewer.set_calipers([spec])
    label = viewer.caliper_items()[0].label
    pane = viewer.view.sceneBoundingRect()
    assert label.sceneBoundingRect().left() >= pane.left() - 1.0
    assert label.sceneBoundingRect().right() <= pane.right() + 1.0
