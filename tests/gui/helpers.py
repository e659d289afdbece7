"""Helpers for GUI tests: answering modal dialogs headlessly (QTimer.singleShot)."""

from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QDialogButtonBox,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QGraphicsView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QStatusBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import NewLesionStatus, Organ, ReadType
from mrecist_reader.resources import load_profile
from mrecist_reader.ui.dialogs import LesionDialog
from mrecist_reader.ui.main_window import MainWindow, ReaderContext

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


_answers = {"test": 0, "unanswered": 0}
"""Which test schedules answers, and how many of its answers found no dialog yet."""


def answer_next_dialog(handle: Callable[[QWidget], None]) -> None:
    """Answer the next modal dialog of this test as soon as it opens.

    An answer whose dialog never opens stops at the end of its test
    (:func:`forget_unanswered_dialogs`): polling on, it would answer a later test's
    first dialog with the wrong handler.
    """
    test = _answers["test"]
    _answers["unanswered"] += 1

    def attempt() -> None:
        if _answers["test"] != test:
            return
        widget = QApplication.activeModalWidget()
        if widget is None:
            QTimer.singleShot(10, attempt)
            return
        _answers["unanswered"] -= 1
        handle(widget)

    QTimer.singleShot(0, attempt)


def forget_unanswered_dialogs() -> int:
    """End this test's answers that found no dialog; return how many there were."""
    unanswered = _answers["unanswered"]
    _answers["test"] += 1
    _answers["unanswered"] = 0
    return unanswered


def fill_lesion_dialog(
    organ: Organ = Organ.LIVER,
    location: str = "segment VII",
    new_status: NewLesionStatus | None = None,
) -> Callable[[QWidget], None]:
    """Return a handler choosing organ, location (and status) in the lesion dialog.

    It presses Add as a reader would: a new lesion without a status cannot be added.
    """

    def handle(widget: QWidget) -> None:
        assert isinstance(widget, LesionDialog), widget
        widget.organ_combo.setCurrentIndex(widget.organ_combo.findData(organ))
        widget.location_combo.setCurrentText(location)
        if new_status is not None:
            combo = widget.status_combo
            combo.setCurrentIndex(combo.findData(new_status))
        add = widget.findChild(QDialogButtonBox).button(
            QDialogButtonBox.StandardButton.Ok
        )
        if add.isEnabled():
            add.click()
        else:
            widget.reject()

    return handle


def click_button(text: str) -> Callable[[QWidget], None]:
    """Return a handler clicking the message box button whose text starts with ``text``."""

    def handle(widget: QWidget) -> None:
        assert isinstance(widget, QMessageBox), widget
        for button in widget.buttons():
            if button.text().startswith(text):
                button.click()
                return
        raise AssertionError(f"no button {text!r} in {widget.objectName()}")

    return handle


def save_screenshot(widget: QWidget, name: str) -> Path:
    """Save ``widget.grab()`` as ``screenshots/<name>.png`` (gitignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    widget.grab().save(str(path))
    return path


def _item_view_texts(view: QAbstractItemView) -> list[str]:
    model = view.model()
    if model is None:
        return []
    texts: list[str] = []
    pending = [QModelIndex()]
    while pending:
        parent = pending.pop()
        for row in range(model.rowCount(parent)):
            for column in range(model.columnCount(parent)):
                index = model.index(row, column, parent)
                for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                    texts.append(str(model.data(index, role) or ""))
            pending.append(model.index(row, 0, parent))
    for column in range(model.columnCount()):
        texts.append(str(model.headerData(column, Qt.Orientation.Horizontal) or ""))
    return texts


def _scene_texts(view: QGraphicsView) -> list[str]:
    scene = view.scene()
    if scene is None:
        return []
    texts: list[str] = []
    for item in scene.items():
        if isinstance(item, QGraphicsTextItem):
            texts.append(item.toPlainText())
        elif isinstance(item, QGraphicsSimpleTextItem):
            texts.append(item.text())
    return texts


def _widget_texts(widget: QWidget) -> list[str]:
    texts = [widget.windowTitle(), widget.toolTip(), widget.statusTip()]
    if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
        texts.append(widget.text())
    if isinstance(widget, QPlainTextEdit):
        texts.append(widget.toPlainText())
    if isinstance(widget, QStatusBar):
        texts.append(widget.currentMessage())
    if isinstance(widget, QAbstractItemView):
        texts.extend(_item_view_texts(widget))
    if isinstance(widget, QGraphicsView):
        texts.extend(_scene_texts(widget))
    texts.extend(action.text() for action in widget.actions())
    return texts


def all_texts(root: QWidget) -> list[str]:
    """Return every text a window shows: titles, labels, buttons, items, overlays."""
    texts: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        texts.extend(_widget_texts(widget))
    for axis_owner in root.findChildren(QGraphicsView):
        for item in axis_owner.items():
            if isinstance(item, pg.AxisItem) and item._tickLevels is not None:
                texts.extend(
                    str(label) for level in item._tickLevels for _, label in level
                )
    return [text for text in texts if text]


def central_read_window(
    qtbot: QtBot, db_path: Path, *, reader_id: str, size: tuple[int, int]
) -> MainWindow:
    """Show a main window for a central read of profile nct06779461 on ``db_path``."""
    context = ReaderContext(
        reader_id=reader_id,
        read_type=ReadType.CENTRAL,
        profile=load_profile("nct06779461"),
        db_url=f"sqlite:///{db_path}",
    )
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.resize(*size)
    main.show()
    return main


def wait_until_ready(qtbot: QtBot, main: MainWindow, timeout_ms: int = 10000) -> None:
    """Wait until the read is open and the baseline volume is loaded."""
    qtbot.waitUntil(
        lambda: main.baseline_view.volume is not None and main.session is not None,
        timeout=timeout_ms,
    )
