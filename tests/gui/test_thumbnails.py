"""Issue 15 item 3: a thumbnail strip per timepoint; a series dropped on a pane opens.

Wiring only: the thumbnail's pixels are tested in tests/imaging/test_thumbnail.py and
the series choice in the desk's tests; here the strip must show the open subject's
series (pictures made off the GUI thread) and a drop must reach the desk.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QGraphicsView
from pytestqt.qtbot import QtBot

from mrecist_reader.ui.main_window import MainWindow
from mrecist_reader.ui.thumbnails import SeriesDrop, ThumbnailStrip, series_mime
from tests.gui.conftest import study_window


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, two_phase_study: Path) -> Iterator[MainWindow]:
    with study_window(qtbot, tmp_path, two_phase_study) as main:
        yield main


def test_the_strip_shows_each_timepoints_series_and_a_drop_opens_one(
    qtbot: QtBot, window: MainWindow
) -> None:
    window._actions["thumbnails"].trigger()
    strip = window.findChild(ThumbnailStrip)
    assert strip is not None
    assert [row.index for row in strip.rows] == [0, 1]
    assert [row.count() for row in strip.rows] == [2, 2]
    assert not any("2026" in text or "/" in text for text in strip.texts())

    def all_drawn() -> None:
        icons = [row.item(i).icon() for row in strip.rows for i in range(2)]
        assert all(not icon.isNull() for icon in icons)

    qtbot.waitUntil(all_drawn, timeout=20000)
    state = window.desk.open_series(0)
    assert state is not None
    subject = window.desk.subject
    assert subject is not None
    other = next(
        s
        for s in subject.timepoints[0].series
        if s.series_instance_uid != state.series.series_instance_uid
    )
    view = window.baseline_view
    graphics = view.viewer.findChildren(QGraphicsView)[0]
    data = series_mime(subject.subject_id, 0, other.series_instance_uid)
    drop = QDropEvent(
        QPointF(20.0, 20.0),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        QEvent.Type.Drop,
    )
    # Qt delivers drop events only during a real drag: the pane's filter takes it
    (taker,) = graphics.viewport().findChildren(SeriesDrop)
    assert taker.eventFilter(graphics.viewport(), drop)
    assert drop.isAccepted()
    opened = window.desk.open_series(0)
    assert opened is not None
    assert opened.series.series_instance_uid == other.series_instance_uid
