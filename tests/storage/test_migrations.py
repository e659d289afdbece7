"""Alembic migrations: a first-schema database upgrades; the scripts match the tables."""

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from mrecist_reader.core.model import (
    Method,
    ReadKey,
    ReadStatus,
    ReadType,
    TargetStatus,
)
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.engine import MIGRATIONS_DIR, head_revision
from mrecist_reader.storage.errors import SchemaTooNew
from mrecist_reader.storage.repository import ReadRepository, Viewer
from mrecist_reader.storage.tables import Base

V1_DB = Path(__file__).parent / "fixtures" / "reads_v1.db"
KEY = ReadKey("NCT06779461", "S01", "R1", ReadType.LOCAL)


def upgraded_copy(tmp_path: Path) -> ReadRepository:
    copy = tmp_path / "reads.db"
    shutil.copyfile(V1_DB, copy)
    return ReadRepository(f"sqlite:///{copy}")


def test_a_first_schema_database_is_upgraded_on_opening(tmp_path):
    with upgraded_copy(tmp_path) as repository:
        assert repository.schema_revision == head_revision() != "0001"


def test_the_read_of_the_first_schema_reads_back(tmp_path):
    with upgraded_copy(tmp_path) as repository:
        read = repository.load(KEY, viewer=Viewer("R1", ReadType.LOCAL))
    assert read is not None
    baseline = read.timepoints[0]
    assert (baseline.label, baseline.scan_date, baseline.read_status) == (
        "BASELINE",
        date(2026, 3, 1),
        ReadStatus.SIGNED,
    )
    assert baseline.signed_at == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    obs = read.observations[0]
    assert (obs.lesion_id, obs.status, obs.diameter, obs.method) == (
        "T1",
        TargetStatus.MEASURED,
        452,
        Method.MANUAL,
    )
    assert obs.caliper is not None
    assert obs.caliper.p1_mm == (-12.5, 40.25, -101.0)
    assert obs.series_instance_uid == "1.2.826.0.1.1"


def test_the_old_audit_trail_still_verifies_and_continues(tmp_path):
    with upgraded_copy(tmp_path) as repository:
        assert repository.verify_audit_trail() is None
        read = repository.load(KEY, viewer=Viewer("R1", ReadType.LOCAL))
        repository.save(read, [AuditEntry("note", "read")], actor=Actor("R1", "bob"))
        # 1: written by schema 1; 2: the upgrade to schema 3 records the read's content
        assert [e.event_id for e in repository.audit_trail()] == [1, 2, 3]
        assert repository.verify_audit_trail() is None
        assert repository.integrity_problems() == ()


def test_the_upgrade_records_the_content_of_reads_stored_before_it(tmp_path):
    with upgraded_copy(tmp_path) as repository:
        sealed = repository.audit_trail()[-1]
    assert (sealed.action, sealed.read_ref) == (
        "record_content",
        "NCT06779461/S01/R1/local",
    )
    assert sealed.content


def test_a_read_of_the_first_schema_edited_after_the_upgrade_fails_verify(tmp_path):
    with upgraded_copy(tmp_path) as repository:
        url = repository.url
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE observations SET diameter_tenths = 999"))
    engine.dispose()
    with ReadRepository(url) as repository:
        problems = repository.integrity_problems()
    assert problems == (
        "read NCT06779461/S01/R1/local: timepoint BASELINE (index 0) was changed "
        "outside the application (it no longer matches audit entry 2)",
    )


def test_the_migration_scripts_match_the_tables(shared_db_url):
    ReadRepository(shared_db_url).close()
    engine = create_engine(shared_db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_migrations_are_found_next_to_the_module():
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("0*.py"))[0] == (
        "0001_first_schema.py"
    )


def test_a_database_from_a_newer_version_is_refused_clearly(tmp_path):
    path = tmp_path / "reads.db"
    ReadRepository(f"sqlite:///{path}").close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(SchemaTooNew, match=r"revision 0099.*update the application"):
        ReadRepository(f"sqlite:///{path}")


def database_at(url: str, revision: str, subject_id: str = "S01") -> None:
    """Fill an empty database at an older ``revision`` with the first schema's read."""
    from alembic import command

    from mrecist_reader.storage.audit import GENESIS_HASH, entry_hash
    from mrecist_reader.storage.engine import alembic_config
    from tests.storage.fixtures.make_reads_v1 import AUDIT, ROWS

    engine = create_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        for statement in ROWS:
            connection.execute(text(statement.replace("'S01'", f"'{subject_id}'")))
        audit = {**AUDIT, "read_ref": AUDIT["read_ref"].replace("S01", subject_id)}
        digest = entry_hash(GENESIS_HASH, audit)
        columns = ", ".join([*audit, "prev_hash", "hash"])
        names = ", ".join(f":{k}" for k in [*audit, "prev_hash", "hash"])
        connection.execute(
            text(f"INSERT INTO audit_events ({columns}) VALUES ({names})"),
            {**audit, "prev_hash": GENESIS_HASH, "hash": digest},
        )
        connection.execute(
            text("INSERT INTO audit_head VALUES (1, 1, :hash)"), {"hash": digest}
        )
    engine.dispose()


