"""key images of lesions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 06:30:00

- ``key_images``: the images a reader marked as key images of a lesion (issue 15,
  item 8): the image by its series and SOP instance UIDs, its place in the series as
  loaded, and when it was marked. Exported as PNGs beside measurements.csv.

Only a new table: existing tables are not rebuilt.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timepoint_pk", sa.Integer(), nullable=False),
        sa.Column("lesion_pk", sa.Integer(), nullable=False),
        sa.Column("series_pk", sa.Integer(), nullable=True),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("slice_index", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("slice_index >= 0", name=op.f("ck_key_images_slice_index")),
        sa.ForeignKeyConstraint(
            ["timepoint_pk"],
            ["timepoints.id"],
            name=op.f("fk_key_images_timepoint_pk_timepoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lesion_pk"],
            ["lesions.id"],
            name=op.f("fk_key_images_lesion_pk_lesions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_pk"],
            ["series_refs.id"],
            name=op.f("fk_key_images_series_pk_series_refs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_images")),
    )


def downgrade() -> None:
    op.drop_table("key_images")
