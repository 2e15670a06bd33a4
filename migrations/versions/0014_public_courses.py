"""courses: a version may be public, readable without an account and without tracking

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

The public awareness path (issue 15) is read by visitors who are not signed in; the flag
is declared in course.md (`public: true`) and kept per version, like the other metadata.
Only a column is added (ALTER TABLE on both databases).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "courses_version",
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("courses_version", "public")
