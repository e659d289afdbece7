"""The reads database's public surface: :class:`ReadRepository`.

It takes and returns ``core.model`` dataclasses only (ORM rows never leave
``storage``), uses one SQLAlchemy ``Session`` per call (one transaction), writes the
audit trail in the same transaction as the change it records, and retries briefly when
another process holds the SQLite write lock.
"""

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker

from mrecist_reader.core.adjudication import (
    AdjudicationCase,
    AdjudicationRefused,
    Assignment,
    AssignmentError,
    Role,
)
from mrecist_reader.core.endpoints import Treatment
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.field_limits import field_problem
from mrecist_reader.core.integrity import AuditHead
from mrecist_reader.core.model import Read, ReadKey, ReadType
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.pseudonym import rekeyed
from mrecist_reader.core.subject_ids import normalise_identifier
from mrecist_reader.storage.audit import (
    Actor,
    AuditEntry,
    AuditRecord,
    ChainBreak,
)
from mrecist_reader.storage.engine import (
    READS_ONLY,
    create_database_engine,
    current_revision,
    head_revision,
    is_known_revision,
    upgrade_schema,
)
from mrecist_reader.storage.errors import (
    DatabaseBusy,
    DatabaseRefused,
    DatabaseTampered,
    DatabaseUnavailable,
    ReadNotFound,
    SchemaTooNew,
    SignedReadConflict,
    ValueNotStorable,
)
from mrecist_reader.storage.importing import (
    ImportOutcome,
    ImportPlan,
    plan_conflicts,
    plan_imports,
    store_plans,
)
from mrecist_reader.storage.mapping import (
    fill_read_row,
    find_read_row,
    new_read_row,
    now_utc,
    read_key_of,
    to_read,
)
from mrecist_reader.storage.profiles import (
    link_profile,
    linked_digest,
    profiles_named,
    stored_profile,
    unrecorded_reads,
)
from mrecist_reader.storage.review import (
    AssignOutcome,
    FinalRead,
    Judge,
    Withdrawal,
    all_assignments,
    all_cases,
    all_double_reads,
    decide,
    final_reads,
    find_assignment,
    is_primary_reader,
    primary_reads,
    reopen_after_save,
    store_assignments,
    trigger,
    visible_records,
    withdraw_read,
)
from mrecist_reader.storage.secrets import pseudonym_key
from mrecist_reader.storage.tables import AuditHeadRow, ReadRow, StudyRow, SubjectRow
from mrecist_reader.storage.trail import (
    append_audit,
    audit_head,
    audit_records,
    chain_break,
    content_problems,
    read_ref,
    stored_content,
)
from mrecist_reader.storage.uids import original_uid, store_uid_pseudonyms

logger = logging.getLogger(__name__)

