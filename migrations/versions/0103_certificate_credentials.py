"""certificates: PAdES signing certificate per key, Open Badges 3.0 credentials

Revision ID: 0103
Revises: 0102
Create Date: 2026-12-06

Each signing key generation gains an ECDSA P-256 key (sealed like the Ed25519 one) and
its X.509 certificate, which sign the PDF itself (PAdES): PDF readers validate ECDSA,
not Ed25519. Open Badges 3.0 credentials are stored once made, like the certificate's
payload, so every download carries the same signed bytes. Existing rows get nothing
here: the keys' PAdES part is created on first use, credentials on first request.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0103"
down_revision = "0102"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificates_signing_key") as batch:
        batch.add_column(sa.Column("pades_private_sealed", sa.Text(), nullable=True))
        batch.add_column(sa.Column("pades_certificate_pem", sa.Text(), nullable=True))
    op.create_table(
        "certificates_open_badge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        # the credentialSubject's id: "" when the holder is identified by a hashed e-mail
        sa.Column("subject_id", sa.String(length=300), nullable=False, server_default=""),
        sa.Column("credential", sa.Text(), nullable=False),  # JSON with its Data Integrity proof
        sa.Column("jwt", sa.Text(), nullable=False),  # the same credential as a VC-JWT
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates_certificate.id"],
            name=op.f("fk_certificates_open_badge_certificate_id_certificates_certificate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_open_badge")),
        sa.UniqueConstraint(
            "certificate_id",
            "subject_id",
            name=op.f("uq_certificates_open_badge_certificate_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("certificates_open_badge")
    with op.batch_alter_table("certificates_signing_key") as batch:
        batch.drop_column("pades_certificate_pem")
        batch.drop_column("pades_private_sealed")
