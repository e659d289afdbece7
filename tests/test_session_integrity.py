"""Opening a database that fails verification is exposed to the UI (issue 21, item 1)."""

from pathlib import Path

from sqlalchemy import create_engine, text

from mrecist_reader.session import open_database, verify_database
from mrecist_reader.storage.audit import Actor, AuditEntry
from tests.storage.samples import sample_read


def test_a_database_edited_outside_the_application_is_flagged_on_opening(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    with open_database(url) as repository:
        repository.save(
            sample_read(), [AuditEntry("create_read", "read")], actor=Actor("R1", "a")
        )
        assert verify_database(repository) == ()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE timepoints SET signed_at = NULL, read_status = 'draft'")
        )
    engine.dispose()
    with open_database(url) as repository:
        (problem,) = verify_database(repository)
    assert "timepoint BASELINE (index 0) was changed outside the application" in problem


def test_a_trail_that_no_longer_extends_the_known_head_is_flagged(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    with open_database(url) as repository:
        repository.save(
            sample_read(), [AuditEntry("create_read", "read")], actor=Actor("R1", "a")
        )
        known = repository.audit_head()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
        connection.execute(text("DELETE FROM audit_head"))
    engine.dispose()
    with open_database(url) as repository:
        problems = verify_database(repository, known_head=known)
    assert any("has no history" in p for p in problems)
    assert any("fewer than the 1 of the earlier head" in p for p in problems)


def test_a_read_opened_on_an_unkeyed_pseudonym_is_stored_keyed(tmp_path: Path) -> None:
    from mrecist_reader.core.model import ReadKey, ReadType
    from mrecist_reader.core.pseudonym import legacy_pseudonym
    from mrecist_reader.resources import load_profile
    from mrecist_reader.session import ReadSession, stored_subject_id

    unkeyed = legacy_pseudonym("1234567")
    with open_database(f"sqlite:///{tmp_path / 'reads.db'}") as repository:
        key = ReadKey("NCT06779461", unkeyed, "R1", ReadType.CENTRAL)
        session = ReadSession.open(
            repository, key, site_id="", profile=load_profile("nct06779461")
        )
        shown = stored_subject_id(repository, unkeyed)
        assert session.read.key.subject_id == shown != unkeyed
        assert [r.key.subject_id for r in repository.all_reads()] == [shown]
        assert session.audit_trail()


def test_the_workstation_warns_when_the_trail_no_longer_extends_its_last_head(
    tmp_path: Path,
) -> None:
    from mrecist_reader.session import (
        known_audit_head,
        known_head_path,
        remember_audit_head,
    )

    url = f"sqlite:///{tmp_path / 'reads.db'}"
    kept = known_head_path(tmp_path / "data", url)
    assert known_audit_head(kept) is None
    with open_database(url) as repository:
        for reader in ("R1", "R2"):
            repository.save(
                sample_read(reader),
                [AuditEntry("create_read", "read")],
                actor=Actor(reader, "a"),
            )
        remember_audit_head(repository, kept)
    assert kept.stat().st_mode & 0o077 == 0
    assert "reads.db" not in str(kept)
    # Someone removes R2's read and its entry and rewinds the head: consistent, short.
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM reads WHERE reader_id = 'R2'"))
        connection.execute(text("DELETE FROM audit_events WHERE id = 2"))
        connection.execute(
            text(
                "UPDATE audit_head SET last_event_id = 1, "
                "last_hash = (SELECT hash FROM audit_events WHERE id = 1)"
            )
        )
    engine.dispose()
    with open_database(url) as repository:
        assert verify_database(repository) == ()
        (problem,) = verify_database(repository, known_head=known_audit_head(kept))
    assert "fewer than the 2 of the earlier head" in problem


def test_a_read_only_session_refuses_every_command_and_creates_nothing(
    tmp_path: Path,
) -> None:
    import pytest

    from mrecist_reader.core.model import ReadKey, ReadType
    from mrecist_reader.resources import load_profile
    from mrecist_reader.session import ReadOnlyDatabase, ReadSession

    with open_database(f"sqlite:///{tmp_path / 'reads.db'}") as repository:
        key = ReadKey("NCT06779461", "S01", "R1", ReadType.CENTRAL)
        session = ReadSession.open(
            repository,
            key,
            site_id="",
            profile=load_profile("nct06779461"),
            read_only=True,
        )
        assert session.read_only
        assert repository.all_reads() == ()
        with pytest.raises(ReadOnlyDatabase, match="read-only"):
            session.add_timepoint("BASELINE", 0, study_day=0)
        assert session.read.timepoints == ()
        assert repository.all_reads() == ()
