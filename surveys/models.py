"""Anonymous answers, and apart from them the marker that a person has answered.

The answers (:class:`SurveyResponse`, :class:`SurveyAnswer`) carry no reference to a
person: only the course, its version, the organisation *type* and the month. Their
keys are random, not a sequence, so their order says nothing about who answered when.
:class:`SurveyMarker` says that a person answered a version (not to ask twice, and to
gate the completion); it has no time and no link to the answer rows.

Limit: the database still stores rows in the order they arrive (SQLite's hidden rowid,
PostgreSQL's physical order), so whoever reads the files themselves, not through the
application, could pair a marker with a response written in the same instant. The
tables are written in one transaction, the marker first; pairing them needs access to
the raw storage and is out of reach of every page and export.
"""

from __future__ import annotations

import secrets

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base

#: A response's month, the finest time the answers keep.
MONTH_FORMAT = "%Y-%m"


def _random_key() -> str:
    return secrets.token_hex(16)


class SurveyResponse(Base):
    """One questionnaire sent, by nobody in particular."""

    __tablename__ = "surveys_response"
    __table_args__ = (CheckConstraint("length(month) = 7", name="month_only"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_key)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("courses_version.id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column(Integer)
    organisation_type: Mapped[str | None] = mapped_column(String(20))
    month: Mapped[str] = mapped_column(String(7))  # "YYYY-MM"

    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class SurveyAnswer(Base):
    """The answer to one question: a score on the scale, or a comment."""

    __tablename__ = "surveys_answer"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_on_scale"),)

    response_id: Mapped[str] = mapped_column(
        ForeignKey("surveys_response.id", ondelete="CASCADE"), primary_key=True
    )
    question_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")


class SurveyMarker(Base):
    """A person has answered the questionnaire of a course version; nothing else."""

    __tablename__ = "surveys_marker"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("courses_version.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
