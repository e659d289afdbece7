"""Alembic environment: runs on the connection handed over by ``storage.engine``."""

import logging

from alembic import context
from sqlalchemy import Connection, create_engine

from mrecist_reader.storage.tables import Base

logger = logging.getLogger(__name__)

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    # Command-line use (``alembic -x url=...``), e.g. to write a new revision.
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite://")
    engine = create_engine(url)
    with engine.connect() as new_connection:
        run_on(new_connection)
        new_connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations()
