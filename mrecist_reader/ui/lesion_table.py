"""The lesion table: every lesion of the read with its values at the timepoints in view.

:class:`LesionTableModel` is a view of the session's :class:`Read` snapshot: the session
replaces the snapshot and the model resets (no evented lists). Rows are targets, then
non-targets, then new lesions; at a follow-up the baseline and previous values stand
beside the current one so the reader sees what to measure.

Two cells are editable (double click): a lesion's location (a liver segment I-VIII from
a list, or free text) and the comment of its observation at the current timepoint. The
model never changes the read itself: an edit is emitted (``location_edited``,
``comment_edited``) for the session's commands, whose new snapshot then comes back.
"""

import logging
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from mrecist_reader.core.model import (
    Lesion,
    LesionType,
    Method,
    NewLesionStatus,
    NonTargetStatus,
    Observation,
    Read,
    ReadStatus,
    TargetStatus,
)
from mrecist_reader.core.units import format_mm
from mrecist_reader.core.wording import (
    LESION_TYPE_TITLES,
    METHOD_WORDS,
    word,
)
from mrecist_reader.ui.dialogs import LIVER_SEGMENTS, OTHER_LOCATIONS
from mrecist_reader.ui.theme import MUTED, PROGRESSION, WARNING

logger = logging.getLogger(__name__)

TYPE_SHORT: dict[LesionType, str] = dict(LESION_TYPE_TITLES)
"""The type column's words (from :mod:`mrecist_reader.core.wording`)."""
METHOD_SHORT: dict[Method, str] = dict(METHOD_WORDS)
NOT_RECORDED = "—"

_TYPE_ORDER = (LesionType.TARGET, LesionType.NON_TARGET, LesionType.NEW)
_ModelIndex = QModelIndex | QPersistentModelIndex


def format_observation(lesion: Lesion, observation: Observation | None) -> str:
    """Return how one observation reads in the table (value in mm or the status)."""
    if observation is None:
        return NOT_RECORDED
    status = word(observation.status)
    if lesion.lesion_type is not LesionType.TARGET:  # a new lesion's measured diameter
        size = (
            ""
            if observation.diameter is None
            else f" ({format_mm(observation.diameter)} mm)"
        )
        return status + size
    if observation.status is TargetStatus.MEASURED and observation.diameter is not None:
        return f"{format_mm(observation.diameter)} mm"
    if observation.diameter is not None:
        return f"{status} ({format_mm(observation.diameter)})"
    return status


def _is_progression(lesion: Lesion, observation: Observation) -> bool:
    """Return whether a non-target progresses or a new lesion is unequivocal there.

    By the lesion's type, never by the token alone: "present" is a non-target's plain
    presence but an unequivocal new lesion (progression).
    """
    status = str(observation.status)
    if lesion.lesion_type is LesionType.NON_TARGET:
        return status == str(NonTargetStatus.PROGRESSION)
    if lesion.lesion_type is LesionType.NEW:
        return status == str(NewLesionStatus.PRESENT)
    return False


