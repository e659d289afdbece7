"""Central review in the database: assignments, read cuts, decisions (private to storage).

Every function works inside the caller's transaction and writes its audit entries in
it (central-review.md: "Assignment, trigger and decision are audit-trail entries like
every other change"). The entries name ``assignment/SUBJECT`` or
``adjudication/SUBJECT`` as their ``read_ref``, so a primary reader's scoped trail
(:func:`visible_records`) never holds them.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from mrecist_reader.core.adjudication import (
    AdjudicationCase,
    AdjudicationRefused,
    Assignment,
    AssignmentError,
    CutComparison,
    CutStatus,
    Role,
    decision_problem,
)
from mrecist_reader.core.endpoints import Treatment
from mrecist_reader.core.model import Read, ReadStatus, ReadType
from mrecist_reader.core.read_edits import truncated
from mrecist_reader.storage.audit import Actor, AuditEntry, AuditRecord
from mrecist_reader.storage.mapping import now_utc, to_read
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
from mrecist_reader.storage.trail import append_audit

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
    subjects in the identity map), not a query per lesion: the metrics of a whole
    trial need every primary read at once.
    """
    for table in (StudyRow, SiteRow, SubjectRow):
        session.scalars(select(table)).all()
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
            else to_read(session, row)
            for reader in (assignment.reader_1, assignment.reader_2)
        ]
        found.append((assignment, pair[0], pair[1]))
    return tuple(found)


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
    if cut is None or (latest is not None and latest.cut_index >= cut):
        return None  # nothing newly signed by both: not compared again
    read_1, read_2 = primary_reads(session, assignment)
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
