"""File > Open from archive...: a thin dialog over :mod:`mrecist_reader.desk.archive_browser`.

Search (subject, timepoint, modality, and in a local read study dates) and retrieval
run off the GUI thread; the retrieval shows a progress bar by image and can be
cancelled, also within a series (what arrived stays: a new retrieval resumes). From
the first image of the series to read first, :attr:`ArchiveDialog.arriving` gives it
as it arrives (:mod:`mrecist_reader.desk.archive_arrival`, shown by
:mod:`mrecist_reader.ui.archive_preview`); as soon as the whole series has arrived,
:attr:`ArchiveDialog.first_series` gives its folder to open while the rest arrives
(:mod:`mrecist_reader.desk.archive_early`); when the retrieval is done,
:attr:`ArchiveDialog.opened` gives the whole folder to open, and
:attr:`ArchiveDialog.stopped` says why when it failed or was cancelled.
"""

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.archive.config import ARCHIVE_FILE
from mrecist_reader.settings import settings_path
from mrecist_reader.ui.workers import run_in_thread

if TYPE_CHECKING:
    from mrecist_reader.archive.records import SeriesRecord
    from mrecist_reader.desk.archive_browser import ArchiveBrowser, Pulled
    from mrecist_reader.ui.archive_preview import ArrivalDisplay
    from mrecist_reader.ui.archive_reports_dialog import ArchiveReportsDialog

MODALITIES = ("", "CT", "MR")


class _Progress(QObject):
    """Carries the pull's progress from its thread to the dialog's."""

    changed = Signal(int, int)
    image = Signal()  # one more image written
    arriving = Signal(object)  # Arriving: the series to show while it arrives
    first_series = Signal(object)  # Path of the first series' folder


class ArchiveDialog(QDialog):
    """Search the archive, retrieve chosen studies, then say which folder to open."""

    opened = Signal(object)  # Path of the folder that holds what arrived
    first_series = Signal(object)  # Path of the series to show while the rest arrives
    arriving = Signal(object)  # Arriving: the series to read first, image by image
    started = Signal()  # a retrieval started
    stopped = Signal(str)  # a retrieval failed or was cancelled: why

    def __init__(self, parent: QWidget | None, model: "ArchiveBrowser") -> None:
        super().__init__(parent)
        self.setObjectName("archiveDialog")
        self.setWindowTitle("Open from archive")
        self.model = model
        self._cancel = threading.Event()
        self.subject = QLineEdit()
        self.subject.setPlaceholderText("trial subject ID (empty: every subject)")
        self.timepoint = QLineEdit()
        self.timepoint.setPlaceholderText("e.g. BASELINE, FU1 (empty: every one)")
        self.modality = QComboBox()
        self.modality.addItems(["any", *MODALITIES[1:]])
        self.date_from = QLineEdit()
        self.date_from.setPlaceholderText("YYYY-MM-DD (empty: any)")
        self.date_to = QLineEdit()
        self.date_to.setPlaceholderText("YYYY-MM-DD (empty: any)")
        self.search_button = QPushButton("&Search")
        self.results = QTableWidget(0, len(model.columns))
        self.results.setHorizontalHeaderLabels(list(model.columns))
        self.results.setSelectionBehavior(
            QAbstractItemView.SelectionBehavior.SelectRows
        )
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.retrieve_button = QPushButton("&Retrieve and open")
        self.retrieve_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel")
        self.reports_button = QPushButton("S&Rs...")
        self.reports_button.setToolTip("Find the subject's SRs in the archive")
        self._layout()
        self._relay = _Progress(self)
        self._relay.changed.connect(self._show_progress)
        self._relay.image.connect(self._one_more_image)
        self._relay.arriving.connect(self.arriving)
        self._relay.first_series.connect(self._first_series)
        self._retrieving = False
        self.search_button.clicked.connect(self.search)
        self.subject.returnPressed.connect(self.search)
        self.retrieve_button.clicked.connect(self.retrieve)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        self.reports_button.clicked.connect(self.show_reports)
        self.results.itemSelectionChanged.connect(
            lambda: self.retrieve_button.setEnabled(bool(self.chosen_rows()))
        )
        self.resize(720, 420)

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Subject", self.subject)
        form.addRow("Timepoint", self.timepoint)
        form.addRow("Modality", self.modality)
        if not self.model.blinded:  # a blinded read sees no dates
            dates = QHBoxLayout()
            dates.addWidget(self.date_from)
            dates.addWidget(QLabel("to"))
            dates.addWidget(self.date_to)
            form.addRow("Study date", dates)
        else:
            self.date_from.setVisible(False)
            self.date_to.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.retrieve_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        searches = QHBoxLayout()
        searches.addWidget(self.search_button)
        searches.addWidget(self.reports_button)
        searches.addStretch(1)
        layout.addLayout(searches)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)

    def show_reports(self) -> "ArchiveReportsDialog":
        """Open the archive's SRs of the subject typed here (read only)."""
        from mrecist_reader.desk.archive_reports import ArchiveReports
        from mrecist_reader.ui.archive_reports_dialog import ArchiveReportsDialog

        model = ArchiveReports(
            self.model.archive, self.model.cache, blinded=self.model.blinded
        )
        dialog = ArchiveReportsDialog(self.parentWidget(), model, self.subject.text())
        dialog.show()
        if self.subject.text().strip():
            dialog.search()
        return dialog

    def chosen_rows(self) -> list[int]:
        """Return the selected result rows, in order."""
        return sorted({index.row() for index in self.results.selectedIndexes()})

    def search(self) -> None:
        """Search the archive in the background; the results fill the table."""
        from mrecist_reader.desk.archive_browser import study_dates

        modality = self.modality.currentText()
        first, last = self.date_from.text(), self.date_to.text()
        blinded = self.model.blinded
        self._busy("Searching...")
        run_in_thread(
            lambda: self.model.search(
                self.subject.text(),
                "" if modality == "any" else modality,
                dates=None if blinded else study_dates(first, last),
                timepoint=self.timepoint.text(),
            ),
            on_done=self._show_results,
            on_error=self._failed,
        )

    def _show_results(self, rows: tuple[tuple[str, ...], ...]) -> None:
        self.results.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.results.setItem(r, c, QTableWidgetItem(text))
        self.results.resizeColumnsToContents()
        self._idle(f"{len(rows)} stud{'y' if len(rows) == 1 else 'ies'} found")

    def retrieve(self) -> None:
        """Pull the chosen studies in the background, with progress and Cancel."""
        rows = self.chosen_rows()
        if not rows:
            return
        self._cancel.clear()
        self._busy("Retrieving...")
        self.progress.setVisible(True)
        self.progress.setValue(0)
        self._retrieving = True
        self.started.emit()

        def progress(done: int, total: int, _series: "SeriesRecord") -> None:
            self._relay.changed.emit(done, total)

        run_in_thread(
            lambda: self.model.retrieve(
                rows,
                progress=progress,
                is_cancelled=self._cancel.is_set,
                on_image=lambda _path: self._relay.image.emit(),
                on_arriving=self._relay.arriving.emit,
                on_first_series=self._relay.first_series.emit,
            ),
            on_done=self._retrieved,
            on_error=self._failed,
        )

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def _one_more_image(self) -> None:
        self.progress.setValue(min(self.progress.value() + 1, self.progress.maximum()))

    def _first_series(self, folder: Path) -> None:
        self.message.setText("The first series is open; the rest is arriving...")
        self.first_series.emit(folder)

    def _retrieved(self, pulled: "Pulled") -> None:
        self._retrieving = False
        self._idle(pulled.summary())
        self.opened.emit(pulled.folder)
        if pulled.report.is_complete:
            self.accept()

    def _failed(self, error: BaseException) -> None:
        self._idle(str(error))
        if self._retrieving:
            self._retrieving = False
            self.stopped.emit(str(error))

    def _cancel_or_close(self) -> None:
        if self.progress.isVisible() and not self.search_button.isEnabled():
            self._cancel.set()  # stops after the image arriving; what arrived stays
            self.message.setText("Cancelling...")
        else:
            self.reject()

    def _busy(self, text: str) -> None:
        self.message.setText(text)
        self.search_button.setEnabled(False)
        self.retrieve_button.setEnabled(False)

    def _idle(self, text: str) -> None:
        self.message.setText(text)
        self.search_button.setEnabled(True)
        self.retrieve_button.setEnabled(bool(self.chosen_rows()))
        self.progress.setVisible(False)


