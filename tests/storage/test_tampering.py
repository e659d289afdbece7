"""Data edited outside the application is caught by verification (issue 21, item 1).

Each test is one class of attack, on SQLite and PostgreSQL: the reads are edited, the
trail is wiped, truncated, extended or re-forged with correct hashes. An earlier
``audit_head`` (what an export hands to the sponsor) catches what only an anchor can.
"""

from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from mrecist_reader.core.integrity import AuditHead
from mrecist_reader.core.model import ReadStatus, ReadType
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.errors import DatabaseTampered
from mrecist_reader.storage.repository import ReadRepository
from mrecist_reader.storage.trail import seal_reads_without_history
from tests.storage.samples import sample_read

ACTOR = Actor("R1", "alice")
REF = "NCT06779461/S01/R1/local"


@pytest.fixture
def url(shared_db_url: str) -> str:
    """Return a database with one read saved twice (FU1 re-measured)."""
    read = sample_read()
    with ReadRepository(shared_db_url) as repository:
        repository.save(read, [AuditEntry("create_read", "read")], actor=ACTOR)
        observations = tuple(
            replace(obs, comment="re-measured") if obs.timepoint_index == 1 else obs
            for obs in read.observations
        )
        repository.save(
            replace(read, observations=observations),
            [AuditEntry("comment", "FU1 T1", "tiny", "re-measured")],
            actor=ACTOR,
        )
    return shared_db_url


