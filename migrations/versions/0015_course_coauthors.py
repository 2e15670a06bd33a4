"""courses: co-authors per course, and the front matter as the author wrote it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

Issue 17: an owner adds trainers as co-authors (they edit and publish; only owners manage
co-authors). The front matter of course.md and of each module is kept as written, so that
the editor's forms change only the keys they change and export gives the file back with
its comments, quotes and key order. Nullable columns: versions written before read as
before (front matter rebuilt from the columns).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "courses_coauthor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "course_id",
            sa.Integer(),
            sa.ForeignKey("courses_course.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("lms_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("added_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("course_id", "user_id", name="uq_courses_coauthor_course_user"),
    )
    op.create_index("ix_courses_coauthor_user_id", "courses_coauthor", ["user_id"])
    op.add_column("courses_version", sa.Column("front_matter", sa.Text(), nullable=True))
    op.add_column("courses_module", sa.Column("front_matter", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("courses_module", "front_matter")
    op.drop_column("courses_version", "front_matter")
    op.drop_index("ix_courses_coauthor_user_id", table_name="courses_coauthor")
    op.drop_table("courses_coauthor")
