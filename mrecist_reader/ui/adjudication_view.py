"""Read > Adjudicate: the adjudicator's queue and both reads of a cut side by side.

A thin view of :class:`~mrecist_reader.desk.adjudication.AdjudicationDesk`: the queue
on the left; for the chosen subject, reader 1's and reader 2's response timelines and
lesion tables side by side, each under a heading in the reader's colour, the
discordant timepoints, best response and progression highlighted; beside them both
reads on the same images (ui/adjudication_images.py: each reader's calipers in the
reader's colour, a timepoint chooser, a lesion row's click shows its caliper's slice);
below, the choice (reader 1 or 2), the reason from the list, the rationale and Sign
decision. Nothing in either read can be changed here; every check is the desk's and
the storage's.
"""

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.core.adjudication import Role
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.adjudication import (
    REASON_WORDS,
    AdjudicationDesk,
    AdjudicationScreen,
    QueueItem,
    ReaderSide,
)
from mrecist_reader.desk.worklist import Worklist
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.ui.adjudication_images import AdjudicationImages
from mrecist_reader.ui.errors import error_boundary

if TYPE_CHECKING:
    from mrecist_reader.ui.main_window import MainWindow

logger = logging.getLogger(__name__)

TITLE = "Adjudication"
TIMELINE_COLUMNS = (
    "timepoint",
    "study day",
    "target sum (mm)",
    "change from baseline",
    "target",
    "non-target",
    "new lesions",
    "overall",
)
DISCORDANT = QColor("#ffd6d6")
"""Background of a discordant timepoint (dark text on it, in either theme)."""
DISCORDANT_TEXT = QColor("#000000")
FIXED_LESION_COLUMNS = 4
"""The lesion table's columns before the timepoints (lesion, type, organ, location)."""


