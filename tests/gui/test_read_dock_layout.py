"""The read dock at common window sizes: enough lesion rows, the verdict always readable.

A five-target read with non-targets and a new lesion over three timepoints (long
locations, the longest organ names, a follow-up's four reasons) is shown in a window of
1000x700 (the minimum), 1280x800 and 1920x1080, as on a reader's first start.
"""

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from mrecist_reader.core.assess import assess
from mrecist_reader.resources import load_profile
from mrecist_reader.ui.lesion_table import LesionTableModel
from mrecist_reader.ui.main_window import MainWindow
from mrecist_reader.ui.response_panel import PLOT_MAX_HEIGHT, PLOT_MIN_HEIGHT
from tests.gui.helpers import central_read_window, save_screenshot
from tests.gui.reads import five_target_read

SIZES = ((1000, 700), (1280, 800), (1920, 1080))


def open_read(qtbot: QtBot, db_path: Path, size: tuple[int, int]) -> MainWindow:
    """Show a first-start window of ``size`` with the five-target read at FU2."""
    main = central_read_window(qtbot, db_path, reader_id="R01", size=size)
    qtbot.waitExposed(main)
    QApplication.processEvents()  # the first-start split is made once shown
    read = five_target_read()
    main.lesion_model.set_read(read)
    main.lesion_model.set_timepoint(2)
    main.response_panel.show_assessment(assess(read, load_profile("nct06779461")))
    main.response_panel.set_timepoint(2)
    QApplication.processEvents()
    return main


def rows_fully_visible(main: MainWindow) -> int:
    """Return how many lesion rows are shown whole without scrolling."""
    table = main.lesion_table
    height = table.viewport().height()
    return sum(
        1
        for row in range(main.lesion_model.rowCount())
        if table.rowViewportPosition(row) >= 0
        and table.rowViewportPosition(row) + table.rowHeight(row) <= height
    )


def shown_whole(widget: QWidget, area: QWidget) -> bool:
    """Return whether ``widget`` lies entirely inside ``area`` (no clipping)."""
    top_left = widget.mapTo(area, QPoint(0, 0))
    return area.rect().contains(QRect(top_left, widget.size()))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("size", "rows"),
    [((1000, 700), 7), ((1280, 800), 8), ((1920, 1080), 8)],
    ids=["1000x700", "1280x800", "1920x1080"],
)
def test_the_read_dock_fits_a_five_target_read(
    qtbot: QtBot, tmp_path: Path, size: tuple[int, int], rows: int
) -> None:
    main = open_read(qtbot, tmp_path / "reads.db", size)
    save_screenshot(main, f"read_dock_{size[0]}x{size[1]}")
    assert main.lesion_model.rowCount() == 8
    assert rows_fully_visible(main) >= rows
    assert_values_readable(main)
    assert_reasons_whole(main)
    plot = main.response_panel.plot
    assert PLOT_MIN_HEIGHT <= plot.height() <= PLOT_MAX_HEIGHT
    table = main.lesion_table
    for column in (
        LesionTableModel.COL_CURRENT,
        LesionTableModel.COL_BASELINE,
        LesionTableModel.COL_METHOD,
        5,  # organ: "lymph node", "portal vein"
    ):
        assert table.columnWidth(column) >= table.sizeHintForColumn(column), column
    main.shutdown()


def assert_values_readable(main: MainWindow) -> None:
    """Assert the verdict and every value show whole, unsqueezed and unscrolled."""
    panel = main.response_panel
    viewport = panel.scroll_area.viewport()
    assert panel.scroll_area.verticalScrollBar().value() == 0
    assert panel.overall.text() == "Overall: SD"
    assert panel.values["target_sum"].text() == "140.0 mm"
    for label in [panel.overall, *panel.captions.values(), *panel.values.values()]:
        assert shown_whole(label, viewport), label.text()
        assert label.height() >= label.sizeHint().height(), label.text()
        assert label.width() >= label.sizeHint().width(), label.text()


def assert_reasons_whole(main: MainWindow) -> None:
    """Assert the four reasons get all the lines they need (scrolled to if need be)."""
    reasons = main.response_panel.reasons
    assert reasons.text().count("•") == 4
    assert reasons.height() >= reasons.heightForWidth(reasons.width())
    assert reasons.width() <= main.response_panel.scroll_area.viewport().width()


@pytest.mark.slow
def test_the_table_takes_the_room_a_larger_window_gains(
    qtbot: QtBot, tmp_path: Path
) -> None:
    main = open_read(qtbot, tmp_path / "reads.db", (1280, 800))
    table_before = main.lesion_table.viewport().height()
    panel_before = main.response_panel.height()
    main.resize(1280, 1000)
    QApplication.processEvents()
    assert main.lesion_table.viewport().height() >= table_before + 150
    assert main.response_panel.height() == panel_before
    main.shutdown()


@pytest.mark.slow
def test_the_split_the_reader_chose_is_restored_next_time(
    qtbot: QtBot, tmp_path: Path
) -> None:
    first = open_read(qtbot, tmp_path / "reads.db", (1280, 800))
    total = sum(first.right_splitter.sizes())
    first.right_splitter.setSizes([total - 300, 300])
    chosen = first.right_splitter.sizes()
    first.shutdown()
    first.close()  # saves the window state with the split
    second = open_read(qtbot, tmp_path / "reads.db", (1280, 800))
    assert second.right_splitter.sizes() == chosen
    second.shutdown()


@pytest.mark.slow
def test_a_wide_read_panel_sets_the_values_in_two_columns(
    qtbot: QtBot, tmp_path: Path
) -> None:
    main = open_read(qtbot, tmp_path / "reads.db", (1920, 1080))
    panel = main.response_panel
    narrow_height = panel.values_height()
    main.resizeDocks([main.reading_dock], [760], Qt.Orientation.Horizontal)
    QApplication.processEvents()
    assert panel.values_height() < narrow_height
    target_sum = panel.values["target_sum"].mapTo(panel, QPoint(0, 0))
    best = panel.captions["best_response"].mapTo(panel, QPoint(0, 0))
    assert best.x() > target_sum.x()  # second column of pairs
    for label in [*panel.captions.values(), *panel.values.values()]:
        assert shown_whole(label, panel.scroll_area.viewport()), label.text()
    main.shutdown()