__all__ = [
    "AdjudicationCase",
    "AdjudicationRefused",
    "AssignOutcome",
    "Assignment",
    "AssignmentError",
    "FinalRead",
    "ImportOutcome",
    "ProfileRecording",
    "ReadRepository",
    "Viewer",
    "read_ref",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Viewer:
    """The reader looking at the database; listing and loading filter by it.

    A central reader sees only their own central reads (never local reads, never another
    central reader's read of the same subject); a local reader sees the local reads.
    """

    reader_id: str
    read_type: ReadType

    def can_see(self, key: ReadKey) -> bool:
        """Return whether this reader may see the read with ``key``."""
        if key.read_type is not self.read_type:
            return False
        return self.read_type is ReadType.LOCAL or key.reader_id == self.reader_id


class ReadRepository:
    """Reads stored in an SQLAlchemy database (SQLite by default, PostgreSQL tested).

    Parameters
    ----------
    url
        SQLAlchemy URL of the database; its schema is upgraded on opening.
    busy_timeout_s
        How long one attempt waits for another writer's lock (SQLite), seconds.
    retries
        How many more attempts follow a "database is busy" failure.
    backoff_s
        Wait before the first retry, doubled for each further one, seconds.

    """

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_s: float = 5.0,
        retries: int = 4,
        backoff_s: float = 0.2,
    ) -> None:
        self.url = url
        self._retries = retries
        self._backoff_s = backoff_s
        try:
            self._engine: Engine = create_database_engine(
                url, busy_timeout_s=busy_timeout_s
            )
            self._check_not_newer()
        except (ArgumentError, NoSuchModuleError, ValueError, ImportError) as error:
            # ImportError: a dialect whose driver is not installed (mysql://...).
            raise DatabaseUnavailable(
                f"{_shown_url(url)} is not a database URL this application can use "
                "(expected e.g. sqlite:///path/reads.db or "
                f"postgresql://user@host/dbname): {error}"
            ) from error
        except DatabaseError as error:  # OperationalError, or "file is not a database"
            reason = str(error.orig or error).strip().splitlines()[0]
            raise DatabaseUnavailable(
                f"cannot open the reads database {_shown_url(url)}: {reason}"
            ) from error
        self._with_retry(lambda: upgrade_schema(self._engine))
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self._engine.execution_options(**{READS_ONLY: True}),
            expire_on_commit=False,
        )
        self._pseudonym_key: bytes | None = None
        self.on_wait: Callable[[bool], None] | None = None
        """Called with ``True`` when a save starts waiting for another program's
        write (an import, all or nothing and so one transaction), with ``False``
        when the wait is over: the reading desk shows that it waits for the import
        meanwhile (issue 21, item 17)."""

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> "ReadRepository":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_revision(self) -> str | None:
        """Return the schema revision of the database."""
        return current_revision(self._engine)

    # ------------------------------------------------------------------ reads
    def load(self, key: ReadKey, *, viewer: Viewer) -> Read | None:
        """Return the stored read with ``key`` (``None`` when there is none).

        Raises
        ------
        ReadNotFound
            When ``viewer`` may not see that read.

        """
        stored_key = self.keyed(key)

        def load(session: Session) -> Read | None:
            if not _sees(session, viewer, stored_key):
                raise ReadNotFound(
                    f"reader {viewer.reader_id} ({viewer.read_type}) may not open the "
                    f"{key.read_type} read of subject {key.subject_id} by "
                    f"{key.reader_id}"
                )
            return self._load_in(session, stored_key)

        return self._run(load)

    def list_reads(
        self, viewer: Viewer, *, subject_ids: Iterable[str] | None = None
    ) -> tuple[ReadKey, ...]:
        """Return the keys of the reads ``viewer`` may see, sorted by study and subject.

        A primary reader of assigned subjects sees only their own reads, whatever
        the read type (central-review.md §Independence). Given ``subject_ids``, only
        the reads of those subjects (found by the database's index, so that opening a
        study costs what its subjects hold, not what the database holds).
        """
        wanted = None if subject_ids is None else tuple(subject_ids)

        def listed(session: Session) -> tuple[ReadKey, ...]:
            keys = self._all_keys(session, wanted)
            scoped = _scoped(session, viewer)
            return tuple(key for key in keys if scoped(key))

        return self._run(listed)

    def all_reads(self) -> tuple[Read, ...]:
        """Return every read (for export and audit tools, not for a reader's view)."""

        def load_all(session: Session) -> tuple[Read, ...]:
            # Read by read, the rows let go once converted: only the reads are held
            # (issue 21, item 17: every row and relationship was held at once).
            ids = session.scalars(select(ReadRow.id).order_by(ReadRow.id)).all()
            reads = []
            for pk in ids:
                reads.append(to_read(session, session.get_one(ReadRow, pk)))
                session.expunge_all()
            return tuple(sorted(reads, key=_sort_key))

        return self._run(load_all)

    def save(
        self,
        read: Read,
        entries: Sequence[AuditEntry],
        *,
        actor: Actor,
        profile: ProtocolProfile | None = None,
    ) -> None:
        """Store ``read`` (replacing its stored state) and its audit entries at once.

        An unkeyed pseudonym subject ID is stored in its keyed form (:meth:`keyed`).
        A reader's work is never refused because another program holds the write
        lock (an import): the save waits for it, telling :attr:`on_wait`.
        ``profile``: the profile the read is assessed with; its text is stored and
        linked to the read (issue 21, item 3), the first time as an audited
        ``record_profile``, a different text as an audited ``change_profile``.
        """
        read = self._keyed_read(read)

        def write(session: Session) -> None:
            found = find_read_row(session, read.key)
            row = found or new_read_row(session, read)
            fill_read_row(session, row, read)
            recorded = list(entries) or [AuditEntry("save", "read")]
            if profile is not None:
                recorded += link_profile(session, row, profile, new_read=found is None)
            content = stored_content(session, row)
            append_audit(session, actor, read_ref(read.key), recorded, content=content)
            reopen_after_save(session, read, recorded, actor=actor)  # amended cut

        self._run(write, writes=True, patient=True)
        logger.debug("saved read %s", read_ref(read.key))

    def import_reads(
        self,
        reads: Sequence[Read],
        *,
        actor: Actor,
        source: str,
        replace_reads: bool = False,
        now: datetime | None = None,
        profiles: Mapping[str, ProtocolProfile] | None = None,
    ) -> ImportOutcome:
        """Store many reads in one transaction, all or nothing.

        A read already stored is merged with the file's (what the file does not
        mention is kept) unless ``replace_reads``; every removal and change is in the
        audit trail with its old value. A read already stored unchanged is not
        written again (``ImportOutcome.unchanged``).

        Parameters
        ----------
        reads
            The file's reads.
        actor
            Who imports.
        source
            The file's name, recorded as the reason of each entry.
        replace_reads
            Replace each stored read by the file's: timepoints, lesions and
            observations the file does not mention are removed (and audited).
        now
            The current time (sign-off times after it are refused); default: now.
        profiles
            The profile of each ``protocol_profile`` name the reads use (shipped, or
            a file the user chose): its text is copied into the database and linked
            to each read, so the file may later change or go (issue 21, item 3). A
            read with a signed timepoint keeps the profile text it has.

        Raises
        ------
        SignedReadConflict
            When a read would change a timepoint already signed in the database, or
            merging would leave an impossible lock state (nothing is written); the
            message names the subject, reader and timepoint.
        DatabaseTampered
            When the database fails verification (:meth:`integrity_problems`): an
            import never extends a broken trail.

        """
        keyed = [self._keyed_read(read) for read in reads]

        def plan(session: Session) -> tuple[_HeadMark, list[ImportPlan]]:
            tampered = _integrity_problems(session, None)
            if tampered:
                raise DatabaseTampered(tuple(tampered))
            plans = plan_imports(session, keyed, replace_reads=replace_reads)
            conflicts = plan_conflicts(plans, now=now or now_utc())
            conflicts += _profile_conflicts(session, keyed, profiles or {})
            if conflicts:
                raise SignedReadConflict(tuple(conflicts))
            return _head_mark(session), plans

        # Verified and planned on a snapshot, without the write lock (issue 21, item
        # 17): the lock is held only to write, all or nothing; if anything was
        # recorded meanwhile, everything is verified and planned again under it.
        mark, planned = self._run(plan)

        def write(session: Session) -> ImportOutcome:
            plans = planned if _head_mark(session) == mark else plan(session)[1]
            link = partial(_link_imported, session, profiles or {}, source)
            outcome = store_plans(session, plans, actor=actor, source=source, link=link)
            linked = _link_unchanged(
                session, keyed, profiles or {}, actor=actor, source=source
            )
            return dataclasses.replace(outcome, profiles_recorded=linked)

        return self._run(write, writes=True)

    # ------------------------------------------------------------------ profiles
    def profile_of(self, key: ReadKey) -> ProtocolProfile | None:
        """Return the profile text stored for a read, parsed (``None``: none yet).

        Raises
        ------
        StoredProfileUnusable
            When the stored text no longer parses (changed outside the application).

        """
        stored_key = self.keyed(key)

        def load(session: Session) -> ProtocolProfile | None:
            row = find_read_row(session, stored_key)
            return None if row is None else stored_profile(session, row.id)

        return self._run(load)

    def stored_profiles(self) -> dict[ReadKey, ProtocolProfile]:
        """Return the stored profile of every read that has one (each text parsed once)."""

        def load(session: Session) -> dict[ReadKey, ProtocolProfile]:
            parsed: dict[str, ProtocolProfile | None] = {}
            found: dict[ReadKey, ProtocolProfile] = {}
            for row in session.scalars(select(ReadRow).order_by(ReadRow.id)).all():
                digest = linked_digest(session, row.id)
                if digest is None:
                    continue
                if digest not in parsed:
                    parsed[digest] = stored_profile(session, row.id)
                profile = parsed[digest]
                if profile is not None:
                    found[read_key_of(session, row)[0]] = profile
            return found

        return self._run(load)

    def profile_by_name(
        self, fallback: Callable[[str], ProtocolProfile]
    ) -> Callable[[str], ProtocolProfile]:
        """Return a lookup of profiles by name for code that has only the name.

        A name whose reads all keep the same stored text gives that text (what they
        are assessed with: issue 21, item 3); any other name ``fallback(name)``
        (the shipped profile). The stored texts are read now, so the lookup may run
        inside another transaction (the adjudication judges do); each name is looked
        up once.
        """
        texts: dict[str, set[str]] = {}
        parsed: dict[str, ProtocolProfile] = {}
        for profile in self.stored_profiles().values():
            texts.setdefault(profile.name, set()).add(profile.sha256)
            parsed[profile.name] = profile
        found: dict[str, ProtocolProfile] = {}

        def lookup(name: str) -> ProtocolProfile:
            if name not in found:
                single = len(texts.get(name, ())) == 1
                found[name] = parsed[name] if single else fallback(name)
            return found[name]

        return lookup

    def profiles_named(self, name: str) -> tuple[ProtocolProfile, ...]:
        """Return every stored profile text with this name (usually one), parsed."""
        return self._run(lambda session: profiles_named(session, name))

    def record_profiles(
        self,
        shipped: Callable[[str], ProtocolProfile | None],
        *,
        actor: Actor,
    ) -> "ProfileRecording":
        """Record the profile of every read stored without one (before schema 7).

        Each read gets the one profile text of its name already stored, else the
        shipped profile of its name (``shipped`` returns ``None`` for a name that is
        not shipped); each recording is an audited ``record_profile`` ("profile
        recorded") with the read's new content hash. Reads whose name is neither are
        left as they are and listed in :attr:`ProfileRecording.unknown`.
        """

        def write(session: Session) -> ProfileRecording:
            recorded = 0
            unknown: list[str] = []
            for row in unrecorded_reads(session):
                name = row.protocol_profile
                candidates = profiles_named(session, name)
                profile = candidates[0] if len(candidates) == 1 else shipped(name)
                ref = read_ref(read_key_of(session, row)[0])
                if profile is None or profile.name != name:
                    unknown.append(
                        f"read {ref}: its protocol profile {name!r} is neither shipped "
                        "nor stored in the database; its responses cannot be computed "
                        "until it is imported with --protocol FILE"
                    )
                    continue
                entries = link_profile(session, row, profile, reason="profile recorded")
                if entries:
                    content = stored_content(session, row)
                    append_audit(session, actor, ref, entries, content=content)
                    recorded += 1
            return ProfileRecording(recorded, tuple(unknown))

        return self._run(write, writes=True)

    # ------------------------------------------------------------------ central review
    def assign(
        self,
        assignments: Sequence[Assignment],
        *,
        actor: Actor,
        source: str,
        treatments: dict[str, tuple[Treatment, ...]] | None = None,
    ) -> AssignOutcome:
        """Store subjects' reader 1, reader 2 and adjudicator (and treatment days).

        All or nothing, each change audited (central-review.md §Roles and
        assignment). Subject and reader IDs are stored as reads store them.

        Raises
        ------
        AssignmentError
            When a subject's readers are not three distinct IDs, or a change would
            take a subject from a reader whose read has started (nothing is written).

        """
        stored = [self._stored_assignment(a) for a in assignments]
        days = {self._stored_subject(s): t for s, t in (treatments or {}).items()}

        def write(session: Session) -> AssignOutcome:
            return store_assignments(session, stored, days, actor=actor, source=source)

        return self._run(write, writes=True)

    def assignments(self) -> tuple[Assignment, ...]:
        """Return every subject's assignment, by subject ID."""
        return self._run(all_assignments)

    def assignment(self, subject_id: str) -> Assignment | None:
        """Return one subject's assignment (``None``: not assigned)."""
        stored = self._stored_subject(subject_id)
        return self._run(lambda session: find_assignment(session, stored))

    def assigned_subjects(self, reader_id: str) -> tuple[str, ...]:
        """Return the subjects ``reader_id`` reads as reader 1 or 2 (their worklist)."""
        return tuple(
            a.subject_id for a in self.assignments() if a.role_of(reader_id) is not None
        )

    def is_primary_reader(self, reader_id: str) -> bool:
        """Return whether ``reader_id`` is a primary reader of any assigned subject."""
        return self._run(lambda session: is_primary_reader(session, reader_id))

    def trigger_adjudication(
        self, judge: Judge, *, actor: Actor, subject_id: str | None = None
    ) -> tuple[AdjudicationCase, ...]:
        """Compare both primary reads of every assigned subject at its read cut.

        New cuts are recorded (concordant, or awaiting adjudication with the
        differences in words) and audited; recorded cuts stay. Returns the new cuts.
        ``subject_id``: compare that subject only (after a signature).
        """
        stored = None if subject_id is None else self._stored_subject(subject_id)

        def write(session: Session) -> tuple[AdjudicationCase, ...]:
            return tuple(trigger(session, judge, actor=actor, subject_id=stored))

        return self._run(write, writes=True)

    def adjudication_cases(
        self, *, viewer: Viewer | None = None
    ) -> tuple[AdjudicationCase, ...]:
        """Return every read cut with its outcome (adjudication.csv).

        Raises
        ------
        ReadNotFound
            When ``viewer`` is a primary reader (the cuts compare both reads).

        """

        def cases(session: Session) -> tuple[AdjudicationCase, ...]:
            if viewer is not None and is_primary_reader(session, viewer.reader_id):
                raise ReadNotFound(_NOT_FOR_PRIMARY.format(viewer.reader_id))
            return all_cases(session)

        return self._run(cases)

    def adjudication_queue(self, adjudicator: str) -> tuple[AdjudicationCase, ...]:
        """Return the cuts awaiting ``adjudicator``'s decision, by subject."""
        mine = {
            a.subject_id for a in self.assignments() if a.adjudicator == adjudicator
        }
        return tuple(
            case
            for case in self.adjudication_cases()
            if case.subject_id in mine and case.final_reader is None
        )

    def reads_to_adjudicate(
        self, subject_id: str, adjudicator: str
    ) -> tuple[Read, Read]:
        """Return reader 1's and reader 2's reads for the assigned adjudicator.

        Raises
        ------
        AdjudicationRefused
            When ``adjudicator`` is not the subject's adjudicator or the subject is
            not awaiting adjudication.

        """
        queue = {case.subject_id for case in self.adjudication_queue(adjudicator)}
        stored = self._stored_subject(subject_id)
        assignment = self.assignment(stored)
        if stored not in queue or assignment is None:
            raise AdjudicationRefused(
                f"subject {subject_id} is not awaiting adjudication by {adjudicator}"
            )

        def both(session: Session) -> tuple[Read, Read]:
            one, two = primary_reads(session, assignment)
            if one is None or two is None:  # pragma: no cover - a cut needs both
                raise AdjudicationRefused(f"subject {subject_id}: a read is missing")
            return one, two

        return self._run(both)

    def decide(
        self,
        subject_id: str,
        *,
        adjudicator: str,
        choose: Role,
        reason: str,
        rationale: str,
        actor: Actor,
    ) -> AdjudicationCase:
        """Record the adjudicator's choice for the subject's open cut (written once).

        Raises
        ------
        AdjudicationRefused
            Naming why: not the assigned adjudicator, not awaiting adjudication
            (also when decided a moment before), a reason not in the list, no
            rationale.

        """
        stored = self._stored_subject(subject_id)

        def write(session: Session) -> AdjudicationCase:
            return decide(
                session,
                stored,
                adjudicator=adjudicator,
                choose=choose,
                reason=reason,
                rationale=rationale,
                actor=actor,
            )

        return self._run(write, writes=True)

    def withdraw_read(
        self, subject_id: str, reader_id: str, *, reason: str, actor: Actor
    ) -> Withdrawal:
        """Withdraw a primary reader's read of a subject (review manager), audited.

        See :func:`mrecist_reader.storage.review.withdraw_read`: the read is kept
        under ``R02 (withdrawn 1)``, the subject's cuts are reopened.
        """
        stored = self._stored_subject(subject_id)
        reader = normalise_identifier(reader_id, field="reader_id")

        def write(session: Session) -> Withdrawal:
            return withdraw_read(session, stored, reader, reason=reason, actor=actor)

        return self._run(write, writes=True)

    def final_reads(self, *, viewer: Viewer | None = None) -> tuple[FinalRead, ...]:
        """Return each subject's final read (none while awaiting adjudication).

        Raises
        ------
        ReadNotFound
            When ``viewer`` is a primary reader.

        """

        def finals(session: Session) -> tuple[FinalRead, ...]:
            if viewer is not None and is_primary_reader(session, viewer.reader_id):
                raise ReadNotFound(_NOT_FOR_PRIMARY.format(viewer.reader_id))
            return final_reads(session)

        return self._run(finals)

    def double_reads(
        self, *, viewer: Viewer | None = None
    ) -> tuple[tuple[Assignment, Read | None, Read | None], ...]:
        """Return each assigned subject with reader 1's and reader 2's reads (metrics).

        Raises
        ------
        ReadNotFound
            When ``viewer`` is a primary reader.

        """

        def pairs(
            session: Session,
        ) -> tuple[tuple[Assignment, Read | None, Read | None], ...]:
            if viewer is not None and is_primary_reader(session, viewer.reader_id):
                raise ReadNotFound(_NOT_FOR_PRIMARY.format(viewer.reader_id))
            return all_double_reads(session)

        return self._run(pairs)

    def _stored_subject(self, subject_id: str) -> str:
        return rekeyed(
            normalise_identifier(subject_id, field="subject_id"), self.pseudonym_key()
        )

    def _stored_assignment(self, assignment: Assignment) -> Assignment:
        stored = Assignment(
            self._stored_subject(assignment.subject_id),
            *(
                normalise_identifier(reader, field=name)
                for reader, name in (
                    (assignment.reader_1, "reader_id"),
                    (assignment.reader_2, "reader_id"),
                    (assignment.adjudicator, "reader_id"),
                )
            ),
        )
        problem = stored.problem()
        if problem is not None:
            raise AssignmentError(f"subject {assignment.subject_id}: {problem}")
        return stored

    # ------------------------------------------------------------------ pseudonyms
    def pseudonym_key(self) -> bytes:
        """Return this database's pseudonym secret (never export, show or log it).

        For :func:`mrecist_reader.core.pseudonym.keyed_pseudonym`: the subject name
        of a PatientID in this database.
        """
        if self._pseudonym_key is None:
            self._pseudonym_key = self._run(pseudonym_key)
        return self._pseudonym_key

    def pseudonymous_uids(self, uids: Iterable[str]) -> dict[str, str]:
        """Return each UID's keyed ``2.25.`` pseudonym, storing the mapping (item 7).

        For a blinded export: the same UID gets the same pseudonym in every export of
        this database (another in another database), and :meth:`original_uid`
        resolves it. Empty UIDs are left out.
        """
        key = self.pseudonym_key()
        wanted = tuple(uids)
        return self._run(
            lambda session: store_uid_pseudonyms(session, key, wanted), writes=True
        )

    def original_uid(self, pseudonym: str) -> str | None:
        """Return the UID a blinded export's pseudonym stands for (``None``: unknown)."""
        return self._run(lambda session: original_uid(session, pseudonym))

    def keyed(self, key: ReadKey) -> ReadKey:
        """Return ``key`` as stored: identifiers normalised, pseudonyms keyed.

        The study, subject and reader IDs are normalised (NFC, stripped) and refused
        with a hidden character (``core.subject_ids.normalise_identifier``, item 4);
        an unkeyed pseudonym becomes its keyed form (item 6).

        Raises
        ------
        InvalidIdentifier
            When an ID holds an invisible or direction-control character.

        """
        subject_id = rekeyed(
            normalise_identifier(key.subject_id, field="subject_id"),
            self.pseudonym_key(),
        )
        stored = dataclasses.replace(
            key,
            study_id=normalise_identifier(key.study_id, field="study_id"),
            subject_id=subject_id,
            reader_id=normalise_identifier(key.reader_id, field="reader_id"),
        )
        return key if stored == key else stored

    def _keyed_read(self, read: Read) -> Read:
        problems = storable_problems(read)
        if problems:
            raise ValueNotStorable(tuple(problems))
        key = self.keyed(read.key)
        site_id = normalise_identifier(read.site_id, field="site_id")
        if key is read.key and site_id == read.site_id:
            return read
        return dataclasses.replace(read, key=key, site_id=site_id)

    # ------------------------------------------------------------------ audit
    def audit_trail(self, *, viewer: Viewer | None = None) -> tuple[AuditRecord, ...]:
        """Return the audit trail, oldest entry first.

        Given ``viewer``: only the entries about the reads that reader may see (no
        assignment, trigger or decision entries, no other reader's read); without
        it, the whole trail (verification, review managers).
        """

        def trail(session: Session) -> tuple[AuditRecord, ...]:
            records = audit_records(session)
            if viewer is None:
                return records
            scoped = _scoped(session, viewer)
            refs = {read_ref(key) for key in self._all_keys(session) if scoped(key)}
            return visible_records(records, refs)

        return self._run(trail)

    def verify_audit_trail(self) -> ChainBreak | None:
        """Return the first entry where the hash chain breaks, or ``None`` if intact."""
        return self._run(chain_break)

    def audit_head(self) -> AuditHead:
        """Return the end of the trail (entry count, last hash) for ``audit_head.txt``."""
        return self._run(audit_head)

    def integrity_problems(self, *, since: AuditHead | None = None) -> tuple[str, ...]:
        """Return every sign that the database was changed outside the application.

        The hash chain's first break, every read whose content no longer matches its
        last audit entry (naming the read and the timepoint), reads without history,
        reads deleted outside the application and, given ``since`` (an earlier
        ``audit_head.txt``), a trail that no longer extends that head. Empty: intact.
        """

        def verify(session: Session) -> tuple[str, ...]:
            return tuple(_integrity_problems(session, since))

        return self._run(verify)

    # ------------------------------------------------------------------ plumbing
    def _check_not_newer(self) -> None:
        stored = self._with_retry(lambda: current_revision(self._engine))
        if stored is not None and not is_known_revision(stored):
            raise SchemaTooNew(
                f"the reads database has schema revision {stored}, which this version "
                f"of mrecist_reader does not know (newest: {head_revision()}); "
                "update the application"
            )

    @staticmethod
    def _load_in(session: Session, key: ReadKey) -> Read | None:
        row = find_read_row(session, key)
        return None if row is None else to_read(session, row)

    @staticmethod
    def _all_keys(
        session: Session, subject_ids: Sequence[str] | None = None
    ) -> tuple[ReadKey, ...]:
        """Return the keys of every read (of ``subject_ids``), in one query per batch."""
        statement = (
            select(
                StudyRow.study_id,
                SubjectRow.subject_id,
                ReadRow.reader_id,
                ReadRow.read_type,
            )
            .join(SubjectRow, ReadRow.subject_pk == SubjectRow.id)
            .join(StudyRow, SubjectRow.study_pk == StudyRow.id)
            .order_by(ReadRow.id)
        )
        batches = (
            [statement]
            if subject_ids is None
            else [
                statement.where(SubjectRow.subject_id.in_(subject_ids[n : n + 500]))
                for n in range(0, len(subject_ids), 500)
            ]
        )
        keys = [
            ReadKey(study, subject, reader, ReadType(read_type))
            for batch in batches
            for study, subject, reader, read_type in session.execute(batch)
        ]
        return tuple(
            sorted(keys, key=lambda k: (k.study_id, k.subject_id, k.reader_id))
        )

    def _run(
        self,
        work: Callable[[Session], T],
        *,
        writes: bool = False,
        patient: bool = False,
    ) -> T:
        """Run ``work`` in one transaction, retried while the database is busy.

        Work that only reads runs without the write lock (:data:`READS_ONLY`: on
        SQLite a snapshot, so listing and opening reads never wait for an import);
        a ``patient`` write waits for as long as another writer holds the lock.
        """
        sessions = self._sessions if writes else self._read_sessions

        def attempt() -> T:
            with sessions() as session, session.begin():
                if writes and self._engine.dialect.name == "postgresql":
                    session.execute(select(func.pg_advisory_xact_lock(_AUDIT_LOCK_KEY)))
                return work(session)

        try:
            return self._with_retry(attempt, patient=patient)
        except DBAPIError as error:
            # Never the statement and its parameters (they hold every row's values).
            raise self._refusal(error) from None

    def _refusal(self, error: DBAPIError) -> MrecistError:
        lines = str(error.orig or "").strip().splitlines()
        reason = lines[0] if lines else type(error).__name__
        if isinstance(error, OperationalError):
            return DatabaseUnavailable(
                f"the reads database {_shown_url(self.url)} cannot be used: {reason}"
            )
        return DatabaseRefused(
            f"the reads database refused the change ({reason}); nothing was written"
        )

    def _with_retry(self, attempt: Callable[[], T], *, patient: bool = False) -> T:
        delay = self._backoff_s
        for remaining in range(self._retries, -1, -1):
            try:
                return attempt()
            except OperationalError as error:
                if patient and _is_busy(error):
                    return self._wait_for_writer(attempt, delay)
                if not _is_busy(error) or remaining == 0:
                    if _is_busy(error):
                        raise DatabaseBusy(_busy_message(self._retries)) from error
                    raise
                logger.warning("database busy, retrying in %.1f s", delay)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_for_writer(self, attempt: Callable[[], T], delay: float) -> T:
        """Retry ``attempt`` for as long as another writer holds the lock."""
        if self.on_wait is not None:
            self.on_wait(True)
        logger.info("waiting for another program's write (an import) to finish")
        try:
            while True:
                time.sleep(min(delay, _LONGEST_WAIT_S))
                delay *= 2
                try:
                    return attempt()
                except OperationalError as error:
                    if not _is_busy(error):
                        raise
        finally:
            if self.on_wait is not None:
                self.on_wait(False)


