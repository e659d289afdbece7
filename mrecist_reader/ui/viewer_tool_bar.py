"""The slice viewer's tool bar: the Measure and ROI buttons and what the mouse does now.

Measure mode is never a hidden toggle: the tool bar has a checkable *Measure* button
(and *ROI* beside it) and a hint saying which mode is on, elided to the room it gets
(the full text is its tooltip). The viewer owns the modes; the tool bar only shows
them (:meth:`ViewerToolBar.show_mode`) and reports a button's toggle.
"""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton

from mrecist_reader.ui.theme import ACCENT, MUTED, PANEL

PAN_HINT = "Drag pans  ·  M: measure"
MEASURE_HINT = "Measuring: drag draws, click proposes  ·  Esc: stop"
MODE_TIPS = {
    False: "Pan mode: a left drag moves the image. M (or the Measure button) enters "
    "measure mode.",
    True: "Measure mode: a drag draws a caliper, a click on a lesion proposes one "
    "(Enter accepts it). Shift+drag pans. Esc (or the Measure button) leaves it.",
}
ROI_HINT = "ROI: drag draws an ellipse, drag it to move  ·  Del removes  ·  Esc: stop"
ROI_TIP = (
    "ROI mode: a drag draws an ellipse; its mean, SD, min, max and area on the shown "
    "slice are written under it. Drag an ROI to move it, its handles to resize it; "
    "Delete removes the selected one. O enters ROI mode, Esc leaves it."
)
BUTTON_STYLE = (
    "QToolButton { border: 1px solid #4a525e; border-radius: 3px;"
    " padding: 3px 8px; }"
    f" QToolButton:checked {{ background: {ACCENT}; color: #000000;"
    f" border-color: {ACCENT}; font-weight: bold; }}"
)
HINT_ROOM_PX = 16
"""Room kept free beside the hint (px), so it never touches the tool bar's edge."""


def mode_text(*, measuring: bool, roi: bool) -> str:
    """Return the full hint of a mode (ROI mode wins: it leaves measure mode).

    >>> mode_text(measuring=False, roi=False)
    'Drag pans  ·  M: measure'
    """
    if roi:
        return ROI_HINT
    return MEASURE_HINT if measuring else PAN_HINT


class ViewerToolBar(QFrame):
    """The Measure (M) and ROI (O) buttons and the mode's hint."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("viewerToolBar")
        self.setStyleSheet(f"QFrame#viewerToolBar {{ background: {PANEL}; }}")
        row = QHBoxLayout(self)
        row.setContentsMargins(2, 2, 2, 2)
        row.setSpacing(0)
        self.measure_button = self._button(
            "measureButton",
            "Measure (M)",
            "Measure mode: drag draws a caliper, a click proposes one. "
            "M enters it, Esc leaves it.",
        )
        self.roi_button = self._button("roiButton", "ROI (O)", ROI_TIP)
        row.addWidget(self.measure_button)
        row.addWidget(self.roi_button)
        self.mode_hint = QLabel()
        self.mode_hint.setObjectName("modeHint")
        self.mode_hint.setContentsMargins(8, 0, 4, 0)
        self.mode_hint.setSizePolicy(
            QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred
        )
        row.addWidget(self.mode_hint, stretch=1)
        self.status = QLabel()  # the reading tools on: cine, magnifier, inverted...
        self.status.setObjectName("toolStatus")
        self.status.setContentsMargins(4, 0, 6, 0)
        self.status.setStyleSheet(f"color: {ACCENT};")
        row.addWidget(self.status)
        self.text = PAN_HINT
        self.pan_hint = PAN_HINT
        """What the hint says out of measure and ROI mode (a reformat pane's differs)."""

    @staticmethod
    def _button(name: str, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setText(text)
        button.setCheckable(True)
        # the keyboard's way is M / O / Esc: the image keeps the focus (arrows scroll)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip(tip)
        button.setStyleSheet(BUTTON_STYLE)
        return button

    def show_mode(self, *, measuring: bool, roi: bool) -> None:
        """Check the mode's button (no toggle signal) and show its hint."""
        for button, on in ((self.measure_button, measuring), (self.roi_button, roi)):
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
        active = measuring or roi
        self.text = mode_text(measuring=measuring, roi=roi) if active else self.pan_hint
        self.fit_hint()
        self.mode_hint.setToolTip(ROI_TIP if roi else MODE_TIPS[measuring])
        self.mode_hint.setStyleSheet(
            f"color: {ACCENT}; font-weight: bold;" if active else f"color: {MUTED};"
        )

    def show_status(self, text: str) -> None:
        """Say which reading tools are on ("Cine 10 fps  ·  Inverted"; "": none)."""
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.fit_hint()

    def fit_hint(self) -> None:
        """Show the mode's hint, elided to the tool bar's room (full text as tooltip)."""
        margins = self.mode_hint.contentsMargins()
        room = (
            self.width()
            - self.measure_button.sizeHint().width()
            - self.roi_button.sizeHint().width()
            - (self.status.sizeHint().width() if self.status.text() else 0)
            - margins.left()
            - margins.right()
            - HINT_ROOM_PX
        )
        if not self.isVisible() or room <= 0:
            self.mode_hint.setText(self.text)
            return
        metrics = self.mode_hint.fontMetrics()
        self.mode_hint.setText(
            metrics.elidedText(self.text, Qt.TextElideMode.ElideRight, room)
        )
