"""Where the read stands, shown: window title, status-bar label, worklist states, gaps.

Blinding: only the subject ID, timepoint labels and study days are shown.
"""

import logging

from PySide6.QtWidgets import QMainWindow

from mrecist_reader.core.model import Read, ReadStatus
from mrecist_reader.core.wording import word
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.ui.series_browser import day_text, timepoint_state
from mrecist_reader.ui.window_layout import WindowParts

logger = logging.getLogger(__name__)

APP_TITLE = "mrecist_reader"
WAITING_FOR_IMPORT = (
    "Waiting for another program's import to finish: your change is kept and saved "
    "as soon as it ends"
)


class ReadStatusView:
    """Shows how far the read is: title, status label, worklist states, what is missing."""

    def __init__(
        self, window: QMainWindow, desk: ReadingDesk, parts: WindowParts
    ) -> None:
        self.window = window
        self.desk = desk
        self.parts = parts
        self._stored_states_shown = False
        desk.waiting_for_writer.connect(self.show_waiting)

    def show_waiting(self, waiting: bool) -> None:
        """Say that a save waits for another program's import (painted at once)."""
        bar = self.window.statusBar()
        if waiting:
            bar.showMessage(WAITING_FOR_IMPORT)
        elif bar.currentMessage() == WAITING_FOR_IMPORT:
            bar.clearMessage()
        bar.repaint()  # the save waits on this thread: no event loop turns meanwhile

    def forget_stored_states(self) -> None:
        """Show the stored states again once the next read opens (a new worklist)."""
        self._stored_states_shown = False

    def refresh_statuses(self) -> None:
        """Show each timepoint's state in the worklist (all stored reads the first time)."""
        session = self.desk.session
        if session is None:
            return
        if not self._stored_states_shown:  # once the database is open
            self._stored_states_shown = True
            self._show_stored_states()
        self._show_states(session.read)

    def _show_states(self, read: Read) -> None:
        states = {tp.index: timepoint_state(read, tp.index) for tp in read.timepoints}
        self.parts.browser.set_read_statuses(read.key.subject_id, states)

    def _show_stored_states(self) -> None:
        """Show in the worklist how far this reader got with every listed subject."""
        from mrecist_reader.desk.worklist import stored_reads_of

        context = self.desk.context
        reads = stored_reads_of(
            self.desk.repository(),
            self.desk.worklist,
            context.reader_id,
            context.read_type,
        )
        for read in reads:
            self._show_states(read)

    def show_missing(self) -> None:
        """List under the lesions what keeps the current timepoint from being signed."""
        label = self.parts.missing_label
        missing = () if self.desk.session is None else self.desk.missing()
        label.setVisible(bool(missing))
        lines = "\n".join(f"• {item}" for item in missing)
        label.setText(f"Missing before signing:\n{lines}" if missing else "")

    def update_title(self) -> None:
        """Title: application, subject, timepoint and study day, read type and reader."""
        parts = [APP_TITLE]
        subject = self.desk.subject
        if subject is not None:
            timepoint = self.desk.timepoint_entry()
            label = "" if timepoint is None else f"{timepoint.label}"
            day = "" if timepoint is None else day_text(timepoint.study_day)
            parts.append(f"Subject {subject.subject_id}")
            parts.append(f"{label} {day}".strip())
        context = self.desk.context
        parts.append(f"{word(context.read_type)} read, reader {context.reader_id}")
        if self.desk.is_read_only:
            parts.append("read-only: fails verification")
        self.window.setWindowTitle("  —  ".join(p for p in parts if p))

    def update_read_label(self) -> None:
        """Status bar: the current timepoint's state (read-only once signed), profile."""
        label = self.parts.read_label
        session = self.desk.session
        if session is None:
            label.setText("")
            return
        index = self.desk.timepoint_index
        timepoint = session.read.timepoint(index)
        if timepoint is None:
            return
        state = timepoint_state(session.read, index)
        if timepoint.read_status is ReadStatus.SIGNED:
            state += " (read-only)"
        text = f"{timepoint.label} {state} · {self.desk.context.profile.name}"
        if self.desk.is_read_only:
            text += " · database read-only (fails verification)"
        label.setText(text)
