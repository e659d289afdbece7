"""Subject pseudonyms are keyed per database and cannot be reversed (issue 21, item 6)."""

import hashlib
from dataclasses import replace
from pathlib import Path

from mrecist_reader.cli import main
from mrecist_reader.core.model import ReadType
from mrecist_reader.core.pseudonym import keyed_pseudonym, legacy_pseudonym
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.storage.samples import sample_read

HOSPITAL_NUMBER = "1234567"
ACTOR = Actor("R1", "alice")


def read_of(subject_id: str):
    read = sample_read()
    return replace(read, key=replace(read.key, subject_id=subject_id))


def test_a_hospital_number_cannot_be_recovered_from_an_exported_pseudonym(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    # What the image scanner names a subject without a trial subject ID.
    with ReadRepository(db) as repository:
        repository.save(
            read_of(legacy_pseudonym(HOSPITAL_NUMBER)),
            [AuditEntry("create_read", "read")],
            actor=ACTOR,
        )
        secret = repository.pseudonym_key().hex()
    assert main(["export", "--db", db, "-o", str(tmp_path / "out")]) == 0
    exported = "".join(
        p.read_text(encoding="utf-8") for p in sorted((tmp_path / "out").iterdir())
    )
    assert legacy_pseudonym(HOSPITAL_NUMBER) not in exported
    assert secret not in exported
    # The attack: hash every 7-digit number the unkeyed way; none names the subject.
    candidates = (str(n) for n in range(1_230_000, 1_240_000))
    digests = {hashlib.sha256(c.encode()).hexdigest()[:8] for c in candidates}
    names = {f"patient-{d}" for d in digests}
    assert not any(name in exported for name in names)


def test_the_same_patient_has_different_pseudonyms_in_two_databases(tmp_path: Path):
    keys = []
    for name in ("a.db", "b.db"):
        with ReadRepository(f"sqlite:///{tmp_path / name}") as repository:
            keys.append(repository.pseudonym_key())
    assert keys[0] != keys[1]
    assert len(keys[0]) == 32
    assert keyed_pseudonym(HOSPITAL_NUMBER, keys[0]) != keyed_pseudonym(
        HOSPITAL_NUMBER, keys[1]
    )


def test_a_subject_keeps_its_read_from_one_scan_to_the_next(db_url: str) -> None:
    unkeyed = legacy_pseudonym(HOSPITAL_NUMBER)
    with ReadRepository(db_url) as repository:
        repository.save(
            read_of(unkeyed), [AuditEntry("create_read", "read")], actor=ACTOR
        )
        stored = repository.load(
            read_of(unkeyed).key, viewer=Viewer("R1", ReadType.LOCAL)
        )
        key = repository.pseudonym_key()
        assert repository.integrity_problems() == ()
    assert stored is not None
    assert stored.key.subject_id == keyed_pseudonym(HOSPITAL_NUMBER, key)


def test_a_trial_subject_id_is_kept(db_url: str) -> None:
    with ReadRepository(db_url) as repository:
        repository.save(read_of("S01"), [], actor=ACTOR)
        assert [r.key.subject_id for r in repository.all_reads()] == ["S01"]
