"""The lesion table in a narrow right panel: readable columns, horizontal scrolling."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mrecist_reader.ui.lesion_table import FREE_TEXT_MAX_WIDTH, LesionTableModel
from mrecist_reader.ui.main_window import MainWindow
from tests.gui.helpers import central_read_window, save_screenshot
from tests.gui.reads import five_target_read

LONG_COMMENT = (
    "rim enhancement on the arterial phase, washout on the portal venous phase, "
    "compare with the hepatobiliary phase at the next visit"
)


@pytest.fixture
def narrow(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1000, 700)
    )
    qtbot.waitExposed(main)
    main.resizeDocks([main.reading_dock], [300], Qt.Orientation.Horizontal)
    main.lesion_model.set_read(five_target_read(t1_fu2_comment=LONG_COMMENT))
    main.lesion_model.set_timepoint(2)
    QApplication.processEvents()
    yield main
    main.shutdown()


def _visible_columns(main: MainWindow) -> list[int]:
    return [
        column
        for column in range(main.lesion_model.columnCount())
        if not main.lesion_table.isColumnHidden(column)
    ]


def test_narrow_panel_scrolls_sideways_instead_of_squeezing(
    narrow: MainWindow,
) -> None:
    table = narrow.lesion_table
    assert table.viewport().width() < 400
    bar = table.horizontalScrollBar()
    assert bar.maximum() > 0
    assert bar.isVisible()
    header = table.horizontalHeader()
    metrics = header.fontMetrics()
    for column in _visible_columns(narrow):
        text = str(narrow.lesion_model.headerData(column, Qt.Orientation.Horizontal))
        assert header.sectionSize(column) >= metrics.horizontalAdvance(text), text
        assert header.sectionSize(column) >= header.sectionSizeHint(column), text
        if column not in LesionTableModel.FREE_TEXT:
            assert header.sectionSize(column) >= table.sizeHintForColumn(column), text


def test_scrolling_to_the_end_shows_the_last_column_whole(narrow: MainWindow) -> None:
    table = narrow.lesion_table
    header = table.horizontalHeader()
    bar = table.horizontalScrollBar()
    bar.setValue(bar.maximum())
    QApplication.processEvents()
    last = header.logicalIndex(header.count() - 1)
    right_edge = header.sectionViewportPosition(last) + header.sectionSize(last)
    assert 0 < right_edge <= table.viewport().width()
    save_screenshot(narrow, "lesion_table_narrow_scrolled")


def test_a_long_comment_is_capped_and_readable_in_its_tooltip(
    narrow: MainWindow,
) -> None:
    model = narrow.lesion_model
    width = narrow.lesion_table.columnWidth(LesionTableModel.COL_COMMENT)
    assert width <= FREE_TEXT_MAX_WIDTH
    tip = model.data(
        model.index(0, LesionTableModel.COL_COMMENT), Qt.ItemDataRole.ToolTipRole
    )
    assert tip == LONG_COMMENT
