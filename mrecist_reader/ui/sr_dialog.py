"""File > Open SR...: a report's lesions and calipers, read only (over ``desk.sr_view``).

The table lists the report's lesions; choosing one shows its image (looked for off
the GUI thread where its series was opened, or in the folder the reader names with
"Images folder...") with the caliper drawn on it. Nothing here changes a read.
"""

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.desk.sr_view import COLUMNS, ReportView, ShownImage
from mrecist_reader.ui.workers import run_in_thread


class SRDialog(QDialog):
    """Show one report read only: lesions, responses, a lesion's caliper on its image."""

    def __init__(self, parent: QWidget | None, view: ReportView) -> None:
        super().__init__(parent)
        self.setObjectName("srDialog")
        self.setWindowTitle(f"SR {view.path.name} (read only)")
        self.view = view
        self.folders: list[Path] = []
        self.table = QTableWidget(len(view.rows), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for r, row in enumerate(view.rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.responses = QLabel(view.responses_text() or "no responses in the report")
        self.message = QLabel("Choose a lesion to see its caliper on its image.")
        self.message.setWordWrap(True)
        self.folder_button = QPushButton("&Images folder...")
        self.plot = pg.GraphicsLayoutWidget()
        self.box = self.plot.addViewBox(lockAspect=True, invertY=True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.caliper = pg.PlotDataItem(pen=pg.mkPen("y", width=2), symbol="o")
        self.box.addItem(self.image)
        self.box.addItem(self.caliper)
        left = QVBoxLayout()
        left.addWidget(self.table, 1)
        left.addWidget(self.responses)
        left.addWidget(self.message)
        left.addWidget(self.folder_button)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addWidget(self.plot, 3)
        self.table.itemSelectionChanged.connect(self.show_selected)
        self.folder_button.clicked.connect(self._ask_folder)
        self.resize(1100, 560)

    def show_selected(self) -> None:
        """Find the chosen lesion's image in the background and show its caliper."""
        rows = {index.row() for index in self.table.selectedIndexes()}
        if not rows:
            return
        row = rows.pop()
        self.message.setText("Looking for the image...")
        run_in_thread(
            self.view.image,
            row,
            list(self.folders),
            on_done=self._show,
            on_error=lambda error: self.message.setText(str(error)),
        )

    def _show(self, shown: ShownImage | None) -> None:
        if shown is None:
            self.image.clear()
            self.caliper.setData([], [])
            self.message.setText(
                "No caliper, or its image was not found: name its folder with "
                "Images folder..."
            )
            return
        low, high = np.percentile(shown.pixels, (1, 99))
        self.image.setImage(shown.pixels, levels=(float(low), float(high) or 1.0))
        rows = [r for r, _ in shown.caliper_rc]
        columns = [c for _, c in shown.caliper_rc]
        self.caliper.setData(columns, rows)
        self.box.autoRange()
        self.message.setText("Caliper shown on its image (read only).")

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of the report's images")
        if folder:
            self.folders.append(Path(folder))
            self.show_selected()


def ask_and_open_sr(parent: QWidget) -> SRDialog | None:
    """Ask for an SR file and show it (a file that is not a report: a message)."""
    from PySide6.QtWidgets import QMessageBox

    from mrecist_reader.desk.sr_view import NotAReport, open_report

    name, _ = QFileDialog.getOpenFileName(
        parent, "Open a DICOM SR", "", "DICOM SR (*.dcm *.DCM);;All files (*)"
    )
    if not name:
        return None
    try:
        view = open_report(Path(name))
    except NotAReport as error:
        QMessageBox.warning(parent, "Open SR", str(error))
        return None
    dialog = SRDialog(parent, view)
    dialog.show()
    return dialog
