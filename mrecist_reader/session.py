"""The reading session: one read's state, its commands and its signals (no Qt).

:class:`ReadSession` holds an immutable :class:`~mrecist_reader.core.model.Read` snapshot
and the :class:`~mrecist_reader.core.protocol.ProtocolProfile`. Each command builds a new
``Read``, checks it with ``core.validate``, saves it together with its audit entries in ONE
transaction through the repository, and only then replaces the snapshot and emits. A
command that is refused (``MrecistError``) changes nothing. Signals are psygnal
signals, emitted synchronously in the caller's thread (the GUI thread).
"""

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

from psygnal import Signal

from mrecist_reader.core.assess import Assessment
from mrecist_reader.core.completeness import (
    assess_complete,
    missing_at,
    missing_statuses,
    timepoint_gaps,
)
from mrecist_reader.core.cytology import CYTOLOGY_NOTE, check_fluid_progression
from mrecist_reader.core.errors import (
    EarlierDrafts,
    IncompleteTimepoint,
    MrecistError,
    Problem,
)
from mrecist_reader.core.integrity import AuditHead, InvalidAuditHead
from mrecist_reader.core.model import (
    Caliper,
    Criteria,
    KeptRoi,
    KeyImage,
    Lesion,
    LesionStatus,
    LesionType,
    MeasurementEvidence,
    Method,
    NewLesionStatus,
    NonTargetStatus,
    Observation,
    Organ,
    Read,
    ReadKey,
    ReadStatus,
    ReadType,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.pseudonym import rekeyed
from mrecist_reader.core.read_edits import (
    find_lesion,
    next_lesion_id,
    status_for,
    with_lesion,
    with_location,
    with_observation,
    with_timepoint,
    without_lesion,
)
from mrecist_reader.core.units import Tenths, format_mm
from mrecist_reader.core.validate import check_target, validate_read
from mrecist_reader.core.wording import word
from mrecist_reader.storage.audit import (
    Actor,
    AuditEntry,
    AuditRecord,
    current_os_user,
)
from mrecist_reader.storage.errors import DatabaseTampered
from mrecist_reader.storage.repository import (
    AdjudicationCase,
    Assignment,
    ProfileRecording,
    ReadRepository,
    Viewer,
    read_ref,
)
from mrecist_reader.transfer.atomic import atomic_write

logger = logging.getLogger(__name__)

__all__ = [
    "CYTOLOGY_NOTE",
    "CaliperMark",
    "DatabaseTampered",
    "OpeningCheck",
    "ReadOnlyDatabase",
    "ReadRepository",
    "ReadSession",
    "TimepointSigned",
    "adjudication_queue",
    "assess_complete",
    "assigned_subjects",
    "available_reads",
    "check_on_opening",
    "known_audit_head",
    "known_head_path",
    "open_database",
    "profile_by_name",
    "reads_to_adjudicate",
    "record_decision",
    "record_read_profiles",
    "remember_audit_head",
    "stored_reads",
    "stored_subject_id",
    "trigger_adjudication",
    "verify_database",
]


class TimepointSigned(MrecistError):
    """A command would change a signed (locked) timepoint."""


class ReadOnlyDatabase(MrecistError):
    """A command would change a read in a database that fails verification."""


READ_ONLY_TAMPERED = (
    "this reads database was changed outside mrecist_reader and is open "
    "read-only: nothing can be recorded, signed or amended (reading and "
    "exporting still work); nothing was changed"
)
"""Why a command is refused in a database that fails verification."""

READ_ONLY_VERIFYING = (
    "the reads database is still being verified (it takes a moment after opening); "
    "nothing was changed: try again when it is done"
)
"""Why a command is refused while the database opened is being verified."""


@dataclass(frozen=True, slots=True)
class CaliperMark:
    """Where a lesion was seen: a caliper on one image, and how it was drawn."""

    caliper: Caliper
    series_instance_uid: str
    sop_instance_uid: str
    method: Method
    evidence: MeasurementEvidence | None = None


def _marked(observation: Observation, mark: CaliperMark | None) -> Observation:
    """Put the caliper on the observation.

    A new lesion's longest diameter is the caliper's length (a caliper of no length,
    a click, only marks where it is); other lesions keep their recorded value.
    """
    if mark is None:
        return observation
    diameter = observation.diameter
    if isinstance(observation.status, NewLesionStatus):
        diameter = mark.caliper.length() or None
    return replace(
        observation,
        caliper=mark.caliper,
        series_instance_uid=mark.series_instance_uid,
        sop_instance_uid=mark.sop_instance_uid,
        method=mark.method,
        diameter=diameter,
        evidence=None  # a non-target is not measured: no diameters of its own
        if isinstance(observation.status, NonTargetStatus)
        else mark.evidence,
    )


def open_database(url: str) -> ReadRepository:
    """Open (creating or upgrading) the reads database at an SQLAlchemy URL.

    The UI reaches the database only through this module, never ``storage`` directly.
    """
    return ReadRepository(url)


def verify_database(
    repository: ReadRepository, *, known_head: AuditHead | None = None
) -> tuple[str, ...]:
    """Return every sign that the database was changed outside the application.

    Call on opening: when the result is not empty the UI shows the problems and opens
    the database read-only (no :class:`ReadSession` commands); an import refuses such
    a database anyway (``DatabaseTampered``). ``known_head`` is the last audit head
    this workstation saw, when it keeps one: a trail that no longer extends it was
    truncated or rewritten.
    """
    return repository.integrity_problems(since=known_head)


def record_read_profiles(
    repository: ReadRepository, *, actor: Actor
) -> ProfileRecording:
    """Record the profile of every read stored before reads kept theirs (schema 7).

    Call on opening a database that verifies: each such read gets the profile text
    of its name already stored, else the shipped one (an audited "profile recorded");
    :attr:`ProfileRecording.unknown` names each read whose profile is neither.
    """
    from mrecist_reader.resources import shipped_profile

    recording = repository.record_profiles(shipped_profile, actor=actor)
    if recording.recorded:
        logger.info("recorded the protocol profile of %d read(s)", recording.recorded)
    for message in recording.unknown:
        logger.warning("%s", message)
    return recording


@dataclass(frozen=True, slots=True)
class OpeningCheck:
    """What :func:`check_on_opening` found.

    ``problems``: every sign that the database was changed outside the application
    (empty: it verifies; then it may be written); ``unknown_profiles``: one message
    per read whose protocol profile is neither shipped nor stored; ``recorded``: how
    many reads got their profile recorded.
    """

    problems: tuple[str, ...]
    unknown_profiles: tuple[str, ...] = ()
    recorded: int = 0


def check_on_opening(
    repository: ReadRepository, *, head_path: Path | None, actor: Actor
) -> OpeningCheck:
    """Verify a database just opened; when it verifies, bring it up to date.

    The database is verified against the last audit head this workstation saw
    (``head_path``, when it keeps one). When it verifies, the profile of every read
    stored without one is recorded (:func:`record_read_profiles`) and the new audit
    head remembered; when it does not, nothing is written. It may take a while on a
    large database: the window runs it off the GUI thread.
    """
    problems: list[str] = []
    try:
        known = None if head_path is None else known_audit_head(head_path)
    except InvalidAuditHead as error:
        known = None
        problems.append(f"the last audit head seen is unusable: {error}")
    problems.extend(verify_database(repository, known_head=known))
    if problems:
        logger.warning("reads database fails verification: read-only")
        return OpeningCheck(tuple(problems))
    recording = record_read_profiles(repository, actor=actor)
    if head_path is not None:
        remember_audit_head(repository, head_path)
    return OpeningCheck((), recording.unknown, recording.recorded)


def known_head_path(folder: Path, url: str) -> Path:
    """Return where this workstation keeps the last audit head it saw of a database.

    ``folder`` is the user's data folder; one file per database URL (hashed, so the
    file name holds no path or password).
    """
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return Path(folder) / "audit_heads" / f"{digest}.txt"


def known_audit_head(path: Path) -> AuditHead | None:
    """Return the audit head remembered in ``path`` (``None`` when there is none yet).

    Raises
    ------
    InvalidAuditHead
        When the file exists but is not an audit head.

    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidAuditHead(f"{path}: cannot be read ({error})") from None
    return AuditHead.from_text(text, source=str(path))


def remember_audit_head(repository: ReadRepository, path: Path) -> AuditHead:
    """Write the database's current audit head to ``path`` (private to the user).

    Call after opening a database that verifies and when closing it; the next
    :func:`verify_database` with ``known_head`` then catches a trail truncated or
    rewritten in between.
    """
    head = repository.audit_head()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(Path(path), private=True) as stream:
        stream.write(head.to_text())
    return head


def stored_subject_id(repository: ReadRepository, subject_id: str) -> str:
    """Return the subject ID as the database stores and exports it.

    An unkeyed pseudonym (``patient-`` + 8 hex digits, from a PatientID) becomes its
    keyed form with the database's secret; the worklist shows this form so that it
    matches the stored reads (issue 21, item 6). Other subject IDs are unchanged.
    """
    return rekeyed(subject_id, repository.pseudonym_key())


def available_reads(
    repository: ReadRepository, reader_id: str, read_type: ReadType
) -> tuple[ReadKey, ...]:
    """Return the reads this reader may open (central readers: only their own)."""
    return repository.list_reads(Viewer(reader_id, read_type))


def stored_reads(
    repository: ReadRepository, reader_id: str, read_type: ReadType
) -> tuple[Read, ...]:
    """Return this reader's stored reads of this read type (for the worklist's states)."""
    viewer = Viewer(reader_id, read_type)
    reads = (
        repository.load(key, viewer=viewer) for key in repository.list_reads(viewer)
    )
    return tuple(
        read
        for read in reads
        if read is not None
        and read.key.reader_id == reader_id
        and read.key.read_type is read_type
    )


def assigned_subjects(repository: ReadRepository, reader_id: str) -> tuple[str, ...]:
    """Return the subjects ``reader_id`` reads as reader 1 or 2 (their worklist).

    Empty when nothing is assigned to them (central-review.md §Roles and assignment:
    a reader's worklist holds only the subjects assigned to them).
    """
    return repository.assigned_subjects(reader_id)


def trigger_adjudication(
    repository: ReadRepository, actor: Actor, *, subject_id: str | None = None
) -> tuple[AdjudicationCase, ...]:
    """Compare both primary reads of every assigned subject at its read cut.

    Concordant cuts get their final read, discordant ones enter the adjudication
    queue with the differences in words (central-review.md §When adjudication is
    needed). Each protocol profile is loaded once (:func:`profile_by_name`);
    ``subject_id``: that subject only.
    """
    from mrecist_reader.core.adjudication import judge_with

    return repository.trigger_adjudication(
        judge_with(profile_by_name(repository)), actor=actor, subject_id=subject_id
    )


def profile_by_name(repository: ReadRepository) -> Callable[[str], ProtocolProfile]:
    """Return a lookup of profiles by name, each loaded once, for the judges.

    A name whose reads all keep the same stored profile text gives that text (what
    they are assessed with: issue 21, item 3); any other name the shipped profile
    (or, for a read stored before schema 7, the file it names).
    """
    from mrecist_reader.resources import load_profile

    return repository.profile_by_name(load_profile)


def adjudication_queue(
    repository: ReadRepository, adjudicator: str
) -> tuple[AdjudicationCase, ...]:
    """Return the subjects awaiting ``adjudicator``'s decision (their worklist)."""
    return repository.adjudication_queue(adjudicator)


def reads_to_adjudicate(
    repository: ReadRepository, subject_id: str, adjudicator: str
) -> tuple[Read, Read]:
    """Return reader 1's and reader 2's reads for the side-by-side screen.

    Only the assigned adjudicator of a subject awaiting adjudication gets them; no
    :class:`ReadSession` is opened on them (nothing in either read can be changed).
    """
    return repository.reads_to_adjudicate(subject_id, adjudicator)


def record_decision(
    repository: ReadRepository,
    subject_id: str,
    *,
    adjudicator: str,
    choose: str,
    reason: str,
    rationale: str,
    os_user: str | None = None,
) -> AdjudicationCase:
    """Record the adjudicator's choice (``reader_1`` or ``reader_2``), audited, once.

    Raises
    ------
    AdjudicationRefused
        Naming why (not the assigned adjudicator, not awaiting adjudication, a
        reason not in the list, an empty rationale).

    """
    from mrecist_reader.core.adjudication import AdjudicationRefused, Role

    if choose not in {str(role) for role in Role}:
        raise AdjudicationRefused(f"choose {choose!r}: expected reader_1 or reader_2")
    return repository.decide(
        subject_id,
        adjudicator=adjudicator,
        choose=Role(choose),
        reason=reason,
        rationale=rationale,
        actor=Actor(adjudicator, os_user or current_os_user()),
    )


def _check_may_read(repository: ReadRepository, key: ReadKey) -> None:
    """Refuse a central read of an assigned subject by anyone but its two readers."""
    if key.read_type is not ReadType.CENTRAL:
        return
    assignment: Assignment | None = repository.assignment(key.subject_id)
    if assignment is not None and assignment.role_of(key.reader_id) is None:
        raise MrecistError(
            f"subject {key.subject_id} is assigned to {assignment.reader_1} and "
            f"{assignment.reader_2}; {key.reader_id} cannot read it (central-review: "
            "the adjudicator chooses one of their reads, never makes a third)"
        )


@dataclass(frozen=True, slots=True)
class _Step:
    """A snapshot on the undo/redo stacks and the command that left it."""

    read: Read
    description: str


class ReadSession:
    """One reader's read of one subject, with commands, autosave, undo and signals.

    Signals
    -------
    read_changed(Read)
        After every successful command, with the new snapshot.
    assessment_changed(object)
        ``Assessment`` of the complete timepoints (``None`` while baseline is incomplete).
    problems_changed(object)
        ``tuple[Problem, ...]``: ``validate_read`` on the new snapshot, then each
        lesion known before a follow-up with no status there (drafts may
        have problems; signing requires none up to the signed timepoint).
    undo_state_changed(bool, bool)
        ``(can_undo, can_redo)``.

    """

    read_changed = Signal(object)
    assessment_changed = Signal(object)
    problems_changed = Signal(object)
    undo_state_changed = Signal(bool, bool)

    def __init__(
        self,
        repository: ReadRepository,
        read: Read,
        profile: ProtocolProfile,
        *,
        os_user: str | None = None,
        read_only: bool = False,
    ) -> None:
        self._repository = repository
        self.read_only = read_only
        """Every command is refused (:class:`ReadOnlyDatabase`): reading only."""
        self.read_only_reason = READ_ONLY_TAMPERED
        """What a refused command says (the database fails verification, or is
        still being verified)."""
        self._read = read
        self._profile = profile
        self._actor = Actor(read.key.reader_id, os_user or current_os_user())
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []
        self._problems = _problems_of(read, profile)
        self._assessment = assess_complete(read, profile)

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        repository: ReadRepository,
        key: ReadKey,
        *,
        site_id: str,
        profile: ProtocolProfile,
        criteria: Criteria | None = None,
        os_user: str | None = None,
        read_only: bool = False,
    ) -> "ReadSession":
        """Open the reader's read of a subject, creating (and saving) it when new.

        Parameters
        ----------
        repository
            The reads database.
        key
            Study, subject, reader and read type; the reader sees only reads allowed to
            them (a central reader never opens a local read or another reader's).
        site_id
            The subject's site.
        profile
            The protocol profile; an existing read must have been made with it.
        criteria
            The criteria (default: the profile's).
        os_user
            The operating-system user for the audit trail (default: the current one).
        read_only
            The database fails verification (:func:`verify_database`): every command
            is refused, and a read not stored is shown empty, not created.

        Raises
        ------
        MrecistError
            When the reader ID is empty or the stored read uses another profile.

        """
        if not key.reader_id.strip():
            raise MrecistError("enter your reader ID before opening a read")
        key = repository.keyed(key)  # an unkeyed pseudonym is stored keyed (item 6)
        _check_may_read(repository, key)
        stored = repository.load(key, viewer=Viewer(key.reader_id, key.read_type))
        if stored is not None:
            if stored.protocol_profile != profile.name:
                raise MrecistError(
                    f"the read of subject {key.subject_id} was made with protocol "
                    f"profile {stored.protocol_profile}, not {profile.name}"
                )
            # Assessed with the profile text stored with the read (issue 21 item 3),
            # never a file read again; the given one for a read stored without one.
            kept = repository.profile_of(key) or profile
            return cls(repository, stored, kept, os_user=os_user, read_only=read_only)
        read = Read(
            key=key,
            site_id=site_id,
            criteria=criteria or profile.criteria,
            protocol_profile=profile.name,
        )
        session = cls(repository, read, profile, os_user=os_user, read_only=read_only)
        if read_only:
            return session
        entry = AuditEntry("create_read", "read", "", _describe_read(read))
        repository.save(read, [entry], actor=session._actor, profile=profile)
        logger.info("created %s read of subject %s", key.read_type, key.subject_id)
        return session

    # ------------------------------------------------------------------ state
    @property
    def read(self) -> Read:
        """Return the current snapshot of the read."""
        return self._read

    @property
    def profile(self) -> ProtocolProfile:
        """Return the protocol profile the read follows."""
        return self._profile

    @property
    def assessment(self) -> Assessment | None:
        """Return the assessment of the complete timepoints (``None``: none complete)."""
        return self._assessment

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Return the current problems of the read (``validate_read``)."""
        return self._problems

    @property
    def can_undo(self) -> bool:
        """Return whether there is a command to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """Return whether there is an undone command to redo."""
        return bool(self._redo)

    @property
    def undo_description(self) -> str | None:
        """Return what :meth:`undo` would undo (for the menu), if anything."""
        return self._undo[-1].description if self._undo else None

    @property
    def redo_description(self) -> str | None:
        """Return what :meth:`redo` would redo (for the menu), if anything."""
        return self._redo[-1].description if self._redo else None

    def check_editable(
        self, timepoint_index: int | None, lesion_id: str | None = None
    ) -> None:
        """Refuse at once what a command would refuse later: a change to signed data.

        The UI calls it before asking the reader anything (a dialog, a confirmation), so
        that a signed timepoint is never edited to the point of saving.

        Raises
        ------
        TimepointSigned
            When the timepoint, or a timepoint the lesion is recorded at, is signed or
            has a signed timepoint after it.

        """
        if timepoint_index is not None:
            self._draft_timepoint(timepoint_index)
        if lesion_id is not None:
            self._ensure_lesion_unlocked(lesion_id)

    def is_signed(self, timepoint_index: int) -> bool:
        """Return whether a timepoint is signed (locked)."""
        timepoint = self._read.timepoint(timepoint_index)
        return timepoint is not None and timepoint.read_status is ReadStatus.SIGNED

    def audit_trail(self) -> tuple[AuditRecord, ...]:
        """Return the audit entries of this read, oldest first."""
        key = self._read.key
        ref = read_ref(key)
        viewer = Viewer(key.reader_id, key.read_type)
        trail = self._repository.audit_trail(viewer=viewer)
        return tuple(r for r in trail if r.read_ref == ref)

    # ------------------------------------------------------------------ timepoints
    def show_unstored_timepoints(self, timepoints: Sequence[Timepoint]) -> None:
        """Show timepoints the read does not have yet, without storing anything.

        For a read-only read (the database is being verified, or fails verification):
        the worklist's timepoints are shown as empty drafts so that the read can be
        looked at; nothing is written, and every command is still refused. A central
        read never keeps a scan date.
        """
        known = {tp.index for tp in self._read.timepoints}
        blinded = self._read.key.read_type is ReadType.CENTRAL
        shown = [
            replace(tp, scan_date=None) if blinded else tp
            for tp in timepoints
            if tp.index not in known
        ]
        if not shown:
            return
        timepoints_now = tuple(sorted((*self._read.timepoints, *shown), key=_tp_index))
        self._read = replace(self._read, timepoints=timepoints_now)
        self._problems = _problems_of(self._read, self._profile)
        self._assessment = assess_complete(self._read, self._profile)

    def add_timepoint(
        self,
        label: str,
        index: int,
        *,
        study_day: int | None,
        scan_date: date | None = None,
    ) -> Timepoint:
        """Add a timepoint (index 0 is baseline); central reads never keep the scan date.

        Raises
        ------
        MrecistError
            When the label or index is already used, or the label is empty.

        """
        label = label.strip()
        if not label:
            raise MrecistError("a timepoint needs a label (e.g. BASELINE, FU1)")
        if index < 0:
            raise MrecistError(f"timepoint index {index} is negative; baseline is 0")
        for existing in self._read.timepoints:
            if existing.index == index or existing.label == label:
                raise MrecistError(
                    f"timepoint {label} (index {index}) clashes with {existing.label} "
                    f"(index {existing.index})"
                )
        blinded = self._read.key.read_type is ReadType.CENTRAL
        timepoint = Timepoint(
            index=index,
            label=label,
            scan_date=None if blinded else scan_date,
            study_day=study_day,
        )
        timepoints = tuple(sorted((*self._read.timepoints, timepoint), key=_tp_index))
        entry = AuditEntry("add_timepoint", label, "", _describe_timepoint(timepoint))
        self._commit(
            replace(self._read, timepoints=timepoints), [entry], f"add {label}"
        )
        return timepoint

    def sign_timepoint(
        self, timepoint_index: int, *, with_earlier_drafts: bool = False
    ) -> None:
        """Sign a complete timepoint: it is locked until amended with a reason.

        A timepoint is signed only when it is complete: every lesion known before it
        has a status there and the read up to it has no problem
        (:func:`~mrecist_reader.core.completeness.timepoint_gaps`). Timepoints are
        signed in order: while an earlier timepoint is a draft, signing is refused,
        unless ``with_earlier_drafts`` is true; then the earlier drafts are signed
        with it, in one transaction with one audit entry each (ask the reader first,
        naming :meth:`earlier_drafts`).

        Parameters
        ----------
        timepoint_index
            The timepoint to sign.
        with_earlier_drafts
            Sign the earlier draft timepoints together with it.

        Raises
        ------
        EarlierDrafts
            When an earlier timepoint is a draft and ``with_earlier_drafts`` is false.
        IncompleteTimepoint
            Naming what is missing or wrong up to this timepoint (nothing is signed).
        TimepointSigned
            When the timepoint is already signed.

        """
        timepoint = self._unsigned_timepoint(timepoint_index)
        drafts = self._earlier_drafts(timepoint_index)
        if drafts and not with_earlier_drafts:
            raise EarlierDrafts(timepoint.label, (tp.label for tp in drafts))
        gaps = timepoint_gaps(self._read, self._profile, timepoint_index)
        if gaps:
            raise IncompleteTimepoint(timepoint.label, gaps)
        signed_at = datetime.now(UTC).replace(microsecond=0)
        read = self._read
        entries = []
        for draft in (*drafts, timepoint):
            signed = replace(draft, read_status=ReadStatus.SIGNED, signed_at=signed_at)
            read = with_timepoint(read, signed)
            reason = (
                f"signed together with {timepoint.label}" if draft != timepoint else ""
            )
            entries.append(
                AuditEntry(
                    "sign",
                    draft.label,
                    "draft",
                    f"signed {signed_at.isoformat()}",
                    reason,
                )
            )
        self._commit(read, entries, "", undoable=False)
        self._trigger_adjudication()

    def _trigger_adjudication(self) -> None:
        """Run the adjudication trigger after a central read of an assigned subject is signed."""
        key = self._read.key
        if key.read_type is not ReadType.CENTRAL:
            return
        if self._repository.assignment(key.subject_id) is None:
            return
        try:
            trigger_adjudication(
                self._repository, self._actor, subject_id=key.subject_id
            )
        except MrecistError as error:
            # The signature is stored; a subject the trigger cannot compare yet (a
            # profile that does not load here) waits for the next trigger run.
            logger.warning(
                "adjudication trigger after signing subject %s: %s",
                key.subject_id,
                error,
            )

    def earlier_drafts(self, timepoint_index: int) -> tuple[str, ...]:
        """Return the labels of the draft timepoints before this one, in order.

        Signing this timepoint is refused while there are any, unless they are signed
        together with it (:meth:`sign_timepoint`); a dialog names them.
        """
        self._timepoint(timepoint_index)
        return tuple(tp.label for tp in self._earlier_drafts(timepoint_index))

    def missing_statuses(self, timepoint_index: int) -> tuple[str, ...]:
        """Return, in words, the lesions known before this timepoint with no status there.

        E.g. ``("N1 (new, first seen at FU1): no status at FU2",)``; the response panel
        lists them, and the timepoint cannot be signed until they have a status.
        """
        self._timepoint(timepoint_index)
        return missing_statuses(self._read, timepoint_index)

    def signing_gaps(self, timepoint_index: int) -> tuple[Problem, ...]:
        """Return what keeps this timepoint from being signed (empty: it may be).

        Missing statuses first, then the other problems of the read up to it; the
        earlier drafts are not among them (see :meth:`earlier_drafts`).
        """
        self._timepoint(timepoint_index)
        return timepoint_gaps(self._read, self._profile, timepoint_index)

    def amend_timepoint(self, timepoint_index: int, reason: str) -> None:
        """Reopen a signed timepoint, and every later signed one, as drafts.

        A later timepoint's response depends on this one (through the baseline sum and
        the nadir), so its signature cannot stand once this one changes: it is reopened
        in the same transaction and must be signed again. Each reopened timepoint gets
        its own audit entry; the reason goes to the audit trail.

        Raises
        ------
        MrecistError
            When the timepoint is not signed or the reason is empty.

        """
        timepoint = self._timepoint(timepoint_index)
        if timepoint.read_status is not ReadStatus.SIGNED:
            raise MrecistError(
                f"timepoint {timepoint.label} is not signed; edit it directly"
            )
        reason = reason.strip()
        if not reason:
            raise MrecistError(f"amending timepoint {timepoint.label} needs a reason")
        later = self._later_signed(timepoint_index)
        read = self._read
        for reopened in (timepoint, *later):
            draft = replace(reopened, read_status=ReadStatus.DRAFT, signed_at=None)
            read = with_timepoint(read, draft)
        entries = [AuditEntry("amend", timepoint.label, "signed", "draft", reason)]
        because = f"reopened because {timepoint.label} was amended: {reason}"
        entries += [
            AuditEntry("amend", tp.label, "signed", "draft", because) for tp in later
        ]
        self._commit(read, entries, "", undoable=False)

    def timepoints_reopened_by_amending(self, timepoint_index: int) -> tuple[str, ...]:
        """Return the labels of the later signed timepoints that amending this one reopens.

        Ask before amending, to tell the reader which signatures will be withdrawn.

        Parameters
        ----------
        timepoint_index
            The timepoint the reader wants to amend.

        Returns
        -------
        tuple of str
            Labels of the signed timepoints after it, in order (empty: none).

        Raises
        ------
        MrecistError
            When the read has no timepoint with that index.

        """
        self._timepoint(timepoint_index)
        return tuple(tp.label for tp in self._later_signed(timepoint_index))

    # ------------------------------------------------------------------ lesions
    def designate_target(
        self,
        organ: Organ,
        location: str = "",
        *,
        caliper: Caliper | None = None,
        status: TargetStatus | None = None,
        method: Method = Method.MANUAL,
        series_instance_uid: str = "",
        sop_instance_uid: str = "",
        comment: str = "",
        evidence: MeasurementEvidence | None = None,
    ) -> str:
        """Make a new baseline target lesion from a caliper (or a status); return its id.

        The diameter is derived from the caliper (``Caliper.length()``); ``evidence`` is
        what the click that proposed it found besides. The profile's
        size range and limits are checked first (``core.validate.check_target``).

        Raises
        ------
        RuleViolation
            With the spec's message naming the lesion, its value and the allowed range;
            nothing is recorded (the lesion may be added as a non-target instead).

        """
        self._draft_timepoint(0)
        lesion = Lesion(
            next_lesion_id(self._read, LesionType.TARGET),
            LesionType.TARGET,
            organ,
            location,
        )
        observation = self._target_observation(
            lesion,
            0,
            caliper=caliper,
            status=status,
            details={
                "method": method,
                "series": series_instance_uid,
                "sop": sop_instance_uid,
                "evidence": evidence,
            },
            comment=comment,
        )
        check_target(self._read, self._profile, lesion, observation.diameter or 0)
        return self._commit_new_lesion(lesion, observation, "designate target")

    def add_non_target(
        self,
        organ: Organ,
        location: str = "",
        *,
        status: NonTargetStatus = NonTargetStatus.PRESENT,
        cytology_confirmed: bool = False,
        comment: str = "",
        mark: CaliperMark | None = None,
    ) -> str:
        """Add a baseline non-target lesion with its baseline status; return its id.

        ``mark`` keeps the caliper that showed where it is (no diameter is recorded
        for a non-target lesion).
        """
        self._draft_timepoint(0)
        lesion = Lesion(
            next_lesion_id(self._read, LesionType.NON_TARGET),
            LesionType.NON_TARGET,
            organ,
            location,
        )
        comment = check_fluid_progression(lesion, status, cytology_confirmed, comment)
        observation = _marked(
            Observation(lesion.lesion_id, 0, status, comment=comment), mark
        )
        reason = CYTOLOGY_NOTE if cytology_confirmed else ""
        return self._commit_new_lesion(lesion, observation, "add non-target", reason)

    def add_new_lesion(
        self,
        organ: Organ,
        location: str,
        timepoint_index: int,
        *,
        status: NewLesionStatus = NewLesionStatus.PRESENT,
        comment: str = "",
        mark: CaliperMark | None = None,
    ) -> str:
        """Add a new lesion first seen at a follow-up timepoint; return its id.

        ``mark`` keeps the caliper that showed where it is and how large: its length is
        recorded as the new lesion's longest diameter (``viable_diameter_mm``, which
        supports the 10 mm rule for an unequivocal new HCC).
        """
        if timepoint_index == 0:
            raise MrecistError(
                "a new lesion cannot be recorded at baseline; use non-target"
            )
        self._draft_timepoint(timepoint_index)
        lesion = Lesion(
            next_lesion_id(self._read, LesionType.NEW), LesionType.NEW, organ, location
        )
        observation = _marked(
            Observation(
                lesion.lesion_id,
                timepoint_index,
                NewLesionStatus(status),
                comment=comment,
            ),
            mark,
        )
        return self._commit_new_lesion(lesion, observation, "add new lesion")

    def _commit_new_lesion(
        self, lesion: Lesion, observation: Observation, what: str, reason: str = ""
    ) -> str:
        """Save a lesion with its first observation as one audited command."""
        read = with_observation(with_lesion(self._read, lesion), observation)
        entry = AuditEntry(
            what.replace(" ", "_"),
            f"{self._label(observation.timepoint_index)}/{lesion.lesion_id}",
            "",
            _describe_obs(lesion, observation),
            reason,
        )
        self._commit(read, [entry], f"{what} {lesion.lesion_id}")
        return lesion.lesion_id

    def record_measurement(
        self,
        lesion_id: str,
        timepoint_index: int,
        caliper: Caliper,
        *,
        method: Method = Method.MANUAL,
        series_instance_uid: str = "",
        sop_instance_uid: str = "",
        comment: str | None = None,
        status: NewLesionStatus | None = None,
        evidence: MeasurementEvidence | None = None,
    ) -> Tenths:
        """Record a lesion's diameter from a caliper; return it (tenths of a mm).

        A target's viable diameter (at baseline the size range is checked again), or a
        new lesion's longest diameter: the new lesion keeps its status at the timepoint
        (``present`` or ``equivocal``), or takes ``status`` when given or when it has
        none there yet. Non-target lesions are not measured. ``evidence`` is what the
        click that proposed the caliper found besides (``None`` for a manual or edited
        caliper: a new caliper never keeps the evidence of the one it replaces).

        Raises
        ------
        RuleViolation
            For a baseline target out of the profile's range.
        MrecistError
            For a non-target lesion, or a new lesion with no status at the timepoint
            and none given.

        """
        lesion = self._lesion(lesion_id)
        if lesion.lesion_type is LesionType.NEW:
            mark = CaliperMark(
                caliper, series_instance_uid, sop_instance_uid, method, evidence
            )
            return self._measure_new_lesion(
                lesion, timepoint_index, mark, status=status, comment=comment
            )
        if lesion.lesion_type is not LesionType.TARGET:
            raise MrecistError(
                f"{lesion_id} is a {word(lesion.lesion_type)} lesion; only target and new "
                "lesions are measured"
            )
        if status is not None:
            raise MrecistError(
                f"{lesion_id} is a target lesion: a measured target's status is measured"
            )
        self._draft_timepoint(timepoint_index)
        observation = self._target_observation(
            lesion,
            timepoint_index,
            caliper=caliper,
            status=None,
            details={
                "method": method,
                "series": series_instance_uid,
                "sop": sop_instance_uid,
                "evidence": evidence,
            },
            comment=self._keep_comment(lesion_id, timepoint_index, comment),
        )
        self._record(lesion, observation, "")
        return observation.diameter or 0

    def _measure_new_lesion(
        self,
        lesion: Lesion,
        timepoint_index: int,
        mark: CaliperMark,
        *,
        status: NewLesionStatus | None,
        comment: str | None,
    ) -> Tenths:
        self._draft_timepoint(timepoint_index)
        if mark.caliper.length() == 0:
            raise MrecistError(
                f"{lesion.lesion_id}: the caliper has no length; draw it across the "
                "lesion's longest diameter"
            )
        old = self._read.observation(lesion.lesion_id, timepoint_index)
        if status is not None:
            token = NewLesionStatus(status)
        elif old is not None:
            token = NewLesionStatus(str(old.status))
        else:
            raise MrecistError(
                f"{lesion.lesion_id} has no status at {self._label(timepoint_index)}: "
                "record it as present or equivocal with its diameter"
            )
        kept = self._keep_comment(lesion.lesion_id, timepoint_index, comment)
        observation = _marked(
            Observation(lesion.lesion_id, timepoint_index, token, comment=kept), mark
        )
        self._record(lesion, observation, "")
        return observation.diameter or 0

    def record_status(
        self,
        lesion_id: str,
        timepoint_index: int,
        status: LesionStatus | str,
        *,
        cytology_confirmed: bool = False,
        comment: str | None = None,
    ) -> None:
        """Record a lesion's status at a timepoint (targets: not ``measured``).

        A target's recorded value follows the status (``absent`` 0.0, ``too_small`` the
        profile's value, ``not_evaluable`` none). ``progression`` of ascites or pleural
        effusion needs ``cytology_confirmed=True`` (mrecist-rules.md §Non-target response).
        A non-target or new lesion keeps its caliper at the timepoint (and a new lesion
        its diameter) when its status changes.

        Raises
        ------
        RuleViolation
            For fluid progression without cytology, or a baseline target out of range.
        MrecistError
            For a status the lesion's type does not have.

        """
        lesion = self._lesion(lesion_id)
        self._draft_timepoint(timepoint_index)
        token = status_for(lesion, status)
        kept = self._keep_comment(lesion_id, timepoint_index, comment)
        if lesion.lesion_type is LesionType.TARGET:
            assert isinstance(token, TargetStatus)
            observation = self._target_observation(
                lesion,
                timepoint_index,
                caliper=None,
                status=token,
                details={},
                comment=kept,
            )
        else:
            if lesion.lesion_type is LesionType.NON_TARGET:
                kept = check_fluid_progression(lesion, token, cytology_confirmed, kept)
            # The caliper that shows where it is (and a new lesion's diameter) stays.
            old = self._read.observation(lesion_id, timepoint_index)
            observation = (
                Observation(lesion_id, timepoint_index, token, comment=kept)
                if old is None
                else replace(old, status=token, comment=kept)
            )
        self._record(lesion, observation, CYTOLOGY_NOTE if cytology_confirmed else "")

    def edit_location(self, lesion_id: str, location: str) -> None:
        """Change a lesion's location text (refused when a signed timepoint shows it)."""
        lesion = self._lesion(lesion_id)
        self._ensure_lesion_unlocked(lesion_id)
        entry = AuditEntry("edit_location", lesion_id, lesion.location, location)
        self._commit(
            with_location(self._read, lesion_id, location),
            [entry],
            f"edit location of {lesion_id}",
        )

    def edit_comment(self, lesion_id: str, timepoint_index: int, comment: str) -> None:
        """Change the comment of a lesion's observation at a timepoint."""
        self._draft_timepoint(timepoint_index)
        old = self._read.observation(lesion_id, timepoint_index)
        if old is None:
            raise MrecistError(
                f"{lesion_id} has nothing recorded at {self._label(timepoint_index)}"
            )
        entry = AuditEntry(
            "edit_comment",
            f"{self._label(timepoint_index)}/{lesion_id}",
            old.comment,
            comment,
        )
        read = with_observation(self._read, replace(old, comment=comment))
        self._commit(read, [entry], f"edit comment of {lesion_id}")

    def delete_lesion(self, lesion_id: str) -> None:
        """Delete a lesion and its observations (only while every timepoint it is on is a draft)."""
        lesion = self._lesion(lesion_id)
        self._ensure_lesion_unlocked(lesion_id)
        removed = [o for o in self._read.observations if o.lesion_id == lesion_id]
        read = without_lesion(self._read, lesion_id)
        old = "; ".join(_describe_obs(lesion, o) for o in removed) or str(
            lesion.lesion_type
        )
        entry = AuditEntry("delete_lesion", lesion_id, old, "")
        self._commit(read, [entry], f"delete {lesion_id}")

    # ------------------------------------------------------------------ ROIs
    def keep_roi(self, roi: KeptRoi) -> None:
        """Keep an ROI with the read as evidence (refused on a signed timepoint).

        Its lesion, when named, must be in the read; audited with its statistics.
        """
        self._draft_timepoint(roi.timepoint_index)
        if roi.lesion_id and find_lesion(self._read, roi.lesion_id) is None:
            raise MrecistError(f"{roi.lesion_id} is not a lesion of this read")
        target = f"{self._label(roi.timepoint_index)}/{roi.lesion_id or 'timepoint'}"
        entry = AuditEntry("keep_roi", target, "", describe_roi(roi))
        read = replace(self._read, rois=(*self._read.rois, roi))
        self._commit(read, [entry], f"keep ROI {roi.label}")

    def remove_roi(self, roi: KeptRoi) -> None:
        """Remove a kept ROI (refused on a signed timepoint); audited with its values."""
        self._draft_timepoint(roi.timepoint_index)
        if roi not in self._read.rois:
            raise MrecistError(f"ROI {roi.label} is not kept with this read")
        target = f"{self._label(roi.timepoint_index)}/{roi.lesion_id or 'timepoint'}"
        entry = AuditEntry("remove_roi", target, describe_roi(roi), "")
        read = replace(self._read, rois=tuple(r for r in self._read.rois if r != roi))
        self._commit(read, [entry], f"remove ROI {roi.label}")

    # ------------------------------------------------------------ key images
    def mark_key_image(self, key: KeyImage) -> None:
        """Mark an image as a key image of a lesion (refused on a signed timepoint).

        The lesion must be in the read and the image not marked for it yet; audited.
        """
        self._draft_timepoint(key.timepoint_index)
        if find_lesion(self._read, key.lesion_id) is None:
            raise MrecistError(f"{key.lesion_id} is not a lesion of this read")
        if _same_key_image(self._read.key_images, key):
            raise MrecistError(
                f"image {key.slice_index + 1} is already a key image of {key.lesion_id}"
            )
        target = f"{self._label(key.timepoint_index)}/{key.lesion_id}"
        entry = AuditEntry("mark_key_image", target, "", describe_key_image(key))
        read = replace(self._read, key_images=(*self._read.key_images, key))
        self._commit(read, [entry], f"mark key image of {key.lesion_id}")

    def unmark_key_image(self, key: KeyImage) -> None:
        """Unmark a key image (refused on a signed timepoint); audited."""
        self._draft_timepoint(key.timepoint_index)
        found = _same_key_image(self._read.key_images, key)
        if found is None:
            raise MrecistError(
                f"image {key.slice_index + 1} is not a key image of {key.lesion_id}"
            )
        target = f"{self._label(key.timepoint_index)}/{key.lesion_id}"
        entry = AuditEntry("unmark_key_image", target, describe_key_image(found), "")
        kept = tuple(k for k in self._read.key_images if k is not found)
        read = replace(self._read, key_images=kept)
        self._commit(read, [entry], f"unmark key image of {key.lesion_id}")

    # ------------------------------------------------------------------ undo
    def undo(self) -> None:
        """Restore the snapshot before the last command (saved and audited as a change)."""
        if not self._undo:
            raise MrecistError("there is nothing to undo")
        step = self._undo.pop()
        self._restore(step, self._redo, "undo")

    def redo(self) -> None:
        """Re-apply the last undone command (saved and audited as a change)."""
        if not self._redo:
            raise MrecistError("there is nothing to redo")
        step = self._redo.pop()
        self._restore(step, self._undo, "redo")

    def _restore(self, step: _Step, other: list[_Step], action: str) -> None:
        old_value, new_value = _describe_changes(self._read, step.read)
        entry = AuditEntry(action, step.description, old_value, new_value)
        current = _Step(self._read, step.description)
        try:
            self._save_and_emit(step.read, [entry])
        except MrecistError:
            (self._undo if action == "undo" else self._redo).append(step)
            raise
        other.append(current)
        self._emit_undo_state()

    # ------------------------------------------------------------------ internals
    def _commit(
        self,
        read: Read,
        entries: list[AuditEntry],
        description: str,
        *,
        undoable: bool = True,
    ) -> None:
        previous = self._read
        self._save_and_emit(read, entries)
        if undoable:
            self._undo.append(_Step(previous, description))
        else:  # signing and amending are commit points: no undo across them
            self._undo.clear()
        self._redo.clear()
        self._emit_undo_state()

    def _save_and_emit(self, read: Read, entries: list[AuditEntry]) -> None:
        if self.read_only:  # issue 21 item 1: never write to a database changed outside
            raise ReadOnlyDatabase(self.read_only_reason)
        self._repository.save(read, entries, actor=self._actor, profile=self._profile)
        for entry in entries:
            logger.info(
                "%s %s (subject %s)", entry.action, entry.target, read.key.subject_id
            )
        self._read = read
        self._problems = _problems_of(read, self._profile)
        self._assessment = assess_complete(read, self._profile)
        self.read_changed.emit(read)
        self.assessment_changed.emit(self._assessment)
        self.problems_changed.emit(self._problems)

    def _emit_undo_state(self) -> None:
        self.undo_state_changed.emit(self.can_undo, self.can_redo)

    def _record(self, lesion: Lesion, observation: Observation, reason: str) -> None:
        index = observation.timepoint_index
        if lesion.lesion_type is LesionType.TARGET and index == 0:
            check_target(self._read, self._profile, lesion, observation.diameter or 0)
        old = self._read.observation(lesion.lesion_id, index)
        entry = AuditEntry(
            "record",
            f"{self._label(index)}/{lesion.lesion_id}",
            _describe_obs(lesion, old) if old else "",
            _describe_obs(lesion, observation),
            reason,
        )
        read = with_observation(self._read, observation)
        self._commit(
            read, [entry], f"record {lesion.lesion_id} at {self._label(index)}"
        )

    def _target_observation(
        self,
        lesion: Lesion,
        timepoint_index: int,
        *,
        caliper: Caliper | None,
        status: TargetStatus | None,
        details: dict[str, object],
        comment: str,
    ) -> Observation:
        if (caliper is None) == (status is None):
            raise MrecistError(f"{lesion.lesion_id}: give either a caliper or a status")
        if caliper is not None:
            method = details.get("method", Method.MANUAL)
            evidence = details.get("evidence")
            return Observation(
                lesion.lesion_id,
                timepoint_index,
                TargetStatus.MEASURED,
                diameter=caliper.length(),
                caliper=caliper,
                series_instance_uid=str(details.get("series", "")),
                sop_instance_uid=str(details.get("sop", "")),
                method=Method(str(method)),
                comment=comment,
                evidence=evidence
                if isinstance(evidence, MeasurementEvidence)
                else None,
            )
        if status is TargetStatus.MEASURED:
            raise MrecistError(f"{lesion.lesion_id}: a measured target needs a caliper")
        diameter = {
            TargetStatus.ABSENT: 0,
            TargetStatus.TOO_SMALL: self._profile.too_small_value,
        }.get(TargetStatus(str(status)))
        return Observation(
            lesion.lesion_id,
            timepoint_index,
            TargetStatus(str(status)),
            diameter,
            comment=comment,
        )

    def _keep_comment(
        self, lesion_id: str, timepoint_index: int, comment: str | None
    ) -> str:
        if comment is not None:
            return comment
        old = self._read.observation(lesion_id, timepoint_index)
        return old.comment if old else ""

    def _timepoint(self, timepoint_index: int) -> Timepoint:
        timepoint = self._read.timepoint(timepoint_index)
        if timepoint is None:
            known = ", ".join(
                f"{tp.label} ({tp.index})" for tp in self._read.timepoints
            )
            raise MrecistError(
                f"the read has no timepoint with index {timepoint_index} (has: {known or 'none'})"
            )
        return timepoint

    def _unsigned_timepoint(self, timepoint_index: int) -> Timepoint:
        timepoint = self._timepoint(timepoint_index)
        if timepoint.read_status is ReadStatus.SIGNED:
            raise TimepointSigned(
                f"timepoint {timepoint.label} is signed; amend it with a reason first"
            )
        return timepoint

    def _draft_timepoint(self, timepoint_index: int) -> Timepoint:
        """Return a timepoint that may be edited: a draft, with no signed one after it."""
        timepoint = self._unsigned_timepoint(timepoint_index)
        self._ensure_no_later_signed(timepoint.label, timepoint_index)
        return timepoint

    def _earlier_drafts(self, timepoint_index: int) -> tuple[Timepoint, ...]:
        """Return the draft timepoints before ``timepoint_index``, in order."""
        earlier = (tp for tp in self._read.timepoints if tp.index < timepoint_index)
        drafts = (tp for tp in earlier if tp.read_status is ReadStatus.DRAFT)
        return tuple(sorted(drafts, key=_tp_index))

    def _later_signed(self, timepoint_index: int) -> tuple[Timepoint, ...]:
        """Return the signed timepoints after ``timepoint_index``, in order."""
        later = (tp for tp in self._read.timepoints if tp.index > timepoint_index)
        signed = (tp for tp in later if tp.read_status is ReadStatus.SIGNED)
        return tuple(sorted(signed, key=_tp_index))

    def _ensure_no_later_signed(self, label: str, timepoint_index: int) -> None:
        """Refuse a change at ``label`` that would alter a later signed response."""
        later = self._later_signed(timepoint_index)
        if later:
            raise TimepointSigned(
                f"timepoint {later[0].label} is signed and its response depends on "
                f"{label}; amend {later[0].label} with a reason first"
            )

    def _label(self, timepoint_index: int) -> str:
        return self._timepoint(timepoint_index).label

    def _lesion(self, lesion_id: str) -> Lesion:
        lesion = find_lesion(self._read, lesion_id)
        if lesion is None:
            raise MrecistError(f"the read has no lesion {lesion_id}")
        return lesion

    def _ensure_lesion_unlocked(self, lesion_id: str) -> None:
        for observation in self._read.observations:
            if observation.lesion_id == lesion_id:
                self._draft_timepoint(observation.timepoint_index)


