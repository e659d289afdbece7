"""The reading desk: the open subject, timepoint and series, the selection, a proposal.

:class:`ReadingDesk` holds *where the reader is*; the
:class:`~mrecist_reader.session.ReadSession` it opens holds *the read*. Both are plain
Python with psygnal signals; the window connects widgets to them and decides nothing.

A caliper reaches the desk as a :class:`DrawnCaliper`: patient millimetres plus the
image (SOP Instance UID) and series it was drawn on. It is recorded only when that
image belongs to the series the worklist has open for that subject and timepoint, and
that series loaded (issue 14 item 1: a caliper is never saved against an image that was
not on screen).
"""

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from psygnal import Signal

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import (
    Caliper,
    LesionStatus,
    LesionType,
    MeasurementEvidence,
    Method,
    NewLesionStatus,
    Organ,
    Read,
    ReadKey,
    ReadStatus,
    ReadType,
    Timepoint,
)
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.pseudonym import LEGACY_PSEUDONYM
from mrecist_reader.core.units import Tenths, from_mm
from mrecist_reader.desk.blinding import (
    blinded_description,
    blinded_subject_id,
    blinded_warnings,
    without_paths,
)
from mrecist_reader.desk.comparison import Comparison, comparison_timepoint
from mrecist_reader.desk.intent import Intent, caliper_intent
from mrecist_reader.desk.worklist import Worklist
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry, TimepointEntry
from mrecist_reader.session import (
    READ_ONLY_TAMPERED,
    READ_ONLY_VERIFYING,
    CaliperMark,
    OpeningCheck,
    ReadRepository,
    ReadSession,
    check_on_opening,
    known_head_path,
    open_database,
    remember_audit_head,
    stored_reads,
    stored_subject_id,
)
from mrecist_reader.storage.audit import Actor, current_os_user

if TYPE_CHECKING:
    from mrecist_reader.desk.export import ExportResult
    from mrecist_reader.imaging.measure.model import ViableMeasurement

logger = logging.getLogger(__name__)

LESION_ORDER = (LesionType.TARGET, LesionType.NON_TARGET, LesionType.NEW)
"""The order lesions are listed and stepped through (the lesion table's rows)."""


class WrongImage(MrecistError):
    """A caliper was drawn on an image other than the open series of its timepoint."""


@dataclass(frozen=True, slots=True)
class ReaderContext:
    """Who reads, with which rules, in which database (passed down from start-up).

    ``zip_cache_dir``, ``zip_cache_mb`` and ``zip_cache_days`` are the settings' zip
    cache (where scanned archives are unpacked, its size and age limits; ``None``: the
    scanner's defaults). ``data_dir`` is the user's data folder, where the last audit
    head seen of each database is kept (``None``: none kept).
    """

    reader_id: str
    read_type: ReadType
    profile: ProtocolProfile
    db_url: str
    blinded_export: bool = False
    zip_cache_dir: Path | None = None
    zip_cache_mb: int | None = None
    zip_cache_days: int | None = None
    data_dir: Path | None = None

    @property
    def is_blinded(self) -> bool:
        """Return whether the read is blinded (central): no identity, no paths shown."""
        return self.read_type is ReadType.CENTRAL


@dataclass(frozen=True, slots=True)
class DrawnCaliper:
    """A caliper as the reader drew it, and on which image.

    Attributes
    ----------
    caliper
        End points in patient millimetres.
    subject_id, timepoint_index
        The subject and timepoint the viewer showed.
    series_instance_uid, sop_instance_uid
        The series shown and the image the caliper was drawn on.
    method
        How it was drawn (manual, semi-automatic...).
    evidence
        What the click that proposed it found besides (whole-lesion diameter,
        perpendicular, checks); ``None`` for a caliper the reader drew or edited.

    """

    caliper: Caliper
    subject_id: str
    timepoint_index: int
    series_instance_uid: str
    sop_instance_uid: str
    method: Method = Method.MANUAL
    evidence: MeasurementEvidence | None = None

    def mark(self) -> CaliperMark:
        """Return the caliper with its image, as the session records it."""
        return CaliperMark(
            self.caliper,
            self.series_instance_uid,
            self.sop_instance_uid,
            self.method,
            self.evidence,
        )


Outline = tuple[tuple[tuple[float, float, float], ...], ...]
"""Closed polygons on one slice, each a tuple of (x, y, z) patient-mm points."""


