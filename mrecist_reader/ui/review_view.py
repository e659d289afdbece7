"""Read > Central review: the review manager's window (assignments, queue, metrics).

A thin view of :class:`~mrecist_reader.desk.review.ReviewDesk`: three tabs (every
assigned subject with its readers, progress and cut; the cuts awaiting adjudication;
the reader metrics) and, under the assignments, the trial endpoints of the final reads
(the sponsor's files asked for, then the endpoints view) and the withdrawal of a primary
read (the chosen subject's reader 1 or 2, a reason, Withdraw read). Every rule and check
is the desk's and the storage's.
"""

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.review import ReviewDesk, ReviewOverview
from mrecist_reader.ui.endpoints_command import EndpointFilesDialog
from mrecist_reader.ui.errors import error_boundary

if TYPE_CHECKING:
    from mrecist_reader.ui.endpoints_view import EndpointsView
    from mrecist_reader.ui.main_window import MainWindow

logger = logging.getLogger(__name__)

TITLE = "Central review"
SUBJECT_COLUMNS = (
    "subject",
    "reader 1",
    "reader 2",
    "adjudicator",
    "reader 1 progress",
    "reader 2 progress",
    "read cut",
    "status",
)
AWAITING_COLUMNS = ("subject", "read cut", "reader 1", "reader 2", "discordant")
METRIC_COLUMNS = ("scope", "who", "metric", "value", "ci_low", "ci_high", "n")


