"""Loading the series the desk opens into the timepoint views, with progress.

The desk decides which series a timepoint shows (:class:`~mrecist_reader.desk.desk.SeriesState`);
this puts it on screen: the pane showing that timepoint loads it progressively (first
image at once), the status bar's progress follows, a failure is said in the pane and
the status bar and handed back to the desk, and Cancel stops scanning and loading
(what is shown so far stays). A series shown while it arrived from the archive opens
at the image the reader was looking at (:meth:`SeriesLoading.keep`). Each pane's
caption names subject, timepoint, study day and series, with the series' warnings
(tilt, uneven spacing, gaps...) in sight.
"""

import logging
from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.archive_arrival import HandOver, kept_slice
from mrecist_reader.desk.desk import ReadingDesk, SeriesState
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.ui.errors import report_error
from mrecist_reader.ui.opening import Opener
from mrecist_reader.ui.series_browser import day_text
from mrecist_reader.ui.timepoint_view import TimepointView
from mrecist_reader.ui.window_layout import WindowParts

logger = logging.getLogger(__name__)

Say = Callable[[str, int], None]


class SeriesLoading:
    """Shows each timepoint's series in the pane showing that timepoint."""

    def __init__(
        self,
        parent: QWidget,
        desk: ReadingDesk,
        parts: WindowParts,
        opener: Opener,
        say: Say,
        *,
        view_for: Callable[[int], TimepointView],
        started: Callable[[], None],
        loaded: Callable[[TimepointView], None],
    ) -> None:
        self.parent = parent
        self.desk = desk
        self.parts = parts
        self.opener = opener
        self.say = say
        self.view_for = view_for
        self.started = started
        self.loaded = loaded
        self._kept: HandOver | None = None

    def keep(self, hand_over: HandOver | None) -> None:
        """Open the series shown while it arrived at the image then on screen."""
        self._kept = hand_over

    def show(self, index: int, state: SeriesState | None) -> None:
        """Show what the desk has open at a timepoint: its series, or why none."""
        view = self.view_for(index)
        subject = self.desk.subject
        if state is None or subject is None:
            view.clear()
            return
        if state.failure:
            view.show_failure(state.failure)
            self.say(f"{self.label(index)}: {state.failure}", 10000)
            return
        if not view.shows(subject.subject_id, index, state.series):
            self._load(view, index, state.series)

    def _load(self, view: TimepointView, index: int, info: SeriesInfo) -> None:
        subject_id = "" if self.desk.subject is None else self.desk.subject.subject_id
        uid = info.series_instance_uid
        kept = kept_slice(info, self._kept)  # the image looked at while it arrived
        if kept is not None:
            self._kept = None
        view.load(
            index,
            info,
            self.caption(index, info),
            on_loaded=self._on_loaded,
            on_error=lambda error: self._on_failed(index, uid, error),
            on_progress=self._on_progress,
            first=self.opener.take_first_slice(index, info),
            subject_id=subject_id,
            slice_index=kept,
        )
        if view.is_loading():  # not refused at once
            self.parts.show_busy(True, indefinite=False)
        self.started()

    def _on_failed(self, index: int, series_uid: str, error: BaseException) -> None:
        if not isinstance(error, MrecistError | OSError | ValueError):
            report_error(self.parent, "Load series", error)
        self._hide_progress_when_idle()
        self.desk.series_failed(index, series_uid, str(error) or type(error).__name__)

    def _on_progress(self, fraction: float) -> None:
        self.parts.progress.setValue(int(fraction * 100))

    def _on_loaded(self, view: TimepointView) -> None:
        self._hide_progress_when_idle()
        self.loaded(view)
        self.say(f"{self.label(view.timepoint_index)} loaded", 3000)

    def _hide_progress_when_idle(self) -> None:
        if not any(v.is_loading() for v in self.parts.views):
            self.parts.show_busy(False)

    def cancel(self) -> None:
        """Stop scanning or loading (what is shown so far stays)."""
        self.opener.cancel()
        for view in self.parts.views:
            view.cancel()
        self.parts.show_busy(False)
        self.say("Loading cancelled", 5000)

    def caption(self, index: int, info: SeriesInfo) -> str:
        """Return a pane's caption: subject, timepoint, day, series and its warnings."""
        timepoint = self.desk.timepoint_entry(index)
        label = timepoint.label if timepoint is not None else str(index)
        day = day_text(timepoint.study_day) if timepoint is not None else ""
        subject = self.desk.subject.subject_id if self.desk.subject is not None else ""
        # the series' warnings stay in sight while reading it; the load report has all
        warnings = [f"\u26a0 {warning}" for warning in info.warnings]
        return "\n".join(
            [f"{subject}   {label}   {day}", info.series_description, *warnings]
        )

    def label(self, index: int | None) -> str:
        """Return a timepoint's label ("" for none)."""
        timepoint = None if index is None else self.desk.timepoint_entry(index)
        return "" if timepoint is None else str(timepoint.label)
