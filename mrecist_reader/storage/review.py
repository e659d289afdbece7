"""Central review in the database: assignments, read cuts, decisions (private to storage).

Every function works inside the caller's transaction and writes its audit entries in
it (central-review.md: "Assignment, trigger and decision are audit-trail entries like
every other change"). The entries name ``assignment/SUBJECT`` or
``adjudication/SUBJECT`` as their ``read_ref``, so a primary reader's scoped trail
(:func:`visible_records`) never holds them.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from mrecist_reader.core.adjudication import (
    REOPENED_PREFIX,
    AdjudicationCase,
    AdjudicationRefused,
    Assignment,
    AssignmentError,
    CutComparison,
    CutStatus,
    Role,
    decision_problem,
    withdrawal_problem,
    withdrawn_reader_id,
)
from mrecist_reader.core.endpoints import Treatment
from mrecist_reader.core.model import Criteria, Read, ReadStatus, ReadType
from mrecist_reader.core.read_edits import truncated
from mrecist_reader.storage.audit import Actor, AuditEntry, AuditRecord
from mrecist_reader.storage.mapping import (
    _to_lesion,
    _to_observation,
    _to_timepoint,
    now_utc,
    read_key_of,
    to_read,
)
from mrecist_reader.storage.tables import (
    AdjudicationRow,
    AssignmentRow,
    LesionRow,
    ObservationRow,
    ReadRow,
    SiteRow,
    StudyRow,
    SubjectRow,
    TimepointRow,
    TreatmentDayRow,
)
from mrecist_reader.storage.trail import (
    RENAME_ACTION,
    append_audit,
    read_ref,
    stored_content,
)

Judge = Callable[[Read, Read, tuple[Treatment, ...]], CutComparison | None]
"""Compares reader 1's and reader 2's reads (``core.adjudication.compare_reads``)."""

VARIABLE_SEPARATOR = "; "
"""Between the discordant variables in one text cell."""


@dataclass(frozen=True, slots=True)
class AssignOutcome:
    """What an assignment import did: subjects newly assigned, changed, unchanged."""

    created: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    treatments: int = 0


def assignment_ref(subject_id: str) -> str:
    """Return the audit trail's ``read_ref`` of a subject's assignment entries."""
    return f"assignment/{subject_id}"


def adjudication_ref(subject_id: str) -> str:
    """Return the audit trail's ``read_ref`` of a subject's trigger and decisions."""
    return f"adjudication/{subject_id}"


def _to_assignment(row: AssignmentRow) -> Assignment:
    return Assignment(row.subject_id, row.reader_1, row.reader_2, row.adjudicator)


def all_assignments(session: Session) -> tuple[Assignment, ...]:
    """Return every assignment, by subject ID."""
    rows = session.scalars(select(AssignmentRow).order_by(AssignmentRow.subject_id))
    return tuple(_to_assignment(row) for row in rows)


def find_assignment(session: Session, subject_id: str) -> Assignment | None:
    """Return a subject's assignment (``None``: not assigned)."""
    row = session.get(AssignmentRow, subject_id)
    return None if row is None else _to_assignment(row)


def is_primary_reader(session: Session, reader_id: str) -> bool:
    """Return whether ``reader_id`` is reader 1 or reader 2 of any assigned subject."""
    found = session.scalar(
        select(AssignmentRow.subject_id)
        .where(
            (AssignmentRow.reader_1 == reader_id)
            | (AssignmentRow.reader_2 == reader_id)
        )
        .limit(1)
    )
    return found is not None


def central_reader_ids(session: Session, subject_id: str) -> set[str]:
    """Return who has a central read of ``subject_id`` (a read started)."""
    rows = session.scalars(
        select(ReadRow.reader_id)
        .join(SubjectRow, SubjectRow.id == ReadRow.subject_pk)
        .where(SubjectRow.subject_id == subject_id)
        .where(ReadRow.read_type == str(ReadType.CENTRAL))
    )
    return set(rows)


