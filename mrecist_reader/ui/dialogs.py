"""Dialogs where the rules need the reader's decision or confirmation.

Each ``ask_*`` function shows a modal dialog and returns the reader's answer (``None``
when cancelled). They only ask; the session applies the rules.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.core.model import LesionType, NewLesionStatus, Organ, ReadType
from mrecist_reader.core.wording import LESION_TYPE_TITLES
from mrecist_reader.ui.theme import WARNING

logger = logging.getLogger(__name__)

LIVER_SEGMENTS: tuple[str, ...] = tuple(
    f"segment {numeral}"
    for numeral in ("I", "II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII")
)
"""Couinaud liver segments offered as locations (free text is allowed too)."""

OTHER_LOCATIONS: tuple[str, ...] = ("ascites", "pleural effusion")
"""Other locations offered with the liver segments."""

ORGAN_NAMES = {
    Organ.LIVER: "Liver",
    Organ.LYMPH_NODE: "Lymph node",
    Organ.LUNG: "Lung",
    Organ.PERITONEUM: "Peritoneum (ascites)",
    Organ.PORTAL_VEIN: "Portal vein",
    Organ.OTHER: "Other (e.g. pleural effusion)",
}

TYPE_NAMES: dict[LesionType, str] = dict(LESION_TYPE_TITLES)
"""Lesion types as the dialog offers them (from :mod:`mrecist_reader.core.wording`)."""


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    box = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    ok = box.button(QDialogButtonBox.StandardButton.Ok)
    ok.setText(ok_text)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


# ---------------------------------------------------------------- reader identity
class ReaderIdentityDialog(QDialog):
    """First start: who reads, and whether the read is central (blinded) or local."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        reader_id: str = "",
        read_type: ReadType = ReadType.CENTRAL,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reader")
        self.setObjectName("readerIdentityDialog")
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("Your reader ID is written with every measurement and sign-off.")
        )
        form = QFormLayout()
        self.reader_edit = QLineEdit(reader_id)
        self.reader_edit.setPlaceholderText("e.g. R01")
        form.addRow("Reader ID", self.reader_edit)
        self.central = QRadioButton("Central read (blinded: no patient identity shown)")
        self.local = QRadioButton("Local read (site)")
        group = QButtonGroup(self)
        group.addButton(self.central)
        group.addButton(self.local)
        (self.central if read_type is ReadType.CENTRAL else self.local).setChecked(True)
        form.addRow("Read type", self.central)
        form.addRow("", self.local)
        layout.addLayout(form)
        self.buttons = _buttons(self, "Start reading")
        layout.addWidget(self.buttons)
        self.reader_edit.textChanged.connect(self._on_text)
        self._on_text(reader_id)

    def _on_text(self, text: str) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(text.strip()))

    def answer(self) -> tuple[str, ReadType]:
        """Return the reader ID and the read type entered."""
        read_type = ReadType.CENTRAL if self.central.isChecked() else ReadType.LOCAL
        return (self.reader_edit.text().strip(), read_type)


def ask_reader_identity(
    parent: QWidget | None,
    *,
    reader_id: str = "",
    read_type: ReadType = ReadType.CENTRAL,
) -> tuple[str, ReadType] | None:
    """Ask the reader ID and read type; ``None`` when cancelled."""
    dialog = ReaderIdentityDialog(parent, reader_id=reader_id, read_type=read_type)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.answer()


# ---------------------------------------------------------------- new lesion
@dataclass(frozen=True, slots=True)
class LesionAnswer:
    """What the reader chose for a new lesion."""

    lesion_type: LesionType
    organ: Organ
    location: str
    new_status: NewLesionStatus | None = None


NEW_STATUS_NAMES = {
    NewLesionStatus.EQUIVOCAL: "Equivocal (not progression yet)",
    NewLesionStatus.PRESENT: "Unequivocal new HCC or lesion (progression)",
}
"""How the lesion dialog offers a new lesion's status (no default: the reader chooses)."""


