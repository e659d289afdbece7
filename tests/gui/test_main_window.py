"""The main window against a real session, database and DICOM study."""

import csv
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QTableWidget, QWidget
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import (
    LesionType,
    Method,
    NewLesionStatus,
    Organ,
    ReadStatus,
)
from mrecist_reader.ui.dialogs import AmendDialog, ShortcutsDialog
from mrecist_reader.ui.main_window import MainWindow
from tests.gui import dicom_study
from tests.gui.dicom_study import CENTRE
from tests.gui.helpers import (
    answer_next_dialog,
    click_button,
    fill_lesion_dialog,
    save_screenshot,
)


def _centre_row_caliper(window: MainWindow, half_px: float) -> None:
    viewer = window.baseline_view.viewer
    k, row, col = CENTRE, 31.5, 31.5
    viewer.set_slice(round(k))
    p1 = (float(round(k)), row, col - half_px)
    p2 = (float(round(k)), row, col + half_px)
    viewer.caliper_drawn.emit(p1, p2)


def test_opens_ready_to_read_on_baseline(window: MainWindow) -> None:
    assert window.session is not None
    assert [tp.label for tp in window.session.read.timepoints] == ["BASELINE", "FU1"]
    assert window.baseline_view.viewer.stack is not None
    assert "Subject S01" in window.windowTitle()


def test_central_read_shows_no_patient_identity(window: MainWindow) -> None:
    forbidden = [
        dicom_study.PATIENT_NAME,
        "Doe",
        dicom_study.PATIENT_ID,
        dicom_study.BIRTH_DATE,
        dicom_study.INSTITUTION,
        "2026-02-03",
        "20260203",
        "2026-03-05",
    ]
    window.set_current_timepoint(1)
    texts = "\n".join(window.visible_texts())
    for value in forbidden:
        assert value not in texts


def test_caliper_at_baseline_designates_a_target(
    qtbot: QtBot, window: MainWindow
) -> None:
    answer_next_dialog(fill_lesion_dialog())
    _centre_row_caliper(window, half_px=25.0)  # 50 px * 0.8 mm = 40.0 mm
    assert window.session is not None
    observation = window.session.read.observation("T1", 0)
    assert observation is not None
    assert observation.diameter == 400
    assert observation.method is Method.MANUAL
    assert window.lesion_model.rowCount() == 1


def test_out_of_range_target_can_be_recorded_as_non_target(
    qtbot: QtBot, window: MainWindow
) -> None:
    def refuse(widget: QWidget) -> None:
        save_screenshot(widget, "out_of_range_dialog")
        click_button("Record as non-target")(widget)

    answer_next_dialog(lambda w: (fill_lesion_dialog()(w), answer_next_dialog(refuse)))
    _centre_row_caliper(window, half_px=10.0)  # 16.0 mm < 30.0 mm
    assert window.session is not None
    assert [x.lesion_type for x in window.session.read.lesions] == [
        LesionType.NON_TARGET
    ]
    kept = window.session.read.observation("NT1", 0)  # where it is, for follow-ups
    assert kept is not None
    assert kept.caliper is not None
    assert kept.caliper.length() == 160
    assert kept.diameter is None
    assert kept.sop_instance_uid != ""


def test_follow_up_side_by_side_screenshot(qtbot: QtBot, window: MainWindow) -> None:
    answer_next_dialog(fill_lesion_dialog())
    _centre_row_caliper(window, half_px=25.0)
    window.set_current_timepoint(1)
    qtbot.waitUntil(lambda: window.current_view.volume is not None, timeout=10000)
    assert window.current_view.viewer.isVisible()
    assert window.selected_lesion == "T1"
    save_screenshot(window, "gui_follow_up_side_by_side")


def _baseline_target(window: MainWindow) -> None:
    answer_next_dialog(fill_lesion_dialog())
    _centre_row_caliper(window, half_px=25.0)


def _target_t1_at_follow_up(qtbot: QtBot, window: MainWindow) -> None:
    """Designate T1 at baseline, then read FU1 (T1 selected)."""
    _baseline_target(window)
    _follow_up(qtbot, window)


