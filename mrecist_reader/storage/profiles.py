"""The protocol profile each read is assessed with, kept in the database (schema 7).

A read's responses depend on its profile. Keeping only the profile's name (or, before,
the path of a file) let an edit of a file outside the database change a signed
timepoint's best response with no audit entry, and moving the file broke every export
(issue 21, item 3). So the exact TOML text a read is assessed with is stored once in
``protocol_profiles`` (keyed by its SHA-256) and linked to the read in
``read_profiles``; responses are computed from that text, and the read's content hash
includes the text's SHA-256 recomputed from the stored text (:func:`profile_digest`), so
an edit of the stored text outside the application fails verification naming the read.

Private to storage: callers use :class:`~mrecist_reader.storage.repository.ReadRepository`.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from mrecist_reader.core.errors import InvalidProfile, MrecistError
from mrecist_reader.core.protocol import ProtocolProfile, parse_profile, profile_sha256
from mrecist_reader.storage.audit import AuditEntry
from mrecist_reader.storage.tables import ProtocolProfileRow, ReadProfileRow, ReadRow

RECORD_PROFILE_ACTION = "record_profile"
"""The entry recording the profile a read is assessed with, the first time."""

CHANGE_PROFILE_ACTION = "change_profile"
"""The entry recording that a read is assessed with another profile text from then on."""


class StoredProfileUnusable(MrecistError):
    """A stored profile text no longer parses (it was changed outside the application)."""


def profile_digest(session: Session, read_pk: int) -> str | None:
    """Return the SHA-256 of the stored profile text of a read (``None``: none stored).

    Computed from the stored text, not taken from its key: a text edited in place
    gives another digest, and so another content hash of the read.
    """
    content = session.scalar(
        select(ProtocolProfileRow.content)
        .join(
            ReadProfileRow, ReadProfileRow.profile_sha256 == ProtocolProfileRow.sha256
        )
        .where(ReadProfileRow.read_pk == read_pk)
    )
    return None if content is None else profile_sha256(content)


def stored_profile(session: Session, read_pk: int) -> ProtocolProfile | None:
    """Return the profile stored for a read, parsed (``None``: none recorded yet).

    Raises
    ------
    StoredProfileUnusable
        When the stored text no longer parses.

    """
    row = session.scalar(
        select(ProtocolProfileRow)
        .join(
            ReadProfileRow, ReadProfileRow.profile_sha256 == ProtocolProfileRow.sha256
        )
        .where(ReadProfileRow.read_pk == read_pk)
    )
    return None if row is None else parse_stored(row)


def parse_stored(row: ProtocolProfileRow) -> ProtocolProfile:
    """Parse a stored profile text (see :func:`stored_profile`)."""
    source = f"stored protocol profile {row.name} (sha256 {row.sha256[:12]})"
    try:
        return parse_profile(row.content, source=source)
    except InvalidProfile as error:
        raise StoredProfileUnusable(
            f"{error}: the database's copy was changed outside the application"
        ) from None


def profiles_named(session: Session, name: str) -> tuple[ProtocolProfile, ...]:
    """Return every stored profile text of this name, parsed (oldest key order)."""
    rows = session.scalars(
        select(ProtocolProfileRow)
        .where(ProtocolProfileRow.name == name)
        .order_by(ProtocolProfileRow.sha256)
    ).all()
    return tuple(parse_stored(row) for row in rows)


def link_profile(
    session: Session,
    row: ReadRow,
    profile: ProtocolProfile,
    *,
    reason: str = "",
    new_read: bool = False,
) -> list[AuditEntry]:
    """Store ``profile``'s text (once per SHA-256) and make it the read's profile.

    Returns the audit entries describing the change: none when the read already has
    exactly this text, ``record_profile`` the first time, ``change_profile`` (old and
    new SHA-256) when it had another. A profile without text (built in code), or
    whose text no longer describes it, is not stored. For a ``new_read`` (its row created in this transaction) no entry: the
    entry creating it names the profile and its content hash covers the text.

    Raises
    ------
    MrecistError
        When the profile's name is not the read's ``protocol_profile``.

    """
    if not profile.text:
        return []
    if profile.name != row.protocol_profile:
        raise MrecistError(
            f"the read names protocol profile {row.protocol_profile}, not "
            f"{profile.name}: its profile was not recorded"
        )
    digest = profile.sha256
    link = session.get(ReadProfileRow, row.id)
    if link is not None and link.profile_sha256 == digest:
        return []
    if not _text_describes(profile):
        return []
    if session.get(ProtocolProfileRow, digest) is None:
        session.add(
            ProtocolProfileRow(sha256=digest, name=profile.name, content=profile.text)
        )
    described = f"{profile.name} sha256 {digest}"
    if link is None:
        session.add(ReadProfileRow(read_pk=row.id, profile_sha256=digest))
        session.flush()
        if new_read:
            return []
        why = reason or "profile recorded"
        return [AuditEntry(RECORD_PROFILE_ACTION, "profile", "", described, why)]
    if link.profile_sha256 == digest:
        return []
    old = link.profile_sha256
    link.profile_sha256 = digest
    session.flush()
    why = reason or "profile changed"
    before = f"{profile.name} sha256 {old}"
    return [AuditEntry(CHANGE_PROFILE_ACTION, "profile", before, described, why)]


def _text_describes(profile: ProtocolProfile) -> bool:
    """Return whether ``profile.text`` parses to ``profile`` itself.

    A profile changed in code after parsing (``dataclasses.replace``) keeps the text
    it was parsed from, which no longer describes it: such a text is never stored.
    """
    try:
        return parse_profile(profile.text, source=profile.name) == profile
    except InvalidProfile:
        return False


def linked_digest(session: Session, read_pk: int) -> str | None:
    """Return the key of the profile linked to a read (``None``: none recorded)."""
    link = session.get(ReadProfileRow, read_pk)
    return None if link is None else link.profile_sha256


def unrecorded_reads(session: Session) -> list[ReadRow]:
    """Return the read rows that have no stored profile yet (stored before schema 7)."""
    linked = select(ReadProfileRow.read_pk)
    return list(
        session.scalars(
            select(ReadRow).where(ReadRow.id.not_in(linked)).order_by(ReadRow.id)
        ).all()
    )
