"""The reading workstation's main window: composes the widgets, menus and shortcuts.

Layout: the worklist (left dock), baseline and current timepoint side by side (centre),
lesions and response (right dock). Every change of the read goes through
:class:`~mrecist_reader.session.ReadSession` commands; the widgets are redrawn from its
signals. No rule is decided here.

Blinding: in a central read the window never shows a patient name, ID, birth date,
institution or date; only the trial subject ID, timepoint labels and study days.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PySide6.QtCore import QByteArray, QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.core.errors import MrecistError, RuleViolation
from mrecist_reader.core.model import (
    Caliper,
    LesionType,
    Method,
    NonTargetStatus,
    Read,
    ReadKey,
    ReadStatus,
    ReadType,
)
from mrecist_reader.core.placement import far_from_earlier_caliper
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.imaging.geometry import index_to_patient
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry, TimepointEntry
from mrecist_reader.ui import dialogs
from mrecist_reader.ui.caliper import (
    CaliperSpec,
    IndexPoint,
    caliper_from_indices,
    indices_from_caliper,
)
from mrecist_reader.ui.errors import error_boundary, report_error
from mrecist_reader.ui.icons import app_icon
from mrecist_reader.ui.lesion_table import (
    LesionTableModel,
    LocationDelegate,
    configure_lesion_view,
)
from mrecist_reader.ui.prefetch import FirstSlice, Prefetched
from mrecist_reader.ui.response_panel import ResponsePanel
from mrecist_reader.ui.series_browser import SeriesBrowser, day_text, timepoint_state
from mrecist_reader.ui.shortcuts import input_claims_key
from mrecist_reader.ui.slice_viewer import CT_PRESETS, SliceViewer
from mrecist_reader.ui.timepoint_view import TimepointView
from mrecist_reader.ui.workers import run_in_thread, when_done

if TYPE_CHECKING:
    from concurrent.futures import Future

    from mrecist_reader.session import ReadSession

logger = logging.getLogger(__name__)

APP_TITLE = "mrecist_reader"
PROPOSAL_ID = "proposal"

STATUS_KEYS: tuple[tuple[str, str, str], ...] = (
    ("A", "absent", "Absent (no viable tumour / enhancement)"),
    ("S", "too_small", "Too small to measure"),
    ("E", "not_evaluable", "Not evaluable"),
    ("P", "present", "Present (non-target / new lesion)"),
    ("G", "progression", "Unequivocal progression (non-target)"),
    ("Q", "equivocal", "Equivocal (new lesion)"),
)


READ_PANEL_SHARE = 0.6
"""Most of the read dock's height the response panel opens with (the table the rest)."""


@dataclass
class _Proposal:
    """A semi-automatic caliper waiting for the reader's acceptance."""

    view: TimepointView
    p1: IndexPoint
    p2: IndexPoint
    edited: bool = False


@dataclass(frozen=True)
class ReaderContext:
    """Who reads, with which rules, in which database (passed down from start-up)."""

    reader_id: str
    read_type: ReadType
    profile: ProtocolProfile
    db_url: str


