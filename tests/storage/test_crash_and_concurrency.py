"""Crash safety (SIGKILL after a command) and two processes writing one SQLite file."""

import logging
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mrecist_reader.core.model import ReadKey, ReadType
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.errors import DatabaseBusy
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.storage.samples import sample_read

REPO_ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import sys
from mrecist_reader.core.model import Organ, ReadKey, ReadType
from mrecist_reader.resources import load_profile
from mrecist_reader.session import ReadSession
from mrecist_reader.storage.repository import ReadRepository

url, subject, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
repository = ReadRepository(url, busy_timeout_s=0.2, retries=8, backoff_s=0.05)
key = ReadKey("NCT06779461", subject, "R1", ReadType.LOCAL)
session = ReadSession.open(repository, key, site_id="SITE01",
                           profile=load_profile("nct06779461"))
session.add_timepoint("BASELINE", 0, study_day=0)
for number in range(1, count + 1):
    session.add_non_target(Organ.LIVER, f"nodule {number}")
    print(number, flush=True)
"""


def start_writer(url: str, subject: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, subject, str(count)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def non_targets(url: str, subject: str) -> int:
    key = ReadKey("NCT06779461", subject, "R1", ReadType.LOCAL)
    with ReadRepository(url) as repository:
        read = repository.load(key, viewer=Viewer("R1", ReadType.LOCAL))
        assert repository.verify_audit_trail() is None
    return 0 if read is None else len(read.lesions)


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.mark.slow
def test_nothing_committed_is_lost_when_the_process_is_killed(tmp_path):
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    with start_writer(url, "S01", 1000) as writer:
        assert writer.stdout is not None
        for line in writer.stdout:
            if int(line) == 5:
                writer.send_signal(
                    signal.SIGKILL
                )  # right after the 5th command returned
                break
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    assert integrity(tmp_path / "reads.db") == "ok"
    assert 5 <= non_targets(url, "S01") <= 6


@pytest.mark.slow
def test_two_processes_write_one_database_without_corruption(tmp_path):
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    ReadRepository(url).close()  # create the schema first, as the application would
    writers = [start_writer(url, subject, 10) for subject in ("S01", "S02")]
    for writer in writers:
        with writer:
            _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    assert integrity(tmp_path / "reads.db") == "ok"
    assert (non_targets(url, "S01"), non_targets(url, "S02")) == (10, 10)


def hold_write_lock(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("BEGIN IMMEDIATE")
    return connection


def test_a_busy_database_is_retried_then_reported_clearly(tmp_path, caplog):
    path = tmp_path / "reads.db"
    repository = ReadRepository(
        f"sqlite:///{path}", busy_timeout_s=0.05, retries=2, backoff_s=0.01
    )
    locker = hold_write_lock(path)
    with (
        caplog.at_level(logging.WARNING, logger="mrecist_reader"),
        pytest.raises(DatabaseBusy, match=r"the reads database is busy.*3 attempts"),
    ):
        # An import gives up (a reader's save waits: test_save_during_import.py).
        repository.import_reads([sample_read()], actor=Actor("R1", "a"), source="m")
    locker.rollback()
    locker.close()
    assert caplog.messages.count("database busy, retrying in 0.0 s") == 2
    repository.close()


def test_a_save_succeeds_once_the_other_writer_lets_go(tmp_path):
    path = tmp_path / "reads.db"
    repository = ReadRepository(
        f"sqlite:///{path}", busy_timeout_s=0.05, retries=6, backoff_s=0.05
    )
    locker = hold_write_lock(path)
    threading.Timer(0.3, locker.rollback).start()
    read = sample_read()
    repository.save(read, [AuditEntry("create_read", "read")], actor=Actor("R1", "a"))
    assert repository.load(read.key, viewer=Viewer("R1", ReadType.LOCAL)) == read
    repository.close()
    locker.close()
