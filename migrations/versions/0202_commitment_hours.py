"""commitments: required hours and credits

Revision ID: 0202
Revises: 0201
Create Date: 2026-12-05

A commitment may ask for a number of hours and/or credits (completed courses' certified
hours and accredited credits, attended sessions' hours) besides or instead of a list of
courses. Both columns are nullable (no amount asked), so existing commitments are
unchanged; batch mode adds the CHECK constraints on SQLite too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0202"
down_revision = "0201"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commitments_commitment") as batch:
        batch.add_column(sa.Column("required_hours", sa.Numeric(6, 2), nullable=True))
        batch.add_column(sa.Column("required_credits", sa.Numeric(6, 2), nullable=True))
        batch.create_check_constraint(
            op.f("ck_commitments_commitment_hours_positive"),
            "required_hours IS NULL OR required_hours > 0",
        )
        batch.create_check_constraint(
            op.f("ck_commitments_commitment_credits_positive"),
            "required_credits IS NULL OR required_credits > 0",
        )


def downgrade() -> None:
    with op.batch_alter_table("commitments_commitment") as batch:
        batch.drop_constraint(op.f("ck_commitments_commitment_credits_positive"), type_="check")
        batch.drop_constraint(op.f("ck_commitments_commitment_hours_positive"), type_="check")
        batch.drop_column("required_credits")
        batch.drop_column("required_hours")
