"""lms_user.professional_id: the identifier accrediting bodies ask for, if the person gives it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

The participants' report of an accredited course lists each person's codice fiscale or
registration number with their professional order, where they gave it on "I miei dati".
Optional: the column is added empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("lms_user", sa.Column("professional_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column("lms_user", "professional_id")
