"""The reading workstation's main window: composes the widgets and wires their signals.

Layout (:mod:`~mrecist_reader.ui.window_layout`): the worklist (left dock), baseline and
the current timepoint side by side (centre), lesions and response (right dock). Menus
and shortcuts: :mod:`~mrecist_reader.ui.menus`. Calipers and clicks:
:mod:`~mrecist_reader.ui.measure_flow`. Opening and the load report:
:mod:`~mrecist_reader.ui.open_commands`; series into the panes:
:mod:`~mrecist_reader.ui.series_loading`; sign, amend, export:
:mod:`~mrecist_reader.ui.read_commands`; trial endpoints:
:mod:`~mrecist_reader.ui.endpoints_command`. Where the reader is (subject, timepoint,
series, selection, proposal) is held by the Qt-free
:class:`~mrecist_reader.desk.desk.ReadingDesk`, the read by its
:class:`~mrecist_reader.session.ReadSession`; the window redraws from their signals and
decides nothing.

Blinding: in a central read the window never shows a patient name, ID, birth date,
institution or date; only the trial subject ID, timepoint labels and study days.
"""

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QShowEvent
from PySide6.QtWidgets import QDialog, QLabel, QMainWindow, QMessageBox

from mrecist_reader.core.assess import Assessment
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import Read
from mrecist_reader.core.wording import readable, word
from mrecist_reader.desk.archive_arrival import Action
from mrecist_reader.desk.desk import ReaderContext, ReadingDesk
from mrecist_reader.desk.lesion_place import lesion_place
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry
from mrecist_reader.ui import dialogs
from mrecist_reader.ui.archive_preview import ArrivalDisplay
from mrecist_reader.ui.archive_status import ArchiveStatusView
from mrecist_reader.ui.endpoints_command import EndpointsCommand
from mrecist_reader.ui.errors import error_boundary
from mrecist_reader.ui.icons import app_icon
from mrecist_reader.ui.image_stack import WindowPreset
from mrecist_reader.ui.integrity_dialog import INTEGRITY_TITLE, show_integrity_problems
from mrecist_reader.ui.lesion_table import LesionTableModel
from mrecist_reader.ui.measure_flow import (
    PROPOSAL_ID,
    MeasureFlow,
    caliper_specs,
    outline_spec,
)
from mrecist_reader.ui.menus import Actions, build_menus
from mrecist_reader.ui.open_commands import OpenCommands
from mrecist_reader.ui.opening import Opener
from mrecist_reader.ui.pane_grid import PaneGrid
from mrecist_reader.ui.read_commands import ReadCommands
from mrecist_reader.ui.read_status import APP_TITLE, ReadStatusView
from mrecist_reader.ui.roi_keeping import connect_roi_keeping
from mrecist_reader.ui.series_loading import SeriesLoading
from mrecist_reader.ui.shortcuts import input_claims_key
from mrecist_reader.ui.timepoint_view import TimepointView
from mrecist_reader.ui.view_links import ViewLinks
from mrecist_reader.ui.window_layout import WindowParts

if TYPE_CHECKING:
    from concurrent.futures import Future

    from mrecist_reader.session import ReadSession
    from mrecist_reader.ui.prefetch import Prefetched

__all__ = ["APP_TITLE", "INTEGRITY_TITLE", "MainWindow", "ReaderContext"]

logger = logging.getLogger(__name__)

OPEN_READ_DELAY_MS = 50
"""After the first image: the read (and the database) opens this much later."""


