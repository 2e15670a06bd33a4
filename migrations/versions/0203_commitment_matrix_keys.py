"""commitments: per-course states and name keys for the staff matrix in SQL

Revision ID: 0203
Revises: 0202
Create Date: 2026-12-06

The referent dashboard pages and sorts the staff matrix in SQL: by a course column it
needs each person's state in that course (``commitments_course_state``, kept with the
standings), by name the same key Python sorts by (``commitments_name_key``:
``str.casefold``, filled here for existing people). Stored standings written before
this revision have no course states: the built marker is removed where any exist, so
readers use the exact evaluation until ``lms init-db`` (or ``lms commitments
rebuild-standings``) rebuilds them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0203"
down_revision = "0202"
branch_labels = None
depends_on = None

CHUNK = 2_000


def upgrade() -> None:
    op.create_table(
        "commitments_course_state",
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("completed_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("enrolled", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments_commitment.id"],
            name=op.f("fk_commitments_course_state_commitment_id_commitments_commitment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_commitments_course_state_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "commitment_id", "user_id", "course_id", name=op.f("pk_commitments_course_state")
        ),
    )
    with op.batch_alter_table("commitments_course_state", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commitments_course_state_user_id"), ["user_id"], unique=False
        )
    op.create_table(
        "commitments_name_key",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name_key", sa.String(length=800), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_commitments_name_key_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_commitments_name_key")),
    )
    connection = op.get_bind()
    keys = sa.table("commitments_name_key", sa.column("user_id"), sa.column("name_key"))
    people = connection.execute(sa.text("SELECT id, full_name FROM lms_user")).all()
    for start in range(0, len(people), CHUNK):
        batch = people[start : start + CHUNK]
        connection.execute(
            sa.insert(keys), [{"user_id": i, "name_key": name.casefold()} for i, name in batch]
        )
    if connection.execute(sa.text("SELECT 1 FROM commitments_standing LIMIT 1")).first():
        op.execute(sa.text("DELETE FROM lms_setting WHERE key = 'commitments.standing'"))


def downgrade() -> None:
    op.drop_table("commitments_name_key")
    with op.batch_alter_table("commitments_course_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitments_course_state_user_id"))
    op.drop_table("commitments_course_state")