def _follow_up(qtbot: QtBot, window: MainWindow) -> None:
    window.set_current_timepoint(1)
    qtbot.waitUntil(lambda: window.current_view.volume is not None, timeout=10000)


def test_click_proposes_a_semi_automatic_caliper_the_reader_accepts(
    window: MainWindow,
) -> None:
    viewer = window.baseline_view.viewer
    viewer.set_slice(CENTRE)
    viewer.point_clicked.emit((float(CENTRE), 31.5, 31.5))
    assert window.desk.proposal is not None
    answer_next_dialog(fill_lesion_dialog())
    window._actions["accept"].trigger()
    assert window.session is not None
    observation = window.session.read.observation("T1", 0)
    assert observation is not None
    assert observation.method is Method.SEMI_AUTOMATIC
    assert observation.diameter == pytest.approx(400, abs=20)


def test_adjusted_proposal_is_recorded_as_edited(window: MainWindow) -> None:
    viewer = window.baseline_view.viewer
    viewer.point_clicked.emit((float(CENTRE), 31.5, 31.5))
    proposal = next(i for i in viewer.caliper_items() if i.spec.lesion_id == "proposal")
    handle = proposal.roi.getHandles()[1]
    proposal.roi.movePoint(handle, QPointF(60.0, 31.5), finish=True)
    answer_next_dialog(fill_lesion_dialog())
    window.accept_proposal()
    assert window.session is not None
    observation = window.session.read.observation("T1", 0)
    assert observation is not None
    assert observation.method is Method.SEMI_AUTOMATIC_EDITED


def test_rejected_proposal_records_nothing(window: MainWindow) -> None:
    window.baseline_view.viewer.point_clicked.emit((float(CENTRE), 31.5, 31.5))
    window._actions["reject"].trigger()
    assert window.desk.proposal is None
    assert window.session is not None
    assert window.session.read.lesions == ()


def test_dragging_a_caliper_end_re_measures_the_lesion(window: MainWindow) -> None:
    _baseline_target(window)
    viewer = window.baseline_view.viewer
    item = next(i for i in viewer.caliper_items() if i.spec.lesion_id == "T1")
    handle = item.roi.getHandles()[1]
    item.roi.movePoint(handle, QPointF(51.5, 31.5), finish=True)
    assert window.session is not None
    observation = window.session.read.observation("T1", 0)
    assert observation is not None
    assert observation.diameter == 360  # 45 px x 0.8 mm


def test_follow_up_caliper_measures_the_next_target(
    qtbot: QtBot, window: MainWindow
) -> None:
    _target_t1_at_follow_up(qtbot, window)
    assert window.selected_lesion == "T1"
    viewer = window.current_view.viewer
    viewer.set_slice(CENTRE)
    viewer.caliper_drawn.emit((float(CENTRE), 31.5, 16.5), (float(CENTRE), 31.5, 46.5))
    assert window.session is not None
    observation = window.session.read.observation("T1", 1)
    assert observation is not None
    assert observation.diameter == 240


def _far_corner_caliper(window: MainWindow) -> None:
    """Draw a short caliper 44 mm from T1's baseline caliper (another lesion)."""
    viewer = window.current_view.viewer
    viewer.set_slice(0)
    viewer.caliper_drawn.emit((0.0, 2.0, 2.0), (0.0, 2.0, 6.0))


def test_a_follow_up_caliper_far_from_the_target_is_not_recorded_unasked(
    qtbot: QtBot, window: MainWindow
) -> None:
    _target_t1_at_follow_up(qtbot, window)
    assert window.selected_lesion == "T1"
    asked: list[str] = []

    def cancel(widget: QWidget) -> None:
        asked.append(widget.objectName())
        click_button("Cancel")(widget)

    answer_next_dialog(cancel)
    _far_corner_caliper(window)
    assert asked == ["farCaliperDialog"]
    assert window.session is not None
    assert window.session.read.observation("T1", 1) is None
    assert "not recorded" in window.statusBar().currentMessage()


