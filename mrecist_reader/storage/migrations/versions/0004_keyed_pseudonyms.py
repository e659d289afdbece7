"""keyed pseudonyms: a random secret per database; unkeyed subject pseudonyms re-keyed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 03:10:00

The database gets its pseudonym secret (256 random bits, never exported). Every subject
named by the unkeyed pseudonym ``patient-`` + 8 hex digits is renamed to its keyed
pseudonym, and each rename is recorded in the audit trail (issue 21, item 6).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "database_secrets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_database_secrets")),
    )
    # The key is created and the subjects re-keyed once the schema is at its head
    # (storage.engine.upgrade_schema): both steps use the ORM, which follows the head.


def downgrade() -> None:
    op.drop_table("database_secrets")
