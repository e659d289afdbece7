"""Writing and checking the audit trail inside a transaction (private to storage).

Every write that changes a read appends its entries here, the last one carrying the
read's content hashes after the change (:mod:`mrecist_reader.core.integrity`), so that
:func:`integrity_problems` can tell a read changed outside the application from one
changed through it.
"""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from mrecist_reader.core.integrity import (
    AuditHead,
    ContentHashes,
    content_differences,
    content_hashes,
)
from mrecist_reader.core.model import ReadKey
from mrecist_reader.storage.audit import (
    GENESIS_HASH,
    Actor,
    AuditEntry,
    AuditRecord,
    ChainBreak,
    entry_hash,
    find_chain_break,
)
from mrecist_reader.storage.mapping import now_utc, read_key_of, to_read
from mrecist_reader.storage.profiles import profile_digest
from mrecist_reader.storage.tables import AuditHeadRow, AuditRow, ReadRow

RENAME_ACTION = "rename_read"
"""The entry recording that a read is named differently from then on (new_value)."""


def read_ref(key: ReadKey) -> str:
    """Return the text naming a read in the audit trail and in messages."""
    return f"{key.study_id}/{key.subject_id}/{key.reader_id}/{key.read_type}"


def stored_content(session: Session, row: ReadRow) -> ContentHashes:
    """Return the content hashes of a read row as it is in the database now.

    They include the SHA-256 of its stored profile text once one is recorded
    (:func:`~mrecist_reader.storage.profiles.profile_digest`).
    """
    session.flush()
    digest = profile_digest(session, row.id)
    return content_hashes(to_read(session, row), profile_digest=digest)


def append_audit(
    session: Session,
    actor: Actor,
    ref: str,
    entries: Sequence[AuditEntry],
    *,
    content: ContentHashes | None = None,
) -> None:
    """Append entries to the chain; the last one records ``content`` when given."""
    head = session.get(AuditHeadRow, 1)
    last_id, prev_hash = (
        (head.last_event_id, head.last_hash) if head else (0, GENESIS_HASH)
    )
    at_utc = now_utc().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    last_at = session.scalar(select(AuditRow.at_utc).where(AuditRow.id == last_id))
    at_utc = max(at_utc, last_at or "")  # never before the last entry (clock steps)
    for number, entry in enumerate(entries, start=1):
        last_id += 1
        fields: dict[str, object] = {
            "id": last_id,
            "at_utc": at_utc,
            "reader_id": actor.reader_id,
            "os_user": actor.os_user,
            "read_ref": ref,
            "action": entry.action,
            "target": entry.target,
            "old_value": entry.old_value,
            "new_value": entry.new_value,
            "reason": entry.reason,
        }
        if content is not None and number == len(entries):
            fields["content"] = content.to_text()
        digest = entry_hash(prev_hash, fields)
        values = {k: v for k, v in fields.items() if k != "id"}
        session.add(AuditRow(id=last_id, prev_hash=prev_hash, hash=digest, **values))
        prev_hash = digest
    if head is None:
        head = AuditHeadRow(id=1, last_event_id=0, last_hash=GENESIS_HASH)
        session.add(head)
    head.last_event_id, head.last_hash = last_id, prev_hash
    session.flush()


def audit_records(session: Session) -> tuple[AuditRecord, ...]:
    """Return the whole trail, oldest entry first."""
    rows = session.scalars(select(AuditRow).order_by(AuditRow.id)).all()
    return tuple(
        AuditRecord(
            event_id=row.id,
            at_utc=row.at_utc,
            reader_id=row.reader_id,
            os_user=row.os_user,
            read_ref=row.read_ref,
            action=row.action,
            target=row.target,
            old_value=row.old_value,
            new_value=row.new_value,
            reason=row.reason,
            prev_hash=row.prev_hash,
            hash=row.hash,
            content=row.content or "",
        )
        for row in rows
    )


