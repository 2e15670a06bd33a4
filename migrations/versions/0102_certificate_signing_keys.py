"""certificates: signing keys in the database, one set for the installation

Revision ID: 0102
Revises: 0101
Create Date: 2026-12-06

Keys lived in each host's instance/certificate-keys/, created lazily: two hosts would
have signed with two keys. They now live here, the private key encrypted with a key
derived from LMS_SECRET_KEY. No key is created by the migration (it has no secret):
``lms init-db`` imports the instance folder's keys, then creates the first key if none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0102"
down_revision = "0101"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates_signing_key",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("private_sealed", sa.Text(), nullable=True),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_certificates_signing_key")),
        sa.UniqueConstraint("generation", name=op.f("uq_certificates_signing_key_generation")),
    )


def downgrade() -> None:
    op.drop_table("certificates_signing_key")