@dataclass(frozen=True, slots=True)
class Proposal:
    """A semi-automatic caliper waiting for the reader's acceptance.

    Attributes
    ----------
    drawn
        The proposed caliper (patient mm) and the image it lies on.
    edited
        Whether the reader moved its ends.
    viable_outline_mm, necrotic_outline_mm
        What the measure segmented on the caliper's slice: the viable (enhancing)
        region and the necrotic part left out, as closed polygons in patient mm
        (drawn before Enter so that a leak into liver shows; empty when unknown).
    diameter_mm, whole_diameter_mm, viable_perpendicular_mm
        The proposed viable diameter, the whole lesion's (viable plus necrotic) and
        the viable diameter's perpendicular, mm (NaN when unknown).
    warnings
        What the reader should check, in words ("touches a vessel: check the
        outline", low contrast, thick slices).

    """

    drawn: DrawnCaliper
    edited: bool = False
    viable_outline_mm: Outline = ()
    necrotic_outline_mm: Outline = ()
    diameter_mm: float = math.nan
    whole_diameter_mm: float = math.nan
    viable_perpendicular_mm: float = math.nan
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_measurement(
        cls, drawn: DrawnCaliper, found: "ViableMeasurement"
    ) -> "Proposal":
        """Return the proposal of a semi-automatic measurement drawn as ``drawn``."""
        return cls(
            drawn,
            viable_outline_mm=found.viable_outline_mm,
            necrotic_outline_mm=found.necrotic_outline_mm,
            diameter_mm=found.diameter_mm,
            whole_diameter_mm=found.whole_diameter_mm,
            viable_perpendicular_mm=found.viable_perpendicular_mm,
            warnings=found.warnings,
        )

    def evidence(self) -> MeasurementEvidence | None:
        """Return what is kept with the accepted caliper besides its diameter.

        ``None`` once the reader moved its ends: the whole-lesion diameter and the
        perpendicular belong to the proposed caliper, not to the edited one.
        """
        if self.edited:
            return None
        found = MeasurementEvidence(
            whole_diameter=_tenths(self.whole_diameter_mm),
            perpendicular=_tenths(self.viable_perpendicular_mm),
            checks=self.warnings,
        )
        return None if found == MeasurementEvidence() else found


def _tenths(value_mm: float) -> Tenths | None:
    return from_mm(value_mm) if math.isfinite(value_mm) and value_mm >= 0 else None


@dataclass(frozen=True, slots=True)
class SeriesState:
    """The series open at a timepoint; ``failure`` says why it shows no image."""

    series: SeriesInfo
    failure: str = ""


