"""Opening a folder, zip or DICOMDIR: scan in the background, then the worklist.

One path: the scan runs in a worker thread, or, at start-up, the scan already started
by :func:`mrecist_reader.ui.prefetch.start_prefetch` is awaited (its first slice is
shown before the pixel decoders are imported).

A scan in a worker thread reports its progress (folder by folder,
:class:`~mrecist_reader.imaging.scan.ScanProgress`): as soon as the series the window
opens first has been read entirely (:func:`mrecist_reader.desk.first_image.show_early`)
the worklist of what is complete so far is shown, and so its first image, while the
rest of the folder is still being read. The worklist then fills in as series are found
(:func:`~mrecist_reader.desk.first_image.grown_worklist`) and the complete worklist
follows at the end, both through ``grow_worklist``: the reader stays on their subject
and timepoint, and timepoints found later join the read already open. Only a first
series that changed (another one preferred, or more files) opens the subject again.
The stacks are built in the scanning thread, never in the GUI's.
"""

import html
import logging
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMainWindow

from mrecist_reader.desk import first_image
from mrecist_reader.desk.first_image import first_series, grown_worklist, show_early
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry
from mrecist_reader.ui.errors import error_boundary, report_error
from mrecist_reader.ui.prefetch import (
    FirstSlice,
    Prefetched,
    ScanSummary,
    early_prefetched,
    scan_index_setting,
)
from mrecist_reader.ui.window_layout import WindowParts
from mrecist_reader.ui.workers import run_in_thread, when_done

if TYPE_CHECKING:
    from concurrent.futures import Future

    from superqt.utils import FunctionWorker

    from mrecist_reader.imaging.scan import ScanProgress
    from mrecist_reader.imaging.volume import SkippedFile

logger = logging.getLogger(__name__)


class _ProgressRelay(QObject):
    """Carries a scan's progress from its worker thread to the GUI thread."""

    found = Signal(int, object)  # scan number, ScanProgress


