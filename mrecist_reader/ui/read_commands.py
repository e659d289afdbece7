"""The read's commands that ask first: sign, amend, delete, export, quit.

Each asks the reader what the desk or the session needs to know, then calls it; the
rules (what may be signed, what an export holds) are theirs.
"""

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import ReadStatus
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.session import ReadSession
from mrecist_reader.ui import dialogs
from mrecist_reader.ui.series_browser import timepoint_state

logger = logging.getLogger(__name__)


def ask_yes(parent: QWidget | None, title: str, text: str, yes: str) -> bool:
    """Ask a question whose default answer is No (Enter by habit changes nothing)."""
    box = QMessageBox(parent)
    box.setObjectName("confirmDialog")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(text)
    accept = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is accept


def ask_export_scope(
    parent: QWidget | None, subject_id: str, others: int
) -> bool | None:
    """Ask whether to export the open subject or every subject; ``True``: every one.

    ``None`` when the reader cancels.
    """
    box = QMessageBox(parent)
    box.setObjectName("exportScopeDialog")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Export CSV")
    box.setText("Which reads should the export hold?")
    box.setInformativeText(
        f"Your read of subject {subject_id}, or your reads of every subject in the "
        f"reads database ({others + 1} reads)."
    )
    one = box.addButton(f"Subject {subject_id}", QMessageBox.ButtonRole.AcceptRole)
    every = box.addButton("Every subject", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(one)
    box.exec()
    clicked = box.clickedButton()
    if clicked is one:
        return False
    return True if clicked is every else None


class ReadCommands:
    """Sign, amend, delete, export and quit, asking the reader first."""

    def __init__(
        self,
        parent: QWidget,
        desk: ReadingDesk,
        say: Callable[[str, int], None],
        sign_summary: Callable[[], str],
    ) -> None:
        self.parent = parent
        self.desk = desk
        self.say = say
        self.sign_summary = sign_summary

    def _session(self) -> ReadSession:
        if self.desk.session is None:
            raise MrecistError("open a study first")
        return self.desk.session

    def _label(self) -> str:
        entry = self.desk.timepoint_entry()
        return "" if entry is None else entry.label

    def ask_sign(self) -> None:
        """Sign the current timepoint after confirmation (it becomes read-only).

        Refused at once while a lesion known before it has no status there (the read
        panel lists them); while an earlier timepoint is a draft, the dialog says that
        they are signed together.
        """
        self._session()
        missing = self.desk.missing()
        if missing:
            raise MrecistError(
                f"{self._label()} cannot be signed yet: " + "; ".join(missing)
            )
        drafts = self.desk.earlier_drafts()
        summary = self.sign_summary()
        if drafts:
            verb = "is" if len(drafts) == 1 else "are"
            summary += (
                f"\n\n{', '.join(drafts)} {verb} still a draft and will be signed "
                f"together with {self._label()}."
            )
        if dialogs.ask_sign(self.parent, self._label(), summary):
            label = self.desk.sign(with_earlier_drafts=bool(drafts))
            self.say(f"{label} signed", 8000)

    def ask_amend(self) -> None:
        """Reopen the signed current timepoint, with a reason."""
        session = self._session()
        index = self.desk.timepoint_index
        timepoint = session.read.timepoint(index)
        if timepoint is None or timepoint.read_status is not ReadStatus.SIGNED:
            raise MrecistError("the current timepoint is not signed")
        reopened = session.timepoints_reopened_by_amending(index)
        reason = dialogs.ask_amend_reason(
            self.parent, timepoint.label, reopened=reopened
        )
        if reason:
            session.amend_timepoint(index, reason)

    def delete_lesion(self) -> None:
        """Delete the selected lesion (after confirmation)."""
        session = self._session()
        lesion_id = self.desk.selected_lesion
        if lesion_id is None:
            raise MrecistError("select a lesion first")
        session.check_editable(None, lesion_id)
        answer = QMessageBox.question(
            self.parent, "Delete lesion", f"Delete {lesion_id} and all its values?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            session.delete_lesion(lesion_id)

    def ask_export(self) -> None:
        """Export the open subject's read or every subject's, as the reader chooses."""
        from mrecist_reader.desk.export import existing_export_files

        session = self._session()
        others = len(self.desk.reads_to_export(every_subject=True)) - 1
        every = False
        if others:
            choice = ask_export_scope(self.parent, session.read.key.subject_id, others)
            if choice is None:
                return
            every = choice
        folder = QFileDialog.getExistingDirectory(self.parent, "Export CSV to folder")
        if not folder:
            return
        existing = existing_export_files(Path(folder))
        if existing and not dialogs.ask_replace_files(self.parent, existing):
            self.say("Export cancelled: nothing written", 5000)
            return
        result = self.desk.export(Path(folder), every_subject=every)
        self.say("; ".join(result.summary().splitlines()), 15000)

    def drafts(self) -> tuple[str, ...]:
        """Return the labels of the open read's draft timepoints."""
        session = self.desk.session
        if session is None:
            return ()
        read = session.read
        return tuple(
            tp.label
            for tp in read.timepoints
            if timepoint_state(read, tp.index) == str(ReadStatus.DRAFT)
        )

    def may_quit(self) -> bool:
        """Return whether to quit: asked while a timepoint of the open read is a draft."""
        drafts = self.drafts()
        if not drafts:
            return True
        verb = "is" if len(drafts) == 1 else "are"
        return ask_yes(
            self.parent,
            "Quit",
            f"{', '.join(drafts)} {verb} a draft (saved, not signed). Quit anyway?",
            "Quit",
        )
