"""Self-registration: organisations' rules and people's requests (issue 18)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.accounts.models import User
from lms.db import Base, UTCDateTime
from lms.organisations.models import Audience, Organisation, OrganisationUnit


class RequestStatus(enum.StrEnum):
    CONFIRMING = "confirming"  # the e-mail link has not been followed yet
    PENDING = "pending"  # confirmed, waiting for a referent
    APPROVED = "approved"
    REFUSED = "refused"
    EXPIRED = "expired"  # never confirmed within the link's age


_STATUS_VALUES = ", ".join(f"'{s.value}'" for s in RequestStatus)
EMAIL_LENGTH = 254
SOURCE_LENGTH = 80


class RegistrationRule(Base):
    """Whether and how an organisation takes self-registrations (off until a referent or
    an admin turns it on). The join code is kept only as a salted hash."""

    __tablename__ = "lms_registration_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("lms_organisation.id", ondelete="CASCADE"), unique=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Lower-case domains, matched exactly ("asst-nord.it" does not admit "x.asst-nord.it").
    allowed_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    join_code_hash: Mapped[str | None] = mapped_column(String(255))
    auto_approve_domain: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    organisation: Mapped[Organisation] = relationship()

    @property
    def has_join_code(self) -> bool:
        return bool(self.join_code_hash)


class RegistrationRequest(Base):
    """One person's request to join an organisation, from the form or a single sign-on.

    ``password_hash`` holds the chosen password's hash between confirmation and the
    referent's decision only (never the password); it moves to the account on approval.
    """

    __tablename__ = "lms_registration_request"
    __table_args__ = (CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), index=True)
    full_name: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("lms_organisation.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_org_unit.id", ondelete="SET NULL"), index=True
    )
    audience_id: Mapped[int] = mapped_column(ForeignKey("lms_audience.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), index=True, default=RequestStatus.CONFIRMING)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), default="form")
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    unit: Mapped[OrganisationUnit | None] = relationship()
    audience: Mapped[Audience] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<RegistrationRequest {self.id} {self.status}>"
