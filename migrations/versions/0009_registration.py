"""lms_registration_rule and lms_registration_request: self-registration (issue 18)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

New tables only: every organisation starts without a rule, so registration is off
everywhere until a referent or an admin turns it on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_registration_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("allowed_domains", sa.JSON(), nullable=False),
        sa.Column("join_code_hash", sa.String(length=255), nullable=True),
        sa.Column("auto_approve_domain", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["lms_organisation.id"],
            name=op.f("fk_lms_registration_rule_organisation_id_lms_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_registration_rule")),
        sa.UniqueConstraint(
            "organisation_id", name=op.f("uq_lms_registration_rule_organisation_id")
        ),
    )
    op.create_table(
        "lms_registration_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("audience_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('confirming', 'pending', 'approved', 'refused', 'expired')",
            name=op.f("ck_lms_registration_request_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["lms_audience.id"],
            name=op.f("fk_lms_registration_request_audience_id_lms_audience"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_registration_request_decided_by_id_lms_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["lms_organisation.id"],
            name=op.f("fk_lms_registration_request_organisation_id_lms_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["lms_org_unit.id"],
            name=op.f("fk_lms_registration_request_unit_id_lms_org_unit"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_registration_request_user_id_lms_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_registration_request")),
    )
    op.create_index(
        op.f("ix_lms_registration_request_email"),
        "lms_registration_request",
        ["email"],
        unique=False,
    )
    op.create_index(
        op.f("ix_lms_registration_request_organisation_id"),
        "lms_registration_request",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_lms_registration_request_status"),
        "lms_registration_request",
        ["status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_lms_registration_request_unit_id"),
        "lms_registration_request",
        ["unit_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_lms_registration_request_unit_id"), table_name="lms_registration_request"
    )
    op.drop_index(op.f("ix_lms_registration_request_status"), table_name="lms_registration_request")
    op.drop_index(
        op.f("ix_lms_registration_request_organisation_id"),
        table_name="lms_registration_request",
    )
    op.drop_index(op.f("ix_lms_registration_request_email"), table_name="lms_registration_request")
    op.drop_table("lms_registration_request")
    op.drop_table("lms_registration_rule")