class LesionTableModel(QAbstractTableModel):
    """Lesions of a read (rows) with their description and values (columns).

    Columns: lesion, current value, previous value, baseline value, type, organ,
    location, method of the current value, comment at the current timepoint. The
    current timepoint is set with :meth:`set_timepoint`; "previous" is the timepoint
    before it (empty at baseline and at the first follow-up, where it is the baseline).

    Signals
    -------
    location_edited(str, str)
        The reader typed a new location: lesion id and location.
    comment_edited(str, int, str)
        The reader typed a new comment: lesion id, timepoint index and comment.

    """

    location_edited = Signal(str, str)
    comment_edited = Signal(str, int, str)

    HEADERS = (
        "Lesion",
        "Current",
        "Previous",
        "Baseline",
        "Type",
        "Organ",
        "Location",
        "Method",
        "Comment",
    )
    COL_CURRENT = 1
    COL_PREVIOUS = 2
    COL_BASELINE = 3
    COL_LOCATION = 6
    COL_METHOD = 7
    COL_COMMENT = 8
    VISUAL_ORDER = (0, 1, 2, 3, 6, 8, 7, 4, 5)
    """Order the table shows the columns in: values, location, comment, method, type."""
    _VALUE_COLUMNS = (COL_CURRENT, COL_PREVIOUS, COL_BASELINE)
    FREE_TEXT = (COL_LOCATION, COL_COMMENT)
    """Columns of free text: capped in width (elided, full text as tooltip)."""

    def __init__(self, read: Read | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
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
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(lesion, index.column())
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in self.FREE_TEXT:
            return self._text(lesion, index.column()) or None
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
        if column == self.COL_COMMENT:
            current = self._read.observation(lesion.lesion_id, self._timepoint)
            return "" if current is None else current.comment
        if column == self.COL_METHOD:
            current = self._read.observation(lesion.lesion_id, self._timepoint)
            method = None if current is None else current.method
            return "" if method is None else METHOD_SHORT[method]
        fixed = {
            0: lesion.lesion_id,
            4: TYPE_SHORT[lesion.lesion_type],
            5: word(lesion.organ),
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
        if _is_progression(lesion, observation):
            return QColor(PROGRESSION)
        return None

    # ------------------------------------------------------------------ editing
    def flags(self, index: _ModelIndex) -> Qt.ItemFlag:  # noqa: D102
        flags = super().flags(index)
        if index.isValid() and self._editable(index.row(), index.column()):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def _editable(self, row: int, column: int) -> bool:
        if self._read is None:
            return False
        lesion = self._lesions[row]
        if column == self.COL_LOCATION:
            return not self._locked(lesion.lesion_id)
        if column == self.COL_COMMENT:
            observation = self._read.observation(lesion.lesion_id, self._timepoint)
            return observation is not None and not self._signed(self._timepoint)
        return False

    def _signed(self, index: int) -> bool:
        assert self._read is not None
        timepoint = self._read.timepoint(index)
        return timepoint is not None and timepoint.read_status is ReadStatus.SIGNED

    def _locked(self, lesion_id: str) -> bool:
        """Return whether a signed timepoint shows the lesion (its location is fixed)."""
        assert self._read is not None
        return any(
            self._signed(o.timepoint_index)
            for o in self._read.observations
            if o.lesion_id == lesion_id
        )

    def setData(  # noqa: D102
        self, index: _ModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        if not self._editable(index.row(), index.column()):
            return False
        text = str(value).strip()
        if text == self._text(self._lesions[index.row()], index.column()):
            return False
        lesion_id = self._lesions[index.row()].lesion_id
        # emitted once the view has closed its editor: the session's new snapshot
        # resets the model, which must not happen while the view is committing
        if index.column() == self.COL_LOCATION:
            QTimer.singleShot(
                0, self, lambda: self.location_edited.emit(lesion_id, text)
            )
        else:
            timepoint = self._timepoint
            QTimer.singleShot(
                0, self, lambda: self.comment_edited.emit(lesion_id, timepoint, text)
            )
        return True


FREE_TEXT_MAX_WIDTH = 220
"""Widest a location or comment column opens at (px); the reader may widen it."""
ROW_PADDING = 8
"""Room above and below a row's text (px): compact rows, so more lesions show."""


def configure_lesion_view(view: QTableView) -> None:
    """Give a lesion table readable columns that scroll sideways in a narrow panel.

    Short columns (IDs, values, type, method, organ) always fit their header and
    contents; location and comment open at their contents' width up to
    :data:`FREE_TEXT_MAX_WIDTH` (never narrower than the header) and can be resized.
    When the columns do not fit, a horizontal scrollbar appears rather than the columns
    being squeezed. Rows are one line of text high (plus :data:`ROW_PADDING`). Call it after :meth:`QTableView.setModel` with a
    :class:`LesionTableModel`.

    Parameters
    ----------
    view
        The table showing a :class:`LesionTableModel`.

    """
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    for column in LesionTableModel.FREE_TEXT:
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    header.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    rows = view.verticalHeader()
    rows.setMinimumSectionSize(view.fontMetrics().height() + ROW_PADDING)
    rows.setDefaultSectionSize(view.fontMetrics().height() + ROW_PADDING)
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    model = view.model()
    model.modelReset.connect(lambda: fit_free_text_columns(view))
    fit_free_text_columns(view)


def fit_free_text_columns(view: QTableView) -> None:
    """Size the location and comment columns to their text, header and width cap.

    Parameters
    ----------
    view
        A table configured with :func:`configure_lesion_view`.

    """
    header = view.horizontalHeader()
    for column in LesionTableModel.FREE_TEXT:
        contents = min(view.sizeHintForColumn(column), FREE_TEXT_MAX_WIDTH)
        view.setColumnWidth(column, max(header.sectionSizeHint(column), contents))


class LocationDelegate(QStyledItemDelegate):
    """Edits a location with the liver segments (and ascites, effusion) or free text."""

    def createEditor(  # noqa: D102
        self, parent: QWidget, option: QStyleOptionViewItem, index: _ModelIndex
    ) -> QWidget:
        combo = QComboBox(parent)
        combo.setObjectName("locationEditor")
        combo.setEditable(True)
        combo.addItems((*LIVER_SEGMENTS, *OTHER_LOCATIONS))
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        return combo

    def setEditorData(self, editor: QWidget, index: _ModelIndex) -> None:  # noqa: D102
        assert isinstance(editor, QComboBox)
        editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole) or ""))

    def setModelData(  # noqa: D102
        self,
        editor: QWidget,
        model: QAbstractItemModel,
        index: _ModelIndex,
    ) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)
