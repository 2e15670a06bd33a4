"""Notifications, the e-mail outbox that delivers them, and who turned what off.

A notification is written once per person, kind and key (the subject and the
occasion: ``enrolment:12:2026-12-05T10:00``): the UNIQUE constraint is what makes
scans and reminders idempotent however often they run. Its e-mail waits in the
outbox until ``lms notifications send`` delivers it (never while a request is
being answered); a failed send stays pending, with its error, for the next run.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.accounts.models import User
from lms.db import Base, UTCDateTime


class Kind(enum.StrEnum):
    ENROLLED = "enrolled"  # enrolled in a course by someone else (a referent)
    DEADLINE = "deadline"  # a commitment's deadline in 30 or 7 days, not yet met
    LATE = "late"  # the deadline has passed, still not met
    CERTIFICATE_ISSUED = "certificate_issued"
    CERTIFICATE_EXPIRING = "certificate_expiring"
    SESSION_REMINDER = "session_reminder"
    DIGEST = "digest"  # referents' summaries of their staff

    @property
    def optional(self) -> bool:
        """Reminders and summaries may be turned off; what the person must know may not."""
        return self in OPTIONAL


OPTIONAL = frozenset({Kind.CERTIFICATE_EXPIRING, Kind.SESSION_REMINDER, Kind.DIGEST})


class Notification(Base):
    __tablename__ = "notifications_notification"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "key", name="uq_notifications_notification_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class OutboxMessage(Base):
    """The e-mail of one notification, rendered in the person's language when written."""

    __tablename__ = "notifications_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications_notification.id", ondelete="CASCADE"), unique=True
    )
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))

    notification: Mapped[Notification] = relationship()


class Muted(Base):
    """An optional kind a person receives no e-mail for (it still shows in their list)."""

    __tablename__ = "notifications_muted"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    muted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