# ---------------------------------------------------------------------- helpers
def _problems_of(read: Read, profile: ProtocolProfile) -> tuple[Problem, ...]:
    """Return the read's problems and, after them, every status still missing."""
    problems = validate_read(read, profile)
    listed = {(p.lesion_id, p.timepoint_index) for p in problems}
    missing = (
        m.problem()
        for tp in sorted(read.timepoints, key=_tp_index)
        for m in missing_at(read, tp.index)
        if (m.lesion_id, m.timepoint_index) not in listed
    )
    return (*problems, *missing)


def _tp_index(timepoint: Timepoint) -> int:
    return timepoint.index


def _describe_obs(lesion: Lesion, observation: Observation) -> str:
    parts = [str(observation.status)]
    if observation.diameter is not None and lesion.lesion_type is not (
        LesionType.NON_TARGET
    ):
        parts.append(f"{format_mm(observation.diameter)} mm")
    if observation.method is not None:
        parts.append(str(observation.method))
    if observation.sop_instance_uid:
        parts.append(f"SOP {observation.sop_instance_uid}")
    evidence = observation.evidence
    if evidence is not None:
        if evidence.whole_diameter is not None:
            parts.append(f"whole {format_mm(evidence.whole_diameter)} mm")
        if evidence.perpendicular is not None:
            parts.append(f"perpendicular {format_mm(evidence.perpendicular)} mm")
        if evidence.checks:
            parts.append("checks: " + "; ".join(evidence.checks))
    return " ".join(parts)


