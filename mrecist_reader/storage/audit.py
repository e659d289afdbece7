"""The audit trail's records and its SHA-256 hash chain (21 CFR Part 11).

Each entry's hash is ``sha256(previous_hash + canonical_json(entry))``; the canonical JSON
covers every field including the entry's number, so any later edit, deletion, insertion or
reordering of entries breaks the chain at that entry.
"""

import getpass
import hashlib
import json
from dataclasses import dataclass

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry of a trail."""


def current_os_user() -> str:
    """Return the operating-system user name for the audit trail."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs changes: the reader's ID and the operating-system user."""

    reader_id: str
    os_user: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change to record: what was done, to what, old -> new value, and why."""

    action: str
    target: str
    old_value: str = ""
    new_value: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored entry of the trail, as read back (``at_utc`` is ISO 8601 UTC)."""

    event_id: int
    at_utc: str
    reader_id: str
    os_user: str
    read_ref: str
    action: str
    target: str
    old_value: str
    new_value: str
    reason: str
    prev_hash: str
    hash: str
    content: str = ""


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry where the trail's hash chain does not hold, and why."""

    event_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit entry {self.event_id}: {self.reason}"


def entry_hash(prev_hash: str, fields: dict[str, object]) -> str:
    """Return the SHA-256 hex digest chaining ``fields`` to the previous entry."""
    canonical = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def hashed_fields(record: AuditRecord) -> dict[str, object]:
    """Return the fields of a record that its hash covers.

    ``content`` (the read's content hashes after the change, schema 3) is covered when
    present; entries written before schema 3 have none and keep their hashes.
    """
    fields: dict[str, object] = {
        "id": record.event_id,
        "at_utc": record.at_utc,
        "reader_id": record.reader_id,
        "os_user": record.os_user,
        "read_ref": record.read_ref,
        "action": record.action,
        "target": record.target,
        "old_value": record.old_value,
        "new_value": record.new_value,
        "reason": record.reason,
    }
    if record.content:
        fields["content"] = record.content
    return fields


def find_chain_break(
    records: tuple[AuditRecord, ...], head: tuple[int, str] | None
) -> ChainBreak | None:
    """Return the first broken entry of a trail, or ``None`` when the chain holds.

    Parameters
    ----------
    records
        The whole trail in ``event_id`` order.
    head
        The stored (last event id, last hash), or ``None`` when none is stored.

    """
    prev_hash, prev_at = GENESIS_HASH, ""
    for expected_id, record in enumerate(records, start=1):
        if record.event_id != expected_id:
            return ChainBreak(expected_id, "missing (entries were deleted)")
        if record.prev_hash != prev_hash:
            return ChainBreak(record.event_id, "does not follow the previous entry")
        if entry_hash(prev_hash, hashed_fields(record)) != record.hash:
            return ChainBreak(record.event_id, "its content was changed after writing")
        if record.at_utc < prev_at:
            # Entries are written under the database's write lock, so in time order.
            return ChainBreak(
                record.event_id,
                f"is dated {record.at_utc}, before the entry before it ({prev_at}): "
                "back-dated",
            )
        prev_hash, prev_at = record.hash, record.at_utc
    return _check_head(records, head)


def _check_head(
    records: tuple[AuditRecord, ...], head: tuple[int, str] | None
) -> ChainBreak | None:
    last = (records[-1].event_id, records[-1].hash) if records else None
    if head == last:
        return None
    if head is None:
        return ChainBreak(last[0] if last else 0, "the trail's end marker is missing")
    last_id = last[0] if last else 0
    if head[0] > last_id:
        return ChainBreak(last_id + 1, "missing (the end of the trail was deleted)")
    if head[0] < last_id:
        return ChainBreak(head[0] + 1, "was added outside the application")
    return ChainBreak(last_id, "was rewritten after the trail was closed")
