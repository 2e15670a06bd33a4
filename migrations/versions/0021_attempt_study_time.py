"""quizzes: the module's tracked time recorded with each attempt

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05

An attempt keeps the time tracked on its module when it was submitted (or started, until
then), so that a new attempt after a failure can ask for the evidence profile's
re-reading time since. Existing attempts get 0 (the server default) and keep counting as
before. Only a column is added (ALTER TABLE on both databases).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "quizzes_attempt",
        sa.Column("studied_seconds", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("quizzes_attempt", "studied_seconds")
