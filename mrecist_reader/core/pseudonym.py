"""Keyed subject pseudonyms (issue 21, item 6).

Without a trial subject ID a subject is named after its PatientID, which is often a
hospital number. An unkeyed hash of it can be reversed by hashing every possible number
(a 7-digit number in seconds), so the name stored and exported is keyed: an HMAC-SHA-256
with a random secret that each reads database creates with itself and never exports.

The keyed name is computed from the short unkeyed form (``patient-`` and 8 hex digits,
what the image scanner shows until it is given the key), so a database can re-key the
names it already holds without knowing any PatientID.
"""

import hashlib
import hmac
import re

LEGACY_PSEUDONYM = re.compile(r"patient-[0-9a-f]{8}")
"""The unkeyed form: ``patient-`` and the first 8 hex digits of SHA-256(PatientID)."""

KEY_BYTES = 32
"""Length of a database's pseudonym secret, bytes (256 bits)."""


def legacy_pseudonym(patient_id: str) -> str:
    """Return the unkeyed short form of a PatientID ('' stays '')."""
    if not patient_id:
        return ""
    return f"patient-{hashlib.sha256(patient_id.encode('utf-8')).hexdigest()[:8]}"


def rekeyed(subject_id: str, key: bytes) -> str:
    """Return the keyed name of an unkeyed pseudonym; any other subject ID unchanged."""
    if not LEGACY_PSEUDONYM.fullmatch(subject_id):
        return subject_id
    digest = hmac.new(key, subject_id.encode("ascii"), hashlib.sha256).hexdigest()
    return f"patient-k{digest[:16]}"


def keyed_pseudonym(patient_id: str, key: bytes) -> str:
    """Return the keyed subject name of a PatientID with a database's secret ``key``."""
    return rekeyed(legacy_pseudonym(patient_id), key)