def store_assignments(
    session: Session,
    assignments: Sequence[Assignment],
    treatments: Mapping[str, tuple[Treatment, ...]],
    *,
    actor: Actor,
    source: str,
) -> AssignOutcome:
    """Store assignments (and treatment days), audited, all or nothing.

    Raises
    ------
    AssignmentError
        When a change would take a subject from a reader whose read has started
        (central-review.md: refused unless that read is withdrawn); every such subject
        is named and nothing is written.

    """
    refused: list[str] = []
    created: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    for new in assignments:
        old = find_assignment(session, new.subject_id)
        if old == new:
            unchanged.append(new.subject_id)
            continue
        if old is not None:
            refused += _change_problems(session, old, new)
        (created if old is None else changed).append(new.subject_id)
        _write_assignment(session, old, new, actor=actor, source=source)
    if refused:
        raise AssignmentError("\n".join(refused) + "\nnothing was written")
    stored = sum(
        _store_treatments(session, subject, sessions, actor=actor, source=source)
        for subject, sessions in treatments.items()
    )
    return AssignOutcome(tuple(created), tuple(changed), tuple(unchanged), stored)


def _change_problems(session: Session, old: Assignment, new: Assignment) -> list[str]:
    started = central_reader_ids(session, old.subject_id)
    dropped = [
        reader
        for reader in (old.reader_1, old.reader_2)
        if reader not in (new.reader_1, new.reader_2) and reader in started
    ]
    decided = session.scalar(
        select(AdjudicationRow.id)
        .where(AdjudicationRow.subject_id == old.subject_id)
        .where(AdjudicationRow.status == str(CutStatus.ADJUDICATED))
        .limit(1)
    )
    problems = [
        f"subject {old.subject_id}: reader {reader}'s read has started; its "
        "assignment cannot change unless that read is withdrawn"
        for reader in dropped
    ]
    if decided is not None and new.adjudicator != old.adjudicator:
        problems.append(
            f"subject {old.subject_id}: adjudicator {old.adjudicator} has decided a "
            "cut; the adjudicator cannot change"
        )
    return problems


def _describe(assignment: Assignment | None) -> str:
    if assignment is None:
        return ""
    return (
        f"reader_1 {assignment.reader_1}, reader_2 {assignment.reader_2}, "
        f"adjudicator {assignment.adjudicator}"
    )


def _write_assignment(
    session: Session,
    old: Assignment | None,
    new: Assignment,
    *,
    actor: Actor,
    source: str,
) -> None:
    row = session.get(AssignmentRow, new.subject_id)
    if row is None:
        row = AssignmentRow(subject_id=new.subject_id)
        session.add(row)
    row.reader_1, row.reader_2 = new.reader_1, new.reader_2
    row.adjudicator, row.assigned_at = new.adjudicator, now_utc()
    action = "assign" if old is None else "reassign"
    entry = AuditEntry(action, new.subject_id, _describe(old), _describe(new), source)
    append_audit(session, actor, assignment_ref(new.subject_id), [entry])


def _store_treatments(
    session: Session,
    subject_id: str,
    sessions: tuple[Treatment, ...],
    *,
    actor: Actor,
    source: str,
) -> int:
    old = subject_treatments(session, subject_id)
    if old == sessions:
        return 0
    session.execute(
        delete(TreatmentDayRow).where(TreatmentDayRow.subject_id == subject_id)
    )
    session.add_all(
        TreatmentDayRow(
            subject_id=subject_id,
            session=t.session,
            study_day=t.study_day,
            treatment=t.treatment,
        )
        for t in sessions
    )
    entry = AuditEntry(
        "treatment_days", subject_id, _days(old), _days(sessions), source
    )
    append_audit(session, actor, assignment_ref(subject_id), [entry])
    return 1


def _days(sessions: tuple[Treatment, ...]) -> str:
    return ", ".join(f"{t.treatment} {t.session} day {t.study_day}" for t in sessions)


def subject_treatments(session: Session, subject_id: str) -> tuple[Treatment, ...]:
    """Return a subject's stored treatment sessions, in session order."""
    rows = session.scalars(
        select(TreatmentDayRow)
        .where(TreatmentDayRow.subject_id == subject_id)
        .order_by(TreatmentDayRow.session)
    )
    return tuple(Treatment(r.session, r.study_day, r.treatment) for r in rows)


