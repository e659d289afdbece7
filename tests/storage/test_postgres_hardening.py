"""Concurrent first opening, long values and NUL never crash (issue 21, item 16)."""

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.model import Observation
from mrecist_reader.storage.audit import Actor
from mrecist_reader.storage.errors import DatabaseRefused, ValueNotStorable
from mrecist_reader.storage.repository import ReadRepository
from mrecist_reader.transfer.csv_out import write_measurements
from tests.storage.samples import sample_read

ACTOR = Actor("R1", "alice")

OPEN = (
    "import sys, time\n"
    "from mrecist_reader.storage.repository import ReadRepository\n"
    "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
    "ReadRepository(sys.argv[1]).close()\n"
)


def fresh_database(server: str, name: str) -> str:
    import psycopg

    dsn = server.replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


@pytest.mark.postgres
def test_clients_opening_a_fresh_postgres_database_at_once_all_work(postgres_server):
    for attempt in range(3):
        url = fresh_database(postgres_server, f"race_{attempt}_{time.time_ns()}")
        start = str(time.time() + 3.0)  # every client past its imports by then
        clients = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN, url, start],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        errors = [client.communicate(timeout=120)[1] for client in clients]
        assert [client.returncode for client in clients] == [0, 0, 0, 0], errors
        with ReadRepository(url) as repository:
            assert repository.integrity_problems() == ()


def test_a_long_subject_id_is_refused_before_the_database(db_url):
    read = sample_read()
    long_key = replace(read.key, subject_id="S" * 70)
    with ReadRepository(db_url) as repository:
        with pytest.raises(ValueNotStorable, match="subject_id is 70 characters long"):
            repository.save(replace(read, key=long_key), [], actor=ACTOR)
        assert repository.all_reads() == ()


def test_a_nul_in_a_comment_is_refused_before_the_database(db_url):
    read = sample_read()
    first: Observation = replace(read.observations[0], comment="bad\x00byte")
    nul = replace(read, observations=(first, *read.observations[1:]))
    with ReadRepository(db_url) as repository:
        with pytest.raises(ValueNotStorable, match=r"comment contains the NUL"):
            repository.save(nul, [], actor=ACTOR)
        assert repository.audit_trail() == ()


def test_an_import_of_long_ids_and_nul_names_file_and_line(tmp_path: Path, capsys):
    read = sample_read()
    first = replace(read.observations[0], comment="bad\x00byte")
    hostile = replace(
        read,
        key=replace(read.key, reader_id="R" * 65),
        observations=(first, *read.observations[1:]),
    )
    path = tmp_path / "m.csv"
    write_measurements(path, [hostile])
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    assert main(["import", str(path), "--db", db]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2: reader_id is 65 characters long" in err
    assert f"{path}:2: comment contains the control character U+0000" in err


@pytest.mark.postgres
def test_a_refusal_by_the_database_shows_no_sql_or_values(postgres_url, monkeypatch):
    monkeypatch.setattr(
        "mrecist_reader.storage.repository.field_problem", lambda *_: None
    )
    read = sample_read()
    secret = "S" * 70
    with (
        ReadRepository(postgres_url) as repository,
        pytest.raises(DatabaseRefused) as refused,
    ):
        repository.save(
            replace(read, key=replace(read.key, subject_id=secret)), [], actor=ACTOR
        )
    message = str(refused.value)
    assert "value too long" in message
    assert secret not in message
    assert "INSERT" not in message
    assert refused.value.__cause__ is None
