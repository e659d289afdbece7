"""The lesion table model, tested without a view (Vorta's habit)."""

from dataclasses import replace

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mrecist_reader.ui.lesion_table import NOT_RECORDED, LesionTableModel
from tests.gui.reads import two_target_read


def _column(model: LesionTableModel, column: int) -> list[str]:
    return [
        model.data(model.index(row, column), Qt.ItemDataRole.DisplayRole)
        for row in range(model.rowCount())
    ]


def test_targets_come_first_then_non_targets(qtbot: QtBot) -> None:
    model = LesionTableModel(two_target_read())
    assert _column(model, 0) == ["T1", "T2", "NT1"]
    assert _column(model, 4) == ["Target", "Target", "Non-target"]
    assert _column(model, 6) == ["segment VII", "segment IVa", ""]


def test_follow_up_lists_baseline_values_beside_the_current(qtbot: QtBot) -> None:
    model = LesionTableModel(two_target_read())
    model.set_timepoint(1)
    assert _column(model, LesionTableModel.COL_BASELINE) == [
        "40.0 mm",
        "35.0 mm",
        "present",
    ]
    assert _column(model, LesionTableModel.COL_CURRENT) == [
        "25.0 mm",
        "20.0 mm",
        "present",
    ]
    assert model.headerData(1, Qt.Orientation.Horizontal) == "FU1"
    assert model.headerData(3, Qt.Orientation.Horizontal) == "BASELINE"


def test_a_new_snapshot_resets_the_model(qtbot: QtBot) -> None:
    model = LesionTableModel(two_target_read())
    model.set_timepoint(1)
    with qtbot.waitSignal(model.modelReset):
        model.set_read(two_target_read(fu1_t1=500))
    assert _column(model, LesionTableModel.COL_CURRENT)[0] == "50.0 mm"


def test_method_is_shown_for_the_current_timepoint(qtbot: QtBot) -> None:
    model = LesionTableModel(two_target_read())
    assert _column(model, 7) == ["manual", "semi-auto", ""]


def test_nothing_recorded_shows_a_dash_in_the_current_column(qtbot: QtBot) -> None:
    read = two_target_read()
    partial = replace(
        read, observations=tuple(o for o in read.observations if o.lesion_id != "T2")
    )
    model = LesionTableModel(partial)
    model.set_timepoint(1)
    assert _column(model, LesionTableModel.COL_CURRENT)[1] == NOT_RECORDED


def test_row_of_finds_a_lesion(qtbot: QtBot) -> None:
    model = LesionTableModel(two_target_read())
    assert model.row_of("NT1") == 2
    assert model.row_of("T9") is None