def primary_reads(
    session: Session, assignment: Assignment
) -> tuple[Read | None, Read | None]:
    """Return reader 1's and reader 2's central reads of the subject (``None``: none)."""
    rows = session.scalars(
        select(ReadRow)
        .join(SubjectRow, SubjectRow.id == ReadRow.subject_pk)
        .where(SubjectRow.subject_id == assignment.subject_id)
        .where(ReadRow.read_type == str(ReadType.CENTRAL))
        .order_by(ReadRow.id)
    ).all()
    by_reader = {row.reader_id: row for row in rows}
    return tuple(  # type: ignore[return-value]
        None if (row := by_reader.get(reader)) is None else to_read(session, row)
        for reader in (assignment.reader_1, assignment.reader_2)
    )


def all_double_reads(
    session: Session,
) -> tuple[tuple[Assignment, Read | None, Read | None], ...]:
    """Return every assignment with reader 1's and reader 2's reads, loaded in bulk.

    The rows are loaded with a few queries (eager relationships; studies, sites and
    subjects in the identity map), not a query per read: the metrics of a whole trial
    need every primary read at once. The reads are as the assessment sees them
    (timepoints, lesions, observations): their measurement evidence and kept ROIs,
    which no metric uses, are not loaded.
    """
    _load_subject_keys(session)
    rows = session.scalars(
        select(ReadRow)
        .where(ReadRow.read_type == str(ReadType.CENTRAL))
        .options(
            selectinload(ReadRow.timepoints),
            selectinload(ReadRow.lesions)
            .selectinload(LesionRow.observations)
            .selectinload(ObservationRow.series),
        )
    ).all()
    subject_ids = {
        row.id: row.subject_id for row in session.scalars(select(SubjectRow))
    }
    by_key = {(subject_ids[row.subject_pk], row.reader_id): row for row in rows}
    found = []
    for assignment in all_assignments(session):
        pair = [
            None
            if (row := by_key.get((assignment.subject_id, reader))) is None
            else _assessed_read(session, row)
            for reader in (assignment.reader_1, assignment.reader_2)
        ]
        found.append((assignment, pair[0], pair[1]))
    return tuple(found)


def _load_subject_keys(session: Session) -> None:
    """Put every study, site and subject row in the identity map (a query each).

    A read's key is then built without a query (:func:`read_key_of`'s lookups).
    """
    for table in (StudyRow, SiteRow, SubjectRow):
        session.scalars(select(table)).all()


def _assessed_pair(
    session: Session, assignment: Assignment
) -> tuple[Read | None, Read | None]:
    """Return reader 1's and reader 2's reads as the comparison sees them (few queries)."""
    rows = session.scalars(
        select(ReadRow)
        .join(SubjectRow, SubjectRow.id == ReadRow.subject_pk)
        .where(SubjectRow.subject_id == assignment.subject_id)
        .where(ReadRow.read_type == str(ReadType.CENTRAL))
        .where(ReadRow.reader_id.in_([assignment.reader_1, assignment.reader_2]))
        .options(
            selectinload(ReadRow.timepoints),
            selectinload(ReadRow.lesions)
            .selectinload(LesionRow.observations)
            .selectinload(ObservationRow.series),
        )
    ).all()
    by_reader = {row.reader_id: _assessed_read(session, row) for row in rows}
    return by_reader.get(assignment.reader_1), by_reader.get(assignment.reader_2)


