"""Database fixtures: SQLite in memory and on file, and a throwaway PostgreSQL server."""

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name))
    return Path(found[-1]) if found and Path(found[-1], "pg_ctl").exists() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the 'postgres' user then."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a private PostgreSQL server on a free loopback port; stop it at the end."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip(
            f"no PostgreSQL binaries in {PG_BIN_GLOB} (apt-get install postgresql)"
        )
    root = Path(tempfile.mkdtemp(prefix="mrecist-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
    data, port = root / "data", _free_port()
    run = lambda *argv: subprocess.run(  # noqa: E731
        _as_postgres_user([str(a) for a in argv]),
        check=True,
        capture_output=True,
        timeout=60,
    )
    run(
        bin_dir / "initdb",
        "-D",
        data,
        "-U",
        "postgres",
        "-A",
        "trust",
        "--no-sync",
        "-E",
        "UTF8",
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(
        bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", root / "log", "-w", "start"
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        run(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


_database_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """Return the URL of a new, empty database on the throwaway server."""
    import psycopg

    name = f"reads_{next(_database_numbers)}"
    dsn = postgres_server.replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"


def _url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "memory":
        return "sqlite://"
    if kind == "file":
        return f"sqlite:///{tmp_path / 'reads.db'}"
    return str(request.getfixturevalue("postgres_url"))


_POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(params=["memory", "file", _POSTGRES])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty database of each kind the application supports."""
    return _url(request.param, request, tmp_path)


@pytest.fixture(params=["file", _POSTGRES])
def shared_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty database that a second connection can also open."""
    return _url(request.param, request, tmp_path)