class MainWindow(QMainWindow):
    """The reading workstation."""

    def __init__(self, context: ReaderContext, icon: QIcon | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.context = context
        self.session: ReadSession | None = None
        self._repository: Any = None
        self._stored_states_shown = False
        self.subjects: tuple[SubjectEntry, ...] = ()
        self.subject: SubjectEntry | None = None
        self.current_index = 0
        self.selected_lesion: str | None = None
        self.link_scrolling = True
        self.link_window = False
        self._proposal: _Proposal | None = None
        self._scan_worker: Any = None
        self._prefetch_timer: QTimer | None = None
        self._first_slice: FirstSlice | None = None
        self._chosen_series: dict[tuple[str, int], SeriesInfo] = {}
        self._actions: dict[str, QAction] = {}
        self._shortcut_rows: list[tuple[str, str]] = []
        self.setWindowIcon(icon if icon is not None else app_icon())
        self.setAcceptDrops(True)
        self._build_views()
        self._build_docks()
        self._build_status_bar()
        self._build_actions()
        self._update_title()
        self._restore_layout()

    # ================================================================== building
    def _build_views(self) -> None:
        self.baseline_view = TimepointView(self, "baselineViewer")
        self.current_view = TimepointView(self, "currentViewer")
        self.views = (self.baseline_view, self.current_view)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("viewerSplitter")
        for view in self.views:
            self.splitter.addWidget(view.viewer)
            self._connect_viewer(view)
        self.current_view.viewer.setVisible(False)
        self.setCentralWidget(self.splitter)

    def _connect_viewer(self, view: TimepointView) -> None:
        viewer = view.viewer
        viewer.slice_changed.connect(lambda _k, v=view: self._on_slice_changed(v))
        viewer.window_changed.connect(
            lambda w, level, v=view: self._on_window_changed(v, w, level)
        )
        viewer.caliper_drawn.connect(
            lambda p1, p2, v=view: self._on_caliper_drawn(v, p1, p2)
        )
        viewer.caliper_edited.connect(
            lambda lesion_id, p1, p2, v=view: self._on_caliper_edited(
                v, lesion_id, p1, p2
            )
        )
        viewer.caliper_clicked.connect(self.select_lesion)
        viewer.point_clicked.connect(lambda p, v=view: self._on_point_clicked(v, p))

    def _build_docks(self) -> None:
        self.browser = SeriesBrowser()
        self.browser.series_chosen.connect(self._on_series_chosen)
        self.browser.timepoint_chosen.connect(self._on_timepoint_chosen)
        self.worklist_dock = self._dock("Worklist", self.browser, "worklistDock")
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.worklist_dock)
        self.lesion_model = LesionTableModel()
        self.lesion_table = QTableView()
        self.lesion_table.setObjectName("lesionTable")
        self.lesion_table.setModel(self.lesion_model)
        self.lesion_table.setSelectionBehavior(
            QAbstractItemView.SelectionBehavior.SelectRows
        )
        self.lesion_table.setSelectionMode(
            QAbstractItemView.SelectionMode.SingleSelection
        )
        self.lesion_table.verticalHeader().setVisible(False)
        self.lesion_table.setAlternatingRowColors(True)
        # keys stay with the images: L / Shift+L step through lesions; a double click
        # edits the location or the comment (their editors take the keys meanwhile)
        self.lesion_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.lesion_table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.lesion_table.setItemDelegateForColumn(
            LesionTableModel.COL_LOCATION, LocationDelegate(self.lesion_table)
        )
        header = self.lesion_table.horizontalHeader()
        # what the reader works with first; type and organ (the ID says T/NT/N) last
        for visual, column in enumerate(LesionTableModel.VISUAL_ORDER):
            header.moveSection(header.visualIndex(column), visual)
        configure_lesion_view(self.lesion_table)
        self.lesion_table.clicked.connect(self._on_table_clicked)
        self.lesion_model.location_edited.connect(self.edit_location)
        self.lesion_model.comment_edited.connect(self.edit_comment)
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
        right.addWidget(lesions_box)
        right.addWidget(self.response_panel)
        self.lesions_box = lesions_box
        # the lesion table takes what the window gains or loses; the response values
        # keep their room (the panel's minimum), its plot gives way first
        right.setChildrenCollapsible(False)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 0)
        self.lesion_table.setMinimumHeight(
            self.lesion_table.horizontalHeader().sizeHint().height()
            + 3 * self.lesion_table.verticalHeader().defaultSectionSize()
        )
        self.right_splitter = right
        self.reading_dock = self._dock("Read", right, "readDock")
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.reading_dock)

    def _dock(self, title: str, widget: QWidget, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        return dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.read_label = QLabel("")
        self.read_label.setObjectName("readStatusLabel")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_loading)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.read_label)

    # ================================================================== actions
    def _action(
        self,
        name: str,
        text: str,
        slot: Callable[[], object],
        shortcut: str | QKeySequence.StandardKey | None = None,
        *,
        checkable: bool = False,
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            keys = QKeySequence(shortcut).toString(
                QKeySequence.SequenceFormat.NativeText
            )
            self._shortcut_rows.append((keys, plain_text(text)))
        action.setCheckable(checkable)
        if checkable:
            action.toggled.connect(lambda _checked: slot())
        else:
            action.triggered.connect(lambda _checked=False: self._guarded(text, slot))
        self.addAction(action)
        self._actions[name] = action
        return action

    def _guarded(self, title: str, slot: Callable[[], object]) -> None:
        with error_boundary(self, plain_text(title).rstrip(".")):
            slot()

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(
            self._action(
                "openFolder", "&Open folder...", self.ask_open_folder, "Ctrl+O"
            )
        )
        file_menu.addAction(
            self._action(
                "openFile",
                "Open &zip or DICOMDIR...",
                self.ask_open_file,
                "Ctrl+Shift+O",
            )
        )
        file_menu.addAction(
            self._action("export", "&Export CSV...", self.ask_export, "Ctrl+E")
        )
        file_menu.addSeparator()
        file_menu.addAction(self._action("quit", "&Quit", self.close, "Ctrl+Q"))
        self._build_edit_menu(menu.addMenu("&Edit"))
        self._build_lesion_menu(menu.addMenu("&Lesion"))
        self._build_read_menu(menu.addMenu("&Read"))
        self._build_view_menu(menu.addMenu("&View"))
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(
            self._action("shortcuts", "&Shortcuts", self.show_shortcuts, "F1")
        )

    def _build_edit_menu(self, edit: Any) -> None:
        edit.addAction(self._action("undo", "&Undo", self.undo, "Ctrl+Z"))
        edit.addAction(self._action("redo", "&Redo", self.redo, "Ctrl+Shift+Z"))
        self._actions["undo"].setEnabled(False)
        self._actions["redo"].setEnabled(False)

    def _build_lesion_menu(self, lesion: Any) -> None:
        lesion.addAction(
            self._action(
                "measure",
                "&Measure mode",
                self._on_measure_toggled,
                "M",
                checkable=True,
            )
        )
        lesion.addAction(
            self._action(
                "accept", "&Accept proposed caliper", self.accept_proposal, "Return"
            )
        )
        lesion.addAction(
            self._action(
                "reject", "&Reject proposed caliper", self.reject_proposal, "Esc"
            )
        )
        lesion.addAction(
            self._action(
                "addLesion", "Add &lesion without caliper...", self.ask_add_lesion, "N"
            )
        )
        lesion.addAction(
            self._action("nextLesion", "&Next lesion", self.next_lesion, "L")
        )
        lesion.addAction(
            self._action(
                "previousLesion", "&Previous lesion", self.previous_lesion, "Shift+L"
            )
        )
        status = lesion.addMenu("&Status at current timepoint")
        for key, token, text in STATUS_KEYS:
            status.addAction(
                self._action(
                    f"status_{token}", text, partial(self.set_status, token), key
                )
            )
        lesion.addAction(
            self._action("delete", "&Delete lesion", self.delete_lesion, "Del")
        )

    def _build_read_menu(self, read: Any) -> None:
        read.addAction(
            self._action(
                "nextTimepoint", "&Next timepoint", self.next_timepoint, "Ctrl+Right"
            )
        )
        read.addAction(
            self._action(
                "previousTimepoint",
                "&Previous timepoint",
                self.previous_timepoint,
                "Ctrl+Left",
            )
        )
        read.addSeparator()
        read.addAction(
            self._action("sign", "&Sign timepoint...", self.ask_sign, "Ctrl+Return")
        )
        read.addAction(
            self._action("amend", "&Amend timepoint...", self.ask_amend, "Ctrl+Shift+A")
        )

    def _build_view_menu(self, view: Any) -> None:
        for preset in CT_PRESETS:
            view.addAction(
                self._action(
                    f"preset{preset.name}",
                    f"Window: {preset.name}",
                    partial(self._apply_preset, preset),
                    preset.key,
                )
            )
        view.addSeparator()
        view.addAction(self._action("resetView", "&Reset view", self.reset_views, "R"))
        view.addAction(
            self._action("zoomIn", "Zoom &in", lambda: self._zoom(1.25), "+")
        )
        view.addAction(
            self._action("zoomOut", "Zoom &out", lambda: self._zoom(0.8), "-")
        )
        link = self._action(
            "linkScroll",
            "&Link scrolling by position",
            self._on_link_toggled,
            "Ctrl+L",
            checkable=True,
        )
        link.setChecked(True)
        view.addAction(link)
        view.addAction(
            self._action(
                "linkWindow",
                "Link &window/level",
                self._on_link_toggled,
                "W",
                checkable=True,
            )
        )
        view.addSeparator()
        view.addAction(
            self._action(
                "toggleWorklist",
                "Show &worklist",
                lambda: self.worklist_dock.setVisible(
                    not self.worklist_dock.isVisible()
                ),
                "F2",
            )
        )
        view.addAction(
            self._action(
                "togglePanel",
                "Show lesions && &response",
                lambda: self.reading_dock.setVisible(not self.reading_dock.isVisible()),
                "F3",
            )
        )
        self._shortcut_rows.extend(
            [
                ("Wheel down, ↓, →", "Next image (axial: towards the feet)"),
                ("Wheel up, ↑, ←", "Previous image (axial: towards the head)"),
                ("Page Down / Page Up", "Ten images on / back"),
                ("Home / End", "First (head) / last (feet) image"),
                ("Right or middle drag", "Window / level"),
                ("Left drag", "Pan (measure mode: draw a caliper)"),
                ("Click (measure mode)", "Semi-automatic caliper at the point"),
                ("Ctrl+wheel", "Zoom"),
            ]
        )

    def shortcuts(self) -> list[tuple[str, str]]:
        """Return every keyboard shortcut with what it does (Help > Shortcuts)."""
        return list(self._shortcut_rows)

    def show_shortcuts(self) -> None:
        """Show the list of shortcuts."""
        dialogs.ShortcutsDialog(self, self.shortcuts()).exec()

    # ================================================================== opening
    def ask_open_folder(self) -> None:
        """Ask for a folder of DICOM files and open it."""
        folder = QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if folder:
            self.open_path(Path(folder))

    def ask_open_file(self) -> None:
        """Ask for a zip archive or DICOMDIR and open it."""
        name, _ = QFileDialog.getOpenFileName(
            self, "Open zip or DICOMDIR", "", "DICOM (*.zip DICOMDIR *.dcm);;All (*)"
        )
        if name:
            self.open_path(Path(name))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: D102
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: D102
        urls = event.mimeData().urls()
        if urls:
            self.open_path(Path(urls[0].toLocalFile()))

    def open_path(
        self, path: Path, *, prefetched: "Future[Prefetched] | None" = None
    ) -> None:
        """Scan a folder, zip or DICOMDIR in the background, then show the worklist.

        ``prefetched`` is the scan of ``path`` (with its worklist and first slice)
        already running in another process, started by
        :func:`mrecist_reader.ui.app.run_gui` while Qt was being imported.
        """
        self.statusBar().showMessage(f"Scanning {path.name}...")
        self._show_busy(True)
        if prefetched is not None:
            self._scan_worker = None
            self._prefetch_timer = when_done(
                prefetched,
                on_done=self._on_prefetched,
                on_error=self._on_scan_failed,
                on_finished=lambda: self._show_busy(False),
            )
            return
        from mrecist_reader.imaging.scan import scan

        self._scan_worker = run_in_thread(
            lambda: scan(path),
            on_done=self._on_scanned,
            on_error=self._on_scan_failed,
            on_finished=lambda: self._show_busy(False),
        )

    def _on_prefetched(self, found: "Prefetched") -> None:
        self._first_slice = found.first
        self._on_scanned(found.scan, found.subjects)

    def _show_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.progress.setRange(0, 0 if busy else 100)

    def _on_scan_failed(self, error: BaseException) -> None:
        self.statusBar().showMessage("Scan failed", 5000)
        report_error(self, "Open", error)

    def _on_scanned(
        self, result: Any, subjects: Sequence[SubjectEntry] | None = None
    ) -> None:
        from mrecist_reader.imaging.worklist import build_worklist

        logger.info("scan finished: %d series", len(result.series))
        with error_boundary(self, "Open"):
            if subjects is None:
                subjects = build_worklist(result.series)
            self.set_worklist(subjects)
            skipped = len(result.skipped)
            note = f"; {skipped} files skipped (not images)" if skipped else ""
            self.statusBar().showMessage(
                f"{len(result.series)} series found{note}", 8000
            )

    def set_worklist(self, subjects: Sequence[SubjectEntry]) -> None:
        """Show a worklist and open its first subject, ready to read."""
        self.subjects = tuple(subjects)
        self.browser.set_worklist(self.subjects)
        self._stored_states_shown = False
        if not self.subjects:
            self.statusBar().showMessage("No image series found", 8000)
            return
        self.open_subject(self.subjects[0])

    def open_subject(self, subject: SubjectEntry) -> None:
        """Show a subject's baseline at once, then open the read (ready to read)."""
        if self.session is not None:
            if self.session.read.key.subject_id == subject.subject_id:
                return  # already open
            self._unbind_session()
        self.subject = subject
        self.set_current_timepoint(0, force=True)  # first image before the database
        # bound to the window: never run on a window already closed and deleted
        QTimer.singleShot(50, self, lambda: self._open_read_guarded(subject))

    def _open_read_guarded(self, subject: SubjectEntry) -> None:
        with error_boundary(self, "Open read"):
            self.open_read(subject)

    def open_read(self, subject: SubjectEntry) -> None:
        """Open (or create) this reader's read of a subject and show its first draft."""
        from mrecist_reader.session import ReadSession

        if self.subject is not subject:
            return  # the reader moved on to another subject meanwhile
        key = ReadKey(
            study_id=subject.study_id or self.context.profile.name,
            subject_id=subject.subject_id,
            reader_id=self.context.reader_id,
            read_type=self.context.read_type,
        )
        session = ReadSession.open(
            self.repository(),
            key,
            site_id=subject.site_id,
            profile=self.context.profile,
        )
        self._bind_session(session)
        self._add_missing_timepoints(subject)
        self._refresh_statuses()
        # keep where the reader already went; else the first timepoint left to read
        index = self.current_index or self._first_draft_index()
        self.set_current_timepoint(index, force=True)

    def repository(self) -> Any:
        """Return the reads database, opened on first use (after the first image)."""
        if self._repository is None:
            from mrecist_reader.session import open_database

            self._repository = open_database(self.context.db_url)
        return self._repository

    def _unbind_session(self) -> None:
        if self.session is not None:
            self.session.read_changed.disconnect(self._on_read_changed)
            self.session.assessment_changed.disconnect(self._on_assessment_changed)
            self.session.undo_state_changed.disconnect(self._on_undo_state)
        self.session = None
        self.lesion_model.set_read(None)
        self.response_panel.show_assessment(None)

    def _bind_session(self, session: "ReadSession") -> None:
        self._unbind_session()
        self.session = session
        session.read_changed.connect(self._on_read_changed)
        session.assessment_changed.connect(self._on_assessment_changed)
        session.undo_state_changed.connect(self._on_undo_state)
        self.lesion_model.set_read(session.read)
        self.response_panel.show_assessment(session.assessment)

    def _add_missing_timepoints(self, subject: SubjectEntry) -> None:
        assert self.session is not None
        known = {tp.index for tp in self.session.read.timepoints}
        for timepoint in subject.timepoints:
            if timepoint.index not in known:
                self.session.add_timepoint(
                    timepoint.label,
                    timepoint.index,
                    study_day=timepoint.study_day,
                    scan_date=_parse_date(timepoint.scan_date),
                )

    def _first_draft_index(self) -> int:
        assert self.session is not None
        for timepoint in self.session.read.timepoints:
            if timepoint.read_status is not ReadStatus.SIGNED:
                return timepoint.index
        return (
            self.session.read.timepoints[-1].index
            if self.session.read.timepoints
            else 0
        )

    # ================================================================== timepoints
    def timepoint_indices(self) -> list[int]:
        """Return the indices of the subject's timepoints (baseline first)."""
        if self.subject is None:
            return []
        return [tp.index for tp in self.subject.timepoints]

    def set_current_timepoint(self, index: int, *, force: bool = False) -> None:
        """Show baseline on the left and timepoint ``index`` on the right."""
        if self.subject is None or (index == self.current_index and not force):
            return
        if index not in self.timepoint_indices():
            return
        self.reject_proposal()
        self.current_index = index
        self.lesion_model.set_timepoint(index)
        self.lesion_table.setColumnHidden(LesionTableModel.COL_PREVIOUS, index <= 1)
        self.lesion_table.setColumnHidden(LesionTableModel.COL_BASELINE, index == 0)
        self.response_panel.set_timepoint(index)
        self._open_timepoint(self.baseline_view, 0)
        follow_up = index != 0
        self.current_view.viewer.setVisible(follow_up)
        if follow_up:
            self._open_timepoint(self.current_view, index)
        else:
            self.current_view.clear()
        self._select_default_lesion()
        self._update_title()
        self._update_read_label()
        shown = self.current_view if follow_up else self.baseline_view
        self.browser.show_current(
            self.subject.subject_id,
            index,
            None if shown.series is None else shown.series.series_instance_uid,
        )
        shown.viewer.setFocus()

    def next_timepoint(self) -> None:
        """Read the next timepoint."""
        indices = self.timepoint_indices()
        if self.current_index in indices and indices.index(
            self.current_index
        ) + 1 < len(indices):
            self.set_current_timepoint(indices[indices.index(self.current_index) + 1])

    def previous_timepoint(self) -> None:
        """Read the previous timepoint."""
        indices = self.timepoint_indices()
        if self.current_index in indices and indices.index(self.current_index) > 0:
            self.set_current_timepoint(indices[indices.index(self.current_index) - 1])

    def series_for(self, index: int) -> SeriesInfo | None:
        """Return the series shown for a timepoint of the open subject.

        The one the reader chose for it, if any (kept when moving between timepoints),
        else its arterial series.
        """
        if self.subject is None:
            return None
        subject_id = self.subject.subject_id
        chosen = self._chosen_series.get((subject_id, index))
        return chosen or self.browser.chosen_series(subject_id, index)

    def _open_timepoint(self, view: TimepointView, index: int) -> None:
        series = self.series_for(index)
        if series is None:
            return
        shown = view.series_uid == series.series_instance_uid
        if not (shown and view.timepoint_index == index):
            self._open_series(view, index, series)

    def _on_timepoint_chosen(self, subject_id: str, index: int) -> None:
        """Open a timepoint chosen in the worklist, switching subject when needed."""
        if self.subject is None or subject_id != self.subject.subject_id:
            info = self.browser.chosen_series(subject_id, index)
            if info is not None:
                self._on_series_chosen(subject_id, index, info)
            return
        self.set_current_timepoint(index)

    def _on_series_chosen(self, subject_id: str, index: int, info: SeriesInfo) -> None:
        if self.subject is None or subject_id != self.subject.subject_id:
            subject = next(s for s in self.subjects if s.subject_id == subject_id)
            with error_boundary(self, "Open subject"):
                self.open_subject(subject)
        self._chosen_series[(subject_id, index)] = info
        if index != self.current_index and index != 0:
            self.set_current_timepoint(index)
        view = self.baseline_view if index == 0 else self.current_view
        if not (
            view.series_uid == info.series_instance_uid
            and view.timepoint_index == index
        ):
            self._open_series(view, index, info)
        self.browser.show_current(subject_id, index, info.series_instance_uid)
        view.viewer.setFocus()

    def _open_series(self, view: TimepointView, index: int, info: SeriesInfo) -> None:
        with error_boundary(self, "Open series"):
            view.load(
                index,
                info,
                self._caption(index, info),
                on_loaded=self._on_volume_loaded,
                on_error=lambda error: report_error(self, "Load series", error),
                on_progress=self._on_load_progress,
                first=self._take_first_slice(index, info),
            )
            self.progress.setRange(0, 100)
            self.progress.setVisible(True)
            self.cancel_button.setVisible(True)
            self._refresh_calipers()

    def _take_first_slice(self, index: int, info: SeriesInfo) -> "FirstSlice | None":
        """Return the prefetched first slice once, for the series it was decoded from."""
        first, self._first_slice = self._first_slice, None
        if first is None or index != 0 or first.series_uid != info.series_instance_uid:
            return None
        return first

    def _on_load_progress(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 100))

    def _on_volume_loaded(self, view: TimepointView) -> None:
        if not any(v.is_loading() for v in self.views):
            self.progress.setVisible(False)
            self.cancel_button.setVisible(False)
        self._refresh_calipers()
        if self.selected_lesion is not None:
            self._jump_to_lesion(view, self.selected_lesion)
        self.statusBar().showMessage(f"{self._timepoint_label(view)} loaded", 3000)

    def cancel_loading(self) -> None:
        """Stop scanning or loading (what is shown so far stays)."""
        if self._scan_worker is not None:
            self._scan_worker.quit()
        for view in self.views:
            view.cancel()
        self._show_busy(False)
        self.statusBar().showMessage("Loading cancelled", 5000)

    def _caption(self, index: int, info: SeriesInfo) -> str:
        timepoint = self._worklist_timepoint(index)
        label = timepoint.label if timepoint is not None else str(index)
        day = day_text(timepoint.study_day) if timepoint is not None else ""
        subject = self.subject.subject_id if self.subject is not None else ""
        return f"{subject}   {label}   {day}\n{info.series_description}"

    def _worklist_timepoint(self, index: int) -> TimepointEntry | None:
        if self.subject is None:
            return None
        return next((tp for tp in self.subject.timepoints if tp.index == index), None)

    def _timepoint_label(self, view: TimepointView) -> str:
        index = view.timepoint_index
        timepoint = None if index is None else self._worklist_timepoint(index)
        return "" if timepoint is None else str(timepoint.label)

    # ================================================================== session signals
    def _on_read_changed(self, read: Read) -> None:
        self.lesion_model.set_read(read)
        self._reselect()
        self._refresh_calipers()
        self._refresh_statuses()
        self._update_read_label()

    def _on_assessment_changed(self, assessment: object) -> None:
        self.response_panel.show_assessment(assessment)  # type: ignore[arg-type]

    def _on_undo_state(self, can_undo: bool, can_redo: bool) -> None:
        self._actions["undo"].setEnabled(can_undo)
        self._actions["redo"].setEnabled(can_redo)

    def _refresh_statuses(self) -> None:
        if self.session is None:
            return
        if not self._stored_states_shown:  # once the database is open
            self._stored_states_shown = True
            self._show_stored_states()
        self._show_states(self.session.read)

    def _show_states(self, read: Read) -> None:
        states = {tp.index: timepoint_state(read, tp.index) for tp in read.timepoints}
        self.browser.set_read_statuses(read.key.subject_id, states)

    def _show_stored_states(self) -> None:
        """Show in the worklist how far this reader got with every listed subject."""
        from mrecist_reader.session import stored_reads

        listed = {subject.subject_id for subject in self.subjects}
        reads = stored_reads(
            self.repository(), self.context.reader_id, self.context.read_type
        )
        for read in reads:
            if read.key.subject_id in listed:
                self._show_states(read)

    def _update_title(self) -> None:
        parts = [APP_TITLE]
        if self.subject is not None:
            timepoint = self._worklist_timepoint(self.current_index)
            label = "" if timepoint is None else f"{timepoint.label}"
            day = "" if timepoint is None else day_text(timepoint.study_day)
            parts.append(f"Subject {self.subject.subject_id}")
            parts.append(f"{label} {day}".strip())
        parts.append(f"{self.context.read_type} read, reader {self.context.reader_id}")
        self.setWindowTitle("  —  ".join(p for p in parts if p))

    def _update_read_label(self) -> None:
        if self.session is None:
            self.read_label.setText("")
            return
        timepoint = self.session.read.timepoint(self.current_index)
        if timepoint is None:
            return
        state = timepoint_state(self.session.read, self.current_index)
        if timepoint.read_status is ReadStatus.SIGNED:
            state += " (read-only)"
        self.read_label.setText(
            f"{timepoint.label} {state} · {self.context.profile.name}"
        )

    # ================================================================== lesions
    def _on_table_clicked(self, index: Any) -> None:
        self.select_lesion(self.lesion_model.lesion_at(index.row()).lesion_id)

    def select_lesion(self, lesion_id: str | None) -> None:
        """Choose a lesion: select its row and jump to its caliper at every timepoint."""
        if lesion_id == PROPOSAL_ID:
            return
        self.selected_lesion = lesion_id
        self._reselect()
        self._refresh_calipers()
        if lesion_id is not None:
            for view in self.views:
                self._jump_to_lesion(view, lesion_id)

    def _reselect(self) -> None:
        row = (
            None
            if self.selected_lesion is None
            else self.lesion_model.row_of(self.selected_lesion)
        )
        if row is None:
            self.selected_lesion = None
            self.lesion_table.clearSelection()
        else:
            self.lesion_table.selectRow(row)

    def _jump_to_lesion(self, view: TimepointView, lesion_id: str) -> None:
        point = self._lesion_point(view.timepoint_index, lesion_id)
        if point is None:
            point = self._lesion_point(0, lesion_id)  # follow-up: where it was
        if point is None:
            earlier = [i for i in self.timepoint_indices() if i < self.current_index]
            for index in reversed(earlier):
                point = self._lesion_point(index, lesion_id)
                if point is not None:
                    break
        if point is not None and view.viewer.stack is not None:
            view.viewer.go_to_patient_point(point)

    def _lesion_point(
        self, index: int | None, lesion_id: str
    ) -> tuple[float, ...] | None:
        if self.session is None or index is None:
            return None
        observation = self.session.read.observation(lesion_id, index)
        if observation is None or observation.caliper is None:
            return None
        p1, p2 = observation.caliper.p1_mm, observation.caliper.p2_mm
        return tuple((a + b) / 2 for a, b in zip(p1, p2, strict=True))

    def _select_default_lesion(self) -> None:
        """At a follow-up, select the first target not yet recorded."""
        if self.session is None or self.current_index == 0:
            return
        for lesion in self.session.read.lesions_of_type(LesionType.TARGET):
            if (
                self.session.read.observation(lesion.lesion_id, self.current_index)
                is None
            ):
                self.select_lesion(lesion.lesion_id)
                return

    def next_lesion(self) -> None:
        """Select the next lesion in the table."""
        self._step_lesion(1)

    def previous_lesion(self) -> None:
        """Select the previous lesion in the table."""
        self._step_lesion(-1)

    def _step_lesion(self, step: int) -> None:
        count = self.lesion_model.rowCount()
        if count == 0:
            return
        row = (
            None
            if self.selected_lesion is None
            else self.lesion_model.row_of(self.selected_lesion)
        )
        new_row = 0 if row is None else (row + step) % count
        self.select_lesion(self.lesion_model.lesion_at(new_row).lesion_id)

    # ================================================================== calipers
    def _refresh_calipers(self) -> None:
        for view in self.views:
            view.viewer.set_calipers(self._specs_for(view))

    def _specs_for(self, view: TimepointView) -> list[CaliperSpec]:
        stack = view.viewer.stack
        if self.session is None or stack is None or view.timepoint_index is None:
            return []
        index = view.timepoint_index
        editable = not self.session.is_signed(index)
        specs = []
        for observation in self.session.read.observations_at(index):
            if observation.caliper is None or observation.series_instance_uid not in (
                "",
                view.series_uid,
            ):
                continue
            p1, p2 = indices_from_caliper(stack.affine, observation.caliper)
            specs.append(
                CaliperSpec(
                    observation.lesion_id,
                    round(p1[0]),
                    p1,
                    p2,
                    editable=editable,
                    selected=observation.lesion_id == self.selected_lesion,
                )
            )
        proposal = self._proposal
        if proposal is not None and proposal.view is view:
            specs.append(
                CaliperSpec(
                    PROPOSAL_ID,
                    round(proposal.p1[0]),
                    proposal.p1,
                    proposal.p2,
                    proposal=True,
                )
            )
        return specs

    def _on_measure_toggled(self) -> None:
        enabled = self._actions["measure"].isChecked()
        for view in self.views:
            view.viewer.set_measure_mode(enabled)
        message = (
            "Measure: drag to draw a caliper, click a lesion for a semi-automatic one"
            if enabled
            else "Measure mode off"
        )
        self.statusBar().showMessage(message, 5000)

    def set_measure_mode(self, enabled: bool) -> None:
        """Turn measure mode on or off (the M key)."""
        self._actions["measure"].setChecked(enabled)

    def _on_caliper_drawn(
        self, view: TimepointView, p1: IndexPoint, p2: IndexPoint
    ) -> None:
        with error_boundary(self, "Measure"):
            self.record_caliper(view, p1, p2, Method.MANUAL)

    def _on_caliper_edited(
        self, view: TimepointView, lesion_id: str, p1: IndexPoint, p2: IndexPoint
    ) -> None:
        if lesion_id == PROPOSAL_ID and self._proposal is not None:
            self._proposal.p1, self._proposal.p2 = p1, p2
            self._proposal.edited = True
            return
        with error_boundary(self, "Edit caliper"):
            self._record_edit(view, lesion_id, p1, p2)

    def _record_edit(
        self, view: TimepointView, lesion_id: str, p1: IndexPoint, p2: IndexPoint
    ) -> None:
        assert self.session is not None
        assert view.timepoint_index is not None
        old = self.session.read.observation(lesion_id, view.timepoint_index)
        method = Method.MANUAL
        if old is not None and old.method in (
            Method.SEMI_AUTOMATIC,
            Method.SEMI_AUTOMATIC_EDITED,
        ):
            method = Method.SEMI_AUTOMATIC_EDITED
        self.selected_lesion = lesion_id
        self._measure_lesion(view, lesion_id, (p1, p2), method)

    def _on_point_clicked(self, view: TimepointView, point: IndexPoint) -> None:
        with error_boundary(self, "Semi-automatic measurement"):
            try:
                self.propose_at(view, point)
            except MrecistError as miss:  # a missed click is common: no modal dialog
                self.statusBar().showMessage(_miss_message(miss), 10000)

    def propose_at(self, view: TimepointView, point: IndexPoint) -> None:
        """Propose a semi-automatic caliper for the lesion at a clicked voxel."""
        from mrecist_reader.imaging.measure import longest_viable_diameter

        if view.volume is None:
            raise MrecistError("the series is still loading; click again in a moment")
        seed = index_to_patient(view.volume.affine, np.asarray(point, dtype=float))
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            found = longest_viable_diameter(
                view.volume, (float(seed[0]), float(seed[1]), float(seed[2]))
            )
        finally:
            QApplication.restoreOverrideCursor()
        p1, p2 = indices_from_caliper(
            view.volume.affine,
            Caliper(tuple(found.p1_mm), tuple(found.p2_mm)),  # type: ignore[arg-type]
        )
        self._proposal = _Proposal(view, p1, p2)
        view.viewer.set_slice(round(p1[0]))
        self._refresh_calipers()
        self.statusBar().showMessage(
            f"Proposed {found.diameter_mm:.1f} mm: Enter accepts, Esc rejects, "
            "drag its ends to adjust"
        )

    def accept_proposal(self) -> None:
        """Record the proposed semi-automatic caliper."""
        proposal, self._proposal = self._proposal, None
        if proposal is None:
            return
        method = (
            Method.SEMI_AUTOMATIC_EDITED if proposal.edited else Method.SEMI_AUTOMATIC
        )
        try:
            self.record_caliper(proposal.view, proposal.p1, proposal.p2, method)
        finally:
            self._refresh_calipers()

    def reject_proposal(self) -> None:
        """Discard the proposed caliper."""
        if self._proposal is not None:
            self._proposal = None
            self._refresh_calipers()
            self.statusBar().showMessage("Proposal discarded", 3000)

    def record_caliper(
        self, view: TimepointView, p1: IndexPoint, p2: IndexPoint, method: Method
    ) -> None:
        """Record a caliper on a view: it measures the chosen target or a new one.

        At baseline a caliper measures the selected target when it has no baseline
        value yet, otherwise it designates a new target (organ and location asked). At a
        follow-up it measures the selected target (by default the first one not yet
        recorded there; the reader confirms a caliper far from the target's earlier
        one); with no target selected it adds a new lesion there (status asked).
        """
        if self.session is None or view.timepoint_index is None:
            raise MrecistError("open a study before measuring")
        _image_uid(view, p1)  # refuses a slice that fills a gap before asking anything
        index = view.timepoint_index
        self.session.check_editable(index)  # signed: refused before any question
        lesion_id = self._lesion_to_measure(index)
        if lesion_id is None and index == 0:
            self._designate(view, (p1, p2), method)
            return
        if lesion_id is None:  # no target chosen at a follow-up: a new lesion
            self._add_new_lesion(view, (p1, p2), method)
            return
        choice = self._confirm_place(view, lesion_id, (p1, p2))
        if choice == "new":
            self._add_new_lesion(view, (p1, p2), method)
            return
        if choice is None:
            self.statusBar().showMessage(f"Caliper not recorded for {lesion_id}", 5000)
            return
        self._measure_lesion(view, lesion_id, (p1, p2), method)
        if index != 0:
            self._select_default_lesion()

    def _confirm_place(
        self, view: TimepointView, lesion_id: str, points: tuple[IndexPoint, IndexPoint]
    ) -> Literal["record", "new"] | None:
        """Ask before recording a caliper far from the lesion's earlier caliper."""
        assert self.session is not None
        assert view.timepoint_index is not None
        caliper, _uids = self._caliper_and_uids(view, points)
        far = far_from_earlier_caliper(
            self.session.read, lesion_id, view.timepoint_index, caliper
        )
        if far is None:
            return "record"
        return dialogs.ask_record_far_caliper(self, far.message(), lesion_id)

    def _lesion_to_measure(self, index: int) -> str | None:
        assert self.session is not None
        lesion_id = self.selected_lesion
        if lesion_id is None:
            return None
        lesion = next(x for x in self.session.read.lesions if x.lesion_id == lesion_id)
        if lesion.lesion_type is not LesionType.TARGET:
            return None
        if index == 0 and self.session.read.observation(lesion_id, 0) is not None:
            return None
        return lesion_id

    def _measure_lesion(
        self,
        view: TimepointView,
        lesion_id: str,
        points: tuple[IndexPoint, IndexPoint],
        method: Method,
    ) -> None:
        assert self.session is not None
        assert view.timepoint_index is not None
        caliper, uids = self._caliper_and_uids(view, points)
        value = self.session.record_measurement(
            lesion_id,
            view.timepoint_index,
            caliper,
            method=method,
            series_instance_uid=uids[0],
            sop_instance_uid=uids[1],
        )
        self.statusBar().showMessage(
            f"{lesion_id}: {value / 10:.1f} mm recorded ({method})", 5000
        )

    def _caliper_and_uids(
        self, view: TimepointView, points: tuple[IndexPoint, IndexPoint]
    ) -> tuple[Caliper, tuple[str, str]]:
        stack = view.viewer.stack
        assert stack is not None
        assert view.series is not None
        caliper = caliper_from_indices(stack.affine, points[0], points[1])
        return caliper, (view.series.series_instance_uid, _image_uid(view, points[0]))

    def _designate(
        self, view: TimepointView, points: tuple[IndexPoint, IndexPoint], method: Method
    ) -> None:
        from mrecist_reader.session import CaliperMark

        assert self.session is not None
        caliper, uids = self._caliper_and_uids(view, points)
        answer = dialogs.ask_lesion(
            self, types=(LesionType.TARGET,), caliper_mm=caliper.length() / 10
        )
        if answer is None:
            return
        try:
            lesion_id = self.session.designate_target(
                answer.organ,
                answer.location,
                caliper=caliper,
                method=method,
                series_instance_uid=uids[0],
                sop_instance_uid=uids[1],
            )
        except RuleViolation as refusal:
            if dialogs.ask_record_as_non_target(self, str(refusal)):
                lesion_id = self.session.add_non_target(
                    answer.organ,
                    answer.location,
                    mark=CaliperMark(caliper, uids[0], uids[1], method),
                )
                self.statusBar().showMessage(
                    f"Recorded as non-target {lesion_id}", 5000
                )
            return
        self.selected_lesion = lesion_id
        self._reselect()
        self.statusBar().showMessage(
            f"{lesion_id}: target, {caliper.length() / 10:.1f} mm ({method})", 5000
        )

    def _add_new_lesion(
        self, view: TimepointView, points: tuple[IndexPoint, IndexPoint], method: Method
    ) -> None:
        """Add a new lesion at a follow-up where the caliper was drawn."""
        from mrecist_reader.session import CaliperMark

        assert self.session is not None
        assert view.timepoint_index is not None
        caliper, uids = self._caliper_and_uids(view, points)
        answer = dialogs.ask_lesion(
            self,
            types=(LesionType.NEW,),
            default_type=LesionType.NEW,
            caliper_mm=caliper.length() / 10,
        )
        if answer is None or answer.new_status is None:
            return
        lesion_id = self.session.add_new_lesion(
            answer.organ,
            answer.location,
            view.timepoint_index,
            status=answer.new_status,
            mark=CaliperMark(caliper, uids[0], uids[1], method),
        )
        self.select_lesion(lesion_id)
        self.statusBar().showMessage(
            f"{lesion_id}: new lesion ({answer.new_status}), caliper "
            f"{caliper.length() / 10:.1f} mm",
            5000,
        )

    # ================================================================== commands
    def ask_add_lesion(self) -> None:
        """Add a non-target (baseline) or new lesion (follow-up) without a caliper."""
        if self.session is None:
            raise MrecistError("open a study first")
        self.session.check_editable(self.current_index)
        baseline = self.current_index == 0
        kind = LesionType.NON_TARGET if baseline else LesionType.NEW
        answer = dialogs.ask_lesion(self, types=(kind,), default_type=kind)
        if answer is None:
            return
        if baseline:
            lesion_id = self.session.add_non_target(answer.organ, answer.location)
        elif answer.new_status is not None:
            lesion_id = self.session.add_new_lesion(
                answer.organ,
                answer.location,
                self.current_index,
                status=answer.new_status,
            )
        else:
            return
        self.select_lesion(lesion_id)
        self.statusBar().showMessage(f"{lesion_id} added", 5000)

    def set_status(self, token: str) -> None:
        """Record a status for the selected lesion at the current timepoint."""
        if self.session is None or self.selected_lesion is None:
            raise MrecistError("select a lesion first (L: next lesion)")
        lesion_id, index = self.selected_lesion, self.current_index
        try:
            self.session.record_status(lesion_id, index, token)
        except RuleViolation as refusal:
            if refusal.allowed != "progression with cytology_confirmed":
                raise
            self._record_fluid_progression(lesion_id, index)
            return
        self.statusBar().showMessage(
            f"{lesion_id}: {token.replace('_', ' ')} recorded", 5000
        )
        if index != 0:
            self._select_default_lesion()

    def _record_fluid_progression(self, lesion_id: str, index: int) -> None:
        assert self.session is not None
        confirmed = dialogs.ask_cytology_confirmed(self, lesion_id)
        if confirmed is None:
            return
        if confirmed:
            self.session.record_status(
                lesion_id, index, NonTargetStatus.PROGRESSION, cytology_confirmed=True
            )
        else:
            self.session.record_status(lesion_id, index, NonTargetStatus.PRESENT)

    def edit_location(self, lesion_id: str, location: str) -> None:
        """Change a lesion's location (refused once a signed timepoint shows it)."""
        with error_boundary(self, "Edit location"):
            if self.session is None:
                raise MrecistError("open a study first")
            self.session.edit_location(lesion_id, location)
            self.statusBar().showMessage(f"{lesion_id}: location {location}", 5000)

    def edit_comment(self, lesion_id: str, index: int, comment: str) -> None:
        """Change the comment of a lesion's observation at a timepoint."""
        with error_boundary(self, "Edit comment"):
            if self.session is None:
                raise MrecistError("open a study first")
            self.session.edit_comment(lesion_id, index, comment)
            self.statusBar().showMessage(f"{lesion_id}: comment saved", 5000)

    def delete_lesion(self) -> None:
        """Delete the selected lesion (after confirmation)."""
        if self.session is None or self.selected_lesion is None:
            raise MrecistError("select a lesion first")
        lesion_id = self.selected_lesion
        self.session.check_editable(None, lesion_id)
        answer = QMessageBox.question(
            self, "Delete lesion", f"Delete {lesion_id} and all its values?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.session.delete_lesion(lesion_id)
            self.selected_lesion = None

    def undo(self) -> None:
        """Undo the last change of the read."""
        if self.session is not None:
            self.session.undo()

    def redo(self) -> None:
        """Redo the last undone change."""
        if self.session is not None:
            self.session.redo()

    def ask_sign(self) -> None:
        """Sign the current timepoint after confirmation (it becomes read-only)."""
        if self.session is None:
            raise MrecistError("open a study first")
        timepoint = self.session.read.timepoint(self.current_index)
        if timepoint is None:
            return
        if dialogs.ask_sign(self, timepoint.label, self._sign_summary()):
            self.session.sign_timepoint(self.current_index)
            self.statusBar().showMessage(f"{timepoint.label} signed", 8000)

    def _sign_summary(self) -> str:
        row = self.response_panel.current()
        if row is None or self.current_index == 0:
            count = self.lesion_model.rowCount()
            return f"{count} lesion{'' if count == 1 else 's'} recorded at baseline."
        return (
            f"Target {row.target_response}, non-target {row.non_target_response}, "
            f"new lesions {row.new_lesions}: overall {row.overall_response}."
        )

    def ask_amend(self) -> None:
        """Reopen the signed current timepoint, with a reason."""
        if self.session is None:
            raise MrecistError("open a study first")
        timepoint = self.session.read.timepoint(self.current_index)
        if timepoint is None or timepoint.read_status is not ReadStatus.SIGNED:
            raise MrecistError("the current timepoint is not signed")
        reopened = self.session.timepoints_reopened_by_amending(self.current_index)
        reason = dialogs.ask_amend_reason(self, timepoint.label, reopened=reopened)
        if reason:
            self.session.amend_timepoint(self.current_index, reason)

    def ask_export(self) -> None:
        """Write measurements.csv and responses.csv of the open read to a folder."""
        if self.session is None:
            raise MrecistError("open a study first")
        folder = QFileDialog.getExistingDirectory(self, "Export CSV to folder")
        if not folder:
            return
        if not self._may_replace_export(Path(folder)):
            self.statusBar().showMessage("Export cancelled: nothing written", 5000)
            return
        written = self.export_to(Path(folder))
        self.statusBar().showMessage(f"Exported to {written[0].parent}", 8000)

    def _may_replace_export(self, folder: Path) -> bool:
        """Ask before an export replaces an earlier one in the same folder."""
        from mrecist_reader.transfer.csv_out import EXPORT_FILES

        existing = [name for name in EXPORT_FILES if (folder / name).exists()]
        return not existing or dialogs.ask_replace_files(self, existing)

    def export_to(self, folder: Path) -> tuple[Path, Path]:
        """Export the open read (blinded in a central read); return the two files."""
        from mrecist_reader.core.assess import assess
        from mrecist_reader.transfer.csv_out import write_export

        assert self.session is not None
        read = self.session.read
        blinded = read.key.read_type is ReadType.CENTRAL
        assessment = assess(read, self.session.profile)
        return write_export(folder, [read], [(read, assessment)], blinded=blinded)

    # ================================================================== viewing
    def _active_viewers(self) -> list[SliceViewer]:
        focused = QApplication.focusWidget()
        viewers = [v.viewer for v in self.views if v.viewer.isVisible()]
        if self.link_window or focused not in viewers:
            return viewers
        return [v for v in viewers if v is focused]

    def _apply_preset(self, preset: Any) -> None:
        for viewer in self._active_viewers():
            viewer.apply_preset(preset)

    def reset_views(self) -> None:
        """Fit the images in their views."""
        for view in self.views:
            view.viewer.reset_view()

    def _zoom(self, factor: float) -> None:
        for viewer in self._active_viewers():
            viewer.zoom_by(factor)

    def _on_link_toggled(self) -> None:
        scroll, window = (
            self._actions.get("linkScroll"),
            self._actions.get("linkWindow"),
        )
        self.link_scrolling = scroll is not None and scroll.isChecked()
        self.link_window = window is not None and window.isChecked()

    def _on_slice_changed(self, source: TimepointView) -> None:
        if not self.link_scrolling or source.viewer.stack is None:
            return
        point = source.viewer.slice_centre_mm()
        for view in self.views:
            if view is not source and view.viewer.stack is not None:
                view.viewer.blockSignals(True)
                view.viewer.go_to_patient_point(point)
                view.viewer.blockSignals(False)

    def _on_window_changed(
        self, source: TimepointView, width: float, level: float
    ) -> None:
        if not self.link_window:
            return
        for view in self.views:
            if view is not source and view.viewer.window_level != (width, level):
                view.viewer.blockSignals(True)
                view.viewer.set_window(width, level)
                view.viewer.blockSignals(False)

    # ================================================================== window state
    def _restore_layout(self) -> None:
        settings = QSettings()
        geometry = settings.value("mainWindow/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self._fit_first_start_size()
        state = settings.value("mainWindow/state")
        self._docks_sized = isinstance(state, QByteArray)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        splitter = settings.value("mainWindow/rightSplitter")
        self._split_sized = isinstance(splitter, QByteArray)
        if isinstance(splitter, QByteArray):
            self.right_splitter.restoreState(splitter)

    def _fit_first_start_size(self) -> None:
        """Open large on first start (1600 x 950), never larger than the screen."""
        width, height = 1600, 950
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry()
            width = min(width, available.width())
            height = min(height, available.height())
        self.resize(width, height)

    def event(self, event: QEvent) -> bool:  # noqa: D102
        if input_claims_key(event):  # typing in a field, combo or the worklist
            event.accept()
            return True
        return super().event(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: D102
        super().showEvent(event)
        if not self._docks_sized:  # first start: the image gets the room
            self._docks_sized = True
            self.resizeDocks(
                [self.worklist_dock, self.reading_dock],
                list(first_start_dock_widths(self.width())),
                Qt.Orientation.Horizontal,
            )
        if not self._split_sized:  # once the docks have their first size
            self._split_sized = True
            QTimer.singleShot(0, self, self.fit_read_split)

    def fit_read_split(self) -> None:
        """Give the response panel the height it asks for, the lesion table the rest.

        Used on first start; later the reader's own split is restored (QSettings
        ``mainWindow/rightSplitter``, saved on close with the window state).
        """
        layout = self.layout()
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

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: D102
        settings = QSettings()
        settings.setValue("mainWindow/geometry", self.saveGeometry())
        settings.setValue("mainWindow/state", self.saveState())
        settings.setValue("mainWindow/rightSplitter", self.right_splitter.saveState())
        for view in self.views:
            view.cancel()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop background loading and close the database (after the event loop)."""
        for view in self.views:
            view.cancel()
        if self._repository is not None:
            self._repository.close()

    # ================================================================== for tests
    def visible_texts(self) -> list[str]:
        """Return every text the window shows (title, labels, tables, worklist)."""
        texts = [self.windowTitle(), self.statusBar().currentMessage()]
        for label in self.findChildren(QLabel):
            texts.append(label.text())
        texts.extend(self.browser.all_texts())
        model = self.lesion_model
        for row in range(model.rowCount()):
            for column in range(model.columnCount()):
                texts.append(str(model.data(model.index(row, column)) or ""))
        return texts


def _miss_message(miss: MrecistError) -> str:
    """Say why a click found no lesion; suggest a caliper only where one may belong.

    Tissue that does not enhance (necrosis, plain liver) is not measured by mRECIST,
    so a caliper is not suggested there.
    """
    from mrecist_reader.imaging.measure import NotEnhancing

    if isinstance(miss, NotEnhancing):
        return str(miss)
    return f"{miss}; draw the caliper instead if a lesion is there"


def plain_text(menu_text: str) -> str:
    """Return a menu text as shown: mnemonic marks removed, ``&&`` as ``&``.

    >>> plain_text("Show lesions && &response")
    'Show lesions & response'
    """
    return menu_text.replace("&&", "\0").replace("&", "").replace("\0", "&")


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


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        logger.warning("ignoring a scan date that is not an ISO date")
        return None


def _image_uid(view: TimepointView, point: IndexPoint) -> str:
    """Return the SOP Instance UID of the image under ``point`` on ``view``.

    Raises
    ------
    MrecistError
        When the slice fills a gap where the series has no image.

    """
    assert view.series is not None
    uids = view.series.slice_sop_instance_uids
    k = min(max(round(point[0]), 0), len(uids) - 1)
    if not uids[k]:
        raise MrecistError(
            f"slice {k + 1} fills a gap where the series has no image; "
            "measure on an acquired slice"
        )
    return uids[k]
