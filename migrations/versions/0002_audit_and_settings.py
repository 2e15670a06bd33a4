"""audit log and settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=True),
        sa.Column("object_id", sa.String(length=80), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["lms_user.id"], name=op.f("fk_lms_audit_entry_actor_id_lms_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["lms_organisation.id"],
            name=op.f("fk_lms_audit_entry_organisation_id_lms_organisation"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["lms_user.id"], name=op.f("fk_lms_audit_entry_subject_id_lms_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_audit_entry")),
    )
    with op.batch_alter_table("lms_audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lms_audit_entry_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_lms_audit_entry_actor_id"), ["actor_id"])
        batch_op.create_index(batch_op.f("ix_lms_audit_entry_subject_id"), ["subject_id"])
        batch_op.create_index("ix_lms_audit_entry_org_time", ["organisation_id", "created_at"])
        batch_op.create_index("ix_lms_audit_entry_action_time", ["action", "created_at"])
    op.create_table(
        "lms_setting",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["lms_user.id"], name=op.f("fk_lms_setting_updated_by_id_lms_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_lms_setting")),
    )


def downgrade() -> None:
    op.drop_table("lms_setting")
    with op.batch_alter_table("lms_audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_lms_audit_entry_action_time")
        batch_op.drop_index("ix_lms_audit_entry_org_time")
        batch_op.drop_index(batch_op.f("ix_lms_audit_entry_subject_id"))
        batch_op.drop_index(batch_op.f("ix_lms_audit_entry_actor_id"))
        batch_op.drop_index(batch_op.f("ix_lms_audit_entry_created_at"))
    op.drop_table("lms_audit_entry")
