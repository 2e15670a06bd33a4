"""lms_user.invitation_sent_at: when an invitation was last sent again

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

The staff list tells a referent whether each invitation is pending, accepted or expired,
and lets them send it again; an invitation link is valid for a fixed time from when it was
sent, which for a first invitation is the account's creation. Added empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lms_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("invitation_sent_at", lms.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("lms_user", schema=None) as batch_op:
        batch_op.drop_column("invitation_sent_at")