def test_the_reader_may_record_a_far_caliper_as_the_target(
    qtbot: QtBot, window: MainWindow
) -> None:
    _target_t1_at_follow_up(qtbot, window)
    answer_next_dialog(click_button("Record as T1"))
    _far_corner_caliper(window)
    assert window.session is not None
    observation = window.session.read.observation("T1", 1)
    assert observation is not None
    assert observation.diameter == 32  # 4 px x 0.8 mm


def test_a_far_caliper_can_become_a_new_lesion_instead(
    qtbot: QtBot, window: MainWindow
) -> None:
    _target_t1_at_follow_up(qtbot, window)

    def new_lesion(widget: QWidget) -> None:
        answer_next_dialog(
            fill_lesion_dialog(Organ.LIVER, "segment II", NewLesionStatus.PRESENT)
        )
        click_button("Add as new lesion")(widget)

    answer_next_dialog(new_lesion)
    _far_corner_caliper(window)
    assert window.session is not None
    assert window.session.read.observation("T1", 1) is None
    new = window.session.read.observation("N1", 1)
    assert new is not None
    assert new.status is NewLesionStatus.PRESENT


def test_a_follow_up_caliper_with_no_target_chosen_adds_a_new_lesion(
    qtbot: QtBot, window: MainWindow
) -> None:
    _target_t1_at_follow_up(qtbot, window)
    window.select_lesion(None)
    answer_next_dialog(
        fill_lesion_dialog(Organ.LIVER, "segment II", NewLesionStatus.EQUIVOCAL)
    )
    _far_corner_caliper(window)
    assert window.session is not None
    new = window.session.read.observation("N1", 1)
    assert new is not None
    assert new.status is NewLesionStatus.EQUIVOCAL
    assert new.caliper is not None
    assert new.caliper.length() == 32
    assert new.diameter == 32  # a new lesion's longest diameter (issue 14 item 5)
    assert window.session.read.observation("T1", 1) is None


def test_status_keys_record_a_status_at_the_follow_up(
    qtbot: QtBot, window: MainWindow
) -> None:
    _target_t1_at_follow_up(qtbot, window)
    window._actions["status_absent"].trigger()
    assert window.session is not None
    observation = window.session.read.observation("T1", 1)
    assert observation is not None
    assert observation.diameter == 0


def test_signed_timepoint_is_read_only_until_amended(
    window: MainWindow, error_messages: list[tuple[str, str, bool]]
) -> None:
    _baseline_target(window)
    answer_next_dialog(click_button("Sign BASELINE"))
    window._actions["sign"].trigger()
    assert window.session is not None
    assert window.session.read.timepoints[0].read_status is ReadStatus.SIGNED
    assert not window.baseline_view.viewer.caliper_items()[0].spec.editable
    window.select_lesion("T1")
    window._actions["status_not_evaluable"].trigger()
    assert "signed" in error_messages[-1][1]

    def give_reason(widget: QWidget) -> None:
        assert isinstance(widget, AmendDialog)
        widget.reason.setPlainText("T1 re-measured on the arterial series")
        widget.accept()

    answer_next_dialog(give_reason)
    window._actions["amend"].trigger()
    assert window.session.read.timepoints[0].read_status is ReadStatus.DRAFT


def test_amending_baseline_says_the_signed_follow_up_is_reopened_too(
    qtbot: QtBot, window: MainWindow
) -> None:
    _baseline_target(window)
    answer_next_dialog(click_button("Sign BASELINE"))
    window._actions["sign"].trigger()
    _follow_up(qtbot, window)
    window.select_lesion("T1")
    window._actions["status_not_evaluable"].trigger()
    answer_next_dialog(click_button("Sign FU1"))
    window._actions["sign"].trigger()
    assert window.session is not None
    assert window.session.is_signed(1)
    window.set_current_timepoint(0)
    warnings: list[str] = []

    def give_reason(widget: QWidget) -> None:
        assert isinstance(widget, AmendDialog)
        warnings.append(widget.reopened_label.text())
        widget.reason.setPlainText("T1 re-measured on the arterial series")
        widget.accept()

    answer_next_dialog(give_reason)
    window._actions["amend"].trigger()
    assert warnings == [
        "FU1 is signed and depends on BASELINE: it will be reopened and must be "
        "signed again."
    ]
    assert not window.session.is_signed(0)
    assert not window.session.is_signed(1)