def _same_key_image(marked: tuple[KeyImage, ...], key: KeyImage) -> KeyImage | None:
    """Return the marked key image of the same lesion, timepoint and image, if any."""
    for found in marked:
        if (
            found.lesion_id == key.lesion_id
            and found.timepoint_index == key.timepoint_index
            and found.sop_instance_uid == key.sop_instance_uid
        ):
            return found
    return None


def describe_key_image(key: KeyImage) -> str:
    """Describe a key image for the audit trail: the image's place and UIDs."""
    return (
        f"image {key.slice_index + 1} series {key.series_instance_uid} "
        f"SOP {key.sop_instance_uid}"
    )


def describe_roi(roi: KeptRoi) -> str:
    """Describe a kept ROI for the audit trail: label, shape, image and statistics."""
    stats = roi.stats
    values = ", ".join(
        f"{name} {value:.1f}"
        for name, value in (
            ("mean", stats.mean),
            ("sd", stats.sd),
            ("min", stats.minimum),
            ("max", stats.maximum),
        )
        if value is not None
    )
    unit = f" {stats.unit}" if stats.unit else ""
    return (
        f"ROI {roi.label} ({roi.shape}) SOP {roi.sop_instance_uid}: {values}{unit}; "
        f"area {stats.area_mm2:.1f} mm2, {stats.pixel_count} pixels"
    )


