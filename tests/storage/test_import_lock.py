"""Issue 21, item 17: a trial-size import held the SQLite write lock for 35 s.

An import is all or nothing (data-transfer.md), so it writes in one transaction; but
it verifies the database and plans every read on a snapshot first, without the write
lock, and takes the lock only to write. Whatever another program records meanwhile
is not overwritten: the import then verifies and plans again under the lock.
"""

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mrecist_reader.core.model import Read, ReadStatus, ReadType
from mrecist_reader.storage.audit import Actor
from mrecist_reader.storage.errors import SignedReadConflict
from mrecist_reader.storage.importing import ImportPlan, plan_conflicts
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.storage.samples import sample_read

VIEWER = Viewer("R1", ReadType.LOCAL)


def _with_comment(read: Read, comment: str) -> Read:
    observations = tuple(
        replace(o, comment=comment) if o.timepoint_index == 1 else o
        for o in read.observations
    )
    return replace(read, observations=observations)


def _signed(read: Read) -> Read:
    at = datetime(2026, 4, 2, 10, 0, tzinfo=UTC)
    timepoints = tuple(
        replace(tp, read_status=ReadStatus.SIGNED, signed_at=at)
        if tp.index == 1
        else tp
        for tp in read.timepoints
    )
    return replace(read, timepoints=timepoints)


def _during_planning(
    monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]
) -> list[int]:
    """Run ``action()`` once, while the import plans; return how often it planned."""
    calls: list[int] = []

    def planning(plans: list[ImportPlan], *, now: datetime) -> list[str]:
        calls.append(1)
        if len(calls) == 1:
            action()
        return plan_conflicts(plans, now=now)

    monkeypatch.setattr("mrecist_reader.storage.repository.plan_conflicts", planning)
    return calls


def test_an_import_plans_without_holding_the_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "reads.db"
    repository = ReadRepository(f"sqlite:///{path}")
    stored = sample_read()
    repository.save(stored, [], actor=Actor("R1", "alice"))
    free: list[bool] = []

    def another_writer() -> None:
        connection = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")  # fails at once if the lock is held
            free.append(True)
            connection.rollback()
        finally:
            connection.close()

    planned = _during_planning(monkeypatch, another_writer)
    incoming = _with_comment(stored, "re-measured")
    outcome = repository.import_reads([incoming], actor=Actor("R1", "a"), source="m")
    assert free == [True]
    assert planned == [1]  # nothing recorded meanwhile: planned once
    assert outcome.imported == 1
    assert repository.load(stored.key, viewer=VIEWER) == incoming
    repository.close()


def test_a_timepoint_signed_while_an_import_plans_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    repository = ReadRepository(url)
    stored = sample_read()
    repository.save(stored, [], actor=Actor("R1", "alice"))
    reader = ReadRepository(url)  # the reader's workstation, another connection

    def never_wait(waiting: bool) -> None:
        raise AssertionError("the import holds the write lock while it plans")

    reader.on_wait = never_wait

    def sign() -> None:
        reader.save(_signed(stored), [], actor=Actor("R1", "alice"))

    planned = _during_planning(monkeypatch, sign)
    incoming = _with_comment(stored, "re-measured")
    with pytest.raises(SignedReadConflict, match="is signed in the database"):
        repository.import_reads([incoming], actor=Actor("R2", "b"), source="m")
    assert planned == [1, 1]  # planned again under the lock
    assert repository.load(stored.key, viewer=VIEWER) == _signed(stored)
    reader.close()
    repository.close()
