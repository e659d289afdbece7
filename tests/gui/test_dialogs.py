"""Dialogs where the rules need the reader's decision (closed with QTimer)."""

from PySide6.QtWidgets import QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import LesionType, NewLesionStatus, Organ, ReadType
from mrecist_reader.ui import dialogs
from tests.gui.helpers import answer_next_dialog, click_button, fill_lesion_dialog


def test_reader_identity_needs_a_reader_id(qtbot: QtBot) -> None:
    dialog = dialogs.ReaderIdentityDialog()
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.reader_edit.setText(" R04 ")
    assert ok.isEnabled()
    assert dialog.answer() == ("R04", ReadType.CENTRAL)


def test_lesion_dialog_offers_liver_segments(qtbot: QtBot) -> None:
    answer_next_dialog(fill_lesion_dialog(Organ.LIVER, "segment VIII"))
    answer = dialogs.ask_lesion(None, types=(LesionType.NON_TARGET,))
    assert answer == dialogs.LesionAnswer(
        LesionType.NON_TARGET, Organ.LIVER, "segment VIII"
    )
    assert "segment IVa" in dialogs.LIVER_SEGMENTS


def test_a_new_lesion_is_added_only_with_a_status_the_reader_chose(
    qtbot: QtBot,
) -> None:
    dialog = dialogs.LesionDialog(types=(LesionType.NEW,), default_type=LesionType.NEW)
    qtbot.addWidget(dialog)
    add = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    assert not add.isEnabled()  # no default: unequivocal would make progression
    dialog.status_combo.setCurrentIndex(
        dialog.status_combo.findData(NewLesionStatus.PRESENT)
    )
    assert add.isEnabled()
    assert dialog.answer().new_status is NewLesionStatus.PRESENT


def test_the_lesion_dialog_shows_the_caliper_just_drawn(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLabel

    dialog = dialogs.LesionDialog(types=(LesionType.TARGET,), caliper_mm=58.94)
    qtbot.addWidget(dialog)
    assert "58.9 mm" in [label.text() for label in dialog.findChildren(QLabel)]
    hidden = dialogs.LesionDialog(types=(LesionType.NEW,), default_type=LesionType.NEW)
    qtbot.addWidget(hidden)
    hidden.status_combo.setCurrentIndex(1)
    ok = hidden.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled()  # the status row is still the one that enables Add


def test_a_target_needs_no_new_lesion_status(qtbot: QtBot) -> None:
    dialog = dialogs.LesionDialog(types=(LesionType.TARGET,))
    qtbot.addWidget(dialog)
    dialog.location_combo.setCurrentText("segment VII")  # a target needs a location
    add = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    assert add.isEnabled()
    assert dialog.answer().new_status is None


def test_out_of_range_target_offers_non_target(qtbot: QtBot) -> None:
    message = "T3 is 24.0 mm at baseline; targets must be 30.0-100.0 mm"
    seen: list[str] = []

    def answer(widget: QWidget) -> None:
        seen.append(widget.text())  # type: ignore[attr-defined]
        click_button("Record as non-target")(widget)

    answer_next_dialog(answer)
    assert dialogs.ask_record_as_non_target(None, message) is True
    assert seen == [message]


def test_out_of_range_target_can_be_cancelled(qtbot: QtBot) -> None:
    answer_next_dialog(click_button("Cancel"))
    assert dialogs.ask_record_as_non_target(None, "too small") is False


def test_fluid_progression_asks_for_cytology(qtbot: QtBot) -> None:
    answer_next_dialog(click_button("Confirmed"))
    assert dialogs.ask_cytology_confirmed(None, "NT2 (ascites)") is True
    answer_next_dialog(click_button("Not confirmed"))
    assert dialogs.ask_cytology_confirmed(None, "NT2 (ascites)") is False
    answer_next_dialog(click_button("Cancel"))
    assert dialogs.ask_cytology_confirmed(None, "NT2 (ascites)") is None


def test_sign_needs_confirmation(qtbot: QtBot) -> None:
    answer_next_dialog(click_button("Sign FU1"))
    assert dialogs.ask_sign(None, "FU1", "overall PR") is True
    answer_next_dialog(click_button("Cancel"))
    assert dialogs.ask_sign(None, "FU1", "overall PR") is False


def test_amend_requires_a_reason(qtbot: QtBot) -> None:
    def answer(widget: QWidget) -> None:
        assert isinstance(widget, dialogs.AmendDialog)
        ok = widget.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert not ok.isEnabled()
        widget.reason.setPlainText("T2 measured on the wrong slice")
        assert ok.isEnabled()
        ok.click()

    answer_next_dialog(answer)
    assert dialogs.ask_amend_reason(None, "FU1") == "T2 measured on the wrong slice"


def test_amend_names_the_later_signed_timepoints_it_reopens(qtbot: QtBot) -> None:
    shown: list[str] = []

    def answer(widget: QWidget) -> None:
        assert isinstance(widget, dialogs.AmendDialog)
        assert widget.reopened_label.isVisibleTo(widget)
        shown.append(widget.reopened_label.text())
        widget.reason.setPlainText("remeasure")
        widget.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    answer_next_dialog(answer)
    assert dialogs.ask_amend_reason(None, "FU1", reopened=("FU2",)) == "remeasure"
    answer_next_dialog(answer)
    assert dialogs.ask_amend_reason(None, "FU1", reopened=("FU2", "FU3")) == "remeasure"
    assert shown == [
        "FU2 is signed and depends on FU1: it will be reopened and must be signed "
        "again.",
        "FU2, FU3 are signed and depend on FU1: they will be reopened and must be "
        "signed again.",
    ]


def test_amend_without_later_signed_timepoints_shows_no_warning(qtbot: QtBot) -> None:
    dialog = dialogs.AmendDialog(None, "FU2", reopened=())
    qtbot.addWidget(dialog)
    assert not dialog.reopened_label.isVisibleTo(dialog)