def _assessed_read(session: Session, row: ReadRow) -> Read:
    """Return a loaded read row as the assessment sees it (no query of its own).

    Like :func:`~mrecist_reader.storage.mapping.to_read` without the measurement
    evidence and kept ROIs (a query each per read).
    """
    key, site_id = read_key_of(session, row)
    index_of = {tp.id: tp.index for tp in row.timepoints}
    observations = sorted(
        (
            (index_of[obs.timepoint_pk], position, obs)
            for position, lesion in enumerate(row.lesions)
            for obs in lesion.observations
        ),
        key=lambda item: (item[0], item[1]),
    )
    lesions = {lesion.id: lesion for lesion in row.lesions}
    return Read(
        key=key,
        site_id=site_id,
        criteria=Criteria(row.criteria),
        protocol_profile=row.protocol_profile,
        timepoints=tuple(_to_timepoint(tp) for tp in row.timepoints),
        lesions=tuple(_to_lesion(lesion) for lesion in row.lesions),
        observations=tuple(
            _to_observation(lesions[obs.lesion_pk], obs, index_of, None)
            for _, _, obs in observations
        ),
    )


def _to_case(row: AdjudicationRow) -> AdjudicationCase:
    variables = row.discordant_variables
    return AdjudicationCase(
        subject_id=row.subject_id,
        cut_index=row.cut_index,
        cut=row.cut,
        reader_1=row.reader_1,
        reader_2=row.reader_2,
        status=CutStatus(row.status),
        discordant_variables=tuple(variables.split(VARIABLE_SEPARATOR))
        if variables
        else (),
        adjudicator=row.adjudicator,
        chosen_reader=row.chosen_reader,
        reason=row.reason,
        rationale=row.rationale,
        signed_at=row.decided_at,
        signed_off_at=row.signed_off_at,
    )


def all_cases(session: Session) -> tuple[AdjudicationCase, ...]:
    """Return every read cut, by subject and cut."""
    rows = session.scalars(
        select(AdjudicationRow).order_by(
            AdjudicationRow.subject_id, AdjudicationRow.cut_index
        )
    )
    return tuple(_to_case(row) for row in rows)


def latest_case(session: Session, subject_id: str) -> AdjudicationCase | None:
    """Return a subject's latest read cut (``None``: none yet)."""
    row = session.scalars(
        select(AdjudicationRow)
        .where(AdjudicationRow.subject_id == subject_id)
        .order_by(AdjudicationRow.cut_index.desc())
        .limit(1)
    ).first()
    return None if row is None else _to_case(row)


def trigger(
    session: Session, judge: Judge, *, actor: Actor, subject_id: str | None = None
) -> list[AdjudicationCase]:
    """Compare every assigned subject's two reads at its read cut; record new cuts.

    A cut already recorded stays (earlier decisions stay); a later cut is added,
    concordant or awaiting, with one ``trigger`` entry. A later cut replaces an
    earlier one still awaiting (the adjudicator decides on the newest cut). Given
    ``subject_id``, only that subject is compared (after one reader signed).
    """
    added: list[AdjudicationCase] = []
    if subject_id is None:
        assignments = all_assignments(session)
        _load_subject_keys(session)
    else:
        found = find_assignment(session, subject_id)
        assignments = () if found is None else (found,)
    for assignment in assignments:
        case = _trigger_subject(session, assignment, judge, actor=actor)
        if case is not None:
            added.append(case)
    return added


def _trigger_subject(
    session: Session, assignment: Assignment, judge: Judge, *, actor: Actor
) -> AdjudicationCase | None:
    latest = latest_case(session, assignment.subject_id)
    cut = _signed_cut(session, assignment)
    if cut is None or (latest is not None and not _compared_again(latest, cut)):
        return None  # nothing newly signed by both: not compared again
    read_1, read_2 = _assessed_pair(session, assignment)
    if read_1 is None or read_2 is None:  # pragma: no cover - a cut needs both
        return None
    treatments = subject_treatments(session, assignment.subject_id)
    comparison = judge(read_1, read_2, treatments)
    if comparison is None:  # pragma: no cover - the judge finds the same cut
        return None
    replaced = latest if latest and latest.status is CutStatus.AWAITING else None
    if replaced is not None:
        session.execute(
            delete(AdjudicationRow)
            .where(AdjudicationRow.subject_id == assignment.subject_id)
            .where(AdjudicationRow.cut_index == replaced.cut_index)
        )
    row = _cut_row(assignment, comparison)
    session.add(row)
    session.flush()
    case = _to_case(row)
    old = "" if replaced is None else f"{replaced.cut}: awaiting"
    entry = AuditEntry(
        "trigger",
        f"{assignment.subject_id} {comparison.cut}",
        old,
        f"{case.status}"
        + (f": {row.discordant_variables}" if row.discordant_variables else ""),
        "both primary readers signed the cut",
    )
    append_audit(session, actor, adjudication_ref(assignment.subject_id), [entry])
    return case


