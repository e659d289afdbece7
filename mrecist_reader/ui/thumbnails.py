"""Series thumbnails: a strip per timepoint; drag a series onto a pane (issue 15 item 3).

Wiring only. View ▸ Series thumbnails shows a dock with, for the open subject, one
row per timepoint (its label and study day) holding a thumbnail of each of its series:
the middle image, decoded and shrunk off the GUI thread
(:func:`~mrecist_reader.imaging.thumbnail.series_thumbnail`). Dragging a thumbnail onto
an image pane opens that series through the worklist's own choice (the desk's
``choose_series``: the series shows in its timepoint's pane). Nothing here names a
patient, date or path: the texts are the worklist's series names.
"""

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QByteArray, QEvent, QMimeData, QObject, QSize, Qt
from PySide6.QtGui import QDropEvent, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QGraphicsView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.imaging.thumbnail import THUMBNAIL_SIDE, series_thumbnail
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry
from mrecist_reader.ui.series_browser import day_text, series_text
from mrecist_reader.ui.workers import run_in_thread

if TYPE_CHECKING:
    from mrecist_reader.ui.main_window import MainWindow

logger = logging.getLogger(__name__)

SERIES_MIME = "application/x-mrecist-series"
"""The drag's data: ``subject_id``, timepoint index and series UID, tab separated."""
ROLE_SERIES = Qt.ItemDataRole.UserRole


def series_mime(subject_id: str, index: int, series_uid: str) -> QMimeData:
    """Return the drag data of one series."""
    data = QMimeData()
    payload = f"{subject_id}\t{index}\t{series_uid}".encode()
    data.setData(SERIES_MIME, QByteArray(payload))
    return data


def dropped_series(data: QMimeData) -> tuple[str, int, str] | None:
    """Return the subject, timepoint index and series UID a drag carries, if any."""
    if not data.hasFormat(SERIES_MIME):
        return None
    parts = bytes(data.data(SERIES_MIME).data()).decode().split("\t")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


def grey_pixmap(thumb: npt.NDArray[np.uint8]) -> QPixmap:
    """Return an 8-bit grey image as a pixmap (the data copied)."""
    rows, columns = thumb.shape
    contiguous = np.ascontiguousarray(thumb)
    image = QImage(
        contiguous.data, columns, rows, columns, QImage.Format.Format_Grayscale8
    )
    return QPixmap.fromImage(image.copy())


class SeriesList(QListWidget):
    """One timepoint's series as thumbnails in a row; an item drags its series."""

    def __init__(self, subject_id: str, index: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.subject_id, self.index = subject_id, index
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListWidget.Movement.Static)
        self.setIconSize(QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        self.setFixedHeight(THUMBNAIL_SIDE + 48)
        self.setDragEnabled(True)
        self.setDragDropMode(QListWidget.DragDropMode.DragOnly)

    def mimeTypes(self) -> list[str]:
        """Return the drag's one format."""
        return [SERIES_MIME]

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        """Return the first dragged item's series as drag data."""
        uid = str(items[0].data(ROLE_SERIES)) if items else ""
        return series_mime(self.subject_id, self.index, uid)


class ThumbnailStrip(QWidget):
    """The open subject's timepoints, each a row of its series' thumbnails."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thumbnailStrip")
        self._layout = QVBoxLayout(self)
        self._items: dict[str, QListWidgetItem] = {}
        self.rows: list[SeriesList] = []
        self._generation = 0

    def show_subject(self, subject: SubjectEntry | None) -> None:
        """Show a subject's series (nothing for ``None``); thumbnails come later."""
        self._generation += 1
        while self._layout.count():
            taken = self._layout.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        self._items, self.rows = {}, []
        if subject is None:
            return
        for timepoint in subject.timepoints:
            day = day_text(timepoint.study_day)
            self._layout.addWidget(QLabel(f"{timepoint.label} {day}".strip()))
            row = SeriesList(subject.subject_id, timepoint.index, self)
            for series in timepoint.series:
                item = QListWidgetItem(series_text(series))
                item.setData(ROLE_SERIES, series.series_instance_uid)
                item.setToolTip(f"{series_text(series)}: drag onto an image pane")
                row.addItem(item)
                self._items[series.series_instance_uid] = item
                self._start(series)
            self._layout.addWidget(row)
            self.rows.append(row)
        self._layout.addStretch(1)

    def texts(self) -> list[str]:
        """Return every text shown (for the blinding checks)."""
        return [row.item(i).text() for row in self.rows for i in range(row.count())]

    def _start(self, series: SeriesInfo) -> None:
        run_in_thread(
            series_thumbnail,
            series,
            on_done=partial(
                self._show_thumbnail, series.series_instance_uid, self._generation
            ),
            on_error=partial(self._no_thumbnail, series.series_instance_uid),
        )

    def _show_thumbnail(
        self, uid: str, generation: int, thumb: npt.NDArray[np.uint8]
    ) -> None:
        item = self._items.get(uid)
        if generation == self._generation and item is not None:
            item.setIcon(QIcon(grey_pixmap(thumb)))

    def _no_thumbnail(self, uid: str, error: BaseException) -> None:
        logger.info("no thumbnail for a series: %s", type(error).__name__)


class SeriesDrop(QObject):
    """Accept a dragged series on a pane; hand it to ``on_drop``."""

    def __init__(
        self, target: QWidget, on_drop: Callable[[str, int, str], None]
    ) -> None:
        super().__init__(target)
        self._on_drop = on_drop
        target.setAcceptDrops(True)
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Take drag enter, move and drop events that carry a series."""
        kind = event.type()
        dragging = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)
        if kind not in dragging or not isinstance(event, QDropEvent):
            return False  # QDragEnterEvent and QDragMoveEvent are QDropEvents
        found = dropped_series(event.mimeData())
        if found is None:
            return False
        event.acceptProposedAction()
        if kind == QEvent.Type.Drop:
            self._on_drop(*found)
        return True


def open_dropped(window: "MainWindow", subject_id: str, index: int, uid: str) -> None:
    """Open a dropped series as the worklist opens a chosen one (the desk decides)."""
    info = window.desk.worklist.series(subject_id, index, uid)
    window.browser.choose(subject_id, index, info)


def show_thumbnails(window: "MainWindow") -> QDockWidget:
    """Show the thumbnail dock (made on first use) and accept drops on every pane."""
    dock = window.findChild(QDockWidget, "thumbnailDock")
    if dock is None:
        dock = QDockWidget("Series", window)
        dock.setObjectName("thumbnailDock")
        strip = ThumbnailStrip(dock)
        dock.setWidget(strip)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        window.desk.subject_changed.connect(strip.show_subject)
        strip.show_subject(window.desk.subject)
    for view in window.views:
        viewer = view.viewer
        if viewer.findChild(SeriesDrop) is None:
            SeriesDrop(viewer, partial(open_dropped, window))
            for graphics in viewer.findChildren(QGraphicsView):
                SeriesDrop(graphics.viewport(), partial(open_dropped, window))
    dock.show()
    dock.raise_()
    return dock