def test_a_signed_timepoint_refuses_edits_before_asking_anything(
    window: MainWindow,
    error_messages: list[tuple[str, str, bool]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mrecist_reader.ui import dialogs

    _baseline_target(window)
    answer_next_dialog(click_button("Sign BASELINE"))
    window._actions["sign"].trigger()
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_lesion", lambda *a, **k: asked.append("lesion"))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append("delete"))
    window.select_lesion(None)
    _centre_row_caliper(window, half_px=20.0)  # would designate a second target
    window.select_lesion("T1")
    window._actions["delete"].trigger()
    window._actions["addLesion"].trigger()
    assert asked == []
    assert len(error_messages) == 3
    assert all("signed" in text for _title, text, _critical in error_messages)


def test_undo_and_redo_from_the_edit_menu(window: MainWindow) -> None:
    _baseline_target(window)
    assert window._actions["undo"].isEnabled()
    window._actions["undo"].trigger()
    assert window.session is not None
    assert window.lesion_model.rowCount() == 0
    window._actions["redo"].trigger()
    assert window.lesion_model.rowCount() == 1


def test_central_read_export_is_blinded(window: MainWindow, tmp_path: Path) -> None:
    _baseline_target(window)
    folder = tmp_path / "export"
    folder.mkdir()
    measurements, _responses = window.export_to(folder)
    with measurements.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["lesion_id"] for row in rows] == ["T1"]
    assert rows[0]["scan_date"] == ""
    assert rows[0]["viable_diameter_mm"] == "40.0"


def test_ascites_progression_asks_for_cytology(
    qtbot: QtBot, window: MainWindow
) -> None:
    _baseline_target(window)
    answer_next_dialog(fill_lesion_dialog(Organ.PERITONEUM, "ascites"))
    window._actions["addLesion"].trigger()
    _follow_up(qtbot, window)
    window.select_lesion("NT1")
    answer_next_dialog(click_button("Confirmed"))
    window._actions["status_progression"].trigger()
    assert window.session is not None
    observation = window.session.read.observation("NT1", 1)
    assert observation is not None
    assert str(observation.status) == "progression"
    assert "cytology" in observation.comment


def test_scrolling_is_linked_by_patient_position(
    qtbot: QtBot, window: MainWindow
) -> None:
    _follow_up(qtbot, window)
    window.baseline_view.viewer.set_slice(2)
    assert window.current_view.viewer.slice_index == 2
    qtbot.keyClick(window.baseline_view.viewer, Qt.Key.Key_Up)  # wheel/keys too
    assert window.current_view.viewer.slice_index == 3
    follow_up = window.current_view.viewer
    assert follow_up.slice_centre_mm() == pytest.approx(
        window.baseline_view.viewer.slice_centre_mm()
    )
    window._actions["linkScroll"].setChecked(False)
    window.baseline_view.viewer.set_slice(8)
    assert window.current_view.viewer.slice_index == 3


def test_window_level_is_linked_on_request(qtbot: QtBot, window: MainWindow) -> None:
    _follow_up(qtbot, window)
    window._actions["linkWindow"].setChecked(True)
    window.baseline_view.viewer.set_window(150.0, 70.0)
    assert window.current_view.viewer.window_level == (150.0, 70.0)


def test_every_repeated_action_has_a_listed_shortcut(window: MainWindow) -> None:
    listed = {action: key for key, action in window.shortcuts()}
    for action in ("Measure mode", "Sign timepoint...", "Undo", "Next lesion"):
        assert listed[action]
    assert listed["Absent (no viable tumour / enhancement)"] == "A"


def test_first_image_shows_before_the_volume_is_complete(
    qtbot: QtBot, window: MainWindow
) -> None:
    series = window.browser.chosen_series("S01", 1)
    assert series is not None
    view = window.current_view
    window.desk.choose_series("S01", 1, series.series_instance_uid)
    assert view.viewer.stack is not None  # shown at once, from the loader
    assert view.viewer.image.image is not None
    qtbot.waitUntil(lambda: view.volume is not None, timeout=10000)
    assert not window.progress.isVisible()


def test_cancel_stops_loading_and_keeps_what_is_shown(
    qtbot: QtBot, window: MainWindow
) -> None:
    series = window.browser.chosen_series("S01", 1)
    assert series is not None
    view = window.current_view
    window.desk.choose_series("S01", 1, series.series_instance_uid)
    window.cancel_loading()
    assert not view.is_loading()
    assert view.viewer.stack is not None
    assert "cancelled" in window.statusBar().currentMessage()


def test_click_outside_any_lesion_explains_in_the_status_bar(
    window: MainWindow, error_messages: list[tuple[str, str, bool]]
) -> None:
    window.baseline_view.viewer.point_clicked.emit((float(CENTRE), 3.0, 60.0))
    assert window.desk.proposal is None
    assert "draw the caliper instead" in window.statusBar().currentMessage()
    assert error_messages == []


def test_keys_scroll_the_image_right_after_opening(
    qtbot: QtBot, window: MainWindow
) -> None:
    viewer = window.baseline_view.viewer
    assert QApplication.focusWidget() is viewer
    before = float(viewer.slice_centre_mm()[2])
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)
    assert float(viewer.slice_centre_mm()[2]) == pytest.approx(before - 2.5)  # feet