class AdjudicationView(QWidget):
    """The adjudicator's window over one :class:`AdjudicationDesk`."""

    def __init__(
        self,
        desk: AdjudicationDesk,
        parent: QWidget | None = None,
        *,
        worklist_of: Callable[[], Worklist] = Worklist,
        desk_series: Callable[[str, int], SeriesInfo | None] | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.desk = desk
        self.setObjectName("adjudicationView")
        self.setWindowTitle(f"{TITLE}: {desk.adjudicator}")
        # a table, not a list widget: the blinding tests walk its model's cells
        self.queue_list = _table(self, ("queue",))
        self.queue_list.setObjectName("adjudicationQueue")
        self.queue_list.horizontalHeader().setStretchLastSection(True)
        self.queue_list.itemActivated.connect(self._open_item)
        self.queue_list.itemClicked.connect(self._open_item)
        self.heading = QLabel("Choose a subject from the queue.", self)
        self.heading.setWordWrap(True)
        self.discordance = QLabel("", self)
        self.discordance.setObjectName("discordance")
        self.discordance.setWordWrap(True)
        self.sides = [_SidePanel(self), _SidePanel(self)]
        self._worklist_of = worklist_of
        self._desk_series = desk_series
        self.images = AdjudicationImages(desk, worklist_of, self._series_choice, self)
        for panel in self.sides:
            panel.lesions.itemClicked.connect(partial(self._lesion_clicked, panel))
        self.choice = QComboBox(self)
        self.choice.setObjectName("choice")
        self.reason = QComboBox(self)
        self.reason.setObjectName("reason")
        for reason, words in REASON_WORDS.items():
            self.reason.addItem(words, str(reason))
        self.rationale = QPlainTextEdit(self)
        self.rationale.setObjectName("rationale")
        self.rationale.setPlaceholderText("Why that read stands (required)")
        self.rationale.setMaximumHeight(90)  # the two reads get the height
        self.sign = QPushButton("&Sign decision", self)
        self.sign.setObjectName("signDecision")
        self.sign.clicked.connect(self.sign_decision)
        self._lay_out()
        desk.queue_changed.connect(self._show_queue)
        desk.screen_changed.connect(self._show_screen)
        self._show_screen(None)
        desk.queue()

    def _lay_out(self) -> None:
        tables = QWidget(self)
        reads = QHBoxLayout(tables)
        reads.setContentsMargins(0, 0, 0, 0)
        for side in self.sides:
            reads.addWidget(side, stretch=1)
        both = QSplitter(self)  # the two reads' tables, then both on the images
        both.addWidget(tables)
        both.addWidget(self.images)
        both.setStretchFactor(0, 3)
        both.setStretchFactor(1, 2)
        form = QFormLayout()
        form.addRow("Choose", self.choice)
        form.addRow("Reason", self.reason)
        form.addRow("Rationale", self.rationale)
        decision = QGroupBox("Decision", self)
        box = QVBoxLayout(decision)
        box.addLayout(form)
        box.addWidget(self.sign, alignment=Qt.AlignmentFlag.AlignRight)
        right = QWidget(self)
        column = QVBoxLayout(right)
        column.addWidget(self.heading)
        column.addWidget(self.discordance)
        column.addWidget(both, stretch=1)
        column.addWidget(decision)
        splitter = QSplitter(self)
        splitter.addWidget(self.queue_list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 4)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _show_queue(self, items: tuple[QueueItem, ...]) -> None:
        self.queue_list.setRowCount(0)
        for item in items:
            text = f"{item.subject_id} — {item.cut}"
            if not item.can_decide:
                text += " (reopened: waiting for both signatures)"
            _add_row(self.queue_list, [text], highlighted=False)
            entry = self.queue_list.item(self.queue_list.rowCount() - 1, 0)
            if entry is not None:
                entry.setData(Qt.ItemDataRole.UserRole, item.subject_id)
        if not items:
            _add_row(
                self.queue_list, ["No subject awaits your decision."], highlighted=False
            )

    def _open_item(self, item: QTableWidgetItem) -> None:
        subject = item.data(Qt.ItemDataRole.UserRole)
        if subject:
            with error_boundary(self, TITLE):
                self.desk.open(str(subject))

    def _show_screen(self, screen: AdjudicationScreen | None) -> None:
        self.choice.clear()
        self.rationale.clear()
        if screen is None:
            self.heading.setText("Choose a subject from the queue.")
            self.discordance.setText("")
            for panel in self.sides:
                panel.clear()
            self.sign.setEnabled(False)
            self.images.show_screen(None)
            return
        self.heading.setText(
            f"Subject {screen.subject_id}, read cut {screen.cut}: nothing in either "
            "read can be changed here."
        )
        self.discordance.setText(
            "Discordant: " + "; ".join(screen.discordant_variables)
        )
        for panel, side in zip(self.sides, screen.sides, strict=True):
            panel.show_side(side, screen.timepoint_labels)
            self.choice.addItem(side.title, str(side.role))
        self.sign.setEnabled(screen.can_decide)
        self.images.show_screen(screen)

    def _lesion_clicked(self, panel: "_SidePanel", item: QTableWidgetItem) -> None:
        """Show the clicked lesion's caliper (a timepoint column: at that timepoint)."""
        lesion = panel.lesions.item(item.row(), 0)
        if lesion is None or panel.role is None:
            return
        header = panel.lesions.horizontalHeaderItem(item.column())
        if item.column() >= FIXED_LESION_COLUMNS and header is not None:
            self.images.choose_timepoint(header.text())
        self.images.jump_to(panel.role, lesion.text())

    def _series_choice(self, index: int) -> SeriesInfo | None:
        """Return the series the reading desk shows for a timepoint of the subject."""
        screen = self.desk.screen
        if screen is None:
            return None
        if self._desk_series is not None:
            chosen = self._desk_series(screen.subject_id, index)
            if chosen is not None:
                return chosen
        try:
            return self._worklist_of().default_series(screen.subject_id, index)
        except MrecistError:  # the subject's images are not open
            return None

    def sign_decision(self) -> None:
        """Record the decision shown (the desk and the storage check it)."""
        with error_boundary(self, TITLE):
            self.desk.decide(
                Role(self.choice.currentData()),
                str(self.reason.currentData()),
                self.rationale.toPlainText(),
            )


class _SidePanel(QWidget):
    """One reader's half: heading in the reader's colour, timeline, lesion table."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.role: Role | None = None
        self.title = QLabel("", self)
        self.timeline = _table(self, TIMELINE_COLUMNS)
        self.lesions = _table(self, ())
        self.summary = QLabel("", self)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.timeline, stretch=1)
        layout.addWidget(self.summary)
        layout.addWidget(self.lesions, stretch=1)

    def clear(self) -> None:
        self.role = None
        self.title.setText("")
        self.summary.setText("")
        self.timeline.setRowCount(0)
        self.lesions.setRowCount(0)

    def show_side(self, side: ReaderSide, labels: tuple[str, ...]) -> None:
        self.role = side.role
        self.lesions.setToolTip("Click a lesion to see its caliper on the images.")
        self.title.setText(side.title)
        self.title.setStyleSheet(f"font-weight: bold; color: {side.colour}")
        self.timeline.setRowCount(0)
        for line in side.timepoints:
            _add_row(
                self.timeline,
                [
                    line.label,
                    line.study_day,
                    line.target_sum_mm,
                    line.change_from_baseline,
                    line.target_response,
                    line.non_target_response,
                    line.new_lesions,
                    line.overall_response,
                ],
                highlighted=line.discordant,
            )
        best = f"Best overall response: {side.best_response}"
        progression = f"Progression: {side.progression}"
        marks = [
            ("⚠ " if side.best_discordant else "") + best,
            ("⚠ " if side.progression_discordant else "") + progression,
        ]
        self.summary.setText("    ".join(marks))
        columns = ["lesion", "type", "organ", "location", *labels]
        self.lesions.setColumnCount(len(columns))
        self.lesions.setHorizontalHeaderLabels(columns)
        self.lesions.setRowCount(0)
        for lesion in side.lesions:
            _add_row(
                self.lesions,
                [
                    lesion.lesion_id,
                    lesion.lesion_type,
                    lesion.organ,
                    lesion.location,
                    *lesion.by_timepoint,
                ],
                highlighted=False,
            )


def _table(parent: QWidget, columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(
        QHeaderView.ResizeMode.ResizeToContents
    )
    table.verticalHeader().setVisible(False)
    return table


def _add_row(table: QTableWidget, values: list[str], *, highlighted: bool) -> None:
    row = table.rowCount()
    table.insertRow(row)
    for column, value in enumerate(values):
        item = QTableWidgetItem(value)
        if highlighted:
            item.setBackground(QBrush(DISCORDANT))
            item.setForeground(QBrush(DISCORDANT_TEXT))
        table.setItem(row, column, item)


def open_adjudication(window: "MainWindow") -> AdjudicationView:
    """Open the adjudication window of the reader at this desk (Read > Adjudicate)."""
    desk = window.desk

    def desk_series(subject_id: str, index: int) -> SeriesInfo | None:
        """Return the reading desk's series for a timepoint of the subject open there."""
        if desk.subject is None or desk.subject.subject_id != subject_id:
            return None
        return desk.series_for(index)

    view = AdjudicationView(
        AdjudicationDesk(desk.repository(), desk.context.reader_id),
        window,
        worklist_of=lambda: desk.worklist,
        desk_series=desk_series,
    )
    # images opened (File > Open...) while the window is open: shown at once
    desk.worklist_changed.connect(view.images.refresh)
    view.destroyed.connect(
        lambda: desk.worklist_changed.disconnect(view.images.refresh)
    )
    view.resize(1500, 800)
    view.show()
    return view
