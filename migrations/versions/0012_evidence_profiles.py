"""courses: evidence profiles and accreditation; completions say which rules they met

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

A course version keeps its declared evidence profile and accreditation (courses.evidence,
courses.accreditation; NULL: the installation's profile, not accredited). A completion
records the profile it satisfied and the time tracked when it completed; completions made
before profiles existed are kept and marked "legacy" (the server default fills them).
Only columns are added (ALTER TABLE on both databases).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("courses_version", sa.Column("evidence", sa.JSON(), nullable=True))
    op.add_column("courses_version", sa.Column("accreditation", sa.JSON(), nullable=True))
    op.add_column(
        "courses_completion",
        sa.Column("evidence", sa.String(40), server_default="legacy", nullable=False),
    )
    op.add_column(
        "courses_completion",
        sa.Column("tracked_seconds", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("courses_completion", "tracked_seconds")
    op.drop_column("courses_completion", "evidence")
    op.drop_column("courses_version", "accreditation")
    op.drop_column("courses_version", "evidence")
