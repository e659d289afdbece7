"""The load report: which files were not loaded and why, and each series' warnings.

One dialog lists what ``scan`` found wrong, in a reader's words: the files not loaded,
grouped by kind ("damaged or cut short", "not an image"...), each with its path and the
reason, and every series that carries warnings (gantry tilt, missing slices, stand-in
identifiers...), with set-aside localizers marked as such. In a blinded read nothing
here shows a patient name, ID, birth date, institution or date, and file paths are
shown from the folder the files share (the folders above it are not shown).

``LoadReportDialog(skipped, series_warnings, parent=None, *, blinded=True)``.
"""

import logging
from collections.abc import Sequence
from pathlib import PurePath

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.imaging.report import count_text, group_skipped
from mrecist_reader.imaging.sources import SkippedFile
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.ui.theme import MUTED, WARNING

logger = logging.getLogger(__name__)

NOTHING_SKIPPED = "Every file found was loaded."
NO_WARNINGS = "No series has warnings."
SET_ASIDE = "set aside: a localizer (scout / survey), not for reading"


def series_title(series: SeriesInfo, *, blinded: bool) -> str:
    """Return how a series is named in the report (no identity when ``blinded``)."""
    number = f"series {series.series_number}" if series.series_number else ""
    name = series.series_description or number or "(no description)"
    if series.stack_label:
        name += f" [{series.stack_label}]"
    parts = [
        f"Subject {series.subject_id}" if series.subject_id else "",
        series.timepoint_label,
        name,
        f"{series.modality}, {count_text(series.n_images, 'image')}",
    ]
    if not blinded:
        identity = series.identity
        who = " ".join(x for x in (identity.patient_name, identity.patient_id) if x)
        if who:
            parts.append(f"patient {who}")
    return " · ".join(p for p in parts if p)


def series_notes(series: SeriesInfo) -> tuple[str, ...]:
    """Return what the report says under a series: set aside, then its warnings."""
    aside = (SET_ASIDE,) if series.stack_label.startswith("localizer") else ()
    return (*aside, *series.warnings)


def shown_paths(skipped: Sequence[SkippedFile], *, blinded: bool) -> list[str]:
    """Return each skipped file's path as shown: its file name only when blinded.

    Folder names are often the patient's name or hospital number, the opened folder's
    own included, so a blinded read shows none of them.
    """
    paths = [s.path for s in skipped]
    if not blinded:
        return paths
    return [_file_name(p) for p in paths]


def _file_name(path: str) -> str:
    """Return a file's name (``archive.zip!member`` for a zip member)."""
    archive, bang, member = path.partition("!")
    return f"{PurePath(archive).name}{bang}{member}"


def capitalised(text: str) -> str:
    """Return ``text`` with its first letter capitalised (the rest unchanged: DICOM)."""
    return text[:1].upper() + text[1:]


class LoadReportDialog(QDialog):
    """The files not loaded (with reasons) and the series' warnings.

    Parameters
    ----------
    skipped
        ``ScanResult.skipped``: every file ``scan`` did not use, with its reason.
    series_warnings
        The series to list (``ScanResult.series_warnings``, and set-aside localizers
        if wanted); series without warnings are listed only when set aside.
    parent
        Parent widget.
    blinded
        A blinded (central) read: no patient identity, paths from their shared folder.

    """

    def __init__(
        self,
        skipped: Sequence[SkippedFile],
        series_warnings: Sequence[SeriesInfo],
        parent: QWidget | None = None,
        *,
        blinded: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("loadReport")
        self.setWindowTitle("Load report")
        self.resize(820, 560)
        self._blinded = blinded
        self._series = tuple(s for s in series_warnings if series_notes(s))
        self._skipped = tuple(skipped)
        self._shown = dict(
            zip(
                (s.path for s in self._skipped),
                shown_paths(self._skipped, blinded=blinded),
                strict=True,
            )
        )
        layout = QVBoxLayout(self)
        self.summary = QLabel(self._summary_text())
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)

        layout.addWidget(QLabel("<b>Files not loaded</b>"))
        self.skipped_tree = self._tree("skippedFiles", ["File", "Why"])
        self._fill_skipped()
        layout.addWidget(self.skipped_tree, stretch=1)

        layout.addWidget(QLabel("<b>Series warnings</b>"))
        self.series_tree = self._tree("seriesWarnings", ["Series / warning"])
        self._fill_series()
        layout.addWidget(self.series_tree, stretch=1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy report")
        self.copy_button.setToolTip("Copy the whole report as text")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _summary_text(self) -> str:
        files = (
            f"{count_text(len(self._skipped), 'file')} not loaded"
            if self._skipped
            else NOTHING_SKIPPED
        )
        warned = sum(1 for s in self._series if s.warnings)
        series = (
            f"{count_text(warned, 'series', 'series')} with warnings"
            if warned
            else NO_WARNINGS
        )
        return f"{files} {series}" if not self._skipped else f"{files}; {series}"

    @staticmethod
    def _tree(name: str, headings: list[str]) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setObjectName(name)
        tree.setHeaderLabels(headings)
        tree.setAlternatingRowColors(True)
        tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = tree.header()
        header.setStretchLastSection(True)
        if len(headings) > 1:  # the file column leaves room for the reason
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(0, 340)
        return tree

    def _fill_skipped(self) -> None:
        if not self._skipped:
            self.skipped_tree.addTopLevelItem(QTreeWidgetItem([NOTHING_SKIPPED, ""]))
            return
        for group in group_skipped(self._skipped):
            heading = QTreeWidgetItem(
                [f"{capitalised(group.kind.value)} ({len(group.files)})", ""]
            )
            for item in group.files:
                shown = self._shown[item.path]
                child = QTreeWidgetItem([shown, item.reason])
                child.setToolTip(0, shown)
                child.setToolTip(1, item.reason)
                heading.addChild(child)
            self.skipped_tree.addTopLevelItem(heading)
            heading.setFirstColumnSpanned(True)  # once in the tree
            heading.setExpanded(True)

    def _fill_series(self) -> None:
        if not self._series:
            self.series_tree.addTopLevelItem(QTreeWidgetItem([NO_WARNINGS]))
            return
        for series in self._series:
            item = QTreeWidgetItem([series_title(series, blinded=self._blinded)])
            for note in series_notes(series):
                child = QTreeWidgetItem([note])
                child.setToolTip(0, note)
                colour = MUTED if note == SET_ASIDE else WARNING
                child.setForeground(0, QColor(colour))
                item.addChild(child)
            self.series_tree.addTopLevelItem(item)
            item.setExpanded(True)

    def report_text(self) -> str:
        """Return the report as plain text (what "Copy report" copies)."""
        lines = [self.summary.text(), "", "Files not loaded:"]
        if not self._skipped:
            lines.append(f"  {NOTHING_SKIPPED}")
        for group in group_skipped(self._skipped):
            lines.append(f"  {capitalised(group.kind.value)}:")
            lines.extend(
                f"    {self._shown[item.path]}: {item.reason}" for item in group.files
            )
        lines += ["", "Series warnings:"]
        if not self._series:
            lines.append(f"  {NO_WARNINGS}")
        for series in self._series:
            lines.append(f"  {series_title(series, blinded=self._blinded)}")
            lines.extend(f"    - {note}" for note in series_notes(series))
        return "\n".join(lines)

    def copy_to_clipboard(self) -> None:
        """Put :meth:`report_text` on the clipboard."""
        QGuiApplication.clipboard().setText(self.report_text())
        logger.info("load report copied to the clipboard")


__all__ = ["LoadReportDialog", "series_notes", "series_title", "shown_paths"]
