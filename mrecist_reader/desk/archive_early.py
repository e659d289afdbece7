"""The first series of a retrieval opens before the rest has arrived (Qt-free).

A retrieval from the archive (:meth:`mrecist_reader.desk.archive_browser.ArchiveBrowser.
retrieve`) brings series one after another. As soon as the series the window would open
first has arrived entirely, its folder is opened for reading while the other series
are still arriving; the whole folder follows at the end. (Before that, from its first
image, the series is shown as it arrives, for looking only:
:mod:`mrecist_reader.desk.archive_arrival`.)

Which series that is follows :mod:`mrecist_reader.desk.first_image`: the worklist of the
complete series so far, its first subject's first timepoint's preferred series (the
arterial one, else the first), when it belongs to the first study retrieved (the
earliest timepoint chosen: the search results are sorted by subject and date). A series
that is not arterial is opened early only once every series of that study has arrived
(an arterial series of the study may still be coming). A series with images missing is
never opened early, and nothing is opened early at the very end of the retrieval.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mrecist_reader.archive.pull import Progress
from mrecist_reader.archive.records import SeriesRecord
from mrecist_reader.archive.store import LocalStore
from mrecist_reader.desk.first_image import first_series, worklist_so_far
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import Phase, SeriesInfo


def first_to_open(
    complete: Sequence[SeriesInfo], *, first_study: str, first_study_done: bool
) -> SeriesInfo | None:
    """Return the series to open before the retrieval ends, or ``None`` to wait.

    ``complete``: the series that arrived entirely so far; ``first_study``: the Study
    Instance UID retrieved first; ``first_study_done``: whether all its series arrived.
    """
    chosen = first_series(worklist_so_far(complete))
    if chosen is None or chosen.study_instance_uid != first_study:
        return None
    return chosen if chosen.phase is Phase.ARTERIAL or first_study_done else None


@dataclass
class EarlyOpening:
    """Follows a retrieval series by series and says once which folder to open early.

    Call :meth:`progress` from the retrieval's progress callback (it is one:
    :meth:`watch`); ``open_folder`` is called (in the retrieval's thread) with the
    folder of the first series once it can be shown, and at most once.
    """

    store: LocalStore
    open_folder: Callable[[Path], None]
    opened: Path | None = None
    last_pull: bool = False
    """Set before the retrieval's last pull: nothing opens early at its very end."""
    _current: SeriesRecord | None = None
    _done_before: int = 0
    _first_study: str = ""
    _first_study_done: bool = False
    _complete: list[SeriesInfo] = field(default_factory=list)

    def watch(self, progress: Progress | None = None) -> Progress:
        """Return a progress callback that also calls ``progress``."""

        def both(done: int, total: int, series: SeriesRecord) -> None:
            if progress is not None:
                progress(done, total, series)
            self.progress(done, total, series)

        return both

    def progress(self, done: int, total: int, series: SeriesRecord) -> None:
        """Note a series starting (the one before it has ended) or a pull's end.

        A pull calls its progress before each series and once more at its end with
        ``done == total`` and its last series again.
        """
        if self.opened is not None:
            return
        ended = self._current
        if ended is not None:
            if done == total and ended == series:  # the pull's end
                self._current = None
                self._ended(
                    ended,
                    done - self._done_before,
                    study_done=True,
                    may_open=not self.last_pull,
                )
                return
            self._ended(
                ended,
                done - self._done_before,
                study_done=series.study_uid != ended.study_uid,
                may_open=True,
            )
        if not self._first_study:
            self._first_study = series.study_uid
        self._current, self._done_before = series, done

    def _ended(
        self, series: SeriesRecord, announced: int, *, study_done: bool, may_open: bool
    ) -> None:
        present = self.store.present(series.study_uid, series.series_uid)
        folder = self.store.series_dir(series.study_uid, series.series_uid)
        if announced > 0 and len(present) >= announced:
            self._complete.extend(scan(folder, use_index=False).series)
        if study_done and series.study_uid == self._first_study:
            self._first_study_done = True
        if not may_open:
            return
        chosen = first_to_open(
            self._complete,
            first_study=self._first_study,
            first_study_done=self._first_study_done,
        )
        if chosen is not None and chosen.files:
            self.opened = chosen.files[0].parent
            self.open_folder(self.opened)
