"""The worklist: subjects, their timepoints (baseline first) and each timepoint's series.

Each timepoint shows its study day and read status (not started / draft / signed); each
series its phase, image count and warnings. In a central (blinded) read nothing here
shows a patient name, ID, birth date, institution or date: only the trial subject ID,
timepoint labels and study days. The arterial series of each timepoint is preselected,
because mRECIST measures viable tumour on the arterial phase.
"""

import logging
from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from mrecist_reader.core.model import Read, ReadStatus
from mrecist_reader.core.wording import word
from mrecist_reader.desk.worklist import preferred_series
from mrecist_reader.imaging.volume import Phase, SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry, TimepointEntry
from mrecist_reader.ui.theme import MUTED, RESPONSE, WARNING

logger = logging.getLogger(__name__)

PHASE_NAMES = {
    Phase.ARTERIAL: "arterial",
    Phase.PORTAL_VENOUS: "portal venous",
    Phase.DELAYED: "delayed",
    Phase.PRE_CONTRAST: "pre-contrast",
    Phase.UNKNOWN: "phase unknown",
}
NOT_STARTED = "not started"

ROLE_KIND = Qt.ItemDataRole.UserRole
ROLE_VALUE = Qt.ItemDataRole.UserRole + 1


def status_text(status: ReadStatus | None) -> str:
    """Return how a timepoint's read status reads in the worklist."""
    return NOT_STARTED if status is None else word(status)


def timepoint_state(read: Read, index: int) -> str:
    """Return "signed", "draft" or "not started" for a timepoint of a read.

    The worklist and the status bar both say this: signed once signed, a draft as soon
    as anything is recorded at that timepoint, otherwise not started.
    """
    timepoint = read.timepoint(index)
    if timepoint is not None and timepoint.read_status is ReadStatus.SIGNED:
        return str(ReadStatus.SIGNED)
    if read.observations_at(index):
        return str(ReadStatus.DRAFT)
    return NOT_STARTED


def series_text(info: SeriesInfo) -> str:
    """Return the series name with its phase (no identity, no date)."""
    number = info.series_number or ""
    description = info.series_description or f"series {number}".strip()
    phase = PHASE_NAMES[info.phase]
    if phase.split()[0].lower() in description.lower():
        return description
    return f"{description} ({phase})"


def series_details(info: SeriesInfo) -> str:
    """Return the series' modality, image count and warnings."""
    text = f"{info.modality} · {info.n_images} images"
    if info.warnings:
        text += "  ⚠ " + "; ".join(info.warnings)
    return text


def day_text(study_day: int | None) -> str:
    """Return ``"day 30"`` or an empty string when the study day is unknown."""
    return "" if study_day is None else f"day {study_day}"


