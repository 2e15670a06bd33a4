"""Sessions (in a room or online), registrations with a waiting list, attendance.

A session belongs to a course (``course_id``; ``required`` makes attendance a
condition of the course's completion) or stands alone. ``confirmed_count`` is
the number of confirmed seats, kept by the registration service under a lock on
the session row and bounded by a CHECK constraint, so that no race can
overbook; ``queue_seq`` is bumped by every registration change and numbers the
registrations in the order they took the lock (the waiting list's order).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.api import Course
from lms import clock
from lms.accounts.models import User
from lms.db import Base, UTCDateTime
from lms.organisations.models import Audience

DEFAULT_TIME_ZONE = "Europe/Rome"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class RegistrationSource(enum.StrEnum):
    SELF = "self"
    REFERENT = "referent"
    ADMIN = "admin"


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    PARTIAL = "partial"
    ABSENT = "absent"


session_audience = Table(
    "live_sessions_session_audience",
    Base.metadata,
    Column(
        "session_id", ForeignKey("live_sessions_session.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "audience_id",
        ForeignKey("lms_audience.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)

session_trainer = Table(
    "live_sessions_session_trainer",
    Base.metadata,
    Column(
        "session_id", ForeignKey("live_sessions_session.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("user_id", ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class LiveSession(Base):
    __tablename__ = "live_sessions_session"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="status_known"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "confirmed_count >= 0 AND confirmed_count <= capacity", name="seats_within_capacity"
        ),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("hours >= 0", name="hours_not_negative"),
        CheckConstraint("place <> '' OR online_url IS NOT NULL", name="place_or_link"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses_course.id", ondelete="SET NULL"), index=True
    )
    # Attendance is a condition of the course's completion (any one required session).
    required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIME_ZONE)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    place: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(Integer)
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    queue_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waiting_list: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    all_audiences: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    credits: Mapped[str | None] = mapped_column(String(60))  # e.g. "3 CFP"
    registration_opens_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancellation_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=SessionStatus.SCHEDULED)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)  # set on edit

    course: Mapped[Course | None] = relationship()
    audiences: Mapped[list[Audience]] = relationship(
        secondary=session_audience, order_by=Audience.code
    )
    trainers: Mapped[list[User]] = relationship(secondary=session_trainer, order_by=User.full_name)

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.confirmed_count, 0)

    def __repr__(self) -> str:
        return f"<LiveSession {self.id} {self.starts_at:%Y-%m-%d}>"


_ACTIVE = "status IN ('confirmed', 'waitlisted')"


class Registration(Base):
    """A person's registration; cancellation keeps the row (a new registration is a new row)."""

    __tablename__ = "live_sessions_registration"
    __table_args__ = (
        CheckConstraint("status IN ('confirmed', 'waitlisted', 'cancelled')", name="status_known"),
        CheckConstraint("source IN ('self', 'referent', 'admin')", name="source_known"),
        UniqueConstraint("session_id", "queue_number", name="uq_live_sessions_registration_queue"),
        Index(
            "uq_live_sessions_registration_one_active",
            "session_id",
            "user_id",
            unique=True,
            sqlite_where=text(_ACTIVE),
            postgresql_where=text(_ACTIVE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions_session.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    queue_number: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(12))
    registered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    reminder_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    live_session: Mapped[LiveSession] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def is_active(self) -> bool:
        return self.status != RegistrationStatus.CANCELLED


class Attendance(Base):
    """What the trainer recorded for one person at one session (corrections keep history)."""

    __tablename__ = "live_sessions_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", name="uq_live_sessions_attendance_person"),
        CheckConstraint("status IN ('present', 'partial', 'absent')", name="status_known"),
        CheckConstraint(
            "(status = 'partial' AND minutes > 0) OR (status <> 'partial' AND minutes IS NULL)",
            name="minutes_iff_partial",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions_session.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    minutes: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    live_session: Mapped[LiveSession] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AttendanceChange(Base):
    """History of attendance: every marking and correction, with who, when, old and new."""

    __tablename__ = "live_sessions_attendance_change"
    __table_args__ = (CheckConstraint("source IN ('list', 'import')", name="source_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attendance_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions_attendance.id", ondelete="CASCADE"), index=True
    )
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    old_status: Mapped[str | None] = mapped_column(String(12))
    old_minutes: Mapped[int | None] = mapped_column(Integer)
    new_status: Mapped[str] = mapped_column(String(12))
    new_minutes: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(12))

    attendance: Mapped[Attendance] = relationship()
    changed_by: Mapped[User | None] = relationship()
