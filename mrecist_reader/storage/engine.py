"""Opening a reads database: engine, SQLite pragmas and automatic Alembic upgrades."""

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

_MIGRATION_LOCK = threading.Lock()
"""Alembic's environment is process-global (``alembic.context``): one upgrade at a time."""

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Alembic script folder, found next to this module (source, wheel or frozen bundle)."""


def alembic_config() -> Config:
    """Return an Alembic configuration pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """Return the newest schema revision the package knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError(f"no migration scripts in {MIGRATIONS_DIR}")
    return head


def is_known_revision(revision: str) -> bool:
    """Return whether this version of the package has the migration ``revision``."""
    script = ScriptDirectory.from_config(alembic_config())
    return any(r.revision == revision for r in script.walk_revisions())


READS_ONLY = "mrecist_reads_only"
"""Execution option of a transaction that only reads: on SQLite it begins deferred, so
it reads a snapshot (WAL) without waiting for, or holding, the write lock (issue 21,
item 17: a reader's list and load while an import writes)."""


def create_database_engine(url: str, *, busy_timeout_s: float = 5.0) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    Parameters
    ----------
    url
        An SQLAlchemy URL (``sqlite:///path/reads.db``, ``sqlite://``,
        ``postgresql+psycopg://...``; a plain ``postgresql://`` uses psycopg 3).
    busy_timeout_s
        How long SQLite waits for another writer's lock before reporting "busy", seconds.

    Returns
    -------
    Engine
        The engine (the schema is not touched; see :func:`upgrade_schema`).

    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    database = parsed.database or ""
    if database not in ("", ":memory:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": busy_timeout_s})
    _install_sqlite_hooks(
        engine, busy_timeout_s, is_file=database not in ("", ":memory:")
    )
    return engine


def _install_sqlite_hooks(
    engine: Engine, busy_timeout_s: float, *, is_file: bool
) -> None:
    """Set the pragmas on every connection and take the write lock at BEGIN.

    ``BEGIN IMMEDIATE`` (SQLAlchemy's pysqlite recipe) makes a writer wait for the lock
    at the start of its transaction instead of failing half-way on a lock upgrade, which
    keeps the audit chain strictly serial between processes. A connection with the
    :data:`READS_ONLY` option begins deferred instead (it never writes).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        if is_file:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        reads_only = connection.get_execution_options().get(READS_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision stored in the database (``None`` when empty)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _seal_reads_stored_before_content_hashes(session: Session) -> None:
    """Record the content of the reads stored before schema 3."""
    from mrecist_reader.storage.audit import Actor
    from mrecist_reader.storage.trail import seal_reads_without_history

    seal_reads_without_history(
        session,
        Actor("(schema upgrade)", "(schema upgrade)"),
        "schema 3: the content of reads stored before it is recorded",
    )


def _key_the_pseudonyms(session: Session) -> None:
    """Create the pseudonym key of schema 4 and re-key unkeyed subject IDs."""
    from mrecist_reader.storage.audit import Actor
    from mrecist_reader.storage.secrets import create_pseudonym_key, rekey_subjects

    key = create_pseudonym_key(session)
    rekey_subjects(session, key, Actor("(schema upgrade)", "(schema upgrade)"))


DATA_STEPS: tuple[tuple[str, Callable[[Session], None]], ...] = (
    ("0003", _seal_reads_stored_before_content_hashes),
    ("0004", _key_the_pseudonyms),
)
"""Data migrations, run in order once the schema is at its head, for each revision the
upgrade crossed (a fresh database crosses them all). They use the ORM tables, which
describe the newest schema only, so they cannot run inside their own revision."""


def _run_data_steps(connection: Connection, start: str | None) -> None:
    session = Session(bind=connection)
    for revision, step in DATA_STEPS:
        if start is None or start < revision:
            step(session)
            session.flush()
    session.close()


MIGRATION_LOCK_KEY = 0x6D524D47
"""PostgreSQL advisory lock held while the schema is upgraded ("mRMG")."""


def upgrade_schema(engine: Engine) -> None:
    """Bring the database's schema to the newest revision (a no-op when current).

    On PostgreSQL the upgrade holds an advisory lock for its transaction, so that two
    clients opening a fresh database at once upgrade it one after the other (the
    second then finds it current) instead of both creating the same tables.
    """
    config = alembic_config()
    with _MIGRATION_LOCK, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        config.attributes["connection"] = connection
        start = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(config, "head")
        _run_data_steps(connection, start)
    logger.debug("reads database schema at revision %s", head_revision())