_NOT_FOR_PRIMARY = (
    "reader {} is a primary reader of assigned subjects: the read cuts and final "
    "reads compare both readers' reads and are not shown to a primary reader"
)


@dataclass(frozen=True, slots=True)
class ProfileRecording:
    """What :meth:`ReadRepository.record_profiles` did.

    ``recorded``: how many reads got their profile; ``unknown``: one message per read
    whose profile is neither shipped nor stored.
    """

    recorded: int
    unknown: tuple[str, ...]


_HeadMark = tuple[int, str] | None
"""The audit trail's last entry (id, hash): every change to a read appends to it."""


def _head_mark(session: Session) -> _HeadMark:
    head = session.get(AuditHeadRow, 1)
    return None if head is None else (head.last_event_id, head.last_hash)


def _profile_conflicts(
    session: Session, reads: Sequence[Read], profiles: Mapping[str, ProtocolProfile]
) -> list[str]:
    """Name each signed read whose stored profile text an import would replace."""
    conflicts: list[str] = []
    for read in reads:
        profile = profiles.get(read.protocol_profile)
        row = find_read_row(session, read.key)
        if profile is None or row is None or not profile.text:
            continue
        digest = linked_digest(session, row.id)
        signed = any(tp.read_status == "signed" for tp in row.timepoints)
        if digest is not None and digest != profile.sha256 and signed:
            conflicts.append(
                f"subject {read.key.subject_id}, reader {read.key.reader_id}: the read "
                f"has signed timepoints assessed with another text of protocol profile "
                f"{profile.name} (sha256 {digest[:12]}, the file's {profile.sha256[:12]}"
                "); a signed read keeps the profile it was signed with"
            )
    return conflicts


