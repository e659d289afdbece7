"""Single-key shortcuts that give way to typing.

The reading shortcuts are single keys (A S E P G Q status keys, M, W, N, L, 1-4, Return,
Esc, Del...) so that a reader keeps one hand on the mouse. They must not fire while the
reader types: in a text field, a combo box (keyboard selection) or the worklist (its
keyboard search). The main window lets the focused input claim such keys first (Qt's
``ShortcutOverride``, see :func:`input_claims_key`); shortcuts with Ctrl, Alt or Meta and
the function keys always work.
"""

import logging
from types import MappingProxyType

from PySide6.QtCore import QEvent, Qt
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

VIEWER_TOOL_KEYS = MappingProxyType(
    {
        "cine": "C",
        "cineSlower": "[",
        "cineFaster": "]",
        "magnifier": "Z",
        "invert": "I",
        "toggleText": "T",
        "toggleAnnotations": "Shift+T",
    }
)
"""The viewer tools' keys, by action name: the one place they are chosen (the View
menu binds them; Help > Shortcuts lists them). The reader's window presets take 5-9
(:data:`mrecist_reader.desk.window_presets.PRESET_KEYS`)."""

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


def input_claims_key(event: QEvent) -> bool:
    """Return whether a ``ShortcutOverride`` key belongs to the focused input.

    Called by the main window for the ``ShortcutOverride`` events that reach it (Qt
    sends them to the focused widget, then to its parents); accepting the event sends
    the key to the input as an ordinary key press instead of firing a shortcut.
    """
    if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
        return False
    return is_typing_widget(QApplication.focusWidget()) and is_plain_key(event)