def _describe_read(read: Read) -> str:
    statuses = ", ".join(f"{tp.label} {tp.read_status}" for tp in read.timepoints)
    return (
        f"{read.key.read_type} read by {read.key.reader_id}, profile "
        f"{read.protocol_profile}; {len(read.lesions)} lesions, "
        f"{len(read.observations)} observations; {statuses or 'no timepoints'}"
    )


def _describe_timepoint(timepoint: Timepoint) -> str:
    text = f"index {timepoint.index}, study day {timepoint.study_day}"
    if timepoint.scan_date is not None:
        text += f", scan date {timepoint.scan_date.isoformat()}"
    return text


def _describe_lesion(lesion: Lesion) -> str:
    return f"{lesion.lesion_type} {lesion.organ} {lesion.location}".strip()


def _describe_changes(before: Read, after: Read) -> tuple[str, str]:
    """Return what differs from ``before`` to ``after``, as old and new audit text.

    Each changed timepoint, lesion and observation is named once on both sides, e.g.
    ``T1 at FU1: measured 23.4 mm manual`` -> ``T1 at FU1: measured 16.0 mm manual``.
    """
    changes = [
        *_timepoint_changes(before, after),
        *_lesion_changes(before, after),
        *_observation_changes(before, after),
    ]
    if not changes:
        return "no change", "no change"
    return "; ".join(c[0] for c in changes), "; ".join(c[1] for c in changes)


