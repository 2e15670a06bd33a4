"""lms_user.dormant_since, reactivated_at: accounts put to sleep for inactivity come back

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Retention deactivates accounts nobody has used; such a person must be able to come
back through the password-reset link or their referent, unlike an erased account.
The audit log cannot tell the two apart for long (its entries are pruned), so the
account says it, and when it came back (inactivity counts from then too).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lms_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dormant_since", lms.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reactivated_at", lms.db.UTCDateTime(timezone=True), nullable=True)
        )
    user = sa.table(
        "lms_user",
        sa.column("id", sa.Integer),
        sa.column("active", sa.Boolean),
        sa.column("password_hash", sa.String),
        sa.column("dormant_since", lms.db.UTCDateTime(timezone=True)),
    )
    audit = sa.table(
        "lms_audit_entry",
        sa.column("subject_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("created_at", lms.db.UTCDateTime(timezone=True)),
    )
    # Accounts that retention deactivated before this column existed (erased ones have
    # no password and no such entry).
    deactivated_at = (
        sa.select(sa.func.max(audit.c.created_at))
        .where(audit.c.subject_id == user.c.id, audit.c.action == "retention.deactivated")
        .scalar_subquery()
    )
    op.execute(
        user.update()
        .where(user.c.active.is_(False), user.c.password_hash.is_not(None))
        .where(deactivated_at.is_not(None))
        .values(dormant_since=deactivated_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("lms_user", schema=None) as batch_op:
        batch_op.drop_column("reactivated_at")
        batch_op.drop_column("dormant_since")
