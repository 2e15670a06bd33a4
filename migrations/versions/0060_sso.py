"""lms_oidc_provider, lms_oidc_identity: single sign-on with OpenID Connect

Revision ID: 0060
Revises: 0008
Create Date: 2026-12-06

New tables only: nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0060"
down_revision = "0008"
branch_labels = ("sso",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_oidc_provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret", sa.String(length=500), nullable=False),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("allowed_organisation_ids", sa.JSON(), nullable=False),
        sa.Column("claim_mapping", sa.JSON(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_oidc_provider")),
        sa.UniqueConstraint("slug", name=op.f("uq_lms_oidc_provider_slug")),
    )
    op.create_table(
        "lms_oidc_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["lms_oidc_provider.id"],
            name=op.f("fk_lms_oidc_identity_provider_id_lms_oidc_provider"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_oidc_identity_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_oidc_identity")),
        sa.UniqueConstraint(
            "provider_id", "subject", name=op.f("uq_lms_oidc_identity_provider_id")
        ),
    )
    op.create_index(
        op.f("ix_lms_oidc_identity_user_id"), "lms_oidc_identity", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_lms_oidc_identity_user_id"), table_name="lms_oidc_identity")
    op.drop_table("lms_oidc_identity")
    op.drop_table("lms_oidc_provider")
