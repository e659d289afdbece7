"""Read > Trial endpoints: ask for the sponsor's files, show the endpoints view.

For a local (site) reader only: in a central read the menu entry is hidden, and the
desk (:func:`~mrecist_reader.desk.endpoints.endpoints_at_desk`) refuses before any
file is opened should it be asked anyway. The endpoints come from the reader's reads
in the open database with treatments.csv and, optionally, arms.csv (without it every
figure is pooled). The view (matplotlib) and the statistics (scipy) load on first use,
not with the window.
"""

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.desk.endpoints import endpoints_at_desk, may_show_endpoints
from mrecist_reader.ui.errors import error_boundary

if TYPE_CHECKING:
    from mrecist_reader.ui.endpoints_view import EndpointsView

logger = logging.getLogger(__name__)

TITLE = "Trial endpoints"
CSV_FILTER = "CSV (*.csv);;All (*)"


class EndpointFilesDialog(QDialog):
    """Ask for treatments.csv (needed) and arms.csv (optional: everything pooled)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("endpointFilesDialog")
        self.setWindowTitle(TITLE)
        form = QFormLayout(self)
        form.addRow(
            QLabel(
                "The endpoints of your reads in this database, at the visits the "
                "protocol fixes after each subject's treatment.",
                self,
            )
        )
        self.treatments = self._file_row(form, "treatments", "Treatments (needed):")
        self.arms = self._file_row(form, "arms", "Arms (optional):")
        self.arms.setPlaceholderText("none: every figure pooled")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.treatments.textChanged.connect(self._enable_ok)
        self._enable_ok()

    def _file_row(self, form: QFormLayout, name: str, text: str) -> QLineEdit:
        field = QLineEdit(self)
        field.setObjectName(f"{name}File")
        field.setPlaceholderText(f"{name}.csv")
        browse = QPushButton("Browse...", self)
        browse.clicked.connect(lambda: self._browse(field, f"{name}.csv"))
        row = QHBoxLayout()
        row.addWidget(field, stretch=1)
        row.addWidget(browse)
        form.addRow(text, row)
        return field

    def _browse(self, field: QLineEdit, what: str) -> None:
        name, _ = QFileDialog.getOpenFileName(self, f"Open {what}", "", CSV_FILTER)
        if name:
            field.setText(name)

    def _enable_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.treatments.text().strip()))

    def files(self) -> tuple[Path, Path | None]:
        """Return treatments.csv and arms.csv (``None``: none given)."""
        arms = self.arms.text().strip()
        return Path(self.treatments.text().strip()), Path(arms) if arms else None


class EndpointsCommand:
    """The window's Trial endpoints command: the files dialog, then the view."""

    def __init__(self, parent: QWidget, desk: ReadingDesk) -> None:
        self.parent = parent
        self.desk = desk
        self.dialog: EndpointFilesDialog | None = None
        self.view: EndpointsView | None = None

    @property
    def available(self) -> bool:
        """Return whether this reader may see trial endpoints (a local read)."""
        return may_show_endpoints(self.desk.context.read_type)

    def ask(self) -> None:
        """Ask for the sponsor's files (not modal); the view opens when accepted."""
        dialog = EndpointFilesDialog(self.parent)
        dialog.accepted.connect(lambda: self._open(*dialog.files()))
        self.dialog = dialog
        dialog.open()

    def _open(self, treatments: Path, arms: Path | None) -> None:
        with error_boundary(self.parent, TITLE):
            self.show(treatments, arms)

    def show(self, treatments: Path, arms: Path | None) -> "EndpointsView":
        """Derive the endpoints at the desk and show them in a window of their own.

        Raises
        ------
        EndpointsHidden
            In a central (blinded) read.
        InvalidRead
            When treatments.csv or arms.csv is invalid (every problem, with its line).

        """
        found = endpoints_at_desk(self.desk, treatments, arms)
        from mrecist_reader.ui.endpoints_view import EndpointsView

        if self.view is not None:
            self.view.close()
        view = EndpointsView(found, self.parent)
        view.setWindowFlag(Qt.WindowType.Window)  # its own window, closed with ours
        view.setObjectName("endpointsView")
        view.resize(900, 900)
        view.show()
        self.view = view
        logger.info("endpoints view opened")
        return view
