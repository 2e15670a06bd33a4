"""Quizzes of published module versions, attempts and their answers.

The quiz spec is stored as JSON when a course version is published (the Markdown
stays the source). An attempt freezes what was presented (questions drawn,
option order, random option tokens) so that scoring never trusts the browser.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.api import Module
from lms import clock
from lms.db import Base, UTCDateTime


class Quiz(Base):
    __tablename__ = "quizzes_quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(
        ForeignKey("courses_module.id", ondelete="CASCADE"), unique=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    module_slug: Mapped[str] = mapped_column(String(80))
    version_number: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    module: Mapped[Module] = relationship()


class AttemptStatus(enum.StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    EXPIRED = "expired"  # time ran out before a submission
    VOIDED = "voided"  # reset by an administrator


class Attempt(Base):
    """One attempt; counted per person, course, module slug and renewal cycle."""

    __tablename__ = "quizzes_attempt"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'submitted', 'expired', 'voided')", name="status_known"
        ),
        UniqueConstraint(
            "user_id",
            "course_id",
            "module_slug",
            "cycle",
            "number",
            name="uq_quizzes_attempt_number",
        ),
        Index(
            "uq_quizzes_attempt_one_open",
            "user_id",
            "course_id",
            "module_slug",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_quizzes_attempt_quiz_status", "quiz_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes_quiz.id", ondelete="RESTRICT"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"))
    module_slug: Mapped[str] = mapped_column(String(80))
    cycle: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=AttemptStatus.OPEN)
    seed: Mapped[int] = mapped_column(Integer)
    presented: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))
    points_earned: Mapped[Decimal | None] = mapped_column(Numeric(9, 3))
    points_available: Mapped[Decimal | None] = mapped_column(Numeric(9, 3))
    passed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Time tracked on the module (courses' study time in the cycle) when the attempt was
    # submitted, or started until then: a new attempt after a failure needs the profile's
    # re-reading time on top of it. 0 for attempts made before the rule (migration 0021).
    studied_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    quiz: Mapped[Quiz] = relationship()
    answers: Mapped[list[AttemptAnswer]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan"
    )


class AttemptAnswer(Base):
    """A question's score in a submitted attempt: the rows statistics aggregate."""

    __tablename__ = "quizzes_answer"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id", name="uq_quizzes_answer_attempt_question"),
        Index("ix_quizzes_answer_quiz_question", "quiz_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quizzes_attempt.id", ondelete="CASCADE"))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes_quiz.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(80))
    fraction: Mapped[Decimal] = mapped_column(Numeric(7, 6))
    points: Mapped[Decimal] = mapped_column(Numeric(9, 3))  # the question's weight
    answered: Mapped[bool] = mapped_column(Boolean)

    attempt: Mapped[Attempt] = relationship(back_populates="answers")


class AttemptChoice(Base):
    """An option chosen in a choice question, for the option distribution."""

    __tablename__ = "quizzes_choice"
    __table_args__ = (Index("ix_quizzes_choice_quiz_question", "quiz_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("quizzes_attempt.id", ondelete="CASCADE"), index=True
    )
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes_quiz.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(80))
    option_id: Mapped[str] = mapped_column(String(20))
