"""Schema 8 (issue 15 item 8): a schema 7 database gets the key_images table on opening.

Its reads read back unchanged and still verify; a key image then marked is stored and
read back, and the table goes again on a downgrade to 0007.
"""

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import create_engine, inspect

from mrecist_reader.core.model import KeyImage
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.engine import head_revision
from mrecist_reader.storage.repository import ReadRepository
from tests.storage.test_migrations import database_at, database_left_at


def tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_schema_7_database_gets_key_images_and_keeps_its_reads(
    shared_db_url: str,
) -> None:
    database_at(shared_db_url, "0002")
    database_left_at(shared_db_url, "0007")
    assert "key_images" not in tables(shared_db_url)
    with ReadRepository(shared_db_url) as repository:
        assert repository.schema_revision == head_revision() >= "0008"
        assert repository.integrity_problems() == ()
        (read,) = repository.all_reads()
        assert read.key_images == ()
        obs = next(o for o in read.observations if o.sop_instance_uid)
        key = KeyImage(
            timepoint_index=obs.timepoint_index,
            lesion_id=obs.lesion_id,
            series_instance_uid=obs.series_instance_uid,
            sop_instance_uid=obs.sop_instance_uid,
            slice_index=7,
            created_at=datetime(2026, 3, 1, 14, 3, 22, tzinfo=UTC),
        )
        repository.save(
            replace(read, key_images=(key,)),
            [AuditEntry("mark_key_image", obs.lesion_id, "", "image 8")],
            actor=Actor("R1", "bob"),
        )
        (back,) = repository.all_reads()
        assert back.key_images == (key,)
        assert repository.integrity_problems() == ()
    assert "key_images" in tables(shared_db_url)
    database_left_at(shared_db_url, "0007")
    assert "key_images" not in tables(shared_db_url)
