"""Single-key shortcuts that give way to typing.

The reading shortcuts are single keys (A S E P G Q status keys, M, W, N, L, 1-4, Return,
Esc, Del...) so that a reader keeps one hand on the mouse. They must not fire while the
reader types: in a text field, a combo box (keyboard selection) or the worklist (its
keyboard search). :class:`TypingGuard` is an application event filter that lets the
focused widget claim such keys first (Qt's ``ShortcutOverride``); shortcuts with Ctrl,
Alt or Meta and the function keys always work.
"""

import logging

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

logger = logging.getLogger(__name__)

TYPING_WIDGETS: tuple[type[QWidget], ...] = (
    QLineEdit,
    QTextEdit,
    QPlainTextEdit,
    QAbstractSpinBox,
    QComboBox,
    QAbstractItemView,
)
"""Widgets that use plain keys themselves (typing, keyboard search, selection)."""

_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


def is_typing_widget(widget: QWidget | None) -> bool:
    """Return whether ``widget`` (or the widget it edits inside) takes plain keys."""
    while widget is not None:
        if isinstance(widget, TYPING_WIDGETS):
            return True
        proxy = widget.focusProxy()
        if proxy is None or proxy is widget:
            return False
        widget = proxy
    return False


def is_plain_key(event: QKeyEvent) -> bool:
    """Return whether a key press is one a focused input may need (no Ctrl/Alt/Meta).

    Function keys (F1...) are never needed by inputs and stay shortcuts.
    """
    if event.modifiers() & _COMMAND_MODIFIERS:
        return False
    return not Qt.Key.Key_F1.value <= event.key() <= Qt.Key.Key_F35.value


class TypingGuard(QObject):
    """Application event filter: plain keys go to a focused input, not to shortcuts.

    Parameters
    ----------
    window
        Only inputs inside this window are guarded (a modal dialog blocks the
        window's shortcuts anyway).

    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: D102
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        focus = QApplication.focusWidget()
        if watched is not focus or not isinstance(event, QKeyEvent):
            return False
        if focus.window() is not self._window:
            return False
        if is_typing_widget(focus) and is_plain_key(event):
            event.accept()  # the key goes to the input as an ordinary key press
            return True
        return False


def install_typing_guard(window: QWidget) -> TypingGuard:
    """Install a :class:`TypingGuard` for ``window`` on the application; return it."""
    guard = TypingGuard(window)
    app = QApplication.instance()
    if app is not None:
        app.installEventFilter(guard)
    return guard
