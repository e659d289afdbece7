"""SRs in the archive: a thin dialog over :mod:`mrecist_reader.desk.archive_reports`.

Opened from File > Open from archive... (its SRs... button): search a trial subject's
(or a study's) reports, then open the chosen one read only in the SR dialog
(:class:`mrecist_reader.ui.sr_dialog.SRDialog`). Search and retrieval run off the GUI
thread.
"""

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.ui.sr_dialog import SRDialog
from mrecist_reader.ui.workers import run_in_thread

if TYPE_CHECKING:
    from mrecist_reader.desk.archive_reports import ArchiveReports, FetchedReport


class ArchiveReportsDialog(QDialog):
    """Find the archive's SRs of a subject or study and open one read only."""

    shown = Signal(object)  # the SRDialog showing the chosen report

    def __init__(
        self, parent: QWidget | None, model: "ArchiveReports", subject_id: str = ""
    ) -> None:
        super().__init__(parent)
        self.setObjectName("archiveReportsDialog")
        self.setWindowTitle("SRs in the archive")
        self.model = model
        self.subject = QLineEdit(subject_id)
        self.subject.setPlaceholderText("trial subject ID")
        self.study = QLineEdit()
        self.study.setPlaceholderText("or a Study Instance UID")
        self.search_button = QPushButton("&Search")
        self.results = QTableWidget(0, len(model.columns))
        self.results.setHorizontalHeaderLabels(list(model.columns))
        self.results.setSelectionBehavior(
            QAbstractItemView.SelectionBehavior.SelectRows
        )
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.open_button = QPushButton("&Open (read only)")
        self.open_button.setEnabled(False)
        close = QPushButton("Close")
        form = QFormLayout()
        form.addRow("Subject", self.subject)
        form.addRow("Study", self.study)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.search_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.results, 1)
        layout.addLayout(buttons)
        self.search_button.clicked.connect(self.search)
        self.subject.returnPressed.connect(self.search)
        self.study.returnPressed.connect(self.search)
        self.open_button.clicked.connect(self.open_chosen)
        self.results.itemSelectionChanged.connect(self._enable)
        self.results.itemDoubleClicked.connect(lambda _item: self.open_chosen())
        close.clicked.connect(self.reject)
        self.resize(760, 360)

    def chosen_row(self) -> int | None:
        """Return the selected result row, if any."""
        rows = {index.row() for index in self.results.selectedIndexes()}
        return min(rows) if rows else None

    def search(self) -> None:
        """Search the archive's SRs in the background; the results fill the table."""
        self._busy("Searching...")
        run_in_thread(
            self.model.search,
            self.subject.text(),
            self.study.text(),
            on_done=self._show_results,
            on_error=self._failed,
        )

    def _show_results(self, rows: tuple[tuple[str, ...], ...]) -> None:
        self.results.clearSelection()
        self.results.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.results.setItem(r, c, QTableWidgetItem(text))
        self.results.resizeColumnsToContents()
        self._idle(f"{len(rows)} SR{'' if len(rows) == 1 else 's'} found")

    def open_chosen(self) -> None:
        """Fetch the chosen report in the background and show it read only."""
        row = self.chosen_row()
        if row is None:
            return
        self._busy("Fetching the SR...")
        run_in_thread(
            self.model.fetch, row, on_done=self._fetched, on_error=self._failed
        )

    def _fetched(self, fetched: "FetchedReport") -> None:
        dialog = SRDialog(self.parentWidget(), fetched.view)
        dialog.folders.extend(fetched.image_folders)
        dialog.show()
        self._idle("SR opened read only.")
        self.shown.emit(dialog)

    def _failed(self, error: BaseException) -> None:
        self._idle(str(error))

    def _enable(self) -> None:
        self.open_button.setEnabled(
            self.chosen_row() is not None and self.search_button.isEnabled()
        )

    def _busy(self, text: str) -> None:
        self.message.setText(text)
        self.search_button.setEnabled(False)
        self.open_button.setEnabled(False)

    def _idle(self, text: str) -> None:
        self.message.setText(text)
        self.search_button.setEnabled(True)
        self._enable()
