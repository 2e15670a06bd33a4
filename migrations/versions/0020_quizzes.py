"""quizzes

Revision ID: 0020
Revises: 0010
Create Date: 2026-11-25 03:22:13.061675
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0020"
down_revision = "0010"
branch_labels = ("quizzes",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quizzes_quiz",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("module_slug", sa.String(length=80), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses_course.id"],
            name=op.f("fk_quizzes_quiz_course_id_courses_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["courses_module.id"],
            name=op.f("fk_quizzes_quiz_module_id_courses_module"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quizzes_quiz")),
        sa.UniqueConstraint("module_id", name=op.f("uq_quizzes_quiz_module_id")),
    )
    with op.batch_alter_table("quizzes_quiz", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quizzes_quiz_course_id"), ["course_id"], unique=False)

    op.create_table(
        "quizzes_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("module_slug", sa.String(length=80), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("presented", sa.JSON(), nullable=False),
        sa.Column("started_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("percent", sa.Numeric(precision=7, scale=3), nullable=True),
        sa.Column("points_earned", sa.Numeric(precision=9, scale=3), nullable=True),
        sa.Column("points_available", sa.Numeric(precision=9, scale=3), nullable=True),
        sa.Column("passed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'submitted', 'expired', 'voided')",
            name=op.f("ck_quizzes_attempt_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses_course.id"],
            name=op.f("fk_quizzes_attempt_course_id_courses_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes_quiz.id"],
            name=op.f("fk_quizzes_attempt_quiz_id_quizzes_quiz"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_quizzes_attempt_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quizzes_attempt")),
        sa.UniqueConstraint(
            "user_id",
            "course_id",
            "module_slug",
            "cycle",
            "number",
            name="uq_quizzes_attempt_number",
        ),
    )
    with op.batch_alter_table("quizzes_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_quizzes_attempt_quiz_status", ["quiz_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_quizzes_attempt_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_quizzes_attempt_one_open",
            ["user_id", "course_id", "module_slug"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "quizzes_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=80), nullable=False),
        sa.Column("fraction", sa.Numeric(precision=7, scale=6), nullable=False),
        sa.Column("points", sa.Numeric(precision=9, scale=3), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quizzes_attempt.id"],
            name=op.f("fk_quizzes_answer_attempt_id_quizzes_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes_quiz.id"],
            name=op.f("fk_quizzes_answer_quiz_id_quizzes_quiz"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quizzes_answer")),
        sa.UniqueConstraint("attempt_id", "question_id", name="uq_quizzes_answer_attempt_question"),
    )
    with op.batch_alter_table("quizzes_answer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quizzes_answer_quiz_question", ["quiz_id", "question_id"], unique=False
        )

    op.create_table(
        "quizzes_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=80), nullable=False),
        sa.Column("option_id", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quizzes_attempt.id"],
            name=op.f("fk_quizzes_choice_attempt_id_quizzes_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes_quiz.id"],
            name=op.f("fk_quizzes_choice_quiz_id_quizzes_quiz"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quizzes_choice")),
    )
    with op.batch_alter_table("quizzes_choice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quizzes_choice_attempt_id"), ["attempt_id"], unique=False
        )
        batch_op.create_index(
            "ix_quizzes_choice_quiz_question", ["quiz_id", "question_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("quizzes_choice", schema=None) as batch_op:
        batch_op.drop_index("ix_quizzes_choice_quiz_question")
        batch_op.drop_index(batch_op.f("ix_quizzes_choice_attempt_id"))

    op.drop_table("quizzes_choice")
    with op.batch_alter_table("quizzes_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_quizzes_answer_quiz_question")

    op.drop_table("quizzes_answer")
    with op.batch_alter_table("quizzes_attempt", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_quizzes_attempt_one_open",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_quizzes_attempt_user_id"))
        batch_op.drop_index("ix_quizzes_attempt_quiz_status")

    op.drop_table("quizzes_attempt")
    with op.batch_alter_table("quizzes_quiz", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quizzes_quiz_course_id"))

    op.drop_table("quizzes_quiz")
