"""The reading-room look: a dark Fusion palette, readable fonts, few colours.

Colours carry meaning only where the reader needs it: responses (PD red, PR/CR green),
signed timepoints (grey), warnings (amber).
"""

import logging

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

logger = logging.getLogger(__name__)

BACKGROUND = "#1b1e23"
PANEL = "#23272e"
TEXT = "#e6e6e6"
MUTED = "#9aa3ad"
ACCENT = "#4dd2ff"
WARNING = "#ffb74d"
PROGRESSION = "#ff6b6b"
RESPONSE = "#7ddc7a"
FOCUS = ACCENT
"""The keyboard focus ring's colour."""
FOCUS_WIDTH = 2

RESPONSE_COLOURS = {
    "CR": RESPONSE,
    "PR": RESPONSE,
    "SD": TEXT,
    "IR_SD": TEXT,
    "PD": PROGRESSION,
    "NE": WARNING,
    "NA": MUTED,
}
"""Text colour of a response token."""

_STYLE = f"""
QWidget {{ font-size: 10pt; }}
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QToolBar {{ background: {PANEL}; border: none; spacing: 4px; padding: 2px; }}
QToolButton {{ padding: 4px 8px; border-radius: 3px; }}
QToolButton:checked {{ background: #2f4f5f; }}
QTableView, QTreeView {{ background: {PANEL}; alternate-background-color: #272c34;
    gridline-color: #333a44; selection-background-color: #2f5f73;
    border: {FOCUS_WIDTH}px solid {BACKGROUND}; }}
QHeaderView::section {{ background: #2a2f37; color: {MUTED}; padding: 4px;
    border: none; border-right: 1px solid #333a44; }}
QStatusBar {{ background: {PANEL}; color: {MUTED}; }}
QSplitter::handle {{ background: #2a2f37; }}
QLabel#sectionTitle {{ color: {MUTED}; font-weight: bold; padding: 4px 2px; }}
QLabel#bigResponse {{ font-size: 15pt; font-weight: bold; }}
QPushButton {{ padding: 5px 12px; background: #2a2f37; border: 1px solid #3d444f;
    border-radius: 3px; }}
QPushButton:hover {{ background: #323842; }}
QPushButton:pressed, QPushButton:checked {{ background: #2f4f5f; }}
QPushButton:default {{ border-color: #5c6673; }}
QPushButton:disabled {{ color: #666c75; border-color: #30363f; }}
QPushButton:focus, QToolButton:focus, QRadioButton:focus, QCheckBox:focus {{
    border: {FOCUS_WIDTH}px solid {FOCUS}; }}
QPushButton:focus {{ padding: 4px 11px; }}
QLineEdit, QComboBox, QPlainTextEdit, QSpinBox {{ border: 1px solid #3d444f;
    border-radius: 2px; padding: 2px 4px; background: {PANEL}; }}
QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus, QSpinBox:focus {{
    border: {FOCUS_WIDTH}px solid {FOCUS}; padding: 1px 3px; }}
QTableView:focus, QTreeView:focus {{ border-color: {FOCUS}; }}
"""
"""Keyboard focus is always visible: a bright ring on the focused button, field or
table (the reader can see where Tab, Space and Enter go)."""


def dark_palette() -> QPalette:
    """Return the dark palette of the application."""
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: BACKGROUND,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: PANEL,
        QPalette.ColorRole.AlternateBase: "#272c34",
        QPalette.ColorRole.ToolTipBase: PANEL,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#2a2f37",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: PROGRESSION,
        QPalette.ColorRole.Highlight: "#2f5f73",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.PlaceholderText: MUTED,
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#666c75"))
    return palette


def apply_theme(app: QApplication) -> None:
    """Apply the dark reading-room theme to the whole application, once.

    Setting a style sheet re-polishes and re-lays out every widget that exists; doing it
    again while windows are open costs that work for nothing, so a second call with
    the theme already in place changes nothing.
    """
    if app.styleSheet() == _STYLE:  # set last below: the rest is in place too
        return
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    font = QFont(app.font())
    font.setPointSize(10)
    app.setFont(font)
    app.setStyleSheet(_STYLE)
