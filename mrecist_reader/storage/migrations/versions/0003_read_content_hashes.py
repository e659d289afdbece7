"""read content hashes: audit entries record the read's content after each change

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 03:10:00

Every read stored before this revision gets one ``record_content`` entry holding its
content hashes, so that any later change made outside the application is detected by
``audit --verify`` (issue 21, item 1). The entries are written by
:func:`mrecist_reader.storage.engine.upgrade_schema` after the last migration, because
they are built with the ORM tables, which describe the newest schema only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "audit_events",
        sa.Column("content", sa.Text(), server_default="", nullable=False),
    )
    # The reads stored before it are sealed once the schema is at its head
    # (storage.engine.upgrade_schema): sealing needs the ORM, which follows the head.


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("content")