class Opener:
    """Scans what the reader opens and hands the worklist to the window."""

    def __init__(
        self,
        window: QMainWindow,
        parts: WindowParts,
        show_worklist: Callable[[Sequence[SubjectEntry]], None],
        *,
        grow_worklist: Callable[[Sequence[SubjectEntry]], None] | None = None,
        blinded: bool = False,
        cache_dir: Path | None = None,
        cache_limit_mb: int | None = None,
        cache_max_age_days: int | None = None,
        on_extracted: Callable[[Path], None] | None = None,
    ) -> None:
        self.window = window
        self.cache_max_age_days = cache_max_age_days
        self.on_extracted = on_extracted
        """Told where a scanned zip archive was extracted (removed on closing)."""
        self.blinded = blinded
        self.cache_dir = cache_dir
        self.cache_limit_mb = cache_limit_mb
        self.parts = parts
        self.show_worklist = show_worklist
        self.grow_worklist = grow_worklist
        """Shows a worklist that grew, leaving the reader in place (None: not grown)."""
        self._scan_worker: FunctionWorker[ScanSummary] | None = None
        self._prefetch_timer: QTimer | None = None
        self._first_slice: FirstSlice | None = None
        self.found: ScanSummary | None = None
        """What the last scan found (its load report)."""
        self._relay = _ProgressRelay(window)
        self._relay.found.connect(self._on_progress)
        self._scan_number = 0
        self._shown_early = False
        self._grown = 0  # complete stacks in the worklist shown while scanning
        self._early_subject: SubjectEntry | None = None
        self.shown_while_scanning = False
        """Whether the last scan's first series was shown before the scan ended."""

    def open(
        self, path: Path, *, prefetched: "Future[Prefetched] | None" = None
    ) -> None:
        """Scan a folder, zip or DICOMDIR in the background, then show the worklist.

        ``prefetched`` is the scan of ``path`` (with its worklist and first slice)
        already running, started before Qt was imported.
        """
        # a blinded read names no folder: it is often named after the patient
        shown = "" if self.blinded else f" {path.name}"
        self.window.statusBar().showMessage(f"Scanning{shown}...")
        self.parts.show_busy(True)
        self._shown_early = self.shown_while_scanning = False
        self._grown = 0
        self._early_subject = None
        if prefetched is not None:
            self._scan_worker = None
            self._watch_early(prefetched)
            self._prefetch_timer = when_done(
                prefetched,
                on_done=self._on_prefetched,
                on_error=self._on_scan_failed,
                on_finished=lambda: self.parts.show_busy(False),
            )
            return
        self._scan_number += 1
        self._scan_worker = run_in_thread(
            partial(
                scan_summary,
                cache_dir=self.cache_dir,
                cache_limit_mb=self.cache_limit_mb,
                cache_max_age_days=self.cache_max_age_days,
                index_dir=scan_index_setting(),
                on_progress=partial(self._found, self._scan_number),
            ),
            path,
            on_done=self._on_scanned,
            on_error=self._on_scan_failed,
            on_finished=lambda: self.parts.show_busy(False),
        )

    def cancel(self) -> None:
        """Stop a scan still running."""
        if self._scan_worker is not None:
            self._scan_worker.quit()

    def take_first_slice(self, index: int, info: SeriesInfo) -> FirstSlice | None:
        """Return the prefetched first slice once, for the series it was decoded from."""
        first, self._first_slice = self._first_slice, None
        if first is None or index != 0 or first.series_uid != info.series_instance_uid:
            return None
        return first

    def _found(self, number: int, progress: "ScanProgress") -> None:
        """In the scanning thread: build the stacks the GUI will ask for, then relay."""
        files_left = progress.files_total - progress.files_seen
        if (self._shown_early and self.grow_worklist is not None) or (
            not self._shown_early and files_left >= first_image.MIN_FILES_LEFT
        ):
            progress.complete_series  # noqa: B018  (cached: built here, not in the GUI)
        self._relay.found.emit(number, progress)

    def _on_progress(self, number: int, progress: "ScanProgress") -> None:
        """Show the first series once it is read entirely, then the series found."""
        if number != self._scan_number or self._scan_worker is None:
            return  # an earlier scan's, or the scan already ended
        message = (
            f"Scanning: {progress.files_seen} of {progress.files_total} files read"
        )
        if self._shown_early:
            self._grow(progress)
        else:
            subjects = show_early(
                progress.complete_series,
                shown=False,
                files_left=progress.files_total - progress.files_seen,
            )
            if subjects is not None and self._show_early(subjects):
                self._grown = len(progress.complete_series)
                message += "; the first series is shown"
        self.window.statusBar().showMessage(message)

    def _grow(self, progress: "ScanProgress") -> None:
        """Add the series found since the worklist was last shown (reader unmoved)."""
        if self.grow_worklist is None:
            return
        complete = progress.complete_series
        subjects = grown_worklist(complete, shown=self._grown)
        if subjects is None:
            return
        self._grown = len(complete)
        with error_boundary(self.window, "Open"):
            self.grow_worklist(subjects)

    def _watch_early(self, prefetched: "Future[Prefetched]") -> None:
        """Show what the prefetch sends ahead (first series, first slice) on arrival."""
        timer = QTimer(self.window)
        timer.setInterval(10)

        def check() -> None:
            early = early_prefetched(prefetched)
            if early is None and not prefetched.done():
                return
            timer.stop()
            if early is not None and not prefetched.done():
                self._show_early(early.subjects, first=early.first)

        timer.timeout.connect(check)
        timer.start()

    def _show_early(
        self, subjects: Sequence[SubjectEntry], *, first: FirstSlice | None = None
    ) -> bool:
        """Show the worklist so far (the scan goes on); return whether it was shown."""
        self._shown_early = True
        self._early_subject = subjects[0] if subjects else None
        self._first_slice = first
        with error_boundary(self.window, "Open"):
            self.show_worklist(subjects)
            self.shown_while_scanning = True
        return self.shown_while_scanning

    def _on_prefetched(self, found: Prefetched) -> None:
        closed = self._close_if_changed(found.subjects)
        if closed or not self._shown_early:
            self._first_slice = found.first
        self._show(found.scan, found.subjects, grow=self._grows(closed=closed))

    def _on_scanned(self, summary: ScanSummary) -> None:
        from mrecist_reader.imaging.worklist import build_worklist

        self._scan_worker = None  # later progress signals are stale
        subjects = build_worklist(summary.series)
        closed = self._close_if_changed(subjects)
        self._show(summary, subjects, grow=self._grows(closed=closed))

    def _grows(self, *, closed: bool) -> bool:
        """Whether the final worklist joins the one shown early (nothing reopened)."""
        return self._shown_early and not closed and self.grow_worklist is not None

    def _close_if_changed(self, subjects: Sequence[SubjectEntry]) -> bool:
        """Close the subject shown early if the full worklist changed it.

        Its series shown first grew (files in a folder read later) or is no longer the
        one to read first (an arterial series found later): it is opened again, never
        left stale. Timepoints found later join its open read (``grow_worklist``;
        without it, they too open it again); series added to its timepoints only
        appear in the worklist. Returns whether it was closed.
        """
        early = self._early_subject
        if early is None or not subjects:
            return False
        final = next((s for s in subjects if s.subject_id == early.subject_id), None)
        timepoints = self.grow_worklist is None
        if final is not None and _as_read(final, timepoints=timepoints) == _as_read(
            early, timepoints=timepoints
        ):
            return False  # series added beside those open: the worklist shows them
        self.show_worklist(())
        return True

    def _on_scan_failed(self, error: BaseException) -> None:
        self.window.statusBar().showMessage("Scan failed", 5000)
        report_error(self.window, "Open", error, blinded=self.blinded)

    def _show(
        self,
        summary: ScanSummary,
        subjects: Sequence[SubjectEntry],
        *,
        grow: bool = False,
    ) -> None:
        logger.info("scan finished: %d series", len(summary.series))
        self.found = summary
        if summary.extracted_to is not None and self.on_extracted is not None:
            self.on_extracted(summary.extracted_to)
        with error_boundary(self.window, "Open"):
            show = self.grow_worklist if grow else None
            (show or self.show_worklist)(subjects)
            text = found_text(summary)
            self.window.statusBar().showMessage(text, 8000)
            # skips or warnings: a link to the load report stays in the status bar
            link = self.parts.load_link
            link.setText(f'<a href="report">{html.escape(text)}</a>')
            link.setVisible(bool(summary.skipped or report_series(summary)))


