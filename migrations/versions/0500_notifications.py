"""notifications: the in-platform list, the e-mail outbox and the kinds turned off

Revision ID: 0500
Revises: 0001
Create Date: 2026-12-05 23:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0500"
down_revision = "0001"
branch_labels = ("notifications",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_notifications_notification_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_notification")),
        sa.UniqueConstraint("user_id", "kind", "key", name="uq_notifications_notification_key"),
    )
    with op.batch_alter_table("notifications_notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_notification_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "notifications_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications_notification.id"],
            name=op.f("fk_notifications_outbox_notification_id_notifications_notification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_outbox")),
        sa.UniqueConstraint(
            "notification_id", name=op.f("uq_notifications_outbox_notification_id")
        ),
    )
    with op.batch_alter_table("notifications_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_outbox_sent_at"), ["sent_at"], unique=False
        )

    op.create_table(
        "notifications_muted",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("muted_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_notifications_muted_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notifications_muted")),
    )


def downgrade() -> None:
    op.drop_table("notifications_muted")
    with op.batch_alter_table("notifications_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_outbox_sent_at"))
    op.drop_table("notifications_outbox")
    with op.batch_alter_table("notifications_notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_notification_created_at"))
    op.drop_table("notifications_notification")
