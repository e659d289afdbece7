"""ReadRepository on SQLite (memory, file) and a real PostgreSQL server."""

from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from mrecist_reader.core.model import ReadStatus, ReadType
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.engine import head_revision
from mrecist_reader.storage.errors import ReadNotFound, SignedReadConflict
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.storage.samples import sample_read

ACTOR = Actor("R1", "alice")
LOCAL = Viewer("R1", ReadType.LOCAL)


@pytest.fixture
def repository(db_url: str):
    repo = ReadRepository(db_url)
    yield repo
    repo.close()


def test_a_saved_read_comes_back_equal(repository):
    read = sample_read()
    repository.save(read, [AuditEntry("create_read", "read")], actor=ACTOR)
    assert repository.load(read.key, viewer=LOCAL) == read


def test_saving_again_replaces_the_content(repository):
    read = sample_read()
    repository.save(read, [], actor=ACTOR)
    fewer = replace(read, lesions=read.lesions[:1], observations=read.observations[:1])
    repository.save(fewer, [], actor=ACTOR)
    assert repository.load(read.key, viewer=LOCAL) == fewer


def test_opening_creates_the_newest_schema(repository):
    assert repository.schema_revision == head_revision()


def test_a_missing_read_is_none(repository):
    assert repository.load(sample_read().key, viewer=LOCAL) is None


def test_central_readers_see_only_their_own_central_reads(repository):
    for read in (
        sample_read("C1", ReadType.CENTRAL),
        sample_read("C2", ReadType.CENTRAL),
        sample_read("L1", ReadType.LOCAL),
    ):
        repository.save(read, [], actor=ACTOR)
    visible = repository.list_reads(Viewer("C1", ReadType.CENTRAL))
    assert [(k.reader_id, k.read_type) for k in visible] == [("C1", ReadType.CENTRAL)]
    with pytest.raises(ReadNotFound, match="may not open the central read"):
        repository.load(
            sample_read("C2", ReadType.CENTRAL).key,
            viewer=Viewer("C1", ReadType.CENTRAL),
        )
    with pytest.raises(ReadNotFound):
        repository.load(sample_read("L1").key, viewer=Viewer("C1", ReadType.CENTRAL))


def test_central_reads_store_no_scan_date(repository):
    local_dates = sample_read()
    central = replace(
        local_dates,
        key=replace(local_dates.key, reader_id="C1", read_type=ReadType.CENTRAL),
    )
    repository.save(central, [], actor=ACTOR)
    loaded = repository.load(central.key, viewer=Viewer("C1", ReadType.CENTRAL))
    assert [tp.scan_date for tp in loaded.timepoints] == [None, None]


def test_import_is_all_or_nothing_and_never_overwrites_signed(repository):
    read = sample_read()
    repository.save(read, [], actor=ACTOR)
    t1 = read.observations[0]
    changed = replace(
        read, observations=(replace(t1, diameter=460), *read.observations[1:])
    )
    other = sample_read(subject_id="S02")
    with pytest.raises(
        SignedReadConflict,
        match=r"subject S01, reader R1 .*timepoint BASELINE is signed",
    ):
        repository.import_reads([other, changed], actor=ACTOR, source="m.csv")
    assert repository.load(other.key, viewer=LOCAL) is None
    assert repository.load(read.key, viewer=LOCAL) == read


def test_import_may_add_to_draft_timepoints_of_a_signed_read(repository):
    read = sample_read()
    repository.save(read, [], actor=ACTOR)
    obs = read.observations[2]
    more = replace(
        read,
        observations=(
            *read.observations[:2],
            replace(obs, comment="better"),
            *read.observations[3:],
        ),
    )
    repository.import_reads([more], actor=ACTOR, source="m.csv")
    assert repository.load(read.key, viewer=LOCAL) == more


def test_the_schema_refuses_bad_tokens(shared_db_url):
    with ReadRepository(shared_db_url) as repository:
        repository.save(sample_read(), [], actor=ACTOR)
    engine = create_engine(shared_db_url)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE observations SET status = 'grown'"))
    engine.dispose()


def test_the_schema_keeps_one_observation_per_lesion_and_timepoint(shared_db_url):
    with ReadRepository(shared_db_url) as repository:
        repository.save(sample_read(), [], actor=ACTOR)
    engine = create_engine(shared_db_url)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO observations (lesion_pk, timepoint_pk, status, sop_instance_uid, comment) "
                "SELECT lesion_pk, timepoint_pk, status, '', '' FROM observations LIMIT 1"
            )
        )
    engine.dispose()


def test_signed_state_round_trips_with_its_utc_time(repository):
    read = sample_read()
    repository.save(read, [], actor=ACTOR)
    baseline = repository.load(read.key, viewer=LOCAL).timepoints[0]
    assert baseline.read_status is ReadStatus.SIGNED
    assert baseline.signed_at == read.timepoints[0].signed_at
    assert baseline.signed_at.utcoffset().total_seconds() == 0


def test_the_audit_trail_is_written_with_the_change_and_verifies(repository):
    read = sample_read()
    repository.save(
        read,
        [AuditEntry("record", "FU1/T1", "absent", "too_small 5.0 mm")],
        actor=ACTOR,
    )
    repository.save(
        read, [AuditEntry("amend", "BASELINE", "signed", "draft", "typo")], actor=ACTOR
    )
    trail = repository.audit_trail()
    assert [(e.event_id, e.action) for e in trail] == [(1, "record"), (2, "amend")]
    assert trail[1].prev_hash == trail[0].hash
    assert trail[0].read_ref == "NCT06779461/S01/R1/local"
    assert repository.verify_audit_trail() is None


@pytest.mark.postgres
def test_concurrent_writers_keep_one_linear_audit_chain_on_postgres(postgres_url):
    import threading

    ReadRepository(postgres_url).close()
    errors: list[Exception] = []

    def write(subject: str) -> None:
        try:
            with ReadRepository(postgres_url) as repository:
                read = sample_read(subject_id=subject)
                for number in range(8):
                    entry = AuditEntry("note", f"step {number}")
                    repository.save(read, [entry], actor=ACTOR)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(s,)) for s in ("S01", "S02")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with ReadRepository(postgres_url) as repository:
        assert len(repository.audit_trail()) == 16
        assert repository.verify_audit_trail() is None


def test_a_sqlite_file_uses_wal_and_foreign_keys(tmp_path):
    path = tmp_path / "reads.db"
    with ReadRepository(f"sqlite:///{path}") as repository:
        repository.save(sample_read(), [], actor=ACTOR)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    engine.dispose()
    assert journal == "wal"


def test_foreign_keys_are_enforced_on_sqlite(tmp_path):
    path = tmp_path / "reads.db"
    with ReadRepository(f"sqlite:///{path}") as repository:
        repository.save(sample_read(), [], actor=ACTOR)
        with pytest.raises(IntegrityError), repository._engine.begin() as connection:
            connection.exec_driver_sql("UPDATE lesions SET read_pk = 999")


@pytest.mark.postgres
def test_a_plain_postgresql_url_uses_psycopg_3(postgres_url):
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with ReadRepository(plain) as repository:
        repository.save(sample_read(), [], actor=ACTOR)
        assert repository.load(sample_read().key, viewer=LOCAL) == sample_read()
