"""Keyed pseudonymous DICOM UIDs for blinded exports (issue 21, item 7).

Private to storage. Many scanners build their UIDs from the acquisition date and time
(``1.2.840.113619.2.55.3.20260105.123456``), so a blinded export carries, for each UID,
``2.25.`` and an integer: 128 bits of an HMAC-SHA-256 of the UID keyed with the
database's pseudonym secret, shaped as a version-8 (custom) UUID, as DICOM PS3.15's
confidentiality profile replaces UIDs by UUID-derived ones. The same UID gives the same
pseudonym in every export of one database and another pseudonym in another database;
without the secret the UID cannot be recovered by trying dates. Each pseudonym handed
out is stored with its UID (``uid_pseudonyms``) so the site can resolve one a sponsor
asks about; the images keep their UIDs.

A UID that already is such a pseudonym (a blinded export imported into another
database, e.g. a site's blinded file at the central database) is kept as it is: it
holds no date, and the database that made it still resolves it.
"""

import hashlib
import hmac
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from mrecist_reader.storage.tables import UidPseudonymRow

UID_ROOT = "2.25."
"""The root of UUID-derived UIDs (PS3.5 §B.2)."""

_DOMAIN = b"mrecist-reader uid pseudonym\x00"
"""Separates UID pseudonyms from subject pseudonyms made with the same secret."""

_UUID_BITS = 128
_VERSION_AND_VARIANT = (0xF << 76) | (0x3 << 62)
_PSEUDONYM_MARK = (0x8 << 76) | (0x2 << 62)
"""UUID version 8 (custom, RFC 9562) and the RFC variant (binary 10)."""

_CHUNK = 500
"""UIDs looked up per query (SQLite's limit on bound parameters)."""


def pseudonymous_uid(uid: str, key: bytes) -> str:
    """Return the keyed pseudonym of ``uid`` (``2.25.`` + at most 39 digits; '' stays '').

    The first 128 bits of HMAC-SHA-256(key, uid) with the UUID version set to 8
    (custom) and the RFC 9562 variant, written as a decimal integer.
    """
    if not uid:
        return ""
    digest = hmac.new(key, _DOMAIN + uid.encode("utf-8"), hashlib.sha256).digest()
    value = int.from_bytes(digest[:16], "big")
    value = (value & ~_VERSION_AND_VARIANT) | _PSEUDONYM_MARK
    return f"{UID_ROOT}{value}"


def is_uid_pseudonym(uid: str) -> bool:
    """Return whether ``uid`` has the form of a keyed pseudonym (a version-8 UUID UID)."""
    digits = uid.removeprefix(UID_ROOT)
    if digits == uid or not (digits.isascii() and digits.isdigit()):
        return False
    if digits != str(int(digits)):
        return False
    value = int(digits)
    return value < 1 << _UUID_BITS and value & _VERSION_AND_VARIANT == _PSEUDONYM_MARK


def store_uid_pseudonyms(
    session: Session, key: bytes, uids: Iterable[str]
) -> dict[str, str]:
    """Return each UID's pseudonym, storing the pairs not stored yet.

    '' is not a UID (left out); a UID that already is a pseudonym
    (:func:`is_uid_pseudonym`) maps to itself and is not stored.
    """
    given = {uid for uid in uids if uid}
    kept = {uid: uid for uid in given if is_uid_pseudonym(uid)}
    wanted = {uid: pseudonymous_uid(uid, key) for uid in given - set(kept)}
    ordered = sorted(wanted)
    stored: set[str] = set()
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        stored.update(
            session.scalars(
                select(UidPseudonymRow.original_uid).where(
                    UidPseudonymRow.original_uid.in_(chunk)
                )
            ).all()
        )
    session.add_all(
        UidPseudonymRow(pseudonym=pseudonym, original_uid=uid)
        for uid, pseudonym in sorted(wanted.items())
        if uid not in stored
    )
    session.flush()
    return {**wanted, **kept}


def original_uid(session: Session, pseudonym: str) -> str | None:
    """Return the UID a pseudonym stands for (``None``: not handed out by this database)."""
    row = session.get(UidPseudonymRow, pseudonym.strip())
    return None if row is None else row.original_uid
