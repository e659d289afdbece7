"""The database's pseudonym secret and the re-keying of unkeyed pseudonyms (item 6).

Private to storage. The secret is created with the database (its schema-4 migration)
and read by :meth:`ReadRepository.pseudonym_key`; it is never exported or logged.
"""

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from mrecist_reader.core.pseudonym import KEY_BYTES, LEGACY_PSEUDONYM, rekeyed
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.mapping import read_key_of
from mrecist_reader.storage.tables import DatabaseSecretRow, ReadRow, SubjectRow
from mrecist_reader.storage.trail import append_audit, read_ref, stored_content

PSEUDONYM_KEY = "pseudonym_key"


def create_pseudonym_key(session: Session) -> bytes:
    """Store a new random pseudonym secret (256 bits) and return it."""
    key = secrets.token_bytes(KEY_BYTES)
    session.add(DatabaseSecretRow(name=PSEUDONYM_KEY, value=key.hex()))
    session.flush()
    return key


def pseudonym_key(session: Session) -> bytes:
    """Return the database's pseudonym secret."""
    row = session.get(DatabaseSecretRow, PSEUDONYM_KEY)
    if row is None:  # pragma: no cover - created by the schema-4 migration
        raise LookupError("the reads database has no pseudonym secret")
    return bytes.fromhex(row.value)


def rekey_subjects(session: Session, key: bytes, actor: Actor) -> int:
    """Rename every unkeyed pseudonym to its keyed form, auditing each read's rename.

    Each read of a renamed subject gets two entries: ``rename_read`` under its old
    name (the new name as new value), then ``record_content`` under its new name with
    its content hashes, so verification follows the read across the rename.
    """
    renamed = 0
    for subject in session.scalars(select(SubjectRow)).all():
        if not LEGACY_PSEUDONYM.fullmatch(subject.subject_id):
            continue
        rows = session.scalars(
            select(ReadRow).where(ReadRow.subject_pk == subject.id)
        ).all()
        old_refs = [read_ref(read_key_of(session, row)[0]) for row in rows]
        subject.subject_id = rekeyed(subject.subject_id, key)
        session.flush()
        for old_ref, row in zip(old_refs, rows, strict=True):
            new_ref = read_ref(read_key_of(session, row)[0])
            why = "unkeyed pseudonym replaced by its keyed form (schema 4)"
            rename = AuditEntry("rename_read", "subject_id", old_ref, new_ref, why)
            append_audit(session, actor, old_ref, [rename])
            record = AuditEntry("record_content", "read", "", "content hash", why)
            content = stored_content(session, row)
            append_audit(session, actor, new_ref, [record], content=content)
        renamed += 1
    return renamed
