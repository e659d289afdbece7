"""A viewer that shows no image says why in full: the reason wraps, nothing is cut."""

from pytestqt.qtbot import QtBot

from mrecist_reader.ui.timepoint_view import TimepointView
from tests.gui.shots import save_screenshot

REASON = (
    "the series cannot be shown as a volume: several images lie at one position "
    "(slices 12, 13 and 14 of 40 share 102.50 mm), scattered duplicate positions "
    "suggest two acquisitions in one folder; choose another series in the worklist"
)


def test_a_long_reason_wraps_and_is_shown_whole(qtbot: QtBot) -> None:
    view = TimepointView(None, "currentViewer")
    viewer = view.viewer
    qtbot.addWidget(viewer)
    viewer.resize(520, 480)
    viewer.show()
    qtbot.waitExposed(viewer)
    view.show_failure(REASON)
    label = viewer.placeholder
    assert label.isVisible()
    assert label.wordWrap()
    needed = label.heightForWidth(label.width())
    assert label.height() >= needed > 40  # several lines, none clipped
    canvas = viewer.canvas.rect()
    assert canvas.contains(label.geometry())
    save_screenshot(viewer, "viewer_no_image_long_reason")
