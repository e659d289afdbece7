"""The reading-room theme: applied once, never re-applied over open windows."""

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from mrecist_reader.ui.theme import BACKGROUND, apply_theme


class _StyleChanges(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.StyleChange:
            self.count += 1
        return False


def test_the_theme_is_dark(qapp: QApplication) -> None:
    apply_theme(qapp)
    assert qapp.palette().window().color().name() == BACKGROUND
    assert qapp.font().pointSize() == 10


def test_applying_the_theme_again_does_not_restyle_open_windows(
    qtbot: QtBot, qapp: QApplication
) -> None:
    apply_theme(qapp)
    label = QLabel("viable diameter")
    qtbot.addWidget(label)
    label.show()
    changes = _StyleChanges()
    label.installEventFilter(changes)

    apply_theme(qapp)

    assert changes.count == 0
