"""commitments: stored standings and validity periods

Revision ID: 0201
Revises: 0200
Create Date: 2026-11-25

An empty database gets its standings marked as built (there is nothing to
derive); one with learning history is left unmarked, so readers keep the exact
evaluation until ``lms commitments rebuild-standings`` (run by ``lms init-db``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.clock
import lms.db

revision = "0201"
down_revision = ("0200", "0002")  # lms_setting (core) holds the built marker
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commitments_standing",
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.Column("valid_until", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments_commitment.id"],
            name=op.f("fk_commitments_standing_commitment_id_commitments_commitment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_commitments_standing_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("commitment_id", "user_id", name=op.f("pk_commitments_standing")),
    )
    with op.batch_alter_table("commitments_standing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commitments_standing_user_id"), ["user_id"], unique=False
        )
    op.create_table(
        "commitments_validity",
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments_commitment.id"],
            name=op.f("fk_commitments_validity_commitment_id_commitments_commitment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_commitments_validity_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "commitment_id", "user_id", "valid_from", name=op.f("pk_commitments_validity")
        ),
    )
    with op.batch_alter_table("commitments_validity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commitments_validity_user_id"), ["user_id"], unique=False
        )
    connection = op.get_bind()
    history = any(
        connection.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()
        for table in ("courses_completion", "courses_enrolment", "courses_module_progress")
    )
    if not history:
        setting = sa.table(
            "lms_setting",
            sa.column("key", sa.String),
            sa.column("value", sa.Text),
            sa.column("updated_at", lms.db.UTCDateTime(timezone=True)),
        )
        op.bulk_insert(
            setting,
            [{"key": "commitments.standing", "value": "built", "updated_at": lms.clock.now()}],
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM lms_setting WHERE key = 'commitments.standing'"))
    for table in ("commitments_validity", "commitments_standing"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_user_id"))
        op.drop_table(table)
