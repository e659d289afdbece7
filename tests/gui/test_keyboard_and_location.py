"""The lesion dialog from the keyboard: a target needs its location; focus is visible."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QPushButton
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import LesionType, NewLesionStatus
from mrecist_reader.ui import dialogs
from mrecist_reader.ui.theme import FOCUS, apply_theme
from tests.gui.shots import save_screenshot


def _add_button(dialog: dialogs.LesionDialog) -> QPushButton:
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    return box.button(QDialogButtonBox.StandardButton.Ok)


def _open(qtbot: QtBot, dialog: dialogs.LesionDialog) -> None:
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)


def test_tab_tab_tab_space_does_not_add_a_target_without_location(
    qtbot: QtBot,
) -> None:
    dialog = dialogs.LesionDialog(types=tuple(LesionType))
    _open(qtbot, dialog)
    accepted: list[int] = []
    dialog.accepted.connect(lambda: accepted.append(1))
    add = _add_button(dialog)
    reached = []
    for _ in range(8):  # round the whole focus chain
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.append(QApplication.focusWidget())
    assert add not in reached  # Tab never lands on Add while it cannot add
    qtbot.keyClick(add, Qt.Key.Key_Space)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # the default button
    assert accepted == []
    assert dialog.isVisible()
    assert not _add_button(dialog).isEnabled()
    assert dialog.hint.isVisible()
    assert "location" in dialog.hint.text()
    save_screenshot(dialog, "lesion_dialog_location_required")


def test_typing_the_location_enables_add_and_hides_the_hint(qtbot: QtBot) -> None:
    dialog = dialogs.LesionDialog(types=(LesionType.TARGET,))
    _open(qtbot, dialog)
    assert QApplication.focusWidget() in (
        dialog.location_combo,
        dialog.location_combo.lineEdit(),
    )  # the dialog opens where the reader must type
    qtbot.keyClicks(QApplication.focusWidget(), "segment VII")
    assert _add_button(dialog).isEnabled()
    assert not dialog.hint.isVisible()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert dialog.result() == dialogs.QDialog.DialogCode.Accepted
    assert dialog.answer().location == "segment VII"


def test_a_blank_location_is_no_location(qtbot: QtBot) -> None:
    dialog = dialogs.LesionDialog(types=(LesionType.TARGET,))
    qtbot.addWidget(dialog)
    dialog.location_combo.setCurrentText("   ")
    assert not _add_button(dialog).isEnabled()


def test_non_targets_and_new_lesions_may_have_no_location(qtbot: QtBot) -> None:
    dialog = dialogs.LesionDialog(
        types=(LesionType.NON_TARGET, LesionType.NEW),
        default_type=LesionType.NON_TARGET,
    )
    qtbot.addWidget(dialog)
    assert _add_button(dialog).isEnabled()
    dialog.type_combo.setCurrentIndex(dialog.type_combo.findData(LesionType.NEW))
    assert not _add_button(dialog).isEnabled()  # the status is still needed
    assert "status" in dialog.hint.text()
    status = dialog.status_combo
    status.setCurrentIndex(status.findData(NewLesionStatus.EQUIVOCAL))
    assert _add_button(dialog).isEnabled()


def _has_colour(image: QImage, colour: str) -> bool:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), dtype=np.uint8, count=width * height * 4)
    bgr = pixels.reshape(height, width, 4)[:, :, :3].astype(int)
    target = QColor(colour)
    wanted = np.array([target.blue(), target.green(), target.red()])
    return bool((np.abs(bgr - wanted).max(axis=2) <= 12).any())


def test_keyboard_focus_is_drawn_as_a_ring(qtbot: QtBot, qapp: QApplication) -> None:
    apply_theme(qapp)
    dialog = dialogs.LesionDialog(types=(LesionType.TARGET,))
    dialog.location_combo.setCurrentText("segment VII")
    _open(qtbot, dialog)
    add = _add_button(dialog)
    cancel = dialog.findChild(QDialogButtonBox).button(
        QDialogButtonBox.StandardButton.Cancel
    )
    cancel.setFocus()
    qtbot.waitUntil(cancel.hasFocus)
    assert not _has_colour(add.grab().toImage(), FOCUS)
    add.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(add.hasFocus)
    assert _has_colour(add.grab().toImage(), FOCUS)
    dialog.location_combo.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: not add.hasFocus())
    assert _has_colour(dialog.location_combo.grab().toImage(), FOCUS)
    save_screenshot(dialog, "lesion_dialog_focus_ring")


def test_a_focused_table_is_outlined(qtbot: QtBot, qapp: QApplication) -> None:
    from PySide6.QtWidgets import QLineEdit, QTableWidget, QVBoxLayout, QWidget

    apply_theme(qapp)
    host = QWidget()
    layout = QVBoxLayout(host)
    field = QLineEdit()
    table = QTableWidget(3, 3)
    layout.addWidget(field)
    layout.addWidget(table)
    qtbot.addWidget(host)
    host.show()
    host.activateWindow()
    qtbot.waitUntil(host.isActiveWindow)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    assert not _has_colour(table.grab().toImage(), FOCUS)
    qtbot.keyClick(field, Qt.Key.Key_Tab)
    qtbot.waitUntil(table.hasFocus)
    assert _has_colour(table.grab().toImage(), FOCUS)
    save_screenshot(host, "table_focus_ring")