def _timepoint_changes(before: Read, after: Read) -> list[tuple[str, str]]:
    changes = []
    for index in sorted({tp.index for tp in (*before.timepoints, *after.timepoints)}):
        old, new = before.timepoint(index), after.timepoint(index)
        if old != new:
            name = _timepoint_label(index, before, after)
            changes.append(_change(name, old, new, _describe_timepoint))
    return changes


def _lesion_changes(before: Read, after: Read) -> list[tuple[str, str]]:
    changes = []
    for lesion_id in _lesion_order(before, after):
        old, new = find_lesion(before, lesion_id), find_lesion(after, lesion_id)
        if old != new:
            changes.append(_change(lesion_id, old, new, _describe_lesion))
    return changes


def _observation_changes(before: Read, after: Read) -> list[tuple[str, str]]:
    order = {lesion_id: i for i, lesion_id in enumerate(_lesion_order(before, after))}
    keys = sorted(
        {
            (o.timepoint_index, o.lesion_id)
            for o in (*before.observations, *after.observations)
        },
        key=lambda key: (key[0], order[key[1]]),
    )
    changes = []
    for index, lesion_id in keys:
        old = before.observation(lesion_id, index)
        new = after.observation(lesion_id, index)
        lesion = find_lesion(after, lesion_id) or find_lesion(before, lesion_id)
        if old != new and lesion is not None:
            name = f"{lesion_id} at {_timepoint_label(index, before, after)}"
            changes.append(_change(name, old, new, partial(_describe_obs, lesion)))
    return changes


