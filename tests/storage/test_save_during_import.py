"""Issue 21, item 17: a reader's save during a long import is never refused.

An import is all or nothing (data-transfer.md: ``import`` ... "all or nothing"), so it
writes in one transaction and holds the SQLite write lock for its duration. The
reader's save waits for it (telling the desk once that it waits) instead of being
refused, and listing or opening reads does not need the write lock at all. The lock
is held here by a plain connection in ``BEGIN IMMEDIATE``, as an import's
transaction holds it, and released only once the save said it was waiting: the test
cannot pass by timing.
"""

import sqlite3
import threading
from pathlib import Path

from mrecist_reader.core.model import ReadType
from mrecist_reader.desk.desk import ReaderContext, ReadingDesk
from mrecist_reader.resources import load_profile
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.storage.samples import sample_read

_GENEROUS_S = 60.0
"""A bound on waiting for the other thread, so that a broken build fails, not hangs."""


def _impatient(path: Path) -> ReadRepository:
    """Return a repository that would give up after ~0.1 s of busy lock if it could."""
    return ReadRepository(
        f"sqlite:///{path}", busy_timeout_s=0.02, retries=1, backoff_s=0.01
    )


def _import_transaction(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("BEGIN IMMEDIATE")
    return connection


def test_a_readers_save_during_a_long_import_waits_and_succeeds(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reads.db"
    repository = _impatient(path)
    waiting = threading.Event()
    told: list[bool] = []

    def on_wait(now_waiting: bool) -> None:
        told.append(now_waiting)
        waiting.set()

    repository.on_wait = on_wait
    read = sample_read()
    failures: list[BaseException] = []

    def save() -> None:
        try:
            entry = AuditEntry("create_read", "read")
            repository.save(read, [entry], actor=Actor("R1", "alice"))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failures.append(error)

    importing = _import_transaction(path)
    saver = threading.Thread(target=save)
    saver.start()
    said = waiting.wait(_GENEROUS_S)
    importing.rollback()  # the import ends (all or nothing: here, nothing)
    importing.close()
    saver.join(_GENEROUS_S)
    assert said, "the save did not say it was waiting for the import"
    assert told == [True, False]  # waiting, then no longer
    assert not saver.is_alive()
    assert failures == []
    assert repository.load(read.key, viewer=Viewer("R1", ReadType.LOCAL)) == read
    repository.close()


def test_a_save_that_never_waited_does_not_say_it_waits(tmp_path: Path) -> None:
    repository = _impatient(tmp_path / "reads.db")
    told: list[bool] = []
    repository.on_wait = told.append
    repository.save(sample_read(), [], actor=Actor("R1", "alice"))
    assert told == []
    repository.close()


def test_reads_are_listed_and_opened_while_an_import_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reads.db"
    repository = _impatient(path)
    read = sample_read()
    repository.save(read, [], actor=Actor("R1", "alice"))
    viewer = Viewer("R1", ReadType.LOCAL)
    importing = _import_transaction(path)
    importing.execute("DELETE FROM audit_head")  # uncommitted: never seen by readers
    try:
        assert repository.list_reads(viewer) == (read.key,)
        assert repository.load(read.key, viewer=viewer) == read
        assert repository.integrity_problems() == ()
    finally:
        importing.rollback()
        importing.close()
    repository.close()


def test_the_reading_desk_is_told_while_a_save_waits(tmp_path: Path) -> None:
    context = ReaderContext(
        reader_id="R1",
        read_type=ReadType.CENTRAL,
        profile=load_profile("nct06779461"),
        db_url=f"sqlite:///{tmp_path / 'reads.db'}",
    )
    desk = ReadingDesk(context)
    shown: list[bool] = []
    desk.waiting_for_writer.connect(shown.append)
    repository = desk.repository()
    assert repository.on_wait is not None
    repository.on_wait(True)
    repository.on_wait(False)
    assert shown == [True, False]
    desk.close()
