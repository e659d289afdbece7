"""The lesion table: every lesion of the read with its values at the timepoints in view.

:class:`LesionTableModel` is a read-only view of the session's :class:`Read` snapshot: the
session replaces the snapshot and the model resets (no evented lists). Rows are targets,
then non-targets, then new lesions; at a follow-up the baseline and previous values stand
beside the current one so the reader sees what to measure.
"""

import logging
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from mrecist_reader.core.model import (
    Lesion,
    LesionType,
    Method,
    Observation,
    Read,
    TargetStatus,
)
from mrecist_reader.core.units import format_mm
from mrecist_reader.ui.theme import MUTED, PROGRESSION, WARNING

logger = logging.getLogger(__name__)

TYPE_SHORT = {
    LesionType.TARGET: "Target",
    LesionType.NON_TARGET: "Non-target",
    LesionType.NEW: "New",
}
METHOD_SHORT = {
    Method.MANUAL: "manual",
    Method.SEMI_AUTOMATIC: "semi-auto",
    Method.SEMI_AUTOMATIC_EDITED: "semi-auto, edited",
}
NOT_RECORDED = "—"

_TYPE_ORDER = (LesionType.TARGET, LesionType.NON_TARGET, LesionType.NEW)
_ModelIndex = QModelIndex | QPersistentModelIndex


def format_observation(lesion: Lesion, observation: Observation | None) -> str:
    """Return how one observation reads in the table (value in mm or the status)."""
    if observation is None:
        return NOT_RECORDED
    status = str(observation.status).replace("_", " ")
    if lesion.lesion_type is not LesionType.TARGET:
        return status
    if observation.status is TargetStatus.MEASURED and observation.diameter is not None:
        return f"{format_mm(observation.diameter)} mm"
    if observation.diameter is not None:
        return f"{status} ({format_mm(observation.diameter)})"
    return status


class LesionTableModel(QAbstractTableModel):
    """Lesions of a read (rows) with their description and values (columns).

    Columns: lesion, current value, previous value, baseline value, type, organ,
    location, method of the current value. The current timepoint is set with
    :meth:`set_timepoint`; "previous" is the timepoint before it (empty at baseline and
    at the first follow-up, where it is the baseline).
    """

    HEADERS = (
        "Lesion",
        "Current",
        "Previous",
        "Baseline",
        "Type",
        "Organ",
        "Location",
        "Method",
    )
    COL_CURRENT = 1
    COL_PREVIOUS = 2
    COL_BASELINE = 3
    COL_METHOD = 7
    _VALUE_COLUMNS = (COL_CURRENT, COL_PREVIOUS, COL_BASELINE)

    def __init__(self, read: Read | None = None) -> None:
        super().__init__()
        self._read = read
        self._lesions: tuple[Lesion, ...] = ()
        self._timepoint = 0
        self._order(read)

    # ------------------------------------------------------------------ state
    def set_read(self, read: Read | None) -> None:
        """Show a new snapshot of the read (the model resets)."""
        self.beginResetModel()
        self._read = read
        self._order(read)
        self.endResetModel()

    def set_timepoint(self, index: int) -> None:
        """Choose the current timepoint (by index; 0 is baseline)."""
        self.beginResetModel()
        self._timepoint = index
        self.endResetModel()

    @property
    def timepoint(self) -> int:
        """Return the current timepoint index."""
        return self._timepoint

    def _order(self, read: Read | None) -> None:
        if read is None:
            self._lesions = ()
            return
        self._lesions = tuple(
            lesion
            for lesion_type in _TYPE_ORDER
            for lesion in read.lesions_of_type(lesion_type)
        )

    def lesion_at(self, row: int) -> Lesion:
        """Return the lesion shown in a row."""
        return self._lesions[row]

    def row_of(self, lesion_id: str) -> int | None:
        """Return the row of a lesion, or ``None`` when it is not in the read."""
        for row, lesion in enumerate(self._lesions):
            if lesion.lesion_id == lesion_id:
                return row
        return None

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008, D102
        return 0 if parent.isValid() else len(self._lesions)

    def columnCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008, D102
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(  # noqa: D102
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._header(section)
        return None

    def _value_timepoint(self, column: int) -> int | None:
        """Return the timepoint a value column shows (``None``: nothing to show)."""
        if column == self.COL_CURRENT:
            return self._timepoint
        if column == self.COL_BASELINE:
            return 0 if self._timepoint > 0 else None
        if column == self.COL_PREVIOUS and self._timepoint > 1:
            return self._timepoint - 1
        return None

    def _header(self, section: int) -> str:
        name = self.HEADERS[section]
        if self._read is None or section not in self._VALUE_COLUMNS:
            return name
        index = self._value_timepoint(section)
        timepoint = None if index is None else self._read.timepoint(index)
        if timepoint is None:
            return name
        return timepoint.label

    def data(  # noqa: D102
        self, index: _ModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or self._read is None:
            return None
        lesion = self._lesions[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(lesion, index.column())
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colour(lesion, index.column())
        if role == Qt.ItemDataRole.UserRole:
            return lesion.lesion_id
        return None

    def _text(self, lesion: Lesion, column: int) -> str:
        assert self._read is not None
        if column in self._VALUE_COLUMNS:
            index = self._value_timepoint(column)
            if index is None:
                return ""
            return format_observation(
                lesion, self._read.observation(lesion.lesion_id, index)
            )
        if column == self.COL_METHOD:
            current = self._read.observation(lesion.lesion_id, self._timepoint)
            method = None if current is None else current.method
            return "" if method is None else METHOD_SHORT[method]
        fixed = {
            0: lesion.lesion_id,
            4: TYPE_SHORT[lesion.lesion_type],
            5: str(lesion.organ).replace("_", " "),
            6: lesion.location,
        }
        return fixed[column]

    def _colour(self, lesion: Lesion, column: int) -> QColor | None:
        assert self._read is not None
        if column in (self.COL_PREVIOUS, self.COL_BASELINE):
            return QColor(MUTED)
        if column != self.COL_CURRENT:
            return None
        observation = self._read.observation(lesion.lesion_id, self._timepoint)
        if observation is None:
            return QColor(WARNING)
        if str(observation.status) == "progression":
            return QColor(PROGRESSION)
        return None
