"""certificates: accreditation, tracked time, and whether hours are printed

Revision ID: 0101
Revises: 0100
Create Date: 2026-12-05

A certificate stores what it prints: the course's accreditation (body, provider, event,
credits, validity and whether the completion fell within it, as JSON), the time tracked
on the content, and whether it states hours at all (a course whose evidence profile
prints none). Existing certificates keep their values and signed payloads: the new
columns are NULL, and hours stay printed. Only columns are added: on SQLite, recreating
the table would fire its foreign keys' ON DELETE actions (reminders, renewal chains).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0101"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "certificates_certificate",
        sa.Column("hours_printed", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column(
        "certificates_certificate", sa.Column("tracked_seconds", sa.Integer(), nullable=True)
    )
    op.add_column("certificates_certificate", sa.Column("accreditation", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("certificates_certificate", "accreditation")
    op.drop_column("certificates_certificate", "tracked_seconds")
    op.drop_column("certificates_certificate", "hours_printed")
