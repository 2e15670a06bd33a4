"""Single sign-on with OpenID Connect: providers and linked identities (issue 18)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from lms import clock
from lms.db import Base, UTCDateTime

DEFAULT_SCOPES = "openid email profile"
#: keys of ``claim_mapping``: which claim of the provider gives each of our values
CLAIM_KEYS = ("subject", "email", "name", "given_name", "family_name", "organisation")


class OIDCProvider(Base):
    """An OpenID Connect provider the admin configured (a directory, a SPID/CIE gateway).

    ``client_secret`` is either the secret itself or ``env:NAME``, a reference to an
    environment variable of the platform's processes (the secret then never enters the
    database or its backups). ``allowed_organisation_ids`` lists the organisations that
    people arriving through this provider may be created in; empty: nobody is created.
    """

    __tablename__ = "lms_oidc_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str] = mapped_column(String(500), default="")
    scopes: Mapped[str] = mapped_column(String(255), default=DEFAULT_SCOPES)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    allowed_organisation_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    claim_mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    #: changes with every edit: clients cached per process are keyed by it
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    def claim(self, key: str) -> str:
        """The provider's claim for one of :data:`CLAIM_KEYS` (the standard name by default)."""
        defaults = {"subject": "sub", "organisation": ""}
        value = (self.claim_mapping or {}).get(key)
        return str(value) if value else defaults.get(key, key)

    def __repr__(self) -> str:
        return f"<OIDCProvider {self.slug}>"


class OIDCIdentity(Base):
    """A person's identity at a provider, linked to their account."""

    __tablename__ = "lms_oidc_identity"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("lms_oidc_provider.id", ondelete="RESTRICT")
    )
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
