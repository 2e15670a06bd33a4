"""certificates

Revision ID: 0100
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0100"
down_revision = "0001"
branch_labels = ("certificates",)
depends_on = None


def upgrade() -> None:

    op.create_table(
        "certificates_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("completion_ref", sa.String(length=200), nullable=False),
        sa.Column("reissue", sa.Integer(), server_default="0", nullable=False),
        sa.Column("serial", sa.String(length=60), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("organisation_name", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("version_label", sa.String(length=100), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("credits", sa.String(length=100), nullable=True),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("completed_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("superseded_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=500), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "kind IN ('course', 'commitment', 'session')",
            name=op.f("ck_certificates_certificate_kind_known"),
        ),
        sa.CheckConstraint(
            "reissue >= 0", name=op.f("ck_certificates_certificate_reissue_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["lms_organisation.id"],
            name=op.f("fk_certificates_certificate_organisation_id_lms_organisation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["certificates_certificate.id"],
            name=op.f("fk_certificates_certificate_previous_id_certificates_certificate"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["lms_user.id"],
            name=op.f("fk_certificates_certificate_revoked_by_id_lms_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_certificates_certificate_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_certificate")),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_certificate_code")),
        sa.UniqueConstraint(
            "completion_ref", "reissue", name=op.f("uq_certificates_certificate_completion_ref")
        ),
        sa.UniqueConstraint("serial", name=op.f("uq_certificates_certificate_serial")),
    )
    with op.batch_alter_table("certificates_certificate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificates_certificate_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_certificates_certificate_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_certificates_certificate_previous_id"), ["previous_id"], unique=False
        )
        batch_op.create_index(
            "ix_certificates_certificate_user_key", ["user_id", "key"], unique=False
        )

    op.create_table(
        "certificates_reminder_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("threshold_days", sa.Integer(), nullable=False),
        sa.Column("sent_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates_certificate.id"],
            name=op.f("fk_certificates_reminder_sent_certificate_id_certificates_certificate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_reminder_sent")),
        sa.UniqueConstraint(
            "certificate_id",
            "threshold_days",
            name=op.f("uq_certificates_reminder_sent_certificate_id"),
        ),
    )


def downgrade() -> None:

    op.drop_table("certificates_reminder_sent")
    with op.batch_alter_table("certificates_certificate", schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_certificate_user_key")
        batch_op.drop_index(batch_op.f("ix_certificates_certificate_previous_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_certificate_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_certificate_expires_at"))

    op.drop_table("certificates_certificate")