class MainWindow(QMainWindow):
    """The reading workstation."""

    def __init__(self, context: ReaderContext, icon: QIcon | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.context = context
        self.desk = ReadingDesk(context)
        self.integrity_dialog: QMessageBox | None = None
        self._bound: ReadSession | None = None
        self.parts = WindowParts(self)
        self._expose_parts()
        self.read_status = ReadStatusView(self, self.desk, self.parts)
        self.links = ViewLinks(self.views)
        self.measure = MeasureFlow(
            self,
            self.desk,
            self.say,
            self.baseline_view,
            set_measure_mode=self.set_measure_mode,
        )
        self.opener = Opener(
            self,
            self.parts,
            self.set_worklist,
            grow_worklist=self.grow_worklist,
            blinded=context.is_blinded,
            cache_dir=context.zip_cache_dir,
            cache_limit_mb=context.zip_cache_mb,
            cache_max_age_days=context.zip_cache_days,
            on_extracted=self.desk.keep_extraction,
        )
        self.opening = OpenCommands(self, self.desk, self.opener, self.views, self.say)
        self.loading = SeriesLoading(
            self,
            self.desk,
            self.parts,
            self.opener,
            self.say,
            view_for=self._view_for,
            started=self._refresh_calipers,
            loaded=self._on_volume_loaded,
        )
        self.commands = ReadCommands(self, self.desk, self.say, self._sign_summary)
        self.endpoints = EndpointsCommand(self, self.desk)
        self.archive_status = ArchiveStatusView(self, self.desk, self.say)
        memory = self.baseline_view.viewer.window_memory
        self.arrival = ArrivalDisplay(self, self.say, self.loading.keep, memory)
        self._actions = Actions(self)
        build_menus(self, self._actions)
        self.arrival.block([self._actions["addLesion"]])  # while a series arrives
        self.setWindowIcon(icon if icon is not None else app_icon())
        self.setAcceptDrops(True)
        self._connect_widgets()
        self._connect_desk()
        self.panes = PaneGrid(
            self, self.desk, self.views, self.links, caption=self.loading.caption
        )
        self.read_status.update_title()
        self.parts.restore()

    def _expose_parts(self) -> None:
        parts = self.parts
        self.baseline_view, self.current_view = parts.baseline_view, parts.current_view
        self.views = parts.views
        self.browser = parts.browser
        self.lesion_model, self.lesion_table = parts.lesion_model, parts.lesion_table
        self.response_panel, self.right_splitter = (
            parts.response_panel,
            parts.right_splitter,
        )
        self.worklist_dock, self.reading_dock = parts.worklist_dock, parts.reading_dock
        self.read_label, self.progress = parts.read_label, parts.progress
        self.missing_label = parts.missing_label

    # ================================================================== wiring
    def _connect_widgets(self) -> None:
        for view in self.views:
            self._connect_viewer(view)
        self.browser.series_chosen.connect(self._on_series_chosen)
        self.browser.timepoint_chosen.connect(self._on_timepoint_chosen)
        self.lesion_table.clicked.connect(self._on_table_clicked)
        self.lesion_model.location_edited.connect(self.edit_location)
        self.lesion_model.comment_edited.connect(self.edit_comment)
        self.parts.cancel_button.clicked.connect(self.cancel_loading)
        self.parts.load_link.linkActivated.connect(
            lambda _link: self.show_load_report()
        )

    def _connect_viewer(self, view: TimepointView) -> None:
        viewer, flow = view.viewer, self.measure
        viewer.slice_changed.connect(lambda _k, v=view: self.links.on_slice_changed(v))
        viewer.window_changed.connect(
            lambda w, level, v=view: self.links.on_window_changed(v, w, level)
        )
        viewer.caliper_drawn.connect(
            lambda p1, p2, v=view: flow.on_caliper_drawn(v, p1, p2)
        )
        viewer.caliper_edited.connect(
            lambda lesion_id, p1, p2, v=view: flow.on_caliper_edited(
                v, lesion_id, p1, p2
            )
        )
        viewer.caliper_clicked.connect(self.select_lesion)
        viewer.point_clicked.connect(lambda p, v=view: flow.on_point_clicked(v, p))
        connect_roi_keeping(self, view, self.desk, self.say)  # an ROI's menu keeps it
        # the viewer's tool bar button and the window's action stay in step (the
        # viewer signals only a real change: no loop)
        viewer.measure_mode_changed.connect(self.set_measure_mode)

    def _connect_desk(self) -> None:
        desk = self.desk
        desk.worklist_changed.connect(lambda w: self.browser.set_worklist(w.subjects))
        desk.subject_changed.connect(self._on_subject_changed)
        desk.session_changed.connect(self._on_session_changed)
        desk.timepoint_changed.connect(self._on_timepoint_changed)
        desk.series_changed.connect(self.loading.show)
        desk.selection_changed.connect(self._on_selection_changed)
        desk.proposal_changed.connect(lambda _p: self._refresh_calipers())
        desk.markers_changed.connect(self._refresh_calipers)
        desk.integrity_failed.connect(self._on_integrity_failed)
        desk.profiles_unknown.connect(lambda text: self.say(text, 0))

    def _on_integrity_failed(self, problems: tuple[str, ...]) -> None:
        """Say that the database fails verification and is open read-only (item 1)."""
        self.integrity_dialog = show_integrity_problems(self, problems)
        self.read_status.update_title()

    # ================================================================== state, read-only
    @property
    def session(self) -> "ReadSession | None":
        """Return the open read's session (``None`` until the read is open)."""
        return self.desk.session

    @property
    def subjects(self) -> tuple[SubjectEntry, ...]:
        """Return the worklist's subjects."""
        return self.desk.worklist.subjects

    @property
    def subject(self) -> SubjectEntry | None:
        """Return the open subject."""
        return self.desk.subject

    @property
    def current_index(self) -> int:
        """Return the index of the timepoint being read."""
        return self.desk.timepoint_index

    @property
    def selected_lesion(self) -> str | None:
        """Return the selected lesion's ID."""
        return self.desk.selected_lesion

    def say(self, message: str, timeout_ms: int = 5000) -> None:
        """Show a message in the status bar (0: until the next one)."""
        self.statusBar().showMessage(message, timeout_ms)

    def shortcuts(self) -> list[tuple[str, str]]:
        """Return every keyboard shortcut with what it does (Help > Shortcuts)."""
        return list(self._actions.shortcut_rows)

    def show_shortcuts(self) -> None:
        """Show the list of shortcuts."""
        dialogs.ShortcutsDialog(self, self.shortcuts()).exec()

    # ================================================================== opening
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
        """Scan a folder, zip or DICOMDIR in the background, then show the worklist."""
        self.arrival.end()  # a series arriving from the archive gives way
        self.opening.open_path(path, prefetched=prefetched)

    def show_load_report(self) -> None:
        """Show which files the last scan did not load and why, and series warnings."""
        self.opening.show_load_report()

    @property
    def load_report(self) -> QDialog | None:
        """Return the load report shown last (``None``: none yet)."""
        return self.opening.load_report

    def set_worklist(self, subjects: Sequence[SubjectEntry]) -> None:
        """Show a worklist and open its first subject, ready to read."""
        self.read_status.forget_stored_states()
        if not subjects:
            self.say("No image series found", 8000)
        self.desk.set_worklist(tuple(subjects))

    def grow_worklist(self, subjects: Sequence[SubjectEntry]) -> None:
        """Show a worklist that grew while scanning; the reader stays where they are."""
        self.desk.grow_worklist(tuple(subjects))
        self.read_status.forget_stored_states()
        self.read_status.refresh_statuses()
        self._show_current_in_worklist()

    def open_subject(self, subject: SubjectEntry) -> None:
        """Show a subject's baseline at once, then open the read (ready to read)."""
        self.desk.open_subject(subject.subject_id)

    def _on_subject_changed(self, subject: SubjectEntry | None) -> None:
        self.read_status.update_title()
        if subject is None:
            return
        # bound to the window: never run on a window already closed and deleted
        QTimer.singleShot(OPEN_READ_DELAY_MS, self, lambda: self._open_read(subject))

    def _open_read(self, subject: SubjectEntry) -> None:
        shown = self.desk.subject
        if shown is None or shown.subject_id != subject.subject_id:
            return  # the reader moved on to another subject meanwhile
        if self.desk.session is not None:
            return  # (a scan's full worklist may have replaced the subject's entry)
        with error_boundary(self, "Open read"):
            self.desk.open_read()

    def _on_session_changed(self, session: "ReadSession | None") -> None:
        if self._bound is not None:
            self._bound.read_changed.disconnect(self._on_read_changed)
            self._bound.assessment_changed.disconnect(self._on_assessment_changed)
            self._bound.undo_state_changed.disconnect(self._on_undo_state)
        self._bound = session
        # the PR/PD lines are the bound read's profile's (none without a read)
        self.response_panel.set_profile(None if session is None else session.profile)
        if session is None:
            self.lesion_model.set_read(None)
            self.response_panel.show_assessment(None)
            self.read_status.show_missing()
            return
        session.read_changed.connect(self._on_read_changed)
        session.assessment_changed.connect(self._on_assessment_changed)
        session.undo_state_changed.connect(self._on_undo_state)
        self.lesion_model.set_read(session.read)
        self.response_panel.show_assessment(session.assessment)
        self.read_status.refresh_statuses()

    # ================================================================== timepoints
    def set_current_timepoint(self, index: int, *, force: bool = False) -> None:
        """Show baseline on the left and timepoint ``index`` on the right."""
        self.desk.go_to_timepoint(index, force=force)

    def _on_timepoint_changed(self, index: int) -> None:
        self.lesion_model.set_timepoint(index)
        self.lesion_table.setColumnHidden(LesionTableModel.COL_PREVIOUS, index <= 1)
        self.lesion_table.setColumnHidden(LesionTableModel.COL_BASELINE, index == 0)
        self.response_panel.set_timepoint(index)
        follow_up = index != 0
        self.current_view.viewer.setVisible(follow_up)
        if not follow_up:
            self.current_view.clear()
        self.read_status.update_title()
        self.read_status.update_read_label()
        self.read_status.show_missing()
        self._show_current_in_worklist()
        self._focus_images()

    def _view_for(self, index: int) -> TimepointView:
        # the left pane shows the comparison timepoint (the baseline unless chosen)
        left = index == self.desk.comparison_index
        return self.baseline_view if left else self.current_view

    def _focus_images(self) -> None:
        """Give the keys back to the image being read (PgDn scrolls it)."""
        shown = self.current_view if self.current_index else self.baseline_view
        shown.viewer.setFocus()

    def _show_current_in_worklist(self) -> None:
        subject = self.desk.subject
        if subject is None:
            return
        state = self.desk.open_series(self.current_index)
        uid = None if state is None else state.series.series_instance_uid
        self.browser.show_current(subject.subject_id, self.current_index, uid)

    def _on_timepoint_chosen(self, subject_id: str, index: int) -> None:
        """Open a timepoint chosen in the worklist, switching subject when needed."""
        with error_boundary(self, "Open timepoint"):
            self.desk.open_subject(subject_id, index)

    def _on_series_chosen(self, subject_id: str, index: int, info: SeriesInfo) -> None:
        with error_boundary(self, "Open series"):
            self.desk.choose_series(subject_id, index, info.series_instance_uid)
            self._show_current_in_worklist()
            self._view_for(index).viewer.setFocus()

    def _on_volume_loaded(self, view: TimepointView) -> None:
        self._refresh_calipers()
        if self.selected_lesion is not None:
            self._jump_to_lesion(view, self.selected_lesion)
        if view.volume is not None:
            self.measure.warm_up(view.volume)

    def cancel_loading(self) -> None:
        """Stop scanning or loading (what is shown so far stays)."""
        self.loading.cancel()

    # ================================================================== session signals
    def _on_read_changed(self, read: Read) -> None:
        self.lesion_model.set_read(read)
        self.desk.keep_selection_valid()
        self._reselect()
        self._refresh_calipers()
        self.read_status.refresh_statuses()
        self.read_status.update_read_label()
        self.read_status.show_missing()

    def _on_assessment_changed(self, assessment: Assessment | None) -> None:
        self.response_panel.show_assessment(assessment)

    def _on_undo_state(self, can_undo: bool, can_redo: bool) -> None:
        self._actions["undo"].setEnabled(can_undo)
        self._actions["redo"].setEnabled(can_redo)

    # ================================================================== lesions
    def _on_table_clicked(self, index: QModelIndex) -> None:
        self.select_lesion(self.lesion_model.lesion_at(index.row()).lesion_id)
        self._focus_images()  # PgDn scrolls the image, not the table

    def select_lesion(self, lesion_id: str | None) -> None:
        """Choose a lesion: select its row and jump to its caliper at every timepoint."""
        if lesion_id == PROPOSAL_ID:
            return
        self.desk.select_lesion(lesion_id)

    def _on_selection_changed(self, lesion_id: str | None) -> None:
        self._reselect()
        self._refresh_calipers()
        if lesion_id is not None:
            for view in self.views:
                self._jump_to_lesion(view, lesion_id)

    def _reselect(self) -> None:
        lesion_id = self.desk.selected_lesion
        row = None if lesion_id is None else self.lesion_model.row_of(lesion_id)
        if row is None:
            self.lesion_table.clearSelection()
        else:
            self.lesion_table.selectRow(row)

    def _jump_to_lesion(self, view: TimepointView, lesion_id: str) -> None:
        point = lesion_place(self.desk, lesion_id, view.timepoint_index)
        if point is not None and view.viewer.stack is not None:
            view.viewer.go_to_patient_point(point)

    # ================================================================== calipers
    def _refresh_calipers(self) -> None:
        for view in self.views:
            view.viewer.set_calipers(caliper_specs(self.desk, view))
            view.viewer.set_outline(outline_spec(self.desk, view))

    def on_measure_toggled(self) -> None:
        """Turn measure mode on or off in both viewers (the M key)."""
        enabled = self._actions["measure"].isChecked()
        if enabled and self.arrival.unchecks(self._actions["measure"], Action.MEASURE):
            return
        for view in self.views:
            view.viewer.set_measure_mode(enabled)
        self.say(
            "Measure: drag to draw a caliper, click a lesion for a semi-automatic one"
            if enabled
            else "Measure mode off",
            5000,
        )

    def set_measure_mode(self, enabled: bool) -> None:
        """Turn measure mode on or off."""
        self._actions["measure"].setChecked(enabled)

    def accept_proposal(self) -> None:
        """Record the proposed semi-automatic caliper."""
        self.measure.accept()

    def set_status(self, token: str) -> None:
        """Record a status for the selected lesion at the current timepoint."""
        self.measure.set_status(token)

    def ask_add_lesion(self) -> None:
        """Add a non-target (baseline) or new lesion (follow-up) without a caliper."""
        self.measure.ask_add_lesion()

    # ================================================================== commands
    def edit_location(self, lesion_id: str, location: str) -> None:
        """Change a lesion's location (refused once a signed timepoint shows it)."""
        with error_boundary(self, "Edit location"):
            self._require_session().edit_location(lesion_id, location)
            self.say(f"{lesion_id}: location {location}", 5000)

    def edit_comment(self, lesion_id: str, index: int, comment: str) -> None:
        """Change the comment of a lesion's observation at a timepoint."""
        with error_boundary(self, "Edit comment"):
            self._require_session().edit_comment(lesion_id, index, comment)
            self.say(f"{lesion_id}: comment saved", 5000)

    def undo(self) -> None:
        """Undo the last change of the read."""
        if self.session is not None:
            self.session.undo()

    def redo(self) -> None:
        """Redo the last undone change."""
        if self.session is not None:
            self.session.redo()

    def ask_sign(self) -> None:
        """Sign the current timepoint (see :meth:`ReadCommands.ask_sign`)."""
        if not self.arrival.refuses(Action.SIGN):
            self.commands.ask_sign()

    def _sign_summary(self) -> str:
        row = self.response_panel.current()
        if row is None or self.current_index == 0:
            count = self.lesion_model.rowCount()
            return f"{count} lesion{'' if count == 1 else 's'} recorded at baseline."
        summary = (
            f"Target {word(row.target_response)}, "
            f"non-target {word(row.non_target_response)}, "
            f"new lesions {word(row.new_lesions)}: "
            f"overall {word(row.overall_response)}."
        )
        # why: a reappearance after CR, a confirmation... read before signing
        reasons = [f"• {readable(reason)}" for reason in row.reasons]
        return "\n".join([summary, *reasons])

    def ask_export(self) -> None:
        """Export the open subject's read or every subject's (the reader chooses)."""
        self.commands.ask_export()

    def export_to(self, folder: Path) -> tuple[Path, Path]:
        """Export the open read (blinded in a central read); return the two files."""
        return self.desk.export(folder).paths

    def ask_quit(self) -> None:
        """Quit, asking first while a timepoint of the open read is a draft."""
        if self.commands.may_quit():
            self.close()

    def _require_session(self) -> "ReadSession":
        if self.desk.session is None:
            raise MrecistError("open a study first")
        return self.desk.session

    # ================================================================== viewing
    def apply_preset(self, preset: WindowPreset) -> None:
        """Apply a window preset to the focused image (both when linked)."""
        self.links.apply_preset(preset)

    def reset_views(self) -> None:
        """Fit the images in their views."""
        for view in self.views:
            view.viewer.reset_view()

    def zoom(self, factor: float) -> None:
        """Zoom the focused image (both when linked)."""
        self.links.zoom(factor)

    def on_link_toggled(self) -> None:
        """Follow the link toggles (scrolling by position, window/level)."""
        scroll, window = (
            self._actions.get("linkScroll"),
            self._actions.get("linkWindow"),
        )
        self.links.scrolling = scroll is not None and scroll.isChecked()
        self.links.window = window is not None and window.isChecked()

    @property
    def link_window(self) -> bool:
        """Return whether window/level is linked between the images."""
        return self.links.window

    # ================================================================== window state
    def event(self, event: QEvent) -> bool:  # noqa: D102
        if input_claims_key(event):  # typing in a field, combo or the worklist
            event.accept()
            return True
        return super().event(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: D102
        super().showEvent(event)
        self.parts.on_shown()

    def fit_read_split(self) -> None:
        """Give the response panel the height it asks for, the lesion table the rest."""
        self.parts.fit_read_split()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: D102
        self.parts.save()
        for view in self.views:
            view.cancel()
        self.desk.remove_extractions()  # a blinded read leaves no identifiable copy
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop background loading and close the database (after the event loop)."""
        for view in self.views:
            view.cancel()
        self.desk.close()

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
