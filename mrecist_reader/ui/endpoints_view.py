"""The endpoints view: pooled endpoint rates and the waterfall (issue 18 item 6).

Shown to a local (site) reader only; :func:`mrecist_reader.desk.endpoints.desk_endpoints`
refuses a central read before any file is opened. The view only shows what the analysis
computed: no rule and no statistic is made here.
"""

import logging

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.analysis.figures import subject_tracks, waterfall
from mrecist_reader.analysis.summary import ALL_ARMS, FULL, rate_cells
from mrecist_reader.desk.endpoints import DeskEndpoints

logger = logging.getLogger(__name__)

POOLED_COLUMNS = ("endpoint", "n", "responders", "rate", "95% CI")


class EndpointsView(QWidget):
    """Pooled rates of every endpoint (full analysis set) above the waterfall."""

    def __init__(self, endpoints: DeskEndpoints, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Trial endpoints")
        analysis = endpoints.analysis
        self.table = QTableWidget(0, len(POOLED_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(POOLED_COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        pooled = [
            r for r in analysis.rates if (r.population, r.arm) == (FULL, ALL_ARMS)
        ]
        for row in pooled:
            cells = rate_cells(row)
            ci = f"{cells['ci_low']}–{cells['ci_high']}" if cells["ci_low"] else ""
            self._add_row(
                [row.endpoint, cells["n"], cells["responders"], cells["rate"], ci]
            )
        self._fit_table_to_rows()
        tracks = subject_tracks(endpoints.courses, analysis)
        self.canvas = FigureCanvasQTAgg(waterfall(tracks))  # type: ignore[no-untyped-call]
        layout = QVBoxLayout(self)
        subjects = len(analysis.full_set)
        layout.addWidget(
            QLabel(f"Full analysis set: {subjects} subjects, pooled", self)
        )
        layout.addWidget(self.table)
        layout.addWidget(self.canvas, stretch=1)
        for warning in analysis.warnings:
            note = QLabel(warning, self)
            note.setWordWrap(True)
            layout.addWidget(note)

    def _fit_table_to_rows(self) -> None:
        """Show every endpoint's row without scrolling (the waterfall gets the rest)."""
        rows = self.table.rowCount()
        header = self.table.horizontalHeader().sizeHint().height()
        height = header + 2 * self.table.frameWidth()
        height += sum(self.table.rowHeight(row) for row in range(rows))
        self.table.setMinimumHeight(height)

    def _add_row(self, values: list[str]) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, value in enumerate(values):
            self.table.setItem(row, column, QTableWidgetItem(value))
