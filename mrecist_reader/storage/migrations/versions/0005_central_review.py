"""central review: assignments, treatment days and adjudication cuts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:45:00

Adds the subjects' reader 1, reader 2 and adjudicator, their treatment days (for the
adjudication trigger) and the read cuts with their outcome (issue 17). Reads stored
before it are unchanged: they become the assigned readers' primary reads once the
subjects are assigned (central-review.md §Roles and assignment).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SUBJECT = 64
_READER = 64
_TIMEPOINT = 64


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("subject_id", sa.String(length=_SUBJECT), nullable=False),
        sa.Column("reader_1", sa.String(length=_READER), nullable=False),
        sa.Column("reader_2", sa.String(length=_READER), nullable=False),
        sa.Column("adjudicator", sa.String(length=_READER), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reader_1 <> reader_2 AND reader_1 <> adjudicator "
            "AND reader_2 <> adjudicator",
            name=op.f("ck_assignments_distinct_readers"),
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_assignments")),
    )
    op.create_table(
        "treatment_days",
        sa.Column("subject_id", sa.String(length=_SUBJECT), nullable=False),
        sa.Column("session", sa.Integer(), nullable=False),
        sa.Column("study_day", sa.Integer(), nullable=False),
        sa.Column("treatment", sa.String(length=64), nullable=False),
        sa.CheckConstraint("session >= 1", name=op.f("ck_treatment_days_session")),
        sa.PrimaryKeyConstraint(
            "subject_id", "session", name=op.f("pk_treatment_days")
        ),
    )
    op.create_table(
        "adjudications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=_SUBJECT), nullable=False),
        sa.Column("cut_index", sa.Integer(), nullable=False),
        sa.Column("cut", sa.String(length=_TIMEPOINT), nullable=False),
        sa.Column("reader_1", sa.String(length=_READER), nullable=False),
        sa.Column("reader_2", sa.String(length=_READER), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("discordant_variables", sa.Text(), nullable=False),
        sa.Column("signed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("adjudicator", sa.String(length=_READER), nullable=False),
        sa.Column("chosen_reader", sa.String(length=_READER), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('adjudicated', 'awaiting', 'concordant')",
            name=op.f("ck_adjudications_status"),
        ),
        sa.CheckConstraint(
            "(status = 'adjudicated') = (decided_at IS NOT NULL)",
            name=op.f("ck_adjudications_decided_at"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjudications")),
        sa.UniqueConstraint(
            "subject_id",
            "cut_index",
            name=op.f("uq_adjudications_subject_id_cut_index"),
        ),
    )


def downgrade() -> None:
    op.drop_table("adjudications")
    op.drop_table("treatment_days")
    op.drop_table("assignments")
