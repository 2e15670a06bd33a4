"""courses

Revision ID: 0010
Revises: 0001
Create Date: 2026-11-25 03:01:07.966670
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0010"
down_revision = "0001"
branch_labels = ("courses",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "courses_course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses_course")),
        sa.UniqueConstraint("slug", name=op.f("uq_courses_course_slug")),
    )
    op.create_table(
        "courses_enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("enrolled_by_id", sa.Integer(), nullable=True),
        sa.Column("cycle", sa.Integer(), server_default="1", nullable=False),
        sa.Column("enrolled_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_module_slug", sa.String(length=80), nullable=True),
        sa.CheckConstraint(
            "source IN ('self', 'referent', 'admin')",
            name=op.f("ck_courses_enrolment_source_known"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses_course.id"],
            name=op.f("fk_courses_enrolment_course_id_courses_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enrolled_by_id"],
            ["lms_user.id"],
            name=op.f("fk_courses_enrolment_enrolled_by_id_lms_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_courses_enrolment_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses_enrolment")),
        sa.UniqueConstraint("user_id", "course_id", name="uq_courses_enrolment_user_course"),
    )
    with op.batch_alter_table("courses_enrolment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_courses_enrolment_course_id"), ["course_id"], unique=False
        )

    op.create_table(
        "courses_module_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("module_slug", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_version_number", sa.Integer(), nullable=True),
        sa.Column("time_spent_seconds", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "status IN ('in_progress', 'completed')",
            name=op.f("ck_courses_module_progress_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses_course.id"],
            name=op.f("fk_courses_module_progress_course_id_courses_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_courses_module_progress_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses_module_progress")),
        sa.UniqueConstraint(
            "user_id", "course_id", "cycle", "module_slug", name="uq_courses_module_progress_key"
        ),
    )
    with op.batch_alter_table("courses_module_progress", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_courses_module_progress_course_id"), ["course_id"], unique=False
        )

    op.create_table(
        "courses_owner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses_course.id"],
            name=op.f("fk_courses_owner_course_id_courses_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_courses_owner_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses_owner")),
        sa.UniqueConstraint("course_id", "user_id", name="uq_courses_owner_course_user"),
    )
    with op.batch_alter_table("courses_owner", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_courses_owner_user_id"), ["user_id"], unique=False)

    op.create_table(
        "courses_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("all_audiences", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("estimated_hours", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("objectives", sa.JSON(), nullable=False),
        sa.Column("prerequisites", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("renewal_months", sa.Integer(), nullable=True),
        sa.Column("self_enrolment", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("intro_md", sa.Text(), nullable=False),
        sa.Column("intro_html", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status = 'draft' AND number IS NULL) "
            "OR (status = 'published' AND number IS NOT NULL)",
            name=op.f("ck_courses_version_number_iff_published"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published')", name=op.f("ck_courses_version_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses_course.id"],
            name=op.f("fk_courses_version_course_id_courses_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["lms_user.id"],
            name=op.f("fk_courses_version_created_by_id_lms_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses_version")),
        sa.UniqueConstraint("course_id", "number", name="uq_courses_version_course_number"),
    )
    with op.batch_alter_table("courses_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_courses_version_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(
            "uq_courses_version_one_draft",
            ["course_id"],
            unique=True,
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )

    op.create_table(
        "courses_asset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=80), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["courses_version.id"],
            name=op.f("fk_courses_asset_version_id_courses_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses_asset")),
        sa.UniqueConstraint("version_id", "path", name="uq_courses_asset_version_path"),
    )
    with op.batch_alter_table("courses_asset", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_courses_asset_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "courses_completion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("completed_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses_course.id"],
            name=op.f("fk_courses_completion_course_id_courses_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_courses_completion_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["courses_version.id"],
            name=op.f("fk_courses_completion_version_id_courses_version"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses_completion")),
        sa.UniqueConstraint("user_id", "course_id", "cycle", name="uq_courses_completion_cycle"),
    )
    with op.batch_alter_table("courses_completion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_courses_completion_course_user", ["course_id", "user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_courses_completion_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "courses_module",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("estimated_minutes", sa.Integer(), nullable=False),
        sa.Column("required", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("has_quiz", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["courses_version.id"],
            name=op.f("fk_courses_module_version_id_courses_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses_module")),
        sa.UniqueConstraint("version_id", "slug", name="uq_courses_module_version_slug"),
    )
    with op.batch_alter_table("courses_module", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_courses_module_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "courses_version_audience",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("audience_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["lms_audience.id"],
            name=op.f("fk_courses_version_audience_audience_id_lms_audience"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["courses_version.id"],
            name=op.f("fk_courses_version_audience_version_id_courses_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "audience_id", name=op.f("pk_courses_version_audience")
        ),
    )
    with op.batch_alter_table("courses_version_audience", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_courses_version_audience_audience_id"), ["audience_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("courses_version_audience", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_version_audience_audience_id"))

    op.drop_table("courses_version_audience")
    with op.batch_alter_table("courses_module", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_module_version_id"))

    op.drop_table("courses_module")
    with op.batch_alter_table("courses_completion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_completion_user_id"))
        batch_op.drop_index("ix_courses_completion_course_user")

    op.drop_table("courses_completion")
    with op.batch_alter_table("courses_asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_asset_version_id"))

    op.drop_table("courses_asset")
    with op.batch_alter_table("courses_version", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_courses_version_one_draft",
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )
        batch_op.drop_index(batch_op.f("ix_courses_version_course_id"))

    op.drop_table("courses_version")
    with op.batch_alter_table("courses_owner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_owner_user_id"))

    op.drop_table("courses_owner")
    with op.batch_alter_table("courses_module_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_module_progress_course_id"))

    op.drop_table("courses_module_progress")
    with op.batch_alter_table("courses_enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_enrolment_course_id"))

    op.drop_table("courses_enrolment")
    op.drop_table("courses_course")