_Part = TypeVar("_Part", Timepoint, Lesion, Observation)


def _change(
    name: str, old: _Part | None, new: _Part | None, describe: Callable[[_Part], str]
) -> tuple[str, str]:
    """Return ``name: old`` and ``name: new``, adding the changed fields not described."""
    texts = [describe(part) if part is not None else "none" for part in (old, new)]
    if old is not None and new is not None and texts[0] == texts[1]:
        changed = [
            f.name for f in fields(old) if getattr(old, f.name) != getattr(new, f.name)
        ]
        texts = [
            text + "".join(f", {n} {_field_text(getattr(part, n))}" for n in changed)
            for text, part in zip(texts, (old, new), strict=True)
        ]
    return f"{name}: {texts[0]}", f"{name}: {texts[1]}"


def _field_text(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Caliper):
        return f"{value.p1_mm}-{value.p2_mm}"
    return str(value)


def _timepoint_label(index: int, before: Read, after: Read) -> str:
    timepoint = after.timepoint(index) or before.timepoint(index)
    return timepoint.label if timepoint is not None else f"timepoint {index}"


def _lesion_order(before: Read, after: Read) -> list[str]:
    ids = [lesion.lesion_id for lesion in (*before.lesions, *after.lesions)]
    ids += [o.lesion_id for o in (*before.observations, *after.observations)]
    return list(dict.fromkeys(ids))
