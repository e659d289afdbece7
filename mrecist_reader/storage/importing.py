"""Importing reads into the database: merge or replace, never silently (issue 21, 2 and 5).

Private to storage; :meth:`ReadRepository.import_reads` is the public surface.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mrecist_reader.core.import_merge import (
    as_stored,
    lock_state_problems,
    merge_read,
    read_changes,
    with_stored_evidence,
)
from mrecist_reader.core.model import Read, ReadStatus
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.mapping import (
    fill_read_row,
    find_read_row,
    new_read_row,
    to_read,
)
from mrecist_reader.storage.trail import append_audit, read_ref, stored_content


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did: reads written, reads already there unchanged, removals.

    ``profiles_recorded``: reads otherwise unchanged whose profile text the import
    recorded or changed (audited; issue 21, item 3).
    """

    imported: int
    unchanged: int
    removed: int
    profiles_recorded: int = 0


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """One read's import: the stored read (if any) and what it becomes."""

    incoming: Read
    stored: Read | None
    result: Read


def plan_imports(
    session: Session, reads: Sequence[Read], *, replace_reads: bool
) -> list[ImportPlan]:
    """Return, per read of the file, the stored read and the read the import stores."""
    plans = []
    for read in reads:
        incoming = as_stored(read)
        row = find_read_row(session, incoming.key)
        stored = None if row is None else to_read(session, row)
        if stored is None:
            result = incoming
        elif replace_reads:  # what the file cannot carry (ROIs, checks) is kept
            result = with_stored_evidence(stored, incoming)
        else:
            result = merge_read(stored, incoming)
        plans.append(ImportPlan(incoming, stored, result))
    return plans


def plan_conflicts(plans: Sequence[ImportPlan], *, now: datetime) -> list[str]:
    """Return why the plans cannot be stored (signed timepoints, lock states, labels)."""
    conflicts: list[str] = []
    for plan in plans:
        if plan.stored is None or plan.result == plan.stored:
            continue
        who = _who(plan.result)
        conflicts += _signed_conflicts(plan.stored, plan.result, who)
        conflicts += [
            f"{who}: {problem.message} once merged with the database's read"
            for problem in lock_state_problems(plan.result, now=now)
        ]
        conflicts += _label_conflicts(plan.result, who)
    return conflicts


def store_plans(
    session: Session,
    plans: Sequence[ImportPlan],
    *,
    actor: Actor,
    source: str,
    link: Callable[..., list[AuditEntry]] | None = None,
) -> ImportOutcome:
    """Write every changed read with its audit entries (removals with old values).

    ``link(row, new_read=...)`` stores the read's profile text before its content
    hash is recorded and returns the entries saying so (issue 21, item 3).
    """
    imported = unchanged = removed = 0
    for plan in plans:
        if plan.stored is not None and plan.result == plan.stored:
            unchanged += 1
            continue
        key = plan.result.key
        found = find_read_row(session, key)
        row = found or new_read_row(session, plan.result)
        fill_read_row(session, row, plan.result)
        entries = [AuditEntry("import", "read", "", _summary(plan.result), source)]
        if link is not None:
            entries += link(row, new_read=found is None)
        if plan.stored is not None:
            changes = read_changes(plan.stored, plan.result)
            removed += sum(change.action.startswith("remove_") for change in changes)
            entries += [
                AuditEntry(c.action, c.target, c.old_value, c.new_value, source)
                for c in changes
            ]
        content = stored_content(session, row)
        append_audit(session, actor, read_ref(key), entries, content=content)
        imported += 1
    return ImportOutcome(imported, unchanged, removed)


def _who(read: Read) -> str:
    key = read.key
    return f"subject {key.subject_id}, reader {key.reader_id} ({key.read_type})"


def _summary(read: Read) -> str:
    return (
        f"{len(read.timepoints)} timepoints, {len(read.lesions)} lesions, "
        f"{len(read.observations)} observations"
    )


def _signed_conflicts(stored: Read, result: Read, who: str) -> list[str]:
    return [
        f"{who}: timepoint {tp.label} is signed in the database and is not "
        "overwritten; amend it there first"
        for tp in stored.timepoints
        if tp.read_status is ReadStatus.SIGNED
        and _timepoint_content(stored, tp.index) != _timepoint_content(result, tp.index)
    ]


def _timepoint_content(read: Read, index: int) -> tuple[object, ...]:
    observations = read.observations_at(index)
    ids = {obs.lesion_id for obs in observations}
    lesions = frozenset(lesion for lesion in read.lesions if lesion.lesion_id in ids)
    return (read.timepoint(index), frozenset(observations), lesions)


def _label_conflicts(read: Read, who: str) -> list[str]:
    seen: dict[str, int] = {}
    conflicts = []
    for tp in read.timepoints:
        other = seen.setdefault(tp.label, tp.index)
        if other != tp.index:
            conflicts.append(
                f"{who}: timepoint label {tp.label} is timepoint_index {other} in the "
                f"database and {tp.index} in the file"
            )
    return conflicts
