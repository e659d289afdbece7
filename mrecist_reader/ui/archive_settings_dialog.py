"""File > Archive settings...: a thin dialog over :mod:`mrecist_reader.desk.archive_settings`.

The reader chooses DICOMweb or DIMSE, gives the address and the authentication,
tests the connection (off the GUI thread; the answer or the failure in words) and
saves ``archive.toml``; a mistake is named and nothing is saved.
"""

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.archive.config import read_archive_config
from mrecist_reader.archive.nodes import InvalidNode
from mrecist_reader.desk.archive_settings import (
    ArchiveForm,
    form_of,
    save,
    try_connection,
)
from mrecist_reader.ui.workers import run_in_thread

CHOICES = {"none": "", "DICOMweb": "dicomweb", "DIMSE": "dimse"}


class ArchiveSettingsDialog(QDialog):
    """Edit, test and save the archive node of ``folder/archive.toml``."""

    def __init__(self, parent: QWidget | None, folder: Path) -> None:
        super().__init__(parent)
        self.setObjectName("archiveSettingsDialog")
        self.setWindowTitle("Archive settings")
        self.folder = folder
        self.protocol = QComboBox()
        self.protocol.addItems(list(CHOICES))
        self.address = QLineEdit()
        self.address.setPlaceholderText(
            "https://pacs.example/dicom-web  or  ORTHANC@pacs.example:4242"
        )
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.ca_bundle = QLineEdit()
        self.our_ae_title = QLineEdit()
        self.move_port = QLineEdit()
        self.send_sr = QCheckBox("Send the SR of each signed timepoint to the archive")
        self.test_button = QPushButton("&Test connection")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save
            | QDialogButtonBox.StandardButton.Cancel
        )
        form = QFormLayout()
        for label, widget in (
            ("Archive", self.protocol),
            ("Address", self.address),
            ("User name (DICOMweb)", self.username),
            ("Password (DICOMweb)", self.password),
            ("Bearer token (DICOMweb)", self.token),
            ("CA certificates (DICOMweb)", self.ca_bundle),
            ("Our AE title (DIMSE)", self.our_ae_title),
            ("Our C-MOVE port (DIMSE)", self.move_port),
        ):
            form.addRow(label, widget)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.send_sr)
        layout.addWidget(self.test_button)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.test_button.clicked.connect(self.test)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self._load()
        self.resize(560, self.sizeHint().height())

    def _load(self) -> None:
        try:
            form = form_of(read_archive_config(self.folder))
        except InvalidNode as error:
            form = ArchiveForm()
            self.message.setText(str(error))
        self.show_form(form)

    def show_form(self, form: ArchiveForm) -> None:
        """Fill the fields from ``form``."""
        choice = next(k for k, v in CHOICES.items() if v == form.protocol)
        self.protocol.setCurrentText(choice)
        self.address.setText(form.address)
        self.username.setText(form.username)
        self.password.setText(form.password)
        self.token.setText(form.token)
        self.ca_bundle.setText(form.ca_bundle)
        self.our_ae_title.setText(form.our_ae_title)
        self.move_port.setText(form.move_port)
        self.send_sr.setChecked(form.send_sr)

    def form(self) -> ArchiveForm:
        """Return what the fields say."""
        return ArchiveForm(
            CHOICES[self.protocol.currentText()],
            self.address.text(),
            self.username.text(),
            self.password.text(),
            self.token.text(),
            self.ca_bundle.text(),
            self.our_ae_title.text(),
            self.move_port.text(),
            self.send_sr.isChecked(),
        )

    def test(self) -> None:
        """Try the archive off the GUI thread and show the answer."""
        self.message.setText("Testing...")
        self.test_button.setEnabled(False)
        run_in_thread(
            try_connection,
            self.form(),
            on_done=self.message.setText,
            on_error=lambda error: self.message.setText(str(error)),
            on_finished=lambda: self.test_button.setEnabled(True),
        )

    def save(self) -> None:
        """Write archive.toml, or name the mistake and keep the dialog open."""
        try:
            path = save(self.form(), self.folder)
        except (InvalidNode, OSError) as error:
            self.message.setText(str(error))
            return
        self.message.setText(f"saved {path}")
        self.accept()
