"""Users and platform roles."""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.db import Base, UTCDateTime

SUPPORTED_LOCALES = ("it", "en")
PROFESSIONAL_ID_LENGTH = 40


class Role(enum.StrEnum):
    """Platform-wide roles. Organisation referents are a Membership flag, not a role."""

    TRAINER = "trainer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


def _new_session_token() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, Base):
    __tablename__ = "lms_user"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("locale IN ('it', 'en')", name="locale_supported"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="it", server_default="it")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Rotated on password change and logout-everywhere: old sessions stop matching.
    session_token: Mapped[str] = mapped_column(String(32), default=_new_session_token)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set when retention deactivates the account for inactivity: such a person may come
    # back by the reset link or their referent (an erased account may not).
    dormant_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reactivated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When a referent last sent the invitation again (the first one: ``created_at``).
    invitation_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Optional, given by the person for accrediting bodies' reports: codice fiscale or
    # registration number with their professional order (bar, health, social work).
    professional_id: Mapped[str | None] = mapped_column(String(PROFESSIONAL_ID_LENGTH))

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the session carries id and token
        return f"{self.id}:{self.session_token}"

    @property
    def is_dormant(self) -> bool:
        """Deactivated for inactivity, and so free to come back."""
        return not self.active and self.dormant_since is not None

    def rotate_session_token(self) -> None:
        self.session_token = _new_session_token()

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)

    def has_role(self, *roles: Role | str) -> bool:
        return bool(self.role_names & {str(r) for r in roles})

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserRole(Base):
    __tablename__ = "lms_user_role"
    __table_args__ = (
        UniqueConstraint("user_id", "role", name="uq_lms_user_role_user_role"),
        CheckConstraint("role IN ('trainer', 'coordinator', 'admin')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship(back_populates="roles")