def _link_unchanged(
    session: Session,
    reads: Sequence[Read],
    profiles: Mapping[str, ProtocolProfile],
    *,
    actor: Actor,
    source: str,
) -> int:
    """Link the file's profile text to reads the import left unchanged (audited).

    A read stored before schema 7, or a draft read given another text of its
    profile, gets it with its own entry and content hash; reads just written were
    linked with their import entry (nothing more happens to them here). Returns how
    many reads got a profile text this way.
    """
    linked = 0
    for read in reads:
        row = find_read_row(session, read.key)
        profile = profiles.get(read.protocol_profile)
        if row is None or profile is None:
            continue
        entries = link_profile(session, row, profile, reason=f"imported from {source}")
        if entries:
            content = stored_content(session, row)
            append_audit(session, actor, read_ref(read.key), entries, content=content)
            linked += 1
    return linked


def _link_imported(
    session: Session,
    profiles: Mapping[str, ProtocolProfile],
    source: str,
    row: ReadRow,
    *,
    new_read: bool,
) -> list[AuditEntry]:
    """Copy an imported read's profile text in and link it (its audit entries)."""
    profile = profiles.get(row.protocol_profile)
    if profile is None:
        return []
    why = f"imported from {source}"
    return link_profile(session, row, profile, reason=why, new_read=new_read)