def chain_break(session: Session) -> ChainBreak | None:
    """Return the first entry where the hash chain breaks, or ``None``."""
    head_row = session.get(AuditHeadRow, 1)
    head = (head_row.last_event_id, head_row.last_hash) if head_row else None
    return find_chain_break(audit_records(session), head)


def audit_head(session: Session) -> AuditHead:
    """Return the trail's end: entry count and the last entry's hash."""
    records = audit_records(session)
    return AuditHead(len(records), records[-1].hash if records else GENESIS_HASH)


def recorded_contents(records: Sequence[AuditRecord]) -> dict[str, tuple[int, str]]:
    """Return, per read, the last entry (id, content text) that recorded its content."""
    latest: dict[str, tuple[int, str]] = {}
    for record in records:
        if record.action == RENAME_ACTION:  # the read lives on under new_value
            latest.pop(record.read_ref, None)
        if record.content:
            latest[record.read_ref] = (record.event_id, record.content)
    return latest


def content_problems(session: Session) -> list[str]:
    """Name every read whose content does not match its last audit entry.

    A read without any entry recording its content was written outside the
    application (or its history was deleted); a read named by the trail but missing
    from the database was deleted outside it.
    """
    latest = recorded_contents(audit_records(session))
    problems: list[str] = []
    seen: set[str] = set()
    # Read by read: a row and what it loads are let go before the next (holding every
    # row took 200 MB at 10 x the trial; issue 21, item 17).
    for pk in session.scalars(select(ReadRow.id).order_by(ReadRow.id)).all():
        row = session.get_one(ReadRow, pk)
        try:
            ref = read_ref(read_key_of(session, row)[0])
        except (NoResultFound, LookupError, ValueError) as error:
            problems.append(
                f"read row {row.id}: its study, site or subject row is missing or "
                f"invalid ({type(error).__name__}): changed outside the application"
            )
            continue
        seen.add(ref)
        try:
            now = stored_content(session, row)
        except (LookupError, ValueError, TypeError) as error:
            # Rows no client of the application can write (e.g. an observation of a
            # timepoint deleted with foreign keys off, a status token edited).
            problems.append(
                f"read {ref}: its rows are inconsistent ({type(error).__name__}: "
                f"{error}): changed outside the application"
            )
            continue
        problems += _read_problems(ref, latest.get(ref), now)
    problems += [
        f"read {ref}: in the audit trail (entry {event_id}) but no longer in the "
        "database: deleted outside the application"
        for ref, (event_id, _text) in sorted(latest.items())
        if ref not in seen
    ]
    return problems


def _read_problems(
    ref: str, recorded: tuple[int, str] | None, now: ContentHashes
) -> list[str]:
    if recorded is None:
        return [
            f"read {ref}: has no history in the audit trail (written outside the "
            "application, or its audit entries were deleted)"
        ]
    event_id, text = recorded
    hashes = ContentHashes.from_text(text)
    if hashes is None:
        return [f"read {ref}: audit entry {event_id} holds no readable content hash"]
    return [
        f"read {ref}: {change} outside the application (it no longer matches audit "
        f"entry {event_id})"
        for change in content_differences(hashes, now)
    ]


def seal_reads_without_history(session: Session, actor: Actor, reason: str) -> int:
    """Record the content of every read that no audit entry records yet.

    For databases written before content hashes existed (schema 3's migration):
    from then on, any change outside the application is detected. Returns how many
    reads were sealed.
    """
    latest = recorded_contents(audit_records(session))
    sealed = 0
    for row in session.scalars(select(ReadRow).order_by(ReadRow.id)).all():
        ref = read_ref(read_key_of(session, row)[0])
        if ref in latest:
            continue
        entry = AuditEntry(
            "record_content", "read", "", "content hash recorded", reason
        )
        append_audit(session, actor, ref, [entry], content=stored_content(session, row))
        sealed += 1
    return sealed