def test_dropping_a_folder_opens_it(
    qtbot: QtBot, window: MainWindow, study: Path
) -> None:
    window.set_worklist(())  # nothing open before the drop
    assert window.subjects == ()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(study))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    qtbot.waitUntil(lambda: bool(window.subjects), timeout=10000)
    assert window.subjects[0].subject_id == "S01"


def test_help_lists_the_shortcuts(qtbot: QtBot, window: MainWindow) -> None:
    seen: list[int] = []

    def look(widget: QWidget) -> None:
        assert isinstance(widget, ShortcutsDialog)
        table = widget.findChild(QTableWidget)
        assert table is not None
        seen.append(table.rowCount())
        widget.accept()

    answer_next_dialog(look)
    window._actions["shortcuts"].trigger()
    assert seen == [len(window.shortcuts())]
    names = [name for _keys, name in window.shortcuts()]
    assert "Show lesions & response" in names  # "&&" is a literal "&" in a menu
    assert not any("&&" in name or "  " in name for name in names)


def test_quitting_right_after_choosing_a_subject_opens_no_read_and_no_error(
    qtbot: QtBot,
    window: MainWindow,
    tmp_path: Path,
    error_messages: list[tuple[str, str, bool]],
) -> None:
    other = MainWindow(replace(window.context, db_url=f"sqlite:///{tmp_path}/o.db"))
    other.show()
    other.set_worklist(window.subjects)  # the read opens 50 ms later
    other.close()  # the reader quits at once: the application deletes its window
    other.shutdown()
    other.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qtbot.wait(300)
    assert error_messages == []


def test_an_export_never_replaces_an_earlier_one_unasked(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    folder = tmp_path / "export"
    folder.mkdir()
    earlier = folder / "measurements.csv"
    earlier.write_text("another subject's export\n")
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(folder)
    )
    answer_next_dialog(click_button("Cancel"))
    window.ask_export()
    assert earlier.read_text() == "another subject's export\n"
    assert not (folder / "responses.csv").exists()
    assert "nothing written" in window.statusBar().currentMessage()

    answer_next_dialog(click_button("Replace"))
    window.ask_export()
    assert earlier.read_text().startswith("schema_version,")
    assert (folder / "responses.csv").exists()


def test_the_worklist_follows_the_timepoint_being_read(
    qtbot: QtBot, window: MainWindow
) -> None:
    window._actions["nextTimepoint"].trigger()
    qtbot.waitUntil(lambda: window.current_index == 1, timeout=5000)
    current = window.browser.currentItem()
    assert current is not None
    assert current.text(0).startswith("Arterial")
    assert current.parent() is not None
    assert current.parent().text(0).startswith("FU1")