def _compared_again(latest: AdjudicationCase, cut: int) -> bool:
    """Return whether the two reads are compared again at ``cut``.

    A later cut is compared; a reopened cut once both have signed up to it again.
    """
    if latest.is_reopened:
        return cut >= latest.cut_index
    return cut > latest.cut_index


def _signed_cut(session: Session, assignment: Assignment) -> int | None:
    """Return the read cut from the timepoint rows alone (no read is loaded)."""
    rows = session.execute(
        select(ReadRow.reader_id, TimepointRow.index, TimepointRow.label)
        .join(SubjectRow, SubjectRow.id == ReadRow.subject_pk)
        .join(TimepointRow, TimepointRow.read_pk == ReadRow.id)
        .where(SubjectRow.subject_id == assignment.subject_id)
        .where(ReadRow.read_type == str(ReadType.CENTRAL))
        .where(ReadRow.reader_id.in_([assignment.reader_1, assignment.reader_2]))
        .where(TimepointRow.read_status == str(ReadStatus.SIGNED))
    ).all()
    signed = {(reader, index): label for reader, index, label in rows}
    cut: int | None = None
    index = 0
    while (label := signed.get((assignment.reader_1, index))) is not None and (
        signed.get((assignment.reader_2, index)) == label
    ):
        cut, index = index, index + 1
    return cut


def _cut_row(assignment: Assignment, comparison: CutComparison) -> AdjudicationRow:
    status = CutStatus.CONCORDANT if comparison.is_concordant else CutStatus.AWAITING
    return AdjudicationRow(
        subject_id=assignment.subject_id,
        cut_index=comparison.cut_index,
        cut=comparison.cut,
        reader_1=assignment.reader_1,
        reader_2=assignment.reader_2,
        status=str(status),
        discordant_variables=VARIABLE_SEPARATOR.join(comparison.differences),
        signed_off_at=comparison.signed_off_at,
        adjudicator="",
        chosen_reader="",
        reason="",
        rationale="",
        decided_at=None,
    )


