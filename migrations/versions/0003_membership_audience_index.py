"""index lms_membership.audience_id

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Commitment counts select the members of an audience across organisations; without
this index SQLite scanned every membership once per commitment (network view over
50,000 staff: 0.55 s -> 0.18 s).
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lms_membership", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lms_membership_audience_id"), ["audience_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lms_membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_membership_audience_id"))