def database_left_at(url: str, revision: str) -> None:
    """Bring a database to ``revision`` as the release of that schema left it.

    The data steps of a revision (sealing, re-keying) run with the newest ORM, so an
    older release's database is made by opening it at the head and downgrading.
    """
    from alembic import command

    from mrecist_reader.storage.engine import alembic_config

    ReadRepository(url).close()
    engine = create_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    engine.dispose()


def test_a_schema_2_database_gets_content_hashes_on_opening(shared_db_url):
    database_at(shared_db_url, "0002")
    with ReadRepository(shared_db_url) as repository:
        assert repository.schema_revision == head_revision()
        assert [e.action for e in repository.audit_trail()][:2] == [
            "sign",
            "record_content",
        ]
        assert repository.integrity_problems() == ()
    engine = create_engine(shared_db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE timepoints SET label = 'FU9'"))
    engine.dispose()
    with ReadRepository(shared_db_url) as repository:
        (problem,) = repository.integrity_problems()
    assert "timepoint BASELINE (index 0) was changed outside the application" in problem


def test_unkeyed_pseudonyms_are_rekeyed_on_upgrade_and_the_renames_audited(
    shared_db_url,
):
    from mrecist_reader.core.pseudonym import legacy_pseudonym, rekeyed

    unkeyed = legacy_pseudonym("1234567")
    database_at(shared_db_url, "0002", subject_id=unkeyed)
    with ReadRepository(shared_db_url) as repository:
        (read,) = repository.all_reads()
        key = repository.pseudonym_key()
        trail = repository.audit_trail()
        assert repository.integrity_problems() == ()
    assert read.key.subject_id == rekeyed(unkeyed, key) != unkeyed
    (rename,) = [e for e in trail if e.action == "rename_read"]
    assert rename.old_value == f"NCT06779461/{unkeyed}/R1/local"
    assert rename.new_value == f"NCT06779461/{read.key.subject_id}/R1/local"


def test_a_schema_4_database_gets_central_review_and_its_read_becomes_primary(
    shared_db_url,
):
    """Issue 17: today's databases (revision 0004) upgrade to assignments (0005)."""
    from mrecist_reader.core.adjudication import Assignment

    database_at(shared_db_url, "0002")
    database_left_at(shared_db_url, "0004")  # as the release of schema 4 leaves it
    with ReadRepository(shared_db_url) as repository:
        assert repository.schema_revision == head_revision() >= "0005"
        assert repository.assignments() == ()
        assert repository.integrity_problems() == ()
        repository.assign(
            [Assignment("S01", "R1", "R2", "A1")],
            actor=Actor("PM", "manager"),
            source="assignments.csv",
        )
        # the read stored before the upgrade is reader 1's: R2 sees nothing of it
        assert repository.list_reads(Viewer("R2", ReadType.LOCAL)) == ()
        assert repository.list_reads(Viewer("R1", ReadType.LOCAL)) == (KEY,)
        assert repository.verify_audit_trail() is None
        assert repository.integrity_problems() == ()


def test_a_schema_5_database_gets_uid_pseudonyms_for_its_blinded_exports(
    shared_db_url, tmp_path
):
    """Issue 21 item 7: a database of revision 0005 upgrades to the UID mapping (0006)."""
    from sqlalchemy import inspect

    from mrecist_reader.desk.export import database_reads, export_reads

    database_at(shared_db_url, "0002")
    database_left_at(shared_db_url, "0005")  # as the release of schema 5 leaves it
    engine = create_engine(shared_db_url)
    assert "uid_pseudonyms" not in inspect(engine).get_table_names()
    engine.dispose()
    with ReadRepository(shared_db_url) as repository:
        assert repository.schema_revision == head_revision() >= "0006"
        (read,) = repository.all_reads()
    originals = {
        uid
        for obs in read.observations
        for uid in (obs.series_instance_uid, obs.sop_instance_uid)
        if uid
    }
    assert originals  # the first schema's read has UIDs to hide
    export_reads(database_reads(shared_db_url), tmp_path / "out", blinded=True)
    text_out = (tmp_path / "out" / "measurements.csv").read_text(encoding="utf-8")
    assert not [uid for uid in originals if uid in text_out]
    with ReadRepository(shared_db_url) as repository:
        for uid in originals:
            (pseudonym,) = repository.pseudonymous_uids([uid]).values()
            assert pseudonym in text_out
            assert repository.original_uid(pseudonym) == uid
        assert repository.integrity_problems() == ()
