"""Open from archive: search the configured archive, pull studies, open what arrived.

The Qt-free model of File > Open from archive... (``ui/archive_dialog.py``): a search
by trial subject, timepoint, modality and (local reads only) study date range; the chosen
studies are pulled (:func:`mrecist_reader.archive.pull.pull`) into the cache folder,
one folder per subject, so a pull interrupted half way resumes there without
duplicating files; that folder is then opened as any folder is. A blinded read's
results show no study date (the records hold no name, patient ID or accession
number at all).
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import platformdirs

from mrecist_reader.archive.config import ArchiveConfig
from mrecist_reader.archive.pull import Archive, Progress, PullReport, pull
from mrecist_reader.archive.records import StudyQuery, StudyRecord
from mrecist_reader.archive.store import LocalStore
from mrecist_reader.desk.archive_arrival import ArrivalWatch, Arriving, arterial_first
from mrecist_reader.desk.archive_early import EarlyOpening
from mrecist_reader.settings import APP_NAME

COLUMNS = ("Subject", "Timepoint", "Study date", "Modalities", "Study UID")
BLINDED_COLUMNS = ("Subject", "Timepoint", "Modalities", "Study UID")


def default_cache() -> Path:
    """Return the folder images pulled from the archive are kept in."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False) / "archive"


@dataclass(frozen=True, slots=True)
class Pulled:
    """What a retrieval brought: the folder to open and the report in words."""

    folder: Path
    report: PullReport

    def summary(self) -> str:
        """Say what arrived (and what did not) in a line or a few."""
        lines = [
            f"{self.report.present} of {self.report.announced} images from the archive"
        ]
        for outcome in self.report.series:
            if outcome.missing or outcome.error:
                lines.append(
                    f"series {outcome.series.series_uid}: {len(outcome.missing)} "
                    f"image(s) did not arrive{f' ({outcome.error})' if outcome.error else ''}"
                )
        return "\n".join(lines)


class ArchiveBrowser:
    """Search an archive and pull chosen studies into the cache (no Qt)."""

    def __init__(
        self, archive: Archive, cache: Path | None = None, *, blinded: bool
    ) -> None:
        self.archive = archive
        self.cache = cache or default_cache()
        self.blinded = blinded
        self.found: tuple[StudyRecord, ...] = ()

    @classmethod
    def of(
        cls, config: ArchiveConfig, cache: Path | None = None, *, blinded: bool
    ) -> "ArchiveBrowser":
        """Return a browser of the configured archive (no connection made yet)."""
        return cls(config.connect(), cache, blinded=blinded)

    @property
    def columns(self) -> tuple[str, ...]:
        """Return the result table's column titles (no date column when blinded)."""
        return BLINDED_COLUMNS if self.blinded else COLUMNS

    def search(
        self,
        subject_id: str = "",
        modality: str = "",
        dates: tuple[date | None, date | None] | None = None,
        timepoint: str = "",
    ) -> tuple[tuple[str, ...], ...]:
        """Find the studies; return the result table's rows (see :attr:`columns`).

        ``dates`` (see :func:`study_dates`) is refused in a blinded read: it must
        not see dates, so it cannot search by them either.
        """
        if self.blinded and dates is not None and dates != (None, None):
            raise ValueError("a blinded read cannot search by study date")
        query = StudyQuery(
            subject_id=subject_id.strip() or None,
            modality=modality.strip() or None,
            dates=dates,
            timepoint=timepoint.strip() or None,
        )
        found = self.archive.find_studies(query)
        unique = {record.study_uid: record for record in found}
        self.found = tuple(
            sorted(
                unique.values(),
                key=lambda r: (r.subject_id, r.study_date, r.timepoint),
            )
        )
        return tuple(self._row(record) for record in self.found)

    def _row(self, record: StudyRecord) -> tuple[str, ...]:
        modalities = "/".join(record.modalities)
        if self.blinded:
            return (record.subject_id, record.timepoint, modalities, record.study_uid)
        return (
            record.subject_id,
            record.timepoint,
            _iso_date(record.study_date),
            modalities,
            record.study_uid,
        )

    def folder_for(self, rows: Sequence[int]) -> Path:
        """Return the cache folder the chosen studies go to (one per subject)."""
        subjects = {self.found[i].subject_id for i in rows}
        name = subjects.pop() if len(subjects) == 1 else "several_subjects"
        return self.folder_for_subject(name)

    def folder_for_subject(self, subject_id: str) -> Path:
        """Return the cache folder one subject's studies are pulled into."""
        return self.cache / (
            re.sub(r"[^A-Za-z0-9_.-]", "_", subject_id) or "no_subject"
        )

    def retrieve(
        self,
        rows: Sequence[int],
        *,
        progress: Progress | None = None,
        is_cancelled: Callable[[], bool] | None = None,
        on_image: Callable[[Path], None] | None = None,
        on_first_series: Callable[[Path], None] | None = None,
        on_arriving: Callable[[Arriving], None] | None = None,
    ) -> Pulled:
        """Pull the studies of these result rows; what is already here is kept.

        Each study's series come arterial first (as their descriptions read,
        :func:`~mrecist_reader.desk.archive_arrival.arterial_first`). ``on_image``
        is told each file as soon as it is written (in the retrieval's thread);
        ``on_arriving`` the series to show while it is still arriving, after each of
        its images (:mod:`mrecist_reader.desk.archive_arrival`), until the first
        series opens; ``on_first_series`` is called (in this thread, at most once)
        with the folder of the series to show first as soon as it has arrived, while
        the rest is still coming (:mod:`mrecist_reader.desk.archive_early`).
        """
        if not rows:
            raise ValueError("choose at least one study to retrieve")
        folder = self.folder_for(rows)
        store = LocalStore(folder, on_write=on_image)  # pull calls it before on_image
        watch = None
        if on_arriving is not None:
            watch = ArrivalWatch(
                store,
                on_arriving,
                blinded=self.blinded,
                studies={s.study_uid: (s.subject_id, s.timepoint) for s in self.found},
            )
        early = None
        if on_first_series is not None:

            def first_series(opened: Path) -> None:
                if watch is not None:
                    watch.stopped = True  # the full series takes the preview's place
                on_first_series(opened)

            early = EarlyOpening(store, first_series)
        reports = []
        for n, i in enumerate(rows):
            if early is not None:
                early.last_pull = n == len(rows) - 1
            reports.append(
                pull(
                    self.archive,
                    StudyQuery(study_uid=self.found[i].study_uid),
                    store,
                    progress=progress if early is None else early.watch(progress),
                    is_cancelled=is_cancelled,
                    on_image=None if watch is None else watch.image,
                    on_plan=None if watch is None else watch.plan,
                    order=arterial_first,
                )
            )
        report = PullReport(
            tuple(s for r in reports for s in r.studies),
            tuple(o for r in reports for o in r.series),
        )
        return Pulled(folder, report)


def study_dates(first: str, last: str) -> tuple[date | None, date | None] | None:
    """Return the study date range typed as ``YYYY-MM-DD`` (either end may be empty).

    ``None`` when both are empty; a malformed date, or a range that ends before it
    starts, is refused with a message naming the field.
    """
    start = _typed_date("study date from", first)
    end = _typed_date("study date to", last)
    if start is None and end is None:
        return None
    if start is not None and end is not None and end < start:
        raise ValueError(
            f"study date to ({end.isoformat()}) is before "
            f"study date from ({start.isoformat()})"
        )
    return (start, end)


def _typed_date(field: str, text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{field}: {text!r} is not a date written as YYYY-MM-DD"
        ) from None


def _iso_date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 else text