class LesionDialog(QDialog):
    """Choose the type, organ and location of a lesion being added.

    A new lesion's status (equivocal or unequivocal) is asked too, with no default: an
    unequivocal new lesion makes the timepoint progression.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        types: Sequence[LesionType] = tuple(LesionType),
        default_type: LesionType = LesionType.TARGET,
        caliper_mm: float | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add lesion")
        self.setObjectName("lesionDialog")
        form = QFormLayout(self)
        if caliper_mm is not None:  # what the reader just drew, while it is hidden
            form.addRow("Caliper", QLabel(f"{caliper_mm:.1f} mm"))
        self.type_combo = QComboBox()
        for lesion_type in types:
            self.type_combo.addItem(TYPE_NAMES[lesion_type], lesion_type)
        index = self.type_combo.findData(default_type)
        self.type_combo.setCurrentIndex(max(index, 0))
        self.organ_combo = QComboBox()
        for organ, name in ORGAN_NAMES.items():
            self.organ_combo.addItem(name, organ)
        self.location_combo = QComboBox()
        self.location_combo.setEditable(True)
        self.location_combo.addItems(LIVER_SEGMENTS)
        self.location_combo.setCurrentText("")
        line = self.location_combo.lineEdit()
        if line is not None:
            line.setPlaceholderText("segment VII, ascites, pleural effusion...")
        self.location_combo.addItems(OTHER_LOCATIONS)
        self.status_combo = QComboBox()
        self.status_combo.addItem("choose...", None)
        for status, name in NEW_STATUS_NAMES.items():
            self.status_combo.addItem(name, status)
        self.setMinimumWidth(380)
        self.organ_combo.currentIndexChanged.connect(self._on_organ)
        form.addRow("Type", self.type_combo)
        form.addRow("Organ", self.organ_combo)
        form.addRow("Location", self.location_combo)
        form.addRow("Status", self.status_combo)
        self._status_row = form.rowCount() - 1
        self.hint = QLabel("")
        self.hint.setObjectName("lesionDialogHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {WARNING};")
        form.addRow(self.hint)
        buttons = _buttons(self, "Add")
        self._add_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        form.addRow(buttons)
        self.type_combo.currentIndexChanged.connect(self._on_choice)
        self.status_combo.currentIndexChanged.connect(self._on_choice)
        self.location_combo.currentTextChanged.connect(self._on_choice)
        self._on_choice()
        # what the reader must give first: Tab-Tab-space cannot skip past it
        self.location_combo.setFocus()

    def _on_organ(self) -> None:
        if self.organ_combo.currentData() is not Organ.LIVER:
            self.location_combo.setCurrentText("")

    def _is_new(self) -> bool:
        return LesionType(self.type_combo.currentData()) is LesionType.NEW

    def _is_target(self) -> bool:
        return LesionType(self.type_combo.currentData()) is LesionType.TARGET

    def missing(self) -> str:
        """Return what the reader must still give before Add ("" when nothing)."""
        if self._is_target() and not self.location_combo.currentText().strip():
            return "A target needs its location (e.g. segment VII)."
        if self._is_new() and self.status_combo.currentData() is None:
            return "Choose the new lesion's status: equivocal or unequivocal."
        return ""

    def _on_choice(self) -> None:
        form = self.layout()
        assert isinstance(form, QFormLayout)
        form.setRowVisible(self._status_row, self._is_new())
        missing = self.missing()
        self.hint.setText(missing)
        self.hint.setVisible(bool(missing))
        self._add_button.setEnabled(not missing)
        self._add_button.setToolTip(missing)

    def answer(self) -> LesionAnswer:
        """Return the chosen type, organ, location and (new lesion) status."""
        status = self.status_combo.currentData() if self._is_new() else None
        return LesionAnswer(
            lesion_type=LesionType(self.type_combo.currentData()),
            organ=Organ(self.organ_combo.currentData()),
            location=self.location_combo.currentText().strip(),
            new_status=None if status is None else NewLesionStatus(status),
        )


def ask_lesion(
    parent: QWidget | None,
    *,
    types: Sequence[LesionType] = tuple(LesionType),
    default_type: LesionType = LesionType.TARGET,
    caliper_mm: float | None = None,
) -> LesionAnswer | None:
    """Ask type, organ and location of a new lesion; ``None`` when cancelled.

    ``caliper_mm`` shows the length of the caliper that adds it.
    """
    dialog = LesionDialog(
        parent, types=types, default_type=default_type, caliper_mm=caliper_mm
    )
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.answer()


# ---------------------------------------------------------------- rule decisions
def ask_record_as_non_target(parent: QWidget | None, message: str) -> bool:
    """Explain why a lesion cannot be a target; return whether to record it as non-target.

    ``message`` is the rule's own message (lesion, value and allowed range, or the
    per-organ / total limit).
    """
    box = QMessageBox(parent)
    box.setObjectName("targetRefusedDialog")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Not a target lesion")
    box.setText(message)
    box.setInformativeText(
        "The protocol does not allow this lesion as a target. It can be followed as a "
        "non-target lesion instead (its status is recorded at every timepoint)."
    )
    record = box.addButton("Record as non-target", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(record)
    box.exec()
    return box.clickedButton() is record


def ask_record_far_caliper(
    parent: QWidget | None, question: str, lesion_id: str
) -> Literal["record", "new"] | None:
    """Ask whether a caliper far from its lesion's earlier one really measures it.

    ``question`` says how far it lies and from which timepoint's caliper. Returns
    ``"record"`` (it is that lesion), ``"new"`` (a new lesion) or ``None`` (cancel).
    """
    box = QMessageBox(parent)
    box.setObjectName("farCaliperDialog")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(f"Is this {lesion_id}?")
    box.setText(question)
    box.setInformativeText(
        "Scans of different days can be shifted by a few centimetres, but this may "
        f"be another lesion. Record it as {lesion_id} only if it is {lesion_id}."
    )
    record = box.addButton(f"Record as {lesion_id}", QMessageBox.ButtonRole.AcceptRole)
    new = box.addButton("Add as new lesion", QMessageBox.ButtonRole.ActionRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)  # Enter, pressed by habit, must not record it
    box.exec()
    clicked = box.clickedButton()
    if clicked is record:
        return "record"
    if clicked is new:
        return "new"
    return None


def ask_cytology_confirmed(parent: QWidget | None, lesion_label: str) -> bool | None:
    """Ask whether progression of ascites/effusion is confirmed by cytology.

    Returns ``True`` (confirmed: record progression), ``False`` (not confirmed: record
    present) or ``None`` (cancel).
    """
    box = QMessageBox(parent)
    box.setObjectName("cytologyDialog")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Cytological confirmation")
    box.setText(
        f"{lesion_label}: an increase of ascites or pleural effusion counts as "
        "progression only when cytology confirms malignancy (mRECIST)."
    )
    box.setInformativeText("Is the progression confirmed by cytology?")
    confirmed = box.addButton("Confirmed: progression", QMessageBox.ButtonRole.YesRole)
    not_confirmed = box.addButton(
        "Not confirmed: record as present", QMessageBox.ButtonRole.NoRole
    )
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    if clicked is confirmed:
        return True
    if clicked is not_confirmed:
        return False
    return None


def ask_replace_files(parent: QWidget | None, names: Sequence[str]) -> bool:
    """Ask before an export replaces files already in its folder."""
    box = QMessageBox(parent)
    box.setObjectName("replaceFilesDialog")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Replace files?")
    box.setText(f"{' and '.join(names)} already exist in this folder.")
    box.setInformativeText(
        "Replacing them loses what they hold (e.g. another subject's export). Choose "
        "another folder to keep them."
    )
    replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is replace


def ask_sign(parent: QWidget | None, label: str, summary: str) -> bool:
    """Confirm signing a timepoint (after which it is read-only)."""
    box = QMessageBox(parent)
    box.setObjectName("signDialog")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(f"Sign {label}")
    box.setText(f"Sign {label}? It becomes read-only; changes then need an amendment.")
    box.setInformativeText(summary)
    sign = box.addButton(f"Sign {label}", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is sign


class AmendDialog(QDialog):
    """Reopen a signed timepoint: the reason is required and goes to the audit trail.

    ``reopened`` lists the later signed timepoints whose responses depend on this one;
    amending reopens them too, and the dialog says so before the reader confirms.
    """

    def __init__(
        self, parent: QWidget | None, label: str, *, reopened: Sequence[str] = ()
    ) -> None:
        super().__init__(parent)
        self.setObjectName("amendDialog")
        self.setWindowTitle(f"Amend {label}")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{label} is signed. Give the reason for amending it:"))
        self.reopened_label = QLabel(_reopened_warning(label, reopened))
        self.reopened_label.setObjectName("amendReopenedLabel")
        self.reopened_label.setWordWrap(True)
        self.reopened_label.setVisible(bool(reopened))
        layout.addWidget(self.reopened_label)
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("e.g. T2 measured on the wrong slice")
        layout.addWidget(self.reason)
        self.buttons = _buttons(self, "Amend")
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(self._on_text)
        self._on_text()

    def _on_text(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.reason.toPlainText().strip()))


def _reopened_warning(label: str, reopened: Sequence[str]) -> str:
    """Say which signed timepoints amending ``label`` reopens ("" when none)."""
    if not reopened:
        return ""
    if len(reopened) == 1:
        return (
            f"{reopened[0]} is signed and depends on {label}: it will be reopened "
            "and must be signed again."
        )
    return (
        f"{', '.join(reopened)} are signed and depend on {label}: they will be "
        "reopened and must be signed again."
    )


def ask_amend_reason(
    parent: QWidget | None, label: str, *, reopened: Sequence[str] = ()
) -> str | None:
    """Ask why a signed timepoint is amended; ``None`` when cancelled.

    ``reopened``: the later signed timepoints amending it reopens (shown to the reader),
    from ``ReadSession.timepoints_reopened_by_amending``.
    """
    dialog = AmendDialog(parent, label, reopened=reopened)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.reason.toPlainText().strip()


# ---------------------------------------------------------------- help
class ShortcutsDialog(QDialog):
    """The list of keyboard shortcuts (Help > Shortcuts)."""

    def __init__(
        self, parent: QWidget | None, shortcuts: Sequence[tuple[str, str]]
    ) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(self)
        table = QTableWidget(len(shortcuts), 2)
        table.setHorizontalHeaderLabels(["Key", "Action"])
        table.verticalHeader().setVisible(False)
        for row, (key, action) in enumerate(shortcuts):
            table.setItem(row, 0, QTableWidgetItem(key))
            table.setItem(row, 1, QTableWidgetItem(action))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(table)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        layout.addWidget(close, alignment=Qt.AlignmentFlag.AlignRight)
        self.resize(520, 560)
