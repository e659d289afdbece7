"""read content hashes: audit entries record the read's content after each change

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 03:10:00

Every read stored before this revision gets one ``record_content`` entry holding its
content hashes, so that any later change made outside the application is detected by
``audit --verify`` (issue 21, item 1).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "audit_events",
        sa.Column("content", sa.Text(), server_default="", nullable=False),
    )
    from mrecist_reader.storage.audit import Actor
    from mrecist_reader.storage.trail import seal_reads_without_history

    session = Session(bind=op.get_bind())
    seal_reads_without_history(
        session,
        Actor("(schema upgrade)", "(schema upgrade)"),
        "schema 3: the content of reads stored before it is recorded",
    )
    session.flush()
    session.close()


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("content")