def _as_read(subject: SubjectEntry, *, timepoints: bool) -> tuple[object, ...]:
    """Return what a subject's open read and panes depend on.

    The files of the series its first timepoint opens, and, with ``timepoints``, its
    timepoints (when nothing adds those found later to the read already open).
    """
    listed = tuple((t.index, t.label) for t in subject.timepoints) if timepoints else ()
    chosen = first_series((subject,))
    shown = None if chosen is None else (chosen.series_instance_uid, chosen.files)
    return (listed, shown)


def skipped_files(summary: ScanSummary) -> tuple["SkippedFile", ...]:
    """Return a scan's skipped files (path as the user knows it, reason)."""
    from mrecist_reader.imaging.volume import SkippedFile

    return tuple(SkippedFile(path, reason) for path, reason in summary.skipped)


def report_series(summary: ScanSummary) -> tuple[SeriesInfo, ...]:
    """Return the series a load report lists: those with warnings, set-aside ones."""
    from mrecist_reader.imaging.worklist import set_aside

    warned = tuple(s for s in summary.series if s.warnings)
    return warned + tuple(s for s in set_aside(summary.series) if s not in warned)


def found_text(summary: ScanSummary) -> str:
    """Return the status bar's line: series found, files not loaded, warnings."""
    from mrecist_reader.imaging.report import load_summary

    return load_summary(summary.series, skipped_files(summary))


def scan_summary(
    path: Path,
    *,
    cache_dir: Path | None = None,
    cache_limit_mb: int | None = None,
    cache_max_age_days: int | None = None,
    index_dir: Path | None = None,
    on_progress: "Callable[[ScanProgress], None] | None" = None,
) -> ScanSummary:
    """Scan ``path`` (headers only) and return its series, skipped files, extraction.

    ``cache_dir``, ``cache_limit_mb``, ``cache_max_age_days``: the settings' zip
    cache (``None``: defaults). ``index_dir``: the settings' scan index folder
    (``None``: the user's cache). ``on_progress``: told what was found so far (in the
    scanning thread).
    """
    from mrecist_reader.imaging.scan import scan

    result = scan(
        path,
        cache_dir=cache_dir,
        cache_limit_mb=cache_limit_mb,
        cache_max_age_days=cache_max_age_days,
        index_dir=index_dir,
        on_progress=on_progress,
    )
    return ScanSummary(
        series=tuple(result.series),
        skipped=tuple((skip.path, skip.reason) for skip in result.skipped),
        extracted_to=result.extracted_to,
    )