class SeriesBrowser(QTreeWidget):
    """Subjects -> timepoints -> series, with read status; emits the chosen series.

    Signals
    -------
    series_chosen(str, int, object)
        Subject ID, timepoint index and the :class:`SeriesInfo` chosen (double click,
        Enter, or programmatically with :meth:`choose`).
    timepoint_chosen(str, int)
        A timepoint row was activated.

    """

    series_chosen = Signal(str, int, object)
    timepoint_chosen = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("seriesBrowser")
        self.setHeaderLabels(["Worklist", "Status"])
        # both columns stay in view at any dock width: names are elided, not the status
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        # a click opens what it names (as Enter or a double click does)
        self.itemClicked.connect(self._on_activated)
        self.itemActivated.connect(self._on_activated)

    def set_worklist(self, subjects: Sequence[SubjectEntry]) -> None:
        """Show subjects (the desk's worklist), timepoints and series (nothing kept)."""
        self.clear()
        for subject in subjects:
            subject_item = QTreeWidgetItem([f"Subject {subject.subject_id}", ""])
            subject_item.setData(0, ROLE_KIND, "subject")
            subject_item.setData(0, ROLE_VALUE, subject.subject_id)
            self.addTopLevelItem(subject_item)
            for timepoint in subject.timepoints:
                subject_item.addChild(self._timepoint_item(subject, timepoint))
            subject_item.setExpanded(True)
        self._select_first_arterial()

    def _timepoint_item(
        self, subject: SubjectEntry, timepoint: TimepointEntry
    ) -> QTreeWidgetItem:
        label = f"{timepoint.label}   {day_text(timepoint.study_day)}".strip()
        item = QTreeWidgetItem([label, NOT_STARTED])
        item.setData(0, ROLE_KIND, "timepoint")
        item.setData(0, ROLE_VALUE, (subject.subject_id, timepoint.index))
        item.setForeground(1, QColor(MUTED))
        chosen = preferred_series(timepoint.series)
        for info in timepoint.series:
            child = QTreeWidgetItem([series_text(info), series_details(info)])
            child.setData(0, ROLE_KIND, "series")
            child.setData(0, ROLE_VALUE, (subject.subject_id, timepoint.index, info))
            child.setForeground(1, QColor(MUTED))
            # the whole name and details, even where the column cuts them short
            tip = "\n".join([series_text(info), series_details(info), *info.warnings])
            child.setToolTip(0, tip)
            child.setToolTip(1, tip)
            if info.warnings:
                child.setForeground(1, QColor(WARNING))
            if info is chosen:
                font = child.font(0)
                font.setBold(True)
                child.setFont(0, font)
            item.addChild(child)
        item.setExpanded(True)
        return item

    def _select_first_arterial(self) -> None:
        for item in self._items("series"):
            _, _, info = item.data(0, ROLE_VALUE)
            if info.phase is Phase.ARTERIAL:
                self.setCurrentItem(item)
                return

    def _items(self, kind: str) -> list[QTreeWidgetItem]:
        found: list[QTreeWidgetItem] = []
        stack = [self.topLevelItem(i) for i in range(self.topLevelItemCount())]
        while stack:
            item = stack.pop(0)
            if item is None:
                continue
            if item.data(0, ROLE_KIND) == kind:
                found.append(item)
            stack.extend(item.child(i) for i in range(item.childCount()))
        return found

    def set_read_statuses(self, subject_id: str, states: Mapping[int, str]) -> None:
        """Show each timepoint's state (:func:`timepoint_state`; missing: not started)."""
        for item in self._items("timepoint"):
            subject, index = item.data(0, ROLE_VALUE)
            if subject != subject_id:
                continue
            state = states.get(index, NOT_STARTED)
            item.setText(1, state)
            colour = RESPONSE if state == str(ReadStatus.SIGNED) else MUTED
            item.setForeground(1, QColor(colour))

    def status_of(self, subject_id: str, index: int) -> str:
        """Return the status text shown for a timepoint."""
        for item in self._items("timepoint"):
            if item.data(0, ROLE_VALUE) == (subject_id, index):
                return item.text(1)
        return ""

    def chosen_series(self, subject_id: str, index: int) -> SeriesInfo | None:
        """Return the series shown in bold for a timepoint (its preselected series)."""
        listed = [
            info
            for item in self._items("series")
            for subject, item_index, info in [item.data(0, ROLE_VALUE)]
            if (subject, item_index) == (subject_id, index)
        ]
        return preferred_series(listed)

    def show_current(
        self, subject_id: str, index: int, series_uid: str | None = None
    ) -> None:
        """Highlight the series being read (else the timepoint), opening nothing."""
        uid = series_uid
        if uid is None:
            chosen = self.chosen_series(subject_id, index)
            uid = None if chosen is None else chosen.series_instance_uid
        for item in self._items("series"):
            subject, item_index, info = item.data(0, ROLE_VALUE)
            if (subject, item_index, info.series_instance_uid) == (
                subject_id,
                index,
                uid,
            ):
                self.setCurrentItem(item)
                self.scrollToItem(item)
                return
        for item in self._items("timepoint"):
            if item.data(0, ROLE_VALUE) == (subject_id, index):
                self.setCurrentItem(item)
                self.scrollToItem(item)
                return

    def choose(
        self, subject_id: str, index: int, info: SeriesInfo | None = None
    ) -> None:
        """Open a timepoint's series (its arterial series when ``info`` is ``None``)."""
        info = info or self.chosen_series(subject_id, index)
        if info is not None:
            self.series_chosen.emit(subject_id, index, info)

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        kind = item.data(0, ROLE_KIND)
        if kind == "series":
            subject_id, index, info = item.data(0, ROLE_VALUE)
            self.series_chosen.emit(subject_id, index, info)
        elif kind == "timepoint":
            subject_id, index = item.data(0, ROLE_VALUE)
            self.timepoint_chosen.emit(subject_id, index)

    def all_texts(self) -> list[str]:
        """Return every text shown (used by the blinding test)."""
        texts: list[str] = []
        for kind in ("subject", "timepoint", "series"):
            for item in self._items(kind):
                texts.extend(item.text(c) for c in range(self.columnCount()))
                texts.append(item.toolTip(0))
        return texts
