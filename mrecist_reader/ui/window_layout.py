"""The window's layout: viewers in the centre, worklist left, lesions and response right.

:class:`WindowParts` builds the widgets and docks, restores the reader's layout
(``QSettings``) and sizes the docks on a first start; it holds no reading state.
"""

import logging

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.ui.lesion_table import (
    LesionTableModel,
    LocationDelegate,
    configure_lesion_view,
)
from mrecist_reader.ui.response_panel import ResponsePanel
from mrecist_reader.ui.series_browser import SeriesBrowser
from mrecist_reader.ui.timepoint_view import TimepointView

logger = logging.getLogger(__name__)

READ_PANEL_SHARE = 0.6
"""Most of the read dock's height the response panel opens with (the table the rest)."""


def first_start_dock_widths(window_width: int) -> tuple[int, int]:
    """Return the worklist and read dock widths (px) a window first opens with.

    The image keeps at least about 40 % of a small window; on a large screen the
    worklist gets 300 px and the read panel 480 px.

    Parameters
    ----------
    window_width
        The main window's width in pixels.

    Returns
    -------
    tuple[int, int]
        Worklist width and read dock width.

    """
    worklist = max(200, min(300, round(0.17 * window_width)))
    read = max(360, min(480, round(0.3 * window_width)))
    return worklist, read


