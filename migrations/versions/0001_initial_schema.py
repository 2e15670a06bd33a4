"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 02:44:29.315827
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "lms_audience",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_it", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_audience")),
        sa.UniqueConstraint("code", name=op.f("uq_lms_audience_code")),
    )
    op.create_table(
        "lms_organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("signatory", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "type IN ('comune', 'cav', 'magistratura', 'forze_ordine', 'sociosanitario', 'altro')",
            name=op.f("ck_lms_organisation_type_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_organisation")),
        sa.UniqueConstraint("code", name=op.f("uq_lms_organisation_code")),
        sa.UniqueConstraint("name", name=op.f("uq_lms_organisation_name")),
    )
    with op.batch_alter_table("lms_organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lms_organisation_type"), ["type"], unique=False)

    op.create_table(
        "lms_throttle_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_throttle_event")),
    )
    with op.batch_alter_table("lms_throttle_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lms_throttle_event_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_lms_throttle_event_lookup", ["scope", "key", "created_at"], unique=False
        )

    op.create_table(
        "lms_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("locale", sa.String(length=5), server_default="it", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("session_token", sa.String(length=32), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("locale IN ('it', 'en')", name=op.f("ck_lms_user_locale_supported")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_lms_user_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_user")),
        sa.UniqueConstraint("email", name=op.f("uq_lms_user_email")),
    )
    op.create_table(
        "lms_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("audience_id", sa.Integer(), nullable=False),
        sa.Column("is_referent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["lms_audience.id"],
            name=op.f("fk_lms_membership_audience_id_lms_audience"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["lms_organisation.id"],
            name=op.f("fk_lms_membership_organisation_id_lms_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_membership_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_membership")),
        sa.UniqueConstraint("user_id", "organisation_id", name="uq_lms_membership_user_org"),
    )
    with op.batch_alter_table("lms_membership", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lms_membership_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lms_membership_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lms_user_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("granted_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('trainer', 'coordinator', 'admin')", name=op.f("ck_lms_user_role_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_user_role_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_user_role")),
        sa.UniqueConstraint("user_id", "role", name="uq_lms_user_role_user_role"),
    )
    with op.batch_alter_table("lms_user_role", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lms_user_role_user_id"), ["user_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("lms_user_role", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_user_role_user_id"))

    op.drop_table("lms_user_role")
    with op.batch_alter_table("lms_membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_membership_user_id"))
        batch_op.drop_index(batch_op.f("ix_lms_membership_organisation_id"))

    op.drop_table("lms_membership")
    op.drop_table("lms_user")
    with op.batch_alter_table("lms_throttle_event", schema=None) as batch_op:
        batch_op.drop_index("ix_lms_throttle_event_lookup")
        batch_op.drop_index(batch_op.f("ix_lms_throttle_event_created_at"))

    op.drop_table("lms_throttle_event")
    with op.batch_alter_table("lms_organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_organisation_type"))

    op.drop_table("lms_organisation")
    op.drop_table("lms_audience")