def decide(
    session: Session,
    subject_id: str,
    *,
    adjudicator: str,
    choose: Role,
    reason: str,
    rationale: str,
    actor: Actor,
) -> AdjudicationCase:
    """Record the adjudicator's choice for the subject's open cut, once.

    Raises
    ------
    AdjudicationRefused
        When the adjudicator is not the assigned one, the subject is not awaiting
        adjudication (also: another adjudicator decided a moment before), the reason
        is not one of the list or the rationale is empty.

    """
    assignment = find_assignment(session, subject_id)
    case = latest_case(session, subject_id)
    problem = decision_problem(
        case,
        assignment,
        adjudicator,
        subject_id=subject_id,
        reason=reason,
        rationale=rationale,
    )
    if problem is not None or case is None or assignment is None:
        raise AdjudicationRefused(problem or f"subject {subject_id}: nothing to decide")
    chosen = assignment.reader(choose)
    decided_at = now_utc()
    # Only a row still awaiting takes a decision: of two adjudicators clicking at
    # once, the second finds it decided and is refused (written once).
    done = session.execute(
        update(AdjudicationRow)
        .where(AdjudicationRow.subject_id == subject_id)
        .where(AdjudicationRow.cut_index == case.cut_index)
        .where(AdjudicationRow.status == str(CutStatus.AWAITING))
        .values(
            status=str(CutStatus.ADJUDICATED),
            adjudicator=adjudicator,
            chosen_reader=chosen,
            reason=reason,
            rationale=rationale.strip(),
            decided_at=decided_at,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 1) != 1:
        raise AdjudicationRefused(
            f"subject {subject_id} is not awaiting adjudication (decided meanwhile)"
        )
    entry = AuditEntry(
        "adjudicate",
        f"{subject_id} {case.cut}",
        "awaiting",
        f"chose {choose} ({chosen})",
        f"{reason}: {rationale.strip()}",
    )
    append_audit(session, actor, adjudication_ref(subject_id), [entry])
    found = latest_case(session, subject_id)
    assert found is not None
    return found


@dataclass(frozen=True, slots=True)
class FinalRead:
    """A subject's final read: the source reader's read up to the latest resolved cut."""

    read: Read
    source_reader: str
    case: AdjudicationCase


def final_reads(session: Session) -> tuple[FinalRead, ...]:
    """Return each subject's final read (none for a subject awaiting adjudication).

    The latest resolved cut (concordant or adjudicated) decides the source reader;
    a later cut awaiting adjudication means the subject has no final read yet.
    """
    found: list[FinalRead] = []
    for assignment in all_assignments(session):
        case = latest_case(session, assignment.subject_id)
        source = None if case is None else case.final_reader
        if case is None or source is None:
            continue
        reads = dict(
            zip(
                (assignment.reader_1, assignment.reader_2),
                primary_reads(session, assignment),
                strict=True,
            )
        )
        read = reads.get(source)
        if read is not None:
            found.append(FinalRead(_up_to(read, case.cut_index), source, case))
    return tuple(found)


def _up_to(read: Read, cut_index: int) -> Read:
    return truncated(read, cut_index)


def visible_records(
    records: Iterable[AuditRecord], refs: set[str]
) -> tuple[AuditRecord, ...]:
    """Return the entries about the reads named in ``refs`` only."""
    return tuple(record for record in records if record.read_ref in refs)


def _signed_prefix(read: Read) -> int:
    """Return how many timepoints, from the baseline on, the read has signed."""
    signed = {tp.index for tp in read.timepoints if tp.read_status is ReadStatus.SIGNED}
    count = 0
    while count in signed:
        count += 1
    return count


def reopen_after_save(
    session: Session, read: Read, entries: Sequence[AuditEntry], *, actor: Actor
) -> tuple[AdjudicationCase, ...]:
    """Reopen the subject's cuts the saved primary read no longer signs (amended).

    Called in the transaction that stores ``read``: a cut at or after the first
    timepoint the read no longer has signed goes back to awaiting (reopened, audited,
    see :func:`reopen_cuts`). Not a primary read of an assigned subject: nothing.
    """
    if read.key.read_type is not ReadType.CENTRAL:
        return ()
    assignment = find_assignment(session, read.key.subject_id)
    if assignment is None or assignment.role_of(read.key.reader_id) is None:
        return ()
    first_unsigned = _signed_prefix(read)
    labels = {tp.index: tp.label for tp in read.timepoints}
    amended = next((e for e in entries if e.action == "amend"), None)
    if amended is not None:
        why = f"{read.key.reader_id} amended {amended.target}: {amended.reason}"
    else:
        label = labels.get(first_unsigned, str(first_unsigned))
        why = f"{read.key.reader_id}'s read is no longer signed at {label}"
    return reopen_cuts(
        session, read.key.subject_id, first_unsigned, why=why, actor=actor
    )


def reopen_cuts(
    session: Session, subject_id: str, from_index: int, *, why: str, actor: Actor
) -> tuple[AdjudicationCase, ...]:
    """Put the subject's cuts at or after ``from_index`` back to awaiting, audited.

    The earliest such cut becomes the subject's reopened cut (awaiting, no decision
    possible, its decision if any cleared: the audit entry keeps it); later cuts are
    removed (each audited). A cut already reopened stays so. Returns the reopened
    cut (empty: no cut was affected).
    """
    rows = session.scalars(
        select(AdjudicationRow)
        .where(AdjudicationRow.subject_id == subject_id)
        .where(AdjudicationRow.cut_index >= from_index)
        .order_by(AdjudicationRow.cut_index)
    ).all()
    if not rows:
        return ()
    kept, *removed = rows
    entries = [
        AuditEntry("remove_cut", f"{subject_id} {row.cut}", _state(row), "", why)
        for row in removed
    ]
    for row in removed:
        session.delete(row)
    if not _to_case(kept).is_reopened:
        entries.append(
            AuditEntry(
                "reopen", f"{subject_id} {kept.cut}", _state(kept), "awaiting", why
            )
        )
        kept.status = str(CutStatus.AWAITING)
        kept.discordant_variables = REOPENED_PREFIX + why.replace(
            VARIABLE_SEPARATOR, ", "
        )
        kept.signed_off_at = None
        kept.adjudicator = kept.chosen_reader = kept.reason = kept.rationale = ""
        kept.decided_at = None
    session.flush()
    if entries:
        append_audit(session, actor, adjudication_ref(subject_id), entries)
    return (_to_case(kept),)


def _state(row: AdjudicationRow) -> str:
    """Return a cut's outcome in words (the old value of a reopening's entry)."""
    text = row.status
    if row.discordant_variables:
        text += f": {row.discordant_variables}"
    if row.status == str(CutStatus.ADJUDICATED):
        text += (
            f"; {row.adjudicator} chose {row.chosen_reader} ({row.reason}: "
            f"{row.rationale})"
        )
    return text


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A withdrawn primary read: the name it is kept under and the reopened cut."""

    subject_id: str
    reader_id: str
    kept_as: str
    reopened: tuple[AdjudicationCase, ...]


def withdraw_read(
    session: Session,
    subject_id: str,
    reader_id: str,
    *,
    reason: str,
    actor: Actor,
) -> Withdrawal:
    """Withdraw a primary reader's read of a subject (the review manager), audited.

    The read is kept, renamed to ``R02 (withdrawn 1)`` (``rename_read`` under its old
    name, ``withdraw`` with its content under the new one, so verification follows
    it): no worklist, comparison, final read or export of that reader's reads finds
    it, and its subject may then be reassigned (central-review.md §Roles and
    assignment). The subject's cuts are reopened: a decision on a pair holding a
    withdrawn read no longer stands; the cut is compared again once the subject's
    readers have both signed up to it.

    Raises
    ------
    AssignmentError
        When the subject is not assigned, ``reader_id`` is not its reader 1 or 2,
        the reason is empty or the reader has no read of the subject.

    """
    assignment = find_assignment(session, subject_id)
    problem = withdrawal_problem(assignment, reader_id, reason, subject_id=subject_id)
    if problem is not None:
        raise AssignmentError(problem)
    rows = session.scalars(
        select(ReadRow)
        .join(SubjectRow, SubjectRow.id == ReadRow.subject_pk)
        .where(SubjectRow.subject_id == subject_id)
        .where(ReadRow.read_type == str(ReadType.CENTRAL))
    ).all()
    row = next((r for r in rows if r.reader_id == reader_id), None)
    if row is None:
        raise AssignmentError(
            f"{reader_id} has no read of subject {subject_id} to withdraw"
        )
    taken = {r.reader_id for r in rows}
    number = 1
    while withdrawn_reader_id(reader_id, number) in taken:
        number += 1
    kept_as = withdrawn_reader_id(reader_id, number)
    old_key = read_key_of(session, row)[0]
    row.reader_id = kept_as
    session.flush()
    new_key = replace(old_key, reader_id=kept_as)
    old_ref, new_ref = read_ref(old_key), read_ref(new_key)
    why = reason.strip()
    append_audit(
        session,
        actor,
        old_ref,
        [AuditEntry(RENAME_ACTION, "reader_id", old_ref, new_ref, f"withdrawn: {why}")],
    )
    append_audit(
        session,
        actor,
        new_ref,
        [AuditEntry("withdraw", "read", reader_id, kept_as, why)],
        content=stored_content(session, row),
    )
    entry = AuditEntry("withdraw", reader_id, old_ref, new_ref, why)
    append_audit(session, actor, assignment_ref(subject_id), [entry])
    reopened = reopen_cuts(
        session,
        subject_id,
        0,
        why=f"{reader_id}'s read withdrawn: {why}",
        actor=actor,
    )
    return Withdrawal(subject_id, reader_id, kept_as, reopened)