def tamper(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def problems(url: str, since: AuditHead | None = None) -> tuple[str, ...]:
    with ReadRepository(url) as repository:
        return repository.integrity_problems(since=since)


def head(url: str) -> AuditHead:
    with ReadRepository(url) as repository:
        return repository.audit_head()


def test_an_untouched_database_verifies(url):
    assert problems(url) == ()
    assert problems(url, since=head(url)) == ()


def test_a_signed_diameter_edited_with_sql_fails_verify(url):
    tamper(
        url, "UPDATE observations SET diameter_tenths = 999 WHERE diameter_tenths = 452"
    )
    assert problems(url) == (
        f"read {REF}: timepoint BASELINE (index 0) was changed outside the "
        "application (it no longer matches audit entry 2)",
    )


def test_a_signed_timepoint_set_back_to_draft_fails_verify(url):
    tamper(
        url,
        "UPDATE timepoints SET read_status = 'draft', signed_at = NULL "
        "WHERE read_status = 'signed'",
    )
    assert "timepoint BASELINE (index 0) was changed" in problems(url)[0]


def test_a_lesion_relocated_with_sql_fails_verify(url):
    tamper(url, "UPDATE lesions SET location = 'segment II' WHERE lesion_id = 'T1'")
    assert problems(url) == (
        f"read {REF}: its lesions, criteria or profile were changed outside the "
        "application (it no longer matches audit entry 2)",
    )


def test_a_timepoint_deleted_with_sql_fails_verify(url):
    tamper(
        url,
        "DELETE FROM observations WHERE timepoint_pk IN "
        "(SELECT id FROM timepoints WHERE label = 'FU1')",
        "DELETE FROM timepoints WHERE label = 'FU1'",
    )
    assert "timepoint FU1 (index 1) was removed" in problems(url)[0]


def test_a_timepoint_deleted_leaving_its_observations_fails_verify(tmp_path):
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    with ReadRepository(url) as repository:
        repository.save(sample_read(), [AuditEntry("create_read", "read")], actor=ACTOR)
    tamper(url, "DELETE FROM timepoints WHERE label = 'FU1'")  # foreign keys off
    (problem,) = problems(url)
    assert problem.startswith(f"read {REF}: its rows are inconsistent")


def test_wiping_every_audit_entry_and_the_head_fails_verify(url):
    tamper(url, "DELETE FROM audit_events", "DELETE FROM audit_head")
    assert problems(url) == (
        f"read {REF}: has no history in the audit trail (written outside the "
        "application, or its audit entries were deleted)",
    )


def test_a_read_deleted_with_sql_fails_verify(url):
    tamper(url, "DELETE FROM reads")
    assert problems(url) == (
        f"read {REF}: in the audit trail (entry 2) but no longer in the database: "
        "deleted outside the application",
    )


def test_deleting_the_last_entry_and_rewinding_the_head_fails_verify(url):
    tamper(
        url,
        "DELETE FROM audit_events WHERE id = 2",
        "UPDATE audit_head SET last_event_id = 1, "
        "last_hash = (SELECT hash FROM audit_events WHERE id = 1)",
    )
    assert problems(url) == (
        f"read {REF}: timepoint FU1 (index 1) was changed outside the application "
        "(it no longer matches audit entry 1)",
    )


def test_a_back_dated_entry_appended_with_a_correct_hash_fails_verify(url):
    with ReadRepository(url) as repository:
        repository.save(sample_read(), [AuditEntry("note", "read")], actor=ACTOR)
    tamper(
        url,
        "UPDATE audit_events SET at_utc = '2020-01-01T00:00:00.000000Z' WHERE id = 3",
    )
    # The forger recomputes entry 3's hash and the head: only the date order tells.
    engine = create_engine(url)
    from mrecist_reader.storage.audit import entry_hash, hashed_fields
    from mrecist_reader.storage.trail import audit_records

    with Session(engine) as session, session.begin():
        record = audit_records(session)[2]
        digest = entry_hash(record.prev_hash, hashed_fields(record))
        session.execute(text(f"UPDATE audit_events SET hash = '{digest}' WHERE id = 3"))
        session.execute(text(f"UPDATE audit_head SET last_hash = '{digest}'"))
    engine.dispose()
    assert problems(url) == (
        "audit entry 3: is dated 2020-01-01T00:00:00.000000Z, before the entry before "
        f"it ({audit_records_at(url, 2)}): back-dated",
    )


def audit_records_at(url: str, event_id: int) -> str:
    with ReadRepository(url) as repository:
        return repository.audit_trail()[event_id - 1].at_utc


def reforge(url: str, *edits: str) -> None:
    """Edit the data, then rebuild the whole trail with correctly computed hashes."""
    tamper(url, *edits, "DELETE FROM audit_events", "DELETE FROM audit_head")
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        seal_reads_without_history(session, Actor("R1", "mallory"), "")
    engine.dispose()


def test_a_whole_chain_reforged_with_recomputed_hashes_fails_verify_since_a_head(url):
    earlier = head(url)
    reforge(
        url, "UPDATE observations SET diameter_tenths = 999 WHERE diameter_tenths = 452"
    )
    assert problems(url) == ()  # an unkeyed chain re-forged whole: only an anchor tells
    assert problems(url, since=earlier) == (
        "the trail has 1 entries, fewer than the 2 of the earlier head: entries were "
        "removed",
    )


def test_a_trail_rewritten_to_its_length_fails_verify_since_a_head(url):
    earlier = AuditHead(1, head_after_first_save(url))
    reforge(url, "UPDATE lesions SET location = 'x' WHERE lesion_id = 'T1'")
    assert problems(url, since=earlier) == (
        "entry 1 is not the one of the earlier head (its hash differs): the trail was "
        "rewritten since",
    )


def head_after_first_save(url: str) -> str:
    with ReadRepository(url) as repository:
        return repository.audit_trail()[0].hash


def test_an_import_refuses_a_database_that_fails_verify(url):
    tamper(
        url, "UPDATE observations SET comment = 'forged' WHERE comment = 're-measured'"
    )
    other = sample_read("R2")
    with ReadRepository(url) as repository:
        with pytest.raises(DatabaseTampered, match="timepoint FU1") as refused:
            repository.import_reads([other], actor=ACTOR, source="m.csv")
        assert "nothing was written" in str(refused.value)
        assert len(repository.audit_trail()) == 2
        assert len(repository.all_reads()) == 1


def test_a_save_without_entries_still_records_the_content(url):
    with ReadRepository(url) as repository:
        read = repository.all_reads()[0]
        repository.save(
            replace(read, timepoints=(replace(read.timepoints[0]), read.timepoints[1])),
            [],
            actor=ACTOR,
        )
        assert repository.audit_trail()[-1].action == "save"
        assert repository.integrity_problems() == ()


def test_a_central_read_without_its_scan_dates_verifies(shared_db_url):
    read = sample_read("C1", ReadType.CENTRAL)
    with ReadRepository(shared_db_url) as repository:
        repository.save(read, [AuditEntry("create_read", "read")], actor=ACTOR)
        assert repository.integrity_problems() == ()
        stored = repository.all_reads()[0]
    assert stored.timepoints[0].read_status is ReadStatus.SIGNED


def test_a_subject_deleted_under_its_read_fails_verify_without_a_crash(tmp_path):
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    with ReadRepository(url) as repository:
        repository.save(sample_read(), [AuditEntry("create_read", "read")], actor=ACTOR)
    tamper(url, "DELETE FROM subjects")  # foreign keys off: the read stays, orphaned
    found = problems(url)
    assert found[0].startswith("read row 1: its study, site or subject row is missing")
    assert found[1] == (
        f"read {REF}: in the audit trail (entry 1) but no longer in the database: "
        "deleted outside the application"
    )