class ReadingDesk:
    """Where the reader is: worklist, subject, timepoint, series, selection, proposal.

    Signals
    -------
    worklist_changed(Worklist)
    subject_changed(SubjectEntry | None)
        Another subject is open (its read opens with :meth:`open_read`).
    session_changed(ReadSession | None)
    timepoint_changed(int)
        The timepoint being read (the comparison timepoint stays beside it).
    comparison_changed(int)
        The timepoint shown beside the one being read changed (the reader chose
        baseline, previous or nadir: :meth:`set_comparison`).
    series_changed(int, SeriesState | None)
        The series the viewer must show for a timepoint (``None``: nothing; a state
        with a ``failure``: no image, and why).
    selection_changed(str | None)
    proposal_changed(Proposal | None)
    markers_changed()
        A position marker was placed (see :meth:`mark_non_target`).
    integrity_failed(tuple[str, ...])
        The reads database, just opened, fails verification (every problem, in
        words): it is open read-only (:attr:`is_read_only`).
    profiles_unknown(str)
        Reads of the database, just verified, name a protocol profile that is
        neither shipped nor stored: what to tell the reader (:func:`unknown_profiles_text`).
    waiting_for_writer(bool)
        A save waits for another program's write to the database (an import): the
        reader's change is kept and saved once it ends (``True``), or the wait is
        over (``False``) (issue 21, item 17).

    """

    worklist_changed = Signal(object)
    subject_changed = Signal(object)
    session_changed = Signal(object)
    timepoint_changed = Signal(int)
    comparison_changed = Signal(int)
    series_changed = Signal(int, object)
    selection_changed = Signal(object)
    proposal_changed = Signal(object)
    markers_changed = Signal()
    integrity_failed = Signal(object)
    profiles_unknown = Signal(str)
    waiting_for_writer = Signal(bool)

    def __init__(
        self,
        context: ReaderContext,
        *,
        open_repository: Callable[[str], ReadRepository] = open_database,
    ) -> None:
        self.context = context
        self._open_repository = open_repository
        self._repository: ReadRepository | None = None
        self.worklist = Worklist()
        self.subject: SubjectEntry | None = None
        self.session: ReadSession | None = None
        self.timepoint_index = 0
        self.comparison = Comparison.BASELINE
        self.comparison_index = 0
        """The timepoint shown beside the one being read (itself at baseline)."""
        self.selected_lesion: str | None = None
        self.proposal: Proposal | None = None
        self._chosen: dict[tuple[str, int], str] = {}
        self._open: dict[int, SeriesState] = {}
        self._markers: dict[str, DrawnCaliper] = {}
        self._extractions: list[Path] = []
        self.integrity_problems: tuple[str, ...] = ()
        """Why the open reads database fails verification (empty: it verifies)."""
        self.profile_problems: tuple[str, ...] = ()
        """Reads whose protocol profile is neither shipped nor stored (in words)."""
        self.is_verifying = False
        """The database is being verified off the GUI thread (:meth:`start_verification`):
        until it reports, reads open read-only."""
        self._opening = threading.RLock()
        self._thread = threading.get_ident()

    # ------------------------------------------------------------------ database
    def repository(self) -> ReadRepository:
        """Return the reads database, opened on first use (after the first image).

        It is verified on opening (issue 21 item 1): one changed outside the
        application opens read-only and :attr:`integrity_failed` says why. The
        window verifies it off the GUI thread instead (:meth:`start_verification`).
        Safe to call from a worker thread (it is opened once).
        """
        with self._opening:
            if self._repository is None:
                repository = self._open_repository(self.context.db_url)
                repository.on_wait = self._on_wait
                self._repository = repository
                if not self.is_verifying:
                    self.finish_verification(self._check(repository))
        return self._repository

    def _on_wait(self, waiting: bool) -> None:
        """Say that a save waits for another writer, on the desk's own thread only.

        The verification worker's waits are not the reader's, and the window may be
        painted from its own thread only.
        """
        if threading.get_ident() == self._thread:
            self.waiting_for_writer.emit(waiting)

    @property
    def is_read_only(self) -> bool:
        """Return whether the reads database failed verification (read, export only)."""
        return bool(self.integrity_problems)

    def _head_path(self) -> Path | None:
        folder = self.context.data_dir
        return None if folder is None else known_head_path(folder, self.context.db_url)

    def _check(self, repository: ReadRepository) -> OpeningCheck:
        """Verify against the last audit head seen; if intact, record and remember."""
        actor = Actor(self.context.reader_id or "(application)", current_os_user())
        return check_on_opening(repository, head_path=self._head_path(), actor=actor)

    def start_verification(self) -> Callable[[], OpeningCheck]:
        """Return the verification on opening, for the window to run in a worker.

        Verifying recomputes every read's content hash: on a large database it takes
        long enough to freeze a window. From now until :meth:`finish_verification`
        (or :meth:`verification_failed`) receives its result, reads open read-only
        (:attr:`is_verifying`); a read opened meanwhile is opened again, writable,
        when the database verifies.
        """
        self.is_verifying = True

        def verify() -> OpeningCheck:
            return self._check(self.repository())

        return verify

    def finish_verification(self, check: OpeningCheck) -> None:
        """Take the verification's result (on the GUI thread).

        A database that fails opens read-only and :attr:`integrity_failed` says why;
        one that verifies makes the read opened meanwhile writable.
        """
        self.is_verifying = False
        self.integrity_problems = check.problems
        self.profile_problems = check.unknown_profiles
        if check.problems:
            if self.session is not None:  # opened while verifying: say why now
                self.session.read_only_reason = READ_ONLY_TAMPERED
            self.integrity_failed.emit(self.integrity_problems)
        elif self.session is not None and self.session.read_only:
            self.open_read()  # opened while verifying: now writable
        if self.profile_problems:
            self.profiles_unknown.emit(unknown_profiles_text(self.profile_problems))

    def verification_failed(self, error: BaseException) -> None:
        """Take a verification that could not run: the database stays read-only."""
        logger.warning("reads database could not be verified: %s", error)
        self.finish_verification(
            OpeningCheck((f"the reads database could not be verified: {error}",))
        )

    def close(self) -> None:
        """Close the reads database (remembering its audit head when it verified).

        A blinded read removes the zip extractions it scanned
        (:meth:`remove_extractions`).
        """
        self.remove_extractions()
        if self._repository is not None:
            path = self._head_path()
            if path is not None and not (self.is_read_only or self.is_verifying):
                remember_audit_head(self._repository, path)
            self._repository.close()
            self._repository = None

    # ------------------------------------------------------------------ zip cache
    def keep_extraction(self, folder: Path | None) -> None:
        """Note where a scanned zip archive was extracted (removed on closing)."""
        if folder is not None and folder not in self._extractions:
            self._extractions.append(folder)

    def remove_extractions(self) -> None:
        """Remove the noted zip extractions in a blinded read (issue 21 item 9).

        The extracted files are identifiable copies of the images; an unblinded
        read leaves them to the cache's size and age limits.
        """
        from mrecist_reader.imaging.zip_cache import remove_extraction

        folders, self._extractions = self._extractions, []
        if not self.context.is_blinded:
            return
        for folder in folders:
            try:
                remove_extraction(folder)
            except (OSError, ValueError) as error:
                logger.warning(
                    "zip extraction not removed: %s", without_paths(str(error))
                )

    # ------------------------------------------------------------------ worklist
    def set_worklist(self, subjects: tuple[SubjectEntry, ...]) -> None:
        """Hold a new worklist and open its first subject (its read opens later).

        Each subject and series is named as :meth:`shown_subject_id` says.
        """
        self.worklist = Worklist(tuple(self._shown_subject(s) for s in subjects))
        self._chosen.clear()
        self.worklist_changed.emit(self.worklist)
        if self.worklist.subjects:
            self.open_subject(self.worklist.subjects[0].subject_id)
        else:
            self._close_subject()

    def grow_worklist(self, subjects: tuple[SubjectEntry, ...]) -> None:
        """Hold a worklist that grew while a scan went on, leaving the reader in place.

        The open subject stays open at its timepoint, with its new entry (series and
        timepoints found since); timepoints found for it are added to its open read
        (audited, as :meth:`open_read` adds them). Without an open subject, or when it
        is no longer in the worklist, this is :meth:`set_worklist`.
        """
        shown = self.subject
        grown = Worklist(tuple(self._shown_subject(s) for s in subjects))
        found = None if shown is None else _subject_in(grown, shown.subject_id)
        if found is None:
            self.set_worklist(subjects)
            return
        self.worklist = grown
        self.worklist_changed.emit(self.worklist)
        self.subject = found
        session = self.session
        if session is not None and not session.read_only:
            _add_missing_timepoints(session, found)

    def shown_subject_id(self, subject_id: str) -> str:
        """Return the name a subject of the scan is shown, stored and exported by.

        In a blinded read a subject named after its folder gets a pseudonym
        (:func:`~mrecist_reader.desk.blinding.blinded_subject_id`). The scanner's
        pseudonym (``patient-`` + 8 hex digits of an unsalted hash: reversible,
        issue 21 item 6) becomes the database's keyed form, so that the screen, the
        stored read and the export name the subject alike. The database is opened
        only when a subject needs it.
        """
        name = blinded_subject_id(subject_id) if self.context.is_blinded else subject_id
        if LEGACY_PSEUDONYM.fullmatch(name):
            name = stored_subject_id(self.repository(), name)
        return name

    def shown_series(self, series: SeriesInfo) -> SeriesInfo:
        """Return a series of the scan as the reader sees it (worklist, load report).

        Its subject as :meth:`shown_subject_id` names it; in a blinded read its
        warnings do not point at the folder
        (:func:`~mrecist_reader.desk.blinding.blinded_warnings`).
        """
        series = blinded_description(
            series, self.context.profile, blinded=self.context.is_blinded
        )
        name = self.shown_subject_id(series.subject_id)
        warnings = (
            blinded_warnings(series.warnings)
            if self.context.is_blinded
            else series.warnings
        )
        if name == series.subject_id and warnings == series.warnings:
            return series
        return replace(series, subject_id=name, warnings=warnings)

    def _shown_subject(self, subject: SubjectEntry) -> SubjectEntry:
        timepoints = tuple(
            replace(
                timepoint,
                series=tuple(self.shown_series(s) for s in timepoint.series),
                localizers=tuple(self.shown_series(s) for s in timepoint.localizers),
            )
            for timepoint in subject.timepoints
        )
        name = self.shown_subject_id(subject.subject_id)
        return replace(subject, subject_id=name, timepoints=timepoints)

    def _close_subject(self) -> None:
        """Show nothing: no subject, no read, no series (an empty worklist)."""
        self._set_session(None)
        self.subject = None
        self.select_lesion(None)
        self.reject_proposal()
        for index in list(self._open):
            del self._open[index]
            self.series_changed.emit(index, None)
        self.subject_changed.emit(None)

    def open_subject(self, subject_id: str, timepoint_index: int = 0) -> bool:
        """Open a subject at a timepoint; return whether it was another subject.

        The read is not opened here: :meth:`open_read` opens it once the first image
        is on screen. Until then nothing can be recorded.
        """
        subject = self.worklist.subject(subject_id)
        if self.subject is not None and self.subject.subject_id == subject_id:
            self.subject = subject  # the same subject, scanned again
            self.go_to_timepoint(timepoint_index)
            return False
        self._set_session(None)
        self.subject = subject
        self._open.clear()
        self.select_lesion(None)
        self.subject_changed.emit(subject)
        known = timepoint_index in self.timepoint_indices()
        self.go_to_timepoint(timepoint_index if known else 0, force=True)
        return True

    def open_read(self) -> ReadSession:
        """Open (or create) this reader's read of the open subject.

        Timepoints listed in the worklist but not in the read are added. Unless the
        reader already moved on, the first timepoint not yet signed is opened.
        """
        subject = self._require_subject()
        key = ReadKey(
            study_id=subject.study_id or self.context.profile.name,
            subject_id=subject.subject_id,
            reader_id=self.context.reader_id,
            read_type=self.context.read_type,
        )
        repository = self.repository()
        read_only = self.is_read_only or self.is_verifying
        session = ReadSession.open(
            repository,
            key,
            site_id=subject.site_id,
            profile=self.context.profile,
            read_only=read_only,
        )
        if self.is_verifying and not self.is_read_only:
            session.read_only_reason = READ_ONLY_VERIFYING
        if read_only:  # nothing is stored: the worklist's timepoints are only shown
            session.show_unstored_timepoints(_worklist_timepoints(subject))
        else:
            _add_missing_timepoints(session, subject)
        self._set_session(session)
        index = self.timepoint_index or _first_draft_index(session.read)
        self.go_to_timepoint(index, force=True)
        return session

    def _set_session(self, session: ReadSession | None) -> None:
        if self.session is session:
            return
        self._markers.clear()  # they belong to the read that was open
        self.session = session
        self.session_changed.emit(session)

    # ------------------------------------------------------------------ timepoints
    def timepoint_indices(self) -> list[int]:
        """Return the indices of the open subject's timepoints (baseline first)."""
        return (
            [] if self.subject is None else [t.index for t in self.subject.timepoints]
        )

    def timepoint_entry(self, index: int | None = None) -> TimepointEntry | None:
        """Return a worklist timepoint of the open subject (default: the current one)."""
        if self.subject is None:
            return None
        wanted = self.timepoint_index if index is None else index
        return next((t for t in self.subject.timepoints if t.index == wanted), None)

    def go_to_timepoint(self, index: int, *, force: bool = False) -> None:
        """Read timepoint ``index`` (the comparison timepoint is shown beside it)."""
        if index not in self.timepoint_indices():
            return
        if index == self.timepoint_index and not force:
            return
        self.reject_proposal()
        before = self._panes()
        self.timepoint_index = index
        self.comparison_index = self._comparison_for(index)
        after = self._panes()
        for shown in [k for k in self._open if after.get(k) != before.get(k)]:
            del self._open[shown]  # its pane shows another timepoint (or nothing)
        self.timepoint_changed.emit(index)
        self._open_timepoint_series(self.comparison_index)
        if index != self.comparison_index:
            self._open_timepoint_series(index)
        self.select_default_lesion()

    def _panes(self) -> dict[int, str]:
        """Return the pane ("comparison" or "current") each shown timepoint is in."""
        return {
            self.timepoint_index: "current",
            self.comparison_index: "comparison",  # the same at baseline: one pane
        }

    def _comparison_for(self, index: int) -> int:
        assessment = None if self.session is None else self.session.assessment
        return comparison_timepoint(
            self.comparison, index, self.timepoint_indices(), assessment
        )

    def set_comparison(self, choice: Comparison) -> None:
        """Show the baseline, previous or nadir timepoint beside the one being read.

        The nadir is taken from the read's assessment of its complete timepoints
        (:func:`~mrecist_reader.desk.comparison.comparison_timepoint`) when the choice
        or the timepoint being read changes.
        """
        self.comparison = Comparison(choice)
        wanted = self._comparison_for(self.timepoint_index)
        if wanted == self.comparison_index:
            return
        if self.comparison_index != self.timepoint_index:
            self._open.pop(self.comparison_index, None)
        self.comparison_index = wanted
        self.comparison_changed.emit(wanted)
        self._open_timepoint_series(wanted)

    def next_timepoint(self) -> None:
        """Read the next timepoint of the subject."""
        self._step_timepoint(1)

    def previous_timepoint(self) -> None:
        """Read the previous timepoint of the subject."""
        self._step_timepoint(-1)

    def _step_timepoint(self, step: int) -> None:
        indices = self.timepoint_indices()
        if self.timepoint_index not in indices:
            return
        position = indices.index(self.timepoint_index) + step
        if 0 <= position < len(indices):
            self.go_to_timepoint(indices[position])

    # ------------------------------------------------------------------ series
    def series_for(self, index: int) -> SeriesInfo | None:
        """Return the series a timepoint of the open subject shows (chosen or default)."""
        if self.subject is None:
            return None
        subject_id = self.subject.subject_id
        uid = self._chosen.get((subject_id, index))
        if uid is not None:
            return self.worklist.series(subject_id, index, uid)
        return self.worklist.default_series(subject_id, index)

    def open_series(self, index: int) -> SeriesState | None:
        """Return the series open at a timepoint (what its viewer must show)."""
        return self._open.get(index)

    def choose_series(self, subject_id: str, index: int, series_uid: str) -> None:
        """Open a series the reader chose in the worklist (switching subject if needed)."""
        self.worklist.series(subject_id, index, series_uid)  # refuses an unknown one
        self._chosen[(subject_id, index)] = series_uid
        self.open_subject(subject_id, index if index != 0 else self.timepoint_index)
        if index == 0 and self.comparison_index not in (0, self.timepoint_index):
            self.set_comparison(Comparison.BASELINE)  # a baseline series: beside
        elif index not in (self.comparison_index, self.timepoint_index):
            self.go_to_timepoint(index)
        self._open_timepoint_series(index, retry=True)

    def series_failed(self, index: int, series_uid: str, reason: str) -> None:
        """Record that a timepoint's series could not be shown (the viewer is cleared).

        A load that finished for a series no longer open is ignored. A blinded read
        keeps no file path in the reason (it is shown on screen).
        """
        state = self._open.get(index)
        if state is None or state.series.series_instance_uid != series_uid:
            return
        if self.context.is_blinded:
            reason = without_paths(reason)
        failed = replace(state, failure=reason)
        self._open[index] = failed
        logger.info("series %s not shown: %s", series_uid, reason)
        self.series_changed.emit(index, failed)

    def _open_timepoint_series(self, index: int, *, retry: bool = False) -> None:
        """Open the timepoint's series unless open; ``retry`` reloads a failed one."""
        series = self.series_for(index)
        current = self._open.get(index)
        if series is None:
            self._open.pop(index, None)
            self.series_changed.emit(index, None)
            return
        is_open = current is not None and current.series is series
        if is_open and not (retry and current is not None and current.failure):
            return  # already open (a failed one is retried when chosen again)
        state = SeriesState(series)
        self._open[index] = state
        self.series_changed.emit(index, state)

    # ------------------------------------------------------------------ the image check
    def check_image(self, drawn: DrawnCaliper) -> None:
        """Refuse a caliper not drawn on the open series of its subject and timepoint.

        Raises
        ------
        WrongImage
            Naming what was drawn on and what the worklist has open.

        """
        if self.subject is None or drawn.subject_id != self.subject.subject_id:
            open_id = "no subject" if self.subject is None else self.subject.subject_id
            raise WrongImage(
                f"the caliper was drawn on subject {drawn.subject_id or '?'}'s images "
                f"but {open_id} is open; nothing recorded"
            )
        state = self._open.get(drawn.timepoint_index)
        label = self._label(drawn.timepoint_index)
        if state is None or state.series.series_instance_uid != (
            drawn.series_instance_uid
        ):
            raise WrongImage(
                f"the caliper was drawn on a series that is not the one open at "
                f"{label}; nothing recorded"
            )
        if state.failure:
            raise WrongImage(
                f"the series open at {label} could not be shown ({state.failure}); "
                "nothing recorded"
            )
        if not drawn.sop_instance_uid or (
            drawn.sop_instance_uid not in state.series.sop_instance_uids
        ):
            raise WrongImage(
                f"the caliper's image is not an image of the series open at {label}; "
                "nothing recorded"
            )

    def _label(self, index: int) -> str:
        entry = self.timepoint_entry(index)
        return f"timepoint {index}" if entry is None else entry.label

    # ------------------------------------------------------------------ lesions
    def lesion_order(self) -> list[str]:
        """Return the lesion IDs in table order: targets, non-targets, new lesions."""
        if self.session is None:
            return []
        read = self.session.read
        return [
            lesion.lesion_id
            for kind in LESION_ORDER
            for lesion in read.lesions_of_type(kind)
        ]

    def select_lesion(self, lesion_id: str | None) -> None:
        """Select a lesion (``None``: none); an unknown one selects none."""
        if lesion_id is not None and lesion_id not in self.lesion_order():
            lesion_id = None
        if lesion_id == self.selected_lesion:
            return
        self.selected_lesion = lesion_id
        self.selection_changed.emit(lesion_id)

    def keep_selection_valid(self) -> None:
        """Drop the selection of a lesion no longer in the read (after undo, delete)."""
        if self.selected_lesion not in self.lesion_order():
            self.select_lesion(None)

    def select_default_lesion(self) -> None:
        """At a follow-up, select the first target not yet recorded there."""
        if self.session is None or self.timepoint_index == 0:
            return
        read = self.session.read
        for lesion in read.lesions_of_type(LesionType.TARGET):
            if read.observation(lesion.lesion_id, self.timepoint_index) is None:
                self.select_lesion(lesion.lesion_id)
                return

    def select_next_to_measure(self) -> None:
        """After a recording: select the next target to measure here, else nothing.

        With nothing selected, the next caliper elsewhere adds a lesion, and one over a
        recorded lesion asks whether it re-measures it.
        """
        self.select_lesion(None)
        self.select_default_lesion()

    def next_lesion(self) -> None:
        """Select the next lesion (wrapping round)."""
        self._step_lesion(1)

    def previous_lesion(self) -> None:
        """Select the previous lesion (wrapping round)."""
        self._step_lesion(-1)

    def _step_lesion(self, step: int) -> None:
        order = self.lesion_order()
        if not order:
            return
        if self.selected_lesion in order:
            position = (order.index(self.selected_lesion) + step) % len(order)
        else:
            position = 0
        self.select_lesion(order[position])

    # ------------------------------------------------------------------ calipers
    def intent(self, drawn: DrawnCaliper) -> Intent:
        """Return what a drawn caliper means; refuse it before any question.

        Raises
        ------
        WrongImage
            When it was not drawn on the open series (see :meth:`check_image`).
        TimepointSigned
            When its timepoint is signed.

        """
        session = self._require_session()
        self.check_image(drawn)
        session.check_editable(drawn.timepoint_index)
        return caliper_intent(
            session.read, drawn.timepoint_index, self.selected_lesion, drawn.caliper
        )

    def measure(
        self,
        lesion_id: str,
        drawn: DrawnCaliper,
        *,
        status: NewLesionStatus | None = None,
    ) -> Tenths:
        """Record a target's or new lesion's diameter from a caliper (tenths of a mm).

        A new lesion keeps its status at the timepoint, or takes ``status``.
        """
        session = self._require_session()
        self.check_image(drawn)
        value = session.record_measurement(
            lesion_id,
            drawn.timepoint_index,
            drawn.caliper,
            method=drawn.method,
            series_instance_uid=drawn.series_instance_uid,
            sop_instance_uid=drawn.sop_instance_uid,
            status=status,
            evidence=drawn.evidence,
        )
        self.select_next_to_measure()
        return value

    def needs_status(self, lesion_id: str, timepoint_index: int) -> bool:
        """Return whether measuring a lesion there needs its status first.

        A new lesion seen at an earlier follow-up has no status at a later one until
        the reader gives it (present or equivocal): a caliper never decides it.
        """
        session = self._require_session()
        lesion = next(x for x in session.read.lesions if x.lesion_id == lesion_id)
        return lesion.lesion_type is LesionType.NEW and (
            session.read.observation(lesion_id, timepoint_index) is None
        )

    def designate(self, drawn: DrawnCaliper, organ: Organ, location: str) -> str:
        """Make a baseline target from a caliper; return its ID.

        Raises ``RuleViolation`` when the profile refuses it as a target (the reader
        may then record it as a non-target with :meth:`add_non_target`).
        """
        session = self._require_session()
        self.check_image(drawn)
        lesion_id = session.designate_target(
            organ,
            location,
            caliper=drawn.caliper,
            method=drawn.method,
            series_instance_uid=drawn.series_instance_uid,
            sop_instance_uid=drawn.sop_instance_uid,
            evidence=drawn.evidence,
        )
        self.select_next_to_measure()  # a caliper elsewhere designates the next one
        return lesion_id

    def add_non_target(
        self, organ: Organ, location: str, drawn: DrawnCaliper | None = None
    ) -> str:
        """Add a baseline non-target (with the caliper that shows where); return its ID."""
        session = self._require_session()
        if drawn is not None:
            self.check_image(drawn)
        lesion_id = session.add_non_target(
            organ, location, mark=None if drawn is None else drawn.mark()
        )
        self._markers.pop(lesion_id, None)  # of an earlier one with that ID, undone
        self.select_lesion(lesion_id)
        return lesion_id

    def mark_non_target(self, organ: Organ, location: str, at: DrawnCaliper) -> str:
        """Add a baseline non-target seen where ``at`` points; return its ID.

        A non-target is not measured (data-transfer spec: its diameter is empty), and
        the spec has no column for a position other than a caliper's end points, so
        the point is not recorded in the read: nothing in the database or an export
        looks like a measurement. It is kept here as a marker (:meth:`markers`),
        shown on screen while this read is open; its location text says where it is.
        """
        self.check_image(at)
        self._require_session()
        lesion_id = self.add_non_target(organ, location)
        centre = _midpoint(at.caliper)
        self._markers[lesion_id] = replace(at, caliper=Caliper(centre, centre))
        self.markers_changed.emit()
        return lesion_id

    def markers(self, timepoint_index: int) -> tuple[tuple[str, DrawnCaliper], ...]:
        """Return the position markers (lesion ID, point) of non-targets at a timepoint.

        Each point is a caliper of no length on the image it was placed on; a marker
        whose lesion is no longer in the read (undone, deleted) is not returned.
        """
        known = set(self.lesion_order())
        return tuple(
            (lesion_id, drawn)
            for lesion_id, drawn in self._markers.items()
            if lesion_id in known and drawn.timepoint_index == timepoint_index
        )

    def add_new_lesion(
        self,
        organ: Organ,
        location: str,
        status: NewLesionStatus,
        drawn: DrawnCaliper | None = None,
    ) -> str:
        """Add a new lesion at the current follow-up (measured when drawn); its ID."""
        session = self._require_session()
        index = self.timepoint_index if drawn is None else drawn.timepoint_index
        if drawn is not None:
            self.check_image(drawn)
        lesion_id = session.add_new_lesion(
            organ,
            location,
            index,
            status=status,
            mark=None if drawn is None else drawn.mark(),
        )
        # drawn: measured already; else selected, so that its caliper measures it
        self.select_lesion(None if drawn is not None else lesion_id)
        return lesion_id

    def set_status(
        self, status: LesionStatus | str, *, cytology_confirmed: bool = False
    ) -> str:
        """Record the selected lesion's status at the current timepoint; its ID."""
        session = self._require_session()
        if self.selected_lesion is None:
            raise MrecistError("select a lesion first (L: next lesion)")
        lesion_id = self.selected_lesion
        session.record_status(
            lesion_id,
            self.timepoint_index,
            status,
            cytology_confirmed=cytology_confirmed,
        )
        if self.timepoint_index != 0:
            self.select_default_lesion()
        return lesion_id

    # ------------------------------------------------------------------ sign-off
    def missing(self, index: int | None = None) -> tuple[str, ...]:
        """Return, in words, what keeps a timepoint from being signed (empty: ready).

        The lesions known before it with no status there first, then any other
        problem of the read up to it (default: the current timepoint).
        """
        session = self._require_session()
        wanted = self.timepoint_index if index is None else index
        return tuple(
            dict.fromkeys(problem.message for problem in session.signing_gaps(wanted))
        )

    def earlier_drafts(self, index: int | None = None) -> tuple[str, ...]:
        """Return the draft timepoints before a timepoint (signed together with it)."""
        session = self._require_session()
        return session.earlier_drafts(self.timepoint_index if index is None else index)

    def sign(self, *, with_earlier_drafts: bool = False) -> str:
        """Sign the current timepoint; return its label.

        Raises
        ------
        IncompleteTimepoint
            While a lesion known before it has no status there (nothing is signed).
        EarlierDrafts
            While an earlier timepoint is a draft, unless signed together with it.

        """
        session = self._require_session()
        session.sign_timepoint(
            self.timepoint_index, with_earlier_drafts=with_earlier_drafts
        )
        return self._label(self.timepoint_index)

    # ------------------------------------------------------------------ export
    def reads_to_export(self, *, every_subject: bool = False) -> tuple[Read, ...]:
        """Return the open read, or this reader's reads of every subject in the database."""
        session = self._require_session()
        if not every_subject:
            return (session.read,)
        stored = stored_reads(
            self.repository(), self.context.reader_id, self.context.read_type
        )
        return (session.read, *(r for r in stored if r.key != session.read.key))

    def export(self, folder: Path, *, every_subject: bool = False) -> "ExportResult":
        """Write measurements.csv and responses.csv (see :mod:`~mrecist_reader.desk.export`).

        The open read, or every subject's read by this reader; central reads are
        always blinded, local ones when the settings ask for it.
        """
        from mrecist_reader.desk.export import export_reads
        from mrecist_reader.desk.key_images import worklist_volumes

        return export_reads(
            self.reads_to_export(every_subject=every_subject),
            folder,
            blinded=self.context.blinded_export,
            profile=self.context.profile,
            audit_head=self.repository().audit_head(),
            uids=self.repository(),
            stored_profiles=self.repository().stored_profiles(),
            unverified=self.integrity_problems,
            key_image_volumes=worklist_volumes(
                [
                    series
                    for subject in self.worklist.subjects
                    for timepoint in subject.timepoints
                    for series in timepoint.series
                ]
            ),
        )

    # ------------------------------------------------------------------ proposal
    def propose(self, proposal: DrawnCaliper | Proposal) -> None:
        """Hold a semi-automatic caliper until the reader accepts or rejects it.

        A :class:`Proposal` keeps its outlines, diameters and warnings; it replaces
        any proposal held before.
        """
        if isinstance(proposal, DrawnCaliper):
            proposal = Proposal(proposal)
        self.proposal = proposal
        self.proposal_changed.emit(self.proposal)

    def edit_proposal(self, caliper: Caliper) -> None:
        """Move the proposal's end points (it is then recorded as edited).

        The segmented outlines stay: the reader moved the caliper, not the region.
        """
        if self.proposal is None:
            return
        drawn = replace(self.proposal.drawn, caliper=caliper)
        self.proposal = replace(self.proposal, drawn=drawn, edited=True)
        self.proposal_changed.emit(self.proposal)

    def take_proposal(self) -> DrawnCaliper | None:
        """Return the proposal as a caliper to record and drop it.

        The caliper carries its method and, unless the reader moved its ends, the
        click's evidence (:meth:`Proposal.evidence`).
        """
        proposal = self.proposal
        if proposal is None:
            return None
        self.proposal = None
        self.proposal_changed.emit(None)
        method = (
            Method.SEMI_AUTOMATIC_EDITED if proposal.edited else Method.SEMI_AUTOMATIC
        )
        return replace(proposal.drawn, method=method, evidence=proposal.evidence())

    def reject_proposal(self) -> bool:
        """Discard the proposal; return whether there was one."""
        if self.proposal is None:
            return False
        self.proposal = None
        self.proposal_changed.emit(None)
        return True

    # ------------------------------------------------------------------ helpers
    def _require_subject(self) -> SubjectEntry:
        if self.subject is None:
            raise MrecistError("open a study first")
        return self.subject

    def _require_session(self) -> ReadSession:
        if self.session is None:
            raise MrecistError("open a study before measuring")
        return self.session


