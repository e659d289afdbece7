"""The load report lists every file not loaded with its reason, and series warnings."""

import dataclasses
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QWidget
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.sources import SkippedFile
from mrecist_reader.ui.load_report import (
    NO_WARNINGS,
    NOTHING_SKIPPED,
    SET_ASIDE,
    LoadReportDialog,
)
from tests.kit.dicom import SeriesSpec, write_series


def _tree_texts(tree: QTreeWidget) -> list[str]:
    texts: list[str] = []
    pending: list[QTreeWidgetItem] = [
        item
        for k in range(tree.topLevelItemCount())
        if (item := tree.topLevelItem(k)) is not None
    ]
    while pending:
        item = pending.pop(0)
        for column in range(tree.columnCount()):
            texts += [item.text(column), item.toolTip(column)]
        pending += [child for k in range(item.childCount()) if (child := item.child(k))]
    return [t for t in texts if t]


def _all_texts(dialog: QWidget) -> str:
    texts = [dialog.windowTitle()]
    texts += [label.text() for label in dialog.findChildren(QLabel)]
    for tree in dialog.findChildren(QTreeWidget):
        texts += _tree_texts(tree)
    return "\n".join(texts)


def _messy_folder(root: Path) -> Path:
    study = root / "Secret_Name_hospital"  # a folder named after the patient
    images = write_series(
        study / "arterial", SeriesSpec(n_slices=4, offsets=[0.0, 2.5, 7.5, 10.0])
    )
    whole = images[0].read_bytes()
    (study / "arterial" / "cut.dcm").write_bytes(whole[:-400])
    (study / "readme.txt").write_text("notes", encoding="utf-8")
    return study


def test_a_blinded_report_names_each_skip_and_warning_and_no_patient(
    qtbot: QtBot, tmp_path: Path
) -> None:
    result = scan(_messy_folder(tmp_path))
    assert len(result.skipped) == 2
    dialog = LoadReportDialog(result.skipped, result.series_warnings, blinded=True)
    qtbot.addWidget(dialog)
    dialog.show()
    shown = _all_texts(dialog)
    assert "2 files not loaded; 1 series with warnings" in shown
    assert "Damaged or cut short (1)" in shown
    assert "Not a DICOM file (1)" in shown
    assert "cut.dcm" in shown
    assert "truncated file: pixel data needs" in shown
    assert "readme.txt" in shown
    assert "not a DICOM file" in shown
    assert "missing slices: 1 missing" in shown
    assert "LIVER ARTERIAL" in shown
    text = dialog.report_text()
    for identifying in ("Secret", "P-SECRET", str(tmp_path)):
        assert identifying not in shown
        assert identifying not in text


def test_an_open_read_shows_the_patient_and_whole_paths(
    qtbot: QtBot, tmp_path: Path
) -> None:
    result = scan(_messy_folder(tmp_path))
    dialog = LoadReportDialog(result.skipped, result.series_warnings, blinded=False)
    qtbot.addWidget(dialog)
    shown = _all_texts(dialog)
    assert "patient Secret^Name P-SECRET" in shown
    assert str(tmp_path / "Secret_Name_hospital" / "readme.txt") in shown


def test_copy_report_puts_the_text_on_the_clipboard(
    qtbot: QtBot, tmp_path: Path
) -> None:
    skipped = [SkippedFile(str(tmp_path / "a" / "x.dcm"), "empty file")]
    dialog = LoadReportDialog(skipped, [])
    qtbot.addWidget(dialog)
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied == dialog.report_text()
    assert "x.dcm: empty file" in copied
    assert "a/x.dcm" not in copied  # blinded by default: no folder names
    assert NO_WARNINGS in copied


def test_nothing_to_report_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    write_series(tmp_path, SeriesSpec(n_slices=3))
    result = scan(tmp_path)
    dialog = LoadReportDialog(result.skipped, result.series_warnings)
    qtbot.addWidget(dialog)
    shown = _all_texts(dialog)
    assert NOTHING_SKIPPED in shown
    assert NO_WARNINGS in shown


def test_a_localizer_is_listed_as_set_aside(qtbot: QtBot, tmp_path: Path) -> None:
    write_series(tmp_path, SeriesSpec(n_slices=2, description="Topogram 0.6 T20f"))
    (series,) = scan(tmp_path).series
    assert not series.warnings
    dialog = LoadReportDialog([], [series, dataclasses.replace(series, stack_label="")])
    qtbot.addWidget(dialog)
    assert dialog.series_tree.topLevelItemCount() == 1  # nothing to say on the other
    assert SET_ASIDE in _all_texts(dialog)
