"""stored profiles, the click's evidence, ROIs kept as evidence

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:20:00

- ``protocol_profiles``: the content of every protocol profile a read was assessed with,
  keyed by its SHA-256, and ``read_profiles`` naming the one each read uses, so a
  signed response never depends on a file outside the database (issue 21, item 3).
  Reads stored before it have no row until the application records their profile.
- ``measurement_evidence``: for an observation measured by a click, the whole-lesion
  diameter, the viable diameter's perpendicular and the checks or warnings of the
  proposal (issue 16, items 4 and 5). No row for measurements stored before it.
- ``rois``: regions of interest a reader kept as evidence (issue 15): their outline in
  patient millimetres, the image they were drawn on and their statistics.

Only new tables: existing tables are not rebuilt (SQLite rebuilds a table to alter it,
and dropping ``reads`` with foreign keys on would cascade into its children).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "protocol_profiles",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_protocol_profiles")),
    )
    op.create_table(
        "read_profiles",
        sa.Column("read_pk", sa.Integer(), nullable=False),
        sa.Column("profile_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["read_pk"],
            ["reads.id"],
            name=op.f("fk_read_profiles_read_pk_reads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_sha256"],
            ["protocol_profiles.sha256"],
            name=op.f("fk_read_profiles_profile_sha256_protocol_profiles"),
        ),
        sa.PrimaryKeyConstraint("read_pk", name=op.f("pk_read_profiles")),
    )
    op.create_table(
        "measurement_evidence",
        sa.Column("observation_pk", sa.Integer(), nullable=False),
        sa.Column("whole_diameter_tenths", sa.Integer(), nullable=True),
        sa.Column("perpendicular_tenths", sa.Integer(), nullable=True),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(whole_diameter_tenths IS NULL OR whole_diameter_tenths >= 0) AND "
            "(perpendicular_tenths IS NULL OR perpendicular_tenths >= 0)",
            name=op.f("ck_measurement_evidence_diameters"),
        ),
        sa.ForeignKeyConstraint(
            ["observation_pk"],
            ["observations.id"],
            name=op.f("fk_measurement_evidence_observation_pk_observations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("observation_pk", name=op.f("pk_measurement_evidence")),
    )
    op.create_table(
        "rois",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timepoint_pk", sa.Integer(), nullable=False),
        sa.Column("lesion_pk", sa.Integer(), nullable=True),
        sa.Column("series_pk", sa.Integer(), nullable=True),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("shape", sa.String(length=16), nullable=False),
        sa.Column("points_mm", sa.Text(), nullable=False),
        sa.Column("pixel_count", sa.Integer(), nullable=False),
        sa.Column("area_mm2", sa.Float(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("sd", sa.Float(), nullable=True),
        sa.Column("minimum", sa.Float(), nullable=True),
        sa.Column("maximum", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "shape IN ('ellipse', 'freehand')", name=op.f("ck_rois_shape")
        ),
        sa.CheckConstraint(
            "pixel_count >= 0 AND area_mm2 >= 0", name=op.f("ck_rois_size")
        ),
        sa.ForeignKeyConstraint(
            ["timepoint_pk"],
            ["timepoints.id"],
            name=op.f("fk_rois_timepoint_pk_timepoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lesion_pk"],
            ["lesions.id"],
            name=op.f("fk_rois_lesion_pk_lesions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_pk"],
            ["series_refs.id"],
            name=op.f("fk_rois_series_pk_series_refs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rois")),
    )


def downgrade() -> None:
    op.drop_table("rois")
    op.drop_table("measurement_evidence")
    op.drop_table("read_profiles")
    op.drop_table("protocol_profiles")
