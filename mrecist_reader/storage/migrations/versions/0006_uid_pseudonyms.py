"""keyed UID pseudonyms: the mapping blinded exports hand out

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 04:30:00

Adds ``uid_pseudonyms``: each DICOM UID a blinded export replaced by its keyed
``2.25.`` pseudonym, so the site can resolve a pseudonym a sponsor asks about
(issue 21, item 7). Nothing stored before it changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uid_pseudonyms",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("original_uid", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_uid_pseudonyms")),
        sa.UniqueConstraint(
            "original_uid", name=op.f("uq_uid_pseudonyms_original_uid")
        ),
    )


def downgrade() -> None:
    op.drop_table("uid_pseudonyms")