def _scoped(session: Session, viewer: Viewer) -> Callable[[ReadKey], bool]:
    """Return the visibility test of ``viewer`` (central-review.md §Independence).

    A primary reader of assigned subjects sees only their own reads, of any type;
    anyone else as :meth:`Viewer.can_see` says.
    """
    if is_primary_reader(session, viewer.reader_id):
        return lambda key: (
            key.reader_id == viewer.reader_id and key.read_type is viewer.read_type
        )
    return viewer.can_see


def _sees(session: Session, viewer: Viewer, key: ReadKey) -> bool:
    return viewer.can_see(key) and _scoped(session, viewer)(key)


def _shown_url(url: str) -> str:
    """Return the URL fit for a message: its password, if any, is masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return repr(url)


_LONGEST_WAIT_S = 1.0
"""Longest pause between a waiting save's attempts, seconds (each attempt also waits
the busy timeout for the lock)."""

_AUDIT_LOCK_KEY = (
    0x6D524543  # "mREC": serialises writers so the audit chain stays linear
)


def _busy_message(retries: int) -> str:
    return (
        f"the reads database is busy: another program kept it locked through "
        f"{retries + 1} attempts; try again in a moment"
    )


def _is_busy(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "database is locked" in text or "database is busy" in text


def _sort_key(read: Read) -> tuple[str, str, str, str]:
    key = read.key
    return (key.study_id, key.subject_id, str(key.read_type), key.reader_id)


def _integrity_problems(session: Session, since: AuditHead | None) -> list[str]:
    broken = chain_break(session)
    problems = [] if broken is None else [str(broken)]
    problems += content_problems(session)
    if since is not None:
        problems += _anchor_problems(audit_records(session), since)
    return problems


def _anchor_problems(records: Sequence[AuditRecord], since: AuditHead) -> list[str]:
    """Say how the trail fails to extend an earlier head (truncated or re-forged)."""
    if since.entries == 0:
        return []
    if len(records) < since.entries:
        return [
            f"the trail has {len(records)} entries, fewer than the {since.entries} of "
            "the earlier head: entries were removed"
        ]
    if records[since.entries - 1].hash != since.head_hash:
        return [
            f"entry {since.entries} is not the one of the earlier head (its hash "
            "differs): the trail was rewritten since"
        ]
    return []


def storable_problems(read: Read) -> list[str]:
    """Name every value of ``read`` the database cannot hold (too long, NUL)."""
    where = f"subject {read.key.subject_id[:64]!r}"
    fields: list[tuple[str, str, str]] = [
        (where, "study_id", read.key.study_id),
        (where, "subject_id", read.key.subject_id),
        (where, "reader_id", read.key.reader_id),
        (where, "site_id", read.site_id),
        (where, "protocol_profile", read.protocol_profile),
    ]
    fields += [(where, "timepoint", tp.label) for tp in read.timepoints]
    for lesion in read.lesions:
        fields += [(where, "lesion_id", lesion.lesion_id)]
        fields += [(f"{where} {lesion.lesion_id[:32]}", "location", lesion.location)]
    for obs in read.observations:
        at = f"{where} {obs.lesion_id[:32]} at timepoint {obs.timepoint_index}"
        fields += [
            (at, "series_instance_uid", obs.series_instance_uid),
            (at, "sop_instance_uid", obs.sop_instance_uid),
            (at, "comment", obs.comment),
        ]
    return [
        f"{place}: {problem}"
        for place, name, value in fields
        if (problem := field_problem(name, value)) is not None
    ]
