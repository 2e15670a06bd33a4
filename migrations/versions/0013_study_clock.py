"""courses: one study clock per person, so that heartbeats credit real time once

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

Heartbeats from the module page credit the time elapsed since the person's previous
credited heartbeat (courses.study); the instant is kept per person, not per module or
page, so two tabs pinging in turn earn real time once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "courses_study_clock",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_beat_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_courses_study_clock_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_courses_study_clock")),
    )


def downgrade() -> None:
    op.drop_table("courses_study_clock")