def open_from_archive(
    parent: QWidget, *, blinded: bool, open_folder: Callable[[Path], None]
) -> ArchiveDialog | None:
    """Show the dialog over the archive named in ``archive.toml`` (else say how).

    Returns the dialog (``None`` when no archive is configured: a message says
    where to name one). A main window's ``arrival``
    (:class:`~mrecist_reader.ui.archive_preview.ArrivalDisplay`) shows the series
    still arriving in its panes' place, until the window opens what arrived.
    """
    from PySide6.QtWidgets import QMessageBox

    from mrecist_reader.archive.config import read_archive_config
    from mrecist_reader.archive.nodes import InvalidNode
    from mrecist_reader.desk.archive_browser import ArchiveBrowser

    folder = settings_path().parent
    try:
        config = read_archive_config(folder)
    except InvalidNode as error:
        QMessageBox.warning(parent, "Open from archive", str(error))
        return None
    if config is None:
        QMessageBox.information(
            parent,
            "Open from archive",
            f"No archive is configured. Name one in {folder / ARCHIVE_FILE}:\n\n"
            '[node]\ndicomweb = "https://pacs.example/dicom-web"\n'
            'or dimse = "AET@host:4242"',
        )
        return None
    dialog = ArchiveDialog(parent, ArchiveBrowser.of(config, blinded=blinded))
    arrival: ArrivalDisplay | None = getattr(parent, "arrival", None)
    if arrival is not None:
        connect_arrival(dialog, arrival)
    dialog.first_series.connect(open_folder)  # the whole folder follows at the end
    dialog.opened.connect(open_folder)
    dialog.show()
    return dialog


def connect_arrival(dialog: ArchiveDialog, arrival: "ArrivalDisplay") -> None:
    """Show the dialog's series arriving in the window (connect before opening).

    The preview ends before the window opens what arrived, so that the full series
    opens in its place.
    """
    dialog.started.connect(arrival.begin)
    dialog.arriving.connect(arrival.arrive)
    dialog.first_series.connect(arrival.hand_over)
    dialog.opened.connect(arrival.hand_over)
    dialog.stopped.connect(arrival.end)
