"""Training commitments: who must complete which courses, by when, with what target.

A commitment's scope is a set of audiences within one organisation, within every
organisation of a type, or within the whole network (neither set). Its courses
are either required (all of them) or optional, of which ``choose_count`` must be
completed ("N of a set"); it may also ask for a number of hours and/or credits.
The status of each person is derived from enrolments, progress, completions and
attended sessions (``commitments.rules.status``); only its time-independent part,
the standing, is stored, kept current transactionally (``commitments.standing``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.api import Course
from lms import clock
from lms.db import Base, UTCDateTime
from lms.organisations.models import Audience, Organisation, OrganisationType

_TYPE_VALUES = ", ".join(f"'{t.value}'" for t in OrganisationType)

commitment_audience = Table(
    "commitments_audience",
    Base.metadata,
    Column(
        "commitment_id",
        ForeignKey("commitments_commitment.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "audience_id",
        ForeignKey("lms_audience.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Commitment(Base):
    __tablename__ = "commitments_commitment"
    __table_args__ = (
        CheckConstraint("organisation_id IS NULL OR organisation_type IS NULL", name="one_scope"),
        CheckConstraint(
            f"organisation_type IS NULL OR organisation_type IN ({_TYPE_VALUES})",
            name="type_known",
        ),
        CheckConstraint("target_percent BETWEEN 1 AND 100", name="target_range"),
        CheckConstraint("choose_count >= 0", name="choose_count_range"),
        CheckConstraint("renewal_months IS NULL OR renewal_months > 0", name="renewal_range"),
        CheckConstraint("required_hours IS NULL OR required_hours > 0", name="hours_positive"),
        CheckConstraint(
            "required_credits IS NULL OR required_credits > 0", name="credits_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_organisation.id", ondelete="RESTRICT"), index=True
    )
    organisation_type: Mapped[str | None] = mapped_column(String(20), index=True)
    # Optional courses of which this many must be valid (0: no choice, all required).
    choose_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A completion counts for this many months at most (None: the course's own expiry).
    renewal_months: Mapped[int | None] = mapped_column(Integer)
    # Hours and credits to gather (None: not asked), besides or instead of the courses.
    required_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    required_credits: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    target_percent: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[dt.date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now
    )

    organisation: Mapped[Organisation | None] = relationship()
    audiences: Mapped[list[Audience]] = relationship(
        secondary=commitment_audience, order_by=Audience.code
    )
    courses: Mapped[list[CommitmentCourse]] = relationship(
        back_populates="commitment",
        cascade="all, delete-orphan",
        order_by="CommitmentCourse.position",
    )

    @property
    def required_courses(self) -> list[CommitmentCourse]:
        return [c for c in self.courses if c.required]

    @property
    def optional_courses(self) -> list[CommitmentCourse]:
        return [c for c in self.courses if not c.required]

    @property
    def course_ids(self) -> list[int]:
        return [c.course_id for c in self.courses]

    @property
    def amounts(self) -> list[tuple[str, Decimal]]:
        """The amounts asked, in display order: ("hours", 8), ("credits", 10)."""
        asked = (("hours", self.required_hours), ("credits", self.required_credits))
        return [(kind, value) for kind, value in asked if value]

    @property
    def audience_ids(self) -> set[int]:
        return {a.id for a in self.audiences}

    def applies_to(self, organisation: Organisation) -> bool:
        if self.organisation_id is not None:
            return self.organisation_id == organisation.id
        if self.organisation_type is not None:
            return self.organisation_type == organisation.type
        return True

    def __repr__(self) -> str:
        return f"<Commitment {self.code}>"


class CommitmentCourse(Base):
    __tablename__ = "commitments_course"
    __table_args__ = (
        UniqueConstraint(
            "commitment_id", "course_id", name="uq_commitments_course_commitment_course"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments_commitment.id", ondelete="CASCADE")
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    commitment: Mapped[Commitment] = relationship(back_populates="courses")
    course: Mapped[Course] = relationship()


class DigestSent(Base):
    """One monthly digest per organisation and period, so that cron never sends it twice."""

    __tablename__ = "commitments_digest"
    __table_args__ = (
        UniqueConstraint("organisation_id", "period", name="uq_commitments_digest_org_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("lms_organisation.id", ondelete="CASCADE")
    )
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class StandingRow(Base):
    """A person's standing against a commitment (``commitments.rules.status.Standing``), kept
    current in the transaction of every change to their enrolments, progress or
    completions (``commitments.standing``), so that dashboards count statuses in SQL.

    No row means no facts: not enrolled in any of the commitment's courses.
    """

    __tablename__ = "commitments_standing"

    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments_commitment.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    satisfied: Mapped[bool] = mapped_column(Boolean)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    progress: Mapped[str] = mapped_column(String(20))


class ValidityPeriod(Base):
    """When a person's completions met a commitment (``status.validity_periods``): the
    coverage trend counts them at each month-end. Maintained with the standings."""

    __tablename__ = "commitments_validity"

    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments_commitment.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CourseState(Base):
    """A person's standing in one course of a commitment (``rules.status.course_cell``'s
    time-independent part), stored with the standing so that the staff matrix sorts by
    a course column in SQL. No row: not enrolled, nothing completed (see ``StandingRow``).
    """

    __tablename__ = "commitments_course_state"

    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments_commitment.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    course_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # the latest
    # End of the latest completion's validity (None: no end, or not completed).
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    enrolled: Mapped[bool] = mapped_column(Boolean)
    progress: Mapped[str] = mapped_column(String(20))  # not completed: started or not


class NameKey(Base):
    """Each person's name as the staff matrix sorts it (``str.casefold``), so that SQL
    pages in the same order as Python: compared byte-wise (``COLLATE "C"`` on
    PostgreSQL), UTF-8 orders as code points do. Kept current with the standings."""

    __tablename__ = "commitments_name_key"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True
    )
    name_key: Mapped[str] = mapped_column(String(800))