class ReviewView(QWidget):
    """The review manager's window over one :class:`ReviewDesk`."""

    def __init__(
        self,
        desk: ReviewDesk,
        parent: QWidget | None = None,
        *,
        overview: ReviewOverview | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.desk = desk
        self.setObjectName("reviewView")
        self.setWindowTitle(f"{TITLE}: {desk.manager}")
        self.subjects = _table(self, SUBJECT_COLUMNS)
        self.subjects.setObjectName("subjects")
        self.subjects.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.awaiting = _table(self, AWAITING_COLUMNS)
        self.metrics = _table(self, METRIC_COLUMNS)
        self.reader = QComboBox(self)
        self.reader.setObjectName("withdrawReader")
        self.reader.addItem("reader 1", 1)
        self.reader.addItem("reader 2", 2)
        self.reason = QLineEdit(self)
        self.reason.setObjectName("withdrawReason")
        self.reason.setPlaceholderText("Why the read is withdrawn (required)")
        self.withdraw_button = QPushButton("&Withdraw read", self)
        self.withdraw_button.setObjectName("withdrawRead")
        self.withdraw_button.clicked.connect(self.withdraw)
        self.endpoints_button = QPushButton("Trial &endpoints...", self)
        self.endpoints_button.setObjectName("reviewEndpoints")
        self.endpoints_button.setToolTip(
            "The endpoints of the final reads, with treatments.csv and arms.csv"
        )
        self.endpoints_button.clicked.connect(self.ask_endpoints)
        self.endpoints_dialog: EndpointFilesDialog | None = None
        self.endpoints_view: EndpointsView | None = None
        self.assign_button = QPushButton("&Import assignments...", self)
        self.assign_button.setObjectName("importAssignments")
        self.assign_button.setToolTip(
            "assignments.csv (subject_id, reader_1, reader_2, adjudicator), then "
            "optionally treatments.csv: as mrecist-reader assign"
        )
        self.assign_button.clicked.connect(self.ask_assignments)
        withdrawal = QHBoxLayout()
        withdrawal.addWidget(self.assign_button)
        withdrawal.addWidget(self.endpoints_button)
        withdrawal.addStretch(1)
        withdrawal.addWidget(self.reader)
        withdrawal.addWidget(self.reason, stretch=1)
        withdrawal.addWidget(self.withdraw_button)
        assignments = QWidget(self)
        column = QVBoxLayout(assignments)
        column.addWidget(self.subjects, stretch=1)
        column.addLayout(withdrawal)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(assignments, "Assignments and progress")
        self.tabs.addTab(self.awaiting, "Awaiting adjudication")
        self.tabs.addTab(self.metrics, "Reader metrics")
        self.message = QLabel(self)  # what the last import did
        self.message.setObjectName("reviewMessage")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.message)
        desk.overview_changed.connect(self._show)
        if overview is None:
            desk.overview()
        else:
            self._show(overview)

    def _show(self, overview: ReviewOverview) -> None:
        _fill(
            self.subjects,
            [
                [
                    s.subject_id,
                    s.reader_1,
                    s.reader_2,
                    s.adjudicator,
                    s.progress_1,
                    s.progress_2,
                    s.cut,
                    s.status,
                ]
                for s in overview.subjects
            ],
        )
        _fill(
            self.awaiting,
            [
                [
                    c.subject_id,
                    c.cut,
                    c.reader_1,
                    c.reader_2,
                    "; ".join(c.discordant_variables),
                ]
                for c in overview.awaiting
            ],
        )
        _fill(
            self.metrics,
            [[row[column] for column in METRIC_COLUMNS] for row in overview.metrics],
        )

    def ask_assignments(self) -> None:
        """Ask for assignments.csv, then treatments.csv (optional), and import them."""
        name, _ = QFileDialog.getOpenFileName(
            self, "Open assignments.csv", "", "CSV (*.csv);;All (*)"
        )
        if not name:
            return
        days, _ = QFileDialog.getOpenFileName(
            self, "Open treatments.csv (optional: Cancel for none)", "", "CSV (*.csv)"
        )
        self.import_assignments(Path(name), Path(days) if days else None)

    def import_assignments(self, assignments: Path, treatments: Path | None) -> None:
        """Import the files through the desk; say what changed, or every problem."""
        with error_boundary(self, "Import assignments"):
            outcome = self.desk.assign_from(assignments, treatments)
            self.message.setText(
                f"{assignments.name}: assigned {len(outcome.created)} subject(s), "
                f"changed {len(outcome.changed)}, {len(outcome.unchanged)} unchanged"
            )

    def ask_endpoints(self) -> None:
        """Ask for the sponsor's files (not modal); the endpoints open when accepted."""
        dialog = EndpointFilesDialog(self)
        dialog.accepted.connect(lambda: self._open_endpoints(*dialog.files()))
        self.endpoints_dialog = dialog
        dialog.open()

    def _open_endpoints(self, treatments: Path, arms: Path | None) -> None:
        with error_boundary(self, "Trial endpoints"):
            self.show_endpoints(treatments, arms)

    def show_endpoints(self, treatments: Path, arms: Path | None) -> "EndpointsView":
        """Show the final reads' endpoints (the desk refuses a blinded reader)."""
        found = self.desk.endpoints(treatments, arms)
        from mrecist_reader.ui.endpoints_view import EndpointsView

        if self.endpoints_view is not None:
            self.endpoints_view.close()
        view = EndpointsView(found, self)
        view.setWindowFlag(Qt.WindowType.Window)
        view.setObjectName("endpointsView")
        view.resize(900, 900)
        view.show()
        self.endpoints_view = view
        return view

    def withdraw(self) -> None:
        """Withdraw the chosen reader's read of the selected subject (with the reason)."""
        with error_boundary(self, "Withdraw read"):
            row = self.subjects.currentRow()
            if row < 0:
                raise MrecistError("choose a subject in the table first")
            subject = _text(self.subjects, row, 0)
            reader = _text(self.subjects, row, int(self.reader.currentData()))
            self.desk.withdraw(subject, reader, self.reason.text())
            self.reason.clear()


def _table(parent: QWidget, columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(
        QHeaderView.ResizeMode.ResizeToContents
    )
    table.verticalHeader().setVisible(False)
    return table


def _text(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return "" if item is None else item.text()


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for row, values in enumerate(rows):
        for column, value in enumerate(values):
            table.setItem(row, column, QTableWidgetItem(value))


def open_review(window: "MainWindow") -> ReviewView:
    """Open the review manager's window for the reader at this desk.

    A primary reader is refused before any window is made (the menu shows why).
    """
    desk = window.desk
    review = ReviewDesk(desk.repository(), desk.context.reader_id)
    view = ReviewView(review, window, overview=review.overview())
    view.resize(1100, 650)
    view.show()
    return view
