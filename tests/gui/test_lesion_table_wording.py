"""The lesion table speaks the readers' words (one mapping, core.wording)."""

import dataclasses
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import (
    Lesion,
    LesionType,
    Method,
    NewLesionStatus,
    NonTargetStatus,
    Observation,
    Organ,
    Read,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.ui.lesion_table import LesionTableModel, configure_lesion_view
from mrecist_reader.ui.theme import PROGRESSION
from tests.gui.reads import two_target_read
from tests.gui.shots import save_screenshot


def _read() -> Read:
    """Two targets, NT1 present, at FU2 a new lesion N1 (unequivocal) and N2."""
    read = two_target_read()
    lesions = (
        *read.lesions,
        Lesion("NT2", LesionType.NON_TARGET, Organ.LYMPH_NODE, "portocaval"),
        Lesion("N1", LesionType.NEW, Organ.LIVER, "segment II"),
        Lesion("N2", LesionType.NEW, Organ.LUNG, "right lower lobe"),
    )
    observations = (
        *read.observations,
        Observation("NT2", 0, NonTargetStatus.PRESENT),
        Observation("NT2", 1, NonTargetStatus.NOT_EVALUABLE),
        Observation("T1", 2, TargetStatus.TOO_SMALL, 50, method=Method.MANUAL),
        Observation(
            "T2", 2, TargetStatus.MEASURED, 180, method=Method.SEMI_AUTOMATIC_EDITED
        ),
        Observation("NT1", 2, NonTargetStatus.PRESENT),
        Observation("NT2", 2, NonTargetStatus.PROGRESSION),
        Observation("N1", 2, NewLesionStatus.PRESENT),
        Observation("N2", 2, NewLesionStatus.EQUIVOCAL),
    )
    return dataclasses.replace(
        read,
        timepoints=(*read.timepoints, Timepoint(2, "FU2", date(2026, 3, 2), 60)),
        lesions=lesions,
        observations=observations,
    )


def _column(model: LesionTableModel, column: int) -> dict[str, str]:
    return {
        model.data(model.index(row, 0)): model.data(model.index(row, column))
        for row in range(model.rowCount())
    }


def test_no_cell_shows_a_raw_token(qtbot: QtBot) -> None:
    model = LesionTableModel(_read())
    model.set_timepoint(2)
    for column in range(model.columnCount()):
        for row in range(model.rowCount()):
            text = str(model.data(model.index(row, column)) or "")
            assert "_" not in text, (row, column, text)


def test_statuses_types_organs_and_methods_read_as_words(qtbot: QtBot) -> None:
    model = LesionTableModel(_read())
    model.set_timepoint(2)
    current = _column(model, LesionTableModel.COL_CURRENT)
    assert current["N1"] == "unequivocal"  # a present new lesion: progression
    assert current["N2"] == "equivocal"
    assert current["NT1"] == "present"
    assert current["NT2"] == "progression"
    assert current["T1"] == "too small (5.0)"
    assert _column(model, LesionTableModel.COL_PREVIOUS)["NT2"] == "not evaluable"
    assert _column(model, 4)["N1"] == "New lesion"
    assert _column(model, 4)["NT2"] == "Non-target"
    assert _column(model, 5)["NT2"] == "lymph node"
    assert _column(model, 5)["NT1"] == "portal vein"
    assert _column(model, LesionTableModel.COL_METHOD)["T2"] == "semi-auto, edited"


def test_progression_is_red_by_the_lesion_type_not_the_token(qtbot: QtBot) -> None:
    model = LesionTableModel(_read())
    model.set_timepoint(2)
    rows = {model.lesion_at(row).lesion_id: row for row in range(model.rowCount())}

    def colour(lesion_id: str) -> QColor | None:
        index = model.index(rows[lesion_id], LesionTableModel.COL_CURRENT)
        value = model.data(index, Qt.ItemDataRole.ForegroundRole)
        return value if isinstance(value, QColor) else None

    assert colour("NT2") == QColor(PROGRESSION)
    assert colour("N1") == QColor(PROGRESSION)  # unequivocal new lesion
    assert colour("NT1") is None  # a non-target's "present" is not progression
    assert colour("N2") is None
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    configure_lesion_view(view)
    view.resize(900, 300)
    view.show()
    qtbot.waitExposed(view)
    save_screenshot(view, "lesion_table_words")