def _midpoint(caliper: Caliper) -> tuple[float, float, float]:
    x, y, z = ((a + b) / 2 for a, b in zip(caliper.p1_mm, caliper.p2_mm, strict=True))
    return (x, y, z)


def _subject_in(worklist: Worklist, subject_id: str) -> SubjectEntry | None:
    return next((s for s in worklist.subjects if s.subject_id == subject_id), None)


def _add_missing_timepoints(session: ReadSession, subject: SubjectEntry) -> None:
    known = {tp.index for tp in session.read.timepoints}
    for timepoint in subject.timepoints:
        if timepoint.index not in known:
            session.add_timepoint(
                timepoint.label,
                timepoint.index,
                study_day=timepoint.study_day,
                scan_date=_parse_date(timepoint.scan_date),
            )


def _worklist_timepoints(subject: SubjectEntry) -> list[Timepoint]:
    return [
        Timepoint(
            index=t.index,
            label=t.label,
            scan_date=_parse_date(t.scan_date),
            study_day=t.study_day,
        )
        for t in subject.timepoints
    ]


def _first_draft_index(read: Read) -> int:
    for timepoint in read.timepoints:
        if timepoint.read_status is not ReadStatus.SIGNED:
            return timepoint.index
    return read.timepoints[-1].index if read.timepoints else 0


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        logger.warning("ignoring a scan date that is not an ISO date")
        return None


def unknown_profiles_text(problems: tuple[str, ...]) -> str:
    """Return what to tell the reader about reads whose profile cannot be found."""
    more = f" (and {len(problems) - 1} more: see the log)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}"
