"""lms_job: background jobs (lms/jobs) and their progress

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

Huey moves the work to a worker; this table is the record people see (status,
progress, result, error) and what makes a job run exactly once (lease, checkpoint).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("checkpoint", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["lms_organisation.id"],
            name=op.f("fk_lms_job_organisation_id_lms_organisation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_job_owner_id_lms_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_job")),
        sa.UniqueConstraint("key", name=op.f("uq_lms_job_key")),
    )
    op.create_index(op.f("ix_lms_job_created_at"), "lms_job", ["created_at"], unique=False)
    op.create_index(op.f("ix_lms_job_owner_id"), "lms_job", ["owner_id"], unique=False)
    op.create_index("ix_lms_job_status_heartbeat", "lms_job", ["status", "heartbeat_at"])


def downgrade() -> None:
    op.drop_table("lms_job")