class WindowParts:
    """The widgets of the main window, arranged (no reading state)."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self._build_views()
        self._build_worklist()
        self._build_read_dock()
        self._build_status_bar()
        self._docks_sized = False
        self._split_sized = False

    def _build_views(self) -> None:
        self.baseline_view = TimepointView(self.window, "baselineViewer")
        self.current_view = TimepointView(self.window, "currentViewer")
        self.views = (self.baseline_view, self.current_view)
        # one window/level memory per series kind for both viewers: a window chosen
        # on baseline arterial CT opens the follow-up's arterial CT too
        self.current_view.viewer.set_window_memory(
            self.baseline_view.viewer.window_memory
        )
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("viewerSplitter")
        for view in self.views:
            self.splitter.addWidget(view.viewer)
        self.current_view.viewer.setVisible(False)
        self.window.setCentralWidget(self.splitter)

    def _build_worklist(self) -> None:
        self.browser = SeriesBrowser()
        self.worklist_dock = self._dock("Worklist", self.browser, "worklistDock")
        self.window.addDockWidget(
            Qt.DockWidgetArea.LeftDockWidgetArea, self.worklist_dock
        )

    def _build_lesion_table(self) -> QTableView:
        self.lesion_model = LesionTableModel()
        table = QTableView()
        table.setObjectName("lesionTable")
        table.setModel(self.lesion_model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().setVisible(False)
        table.setAlternatingRowColors(True)
        # keys stay with the images: L / Shift+L step through lesions; a double click
        # edits the location or the comment (their editors take the keys meanwhile)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        table.setItemDelegateForColumn(
            LesionTableModel.COL_LOCATION, LocationDelegate(table)
        )
        header = table.horizontalHeader()
        # what the reader works with first; type and organ (the ID says T/NT/N) last
        for visual, column in enumerate(LesionTableModel.VISUAL_ORDER):
            header.moveSection(header.visualIndex(column), visual)
        configure_lesion_view(table)
        table.setMinimumHeight(
            table.horizontalHeader().sizeHint().height()
            + 3 * table.verticalHeader().defaultSectionSize()
        )
        return table

    def _build_read_dock(self) -> None:
        self.lesion_table = self._build_lesion_table()
        self.response_panel = ResponsePanel()
        right = QSplitter(Qt.Orientation.Vertical)
        right.setObjectName("rightSplitter")
        lesions_box = QWidget()
        box_layout = QVBoxLayout(lesions_box)
        box_layout.setContentsMargins(4, 4, 4, 4)
        title = QLabel("Lesions")
        title.setObjectName("sectionTitle")
        box_layout.addWidget(title)
        box_layout.addWidget(self.lesion_table)
        # what keeps the timepoint from being signed, listed under the lesions
        self.missing_label = QLabel("")
        self.missing_label.setObjectName("missingStatuses")
        self.missing_label.setWordWrap(True)
        self.missing_label.setVisible(False)
        box_layout.addWidget(self.missing_label)
        right.addWidget(lesions_box)
        right.addWidget(self.response_panel)
        self.lesions_box = lesions_box
        # the lesion table takes what the window gains or loses; the response values
        # keep their room (the panel's minimum), its plot gives way first
        right.setChildrenCollapsible(False)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 0)
        self.right_splitter = right
        self.reading_dock = self._dock("Read", right, "readDock")
        self.window.addDockWidget(
            Qt.DockWidgetArea.RightDockWidgetArea, self.reading_dock
        )

    def _dock(self, title: str, widget: QWidget, name: str) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        return dock

    def _build_status_bar(self) -> None:
        bar = self.window.statusBar()
        self.read_label = QLabel("")
        self.read_label.setObjectName("readStatusLabel")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        # what the last scan found, as a link to its load report (skips, warnings)
        self.load_link = QLabel("")
        self.load_link.setObjectName("loadReportLink")
        self.load_link.setTextFormat(Qt.TextFormat.RichText)
        self.load_link.setToolTip(
            "Which files were not loaded and why; series warnings"
        )
        self.load_link.setVisible(False)
        bar.addPermanentWidget(self.load_link)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.read_label)

    def show_busy(self, busy: bool, *, indefinite: bool = True) -> None:
        """Show or hide the progress bar and Cancel (indefinite: no fraction known)."""
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.progress.setRange(0, 0 if busy and indefinite else 100)

    # ------------------------------------------------------------------ saved layout
    def restore(self) -> None:
        """Restore the reader's window geometry, docks and split (first start: fit)."""
        settings = QSettings()
        geometry = settings.value("mainWindow/geometry")
        if isinstance(geometry, QByteArray):
            self.window.restoreGeometry(geometry)
        else:
            self._fit_first_start_size()
        state = settings.value("mainWindow/state")
        self._docks_sized = isinstance(state, QByteArray)
        if isinstance(state, QByteArray):
            self.window.restoreState(state)
        splitter = settings.value("mainWindow/rightSplitter")
        self._split_sized = isinstance(splitter, QByteArray)
        if isinstance(splitter, QByteArray):
            self.right_splitter.restoreState(splitter)

    def save(self) -> None:
        """Save the window geometry, docks and split for the next start."""
        settings = QSettings()
        settings.setValue("mainWindow/geometry", self.window.saveGeometry())
        settings.setValue("mainWindow/state", self.window.saveState())
        settings.setValue("mainWindow/rightSplitter", self.right_splitter.saveState())

    def _fit_first_start_size(self) -> None:
        """Open large on first start (1600 x 950), never larger than the screen."""
        width, height = 1600, 950
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry()
            width = min(width, available.width())
            height = min(height, available.height())
        self.window.resize(width, height)

    def on_shown(self) -> None:
        """Size the docks and the read split on the first show of a first start."""
        if not self._docks_sized:  # first start: the image gets the room
            self._docks_sized = True
            self.window.resizeDocks(
                [self.worklist_dock, self.reading_dock],
                list(first_start_dock_widths(self.window.width())),
                Qt.Orientation.Horizontal,
            )
        if not self._split_sized:  # once the docks have their first size
            self._split_sized = True
            QTimer.singleShot(0, self.window, self.fit_read_split)

    def fit_read_split(self) -> None:
        """Give the response panel the height it asks for, the lesion table the rest.

        Used on first start; later the reader's own split is restored (QSettings
        ``mainWindow/rightSplitter``, saved on close with the window state).
        """
        layout = self.window.layout()
        if layout is not None:  # apply pending dock sizes first: widths set heights
            layout.activate()
        sizes = self.right_splitter.sizes()
        total = sum(sizes)
        if total <= 0:
            return
        panel = self.response_panel
        wanted = min(panel.sizeHint().height(), round(READ_PANEL_SHARE * total))
        wanted = max(wanted, panel.minimumSizeHint().height())
        table_minimum = self.lesions_box.minimumSizeHint().height()
        panel_height = max(min(wanted, total - table_minimum), 0)
        self.right_splitter.setSizes([total - panel_height, panel_height])
