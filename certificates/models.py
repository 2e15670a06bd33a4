"""Certificates, and the reminders already sent about them.

A certificate is immutable once issued: its signed payload is stored as the
exact bytes that were signed, so every later download carries the same
signature, whatever key is current by then. History is kept by linking rows
(``previous_id``): a renewal or a re-issue never overwrites the old row.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.accounts.models import User
from lms.db import Base, UTCDateTime


class CertificateKind(enum.StrEnum):
    """What was completed (``CompletionEvent.kind``)."""

    COURSE = "course"
    COMMITMENT = "commitment"
    SESSION = "session"


class Status(enum.StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


_KIND_VALUES = ", ".join(f"'{k.value}'" for k in CertificateKind)


class Certificate(Base):
    __tablename__ = "certificates_certificate"
    __table_args__ = (
        # One certificate per completion; re-issues of it count up ``reissue``.
        UniqueConstraint("completion_ref", "reissue"),
        CheckConstraint(f"kind IN ({_KIND_VALUES})", name="kind_known"),
        CheckConstraint("reissue >= 0", name="reissue_not_negative"),
        Index("ix_certificates_certificate_user_key", "user_id", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_organisation.id", ondelete="SET NULL"), index=True
    )
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates_certificate.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    completion_ref: Mapped[str] = mapped_column(String(200))
    reissue: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    serial: Mapped[str] = mapped_column(String(60), unique=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # normalised, no dashes

    holder_name: Mapped[str] = mapped_column(String(200))
    organisation_name: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300))
    version_label: Mapped[str] = mapped_column(String(100))
    hours: Mapped[float] = mapped_column(Float)
    # False: no hours printed (the course's evidence profile prints none; ``hours`` is 0).
    hours_printed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    credits: Mapped[str | None] = mapped_column(String(100))
    # Time tracked on the content when completed (NULL: not tracked, e.g. attendance).
    tracked_seconds: Mapped[int | None] = mapped_column(Integer)
    # The accreditation as printed: body, provider, event, credits, valid_from,
    # valid_until and ``covered`` (whether the completion fell within the period).
    accreditation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    issuer: Mapped[str] = mapped_column(String(255))

    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )

    # The exact signed bytes (UTF-8 JSON), the signature (base64) and its key.
    payload: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    previous: Mapped[Certificate | None] = relationship(remote_side="Certificate.id")

    @property
    def printed_hours(self) -> float | None:
        """The hours the certificate states, or ``None`` when it states none."""
        return self.hours if self.hours_printed else None

    def status(self, now: dt.datetime, expiring_days: int) -> Status:
        """Revoked beats superseded beats expired beats expiring."""
        if self.revoked_at is not None:
            return Status.REVOKED
        if self.superseded_at is not None:
            return Status.SUPERSEDED
        if self.expires_at is not None:
            if self.expires_at <= now:
                return Status.EXPIRED
            if self.expires_at <= now + dt.timedelta(days=expiring_days):
                return Status.EXPIRING
        return Status.VALID

    def __repr__(self) -> str:
        return f"<Certificate {self.serial}>"


class ReminderSent(Base):
    """One row per certificate and threshold (days before expiry): sent once."""

    __tablename__ = "certificates_reminder_sent"
    __table_args__ = (UniqueConstraint("certificate_id", "threshold_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates_certificate.id", ondelete="CASCADE")
    )
    threshold_days: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)


class SigningKeyRecord(Base):
    """One Ed25519 key pair of the installation (every host signs with the same one).

    The highest ``generation`` signs new certificates; older rows stay so that what
    they signed keeps verifying. ``private_sealed`` is the PKCS#8 private key encrypted
    with a key derived from ``LMS_SECRET_KEY`` (``certificates.keys``), NULL for a key
    kept only to verify. Unique generations make concurrent creation and rotation safe.
    """

    __tablename__ = "certificates_signing_key"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, unique=True)
    public_pem: Mapped[str] = mapped_column(Text)
    private_sealed: Mapped[str | None] = mapped_column(Text)
    # The PDF signature (PAdES): an ECDSA P-256 key sealed the same way, and its X.509
    # certificate (self-issued unless a trust service provider's was imported).
    pades_private_sealed: Mapped[str | None] = mapped_column(Text)
    pades_certificate_pem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)


class OpenBadge(Base):
    """A certificate issued as an Open Badges 3.0 ``OpenBadgeCredential``, stored once made.

    ``subject_id`` is the credentialSubject's id: "" for the holder identified by a salted
    hash of the e-mail, else the DID the holder gave. ``credential`` is the JSON with its
    Data Integrity proof, ``jwt`` the same credential as a VC-JWT; both signed by ``key_id``.
    """

    __tablename__ = "certificates_open_badge"
    __table_args__ = (UniqueConstraint("certificate_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates_certificate.id", ondelete="CASCADE")
    )
    subject_id: Mapped[str] = mapped_column(String(300), default="", server_default="")
    credential: Mapped[str] = mapped_column(Text)
    jwt: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    certificate: Mapped[Certificate] = relationship()
