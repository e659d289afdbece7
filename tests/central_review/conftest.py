"""Database fixtures of the storage tests (SQLite files and a throwaway PostgreSQL)."""

from tests.storage.conftest import (  # noqa: F401  (fixtures)
    db_url,
    postgres_server,
    postgres_url,
    shared_db_url,
)
