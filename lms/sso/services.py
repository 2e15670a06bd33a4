"""Single sign-on: providers, and what a verified identity leads to.

Functions take plain values and a SQLAlchemy session (callers commit); the exchange
with the provider (state, nonce, PKCE, the ID token's signature, issuer and audience)
is Authlib's, in the views through :mod:`lms.sso.client`.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms import audit, clock
from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.errors import NotFound, ServiceError
from lms.organisations.models import Audience, Organisation
from lms.sso.models import CLAIM_KEYS, DEFAULT_SCOPES, OIDCIdentity, OIDCProvider

log = logging.getLogger(__name__)

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
SUBJECT_LENGTH = 255
CLAIM_NAME_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")
#: the signed session's keys: the provider session (for logout) and a pending sign-up
SESSION_KEY = "lms_sso"
PENDING_KEY = "lms_sso_pending"
PENDING_SECONDS = 15 * 60  # a verified identity waits this long for the sign-up form


# --- Providers --------------------------------------------------------------------------


def providers(session: Session) -> list[OIDCProvider]:
    return list(session.scalars(select(OIDCProvider).order_by(OIDCProvider.display_name)))


def enabled_providers(session: Session) -> list[OIDCProvider]:
    """The providers the login page offers, by name."""
    stmt = (
        select(OIDCProvider)
        .where(OIDCProvider.enabled.is_(True))
        .order_by(OIDCProvider.display_name)
    )
    return list(session.scalars(stmt))


def provider_by_slug(session: Session, slug: str) -> OIDCProvider:
    """An enabled provider, or NotFound (a disabled one is as unknown)."""
    provider = session.scalar(select(OIDCProvider).where(OIDCProvider.slug == slug))
    if provider is None or not provider.enabled:
        raise NotFound(_("Accesso non disponibile."))
    return provider


def provider_by_id(session: Session, provider_id: int) -> OIDCProvider:
    provider = session.get(OIDCProvider, provider_id)
    if provider is None:
        raise NotFound(_("Accesso non disponibile."))
    return provider


def check_issuer(issuer: str) -> str:
    issuer = issuer.strip()
    parts = urlsplit(issuer)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise ServiceError(_("L'issuer deve essere un indirizzo https completo."))
    if parts.scheme == "http" and not local:
        raise ServiceError(_("L'issuer deve usare https (http solo per prove in locale)."))
    return issuer.rstrip("/")


def check_claim_mapping(mapping: Mapping[str, Any]) -> dict[str, str]:
    clean = {}
    for key, value in mapping.items():
        if key not in CLAIM_KEYS + ("audience",):
            raise ServiceError(_("Chiave di mappatura sconosciuta: %(key)s.", key=key))
        value = str(value or "").strip()
        if value and not CLAIM_NAME_RE.match(value):
            raise ServiceError(_("Nome di claim non valido: %(name)s.", name=value[:100]))
        if value:
            clean[key] = value
    return clean


def save_provider(
    session: Session,
    provider: OIDCProvider | None,
    *,
    actor: User,
    slug: str,
    display_name: str,
    issuer: str,
    client_id: str,
    client_secret: str | None,
    scopes: str,
    enabled: bool,
    allowed_organisation_ids: list[int],
    claim_mapping: Mapping[str, Any],
) -> OIDCProvider:
    """Create (``provider`` None) or update a provider. An empty ``client_secret`` on an
    update keeps the stored one."""
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise ServiceError(_("Identificativo non valido: lettere minuscole, cifre e trattini."))
    clash = session.scalar(select(OIDCProvider).where(OIDCProvider.slug == slug))
    if clash is not None and clash is not provider:
        raise ServiceError(_("Esiste già un accesso con questo identificativo."))
    scope_list = scopes.split() or DEFAULT_SCOPES.split()
    if "openid" not in scope_list:
        raise ServiceError(_("Gli scope devono comprendere openid."))
    organisation_ids = sorted(set(allowed_organisation_ids))
    stmt = select(Organisation.id).where(Organisation.id.in_(organisation_ids))
    known = set(session.scalars(stmt))
    if known != set(organisation_ids):
        raise ServiceError(_("Organizzazione non trovata."))
    if provider is None:
        if not client_secret:
            raise ServiceError(_("Il client secret è obbligatorio (anche nella forma env:NOME)."))
        provider = OIDCProvider()
        session.add(provider)
    provider.slug = slug
    provider.display_name = display_name.strip()
    provider.issuer = check_issuer(issuer)
    provider.client_id = client_id.strip()
    if client_secret:
        provider.client_secret = client_secret.strip()
    provider.scopes = " ".join(dict.fromkeys(scope_list))
    provider.enabled = enabled
    provider.allowed_organisation_ids = organisation_ids
    provider.claim_mapping = check_claim_mapping(claim_mapping)
    provider.updated_at = clock.now()
    session.flush()
    audit.record(
        session,
        "sso.provider_saved",
        actor=actor,
        object_type="oidc_provider",
        object_id=provider.id,
        details={"slug": slug, "enabled": enabled},
    )
    return provider


def disable_provider(session: Session, provider: OIDCProvider, *, actor: User) -> None:
    provider.enabled = False
    provider.updated_at = clock.now()
    audit.record(
        session,
        "sso.provider_saved",
        actor=actor,
        object_type="oidc_provider",
        object_id=provider.id,
        details={"slug": provider.slug, "enabled": False},
    )


# --- What an identity leads to --------------------------------------------------------------


class Outcome(enum.StrEnum):
    SIGNED_IN = "signed_in"  # linked before, or linked now by verified e-mail
    UNVERIFIED = "unverified"  # no account linked and no verified e-mail: refused
    INACTIVE = "inactive"  # the linked account is disabled: refused
    NO_ACCOUNT = "no_account"  # nobody with that e-mail and no organisation to join: refused
    SIGN_UP = "sign_up"  # no account: the person may join an allowed organisation


@dataclass(frozen=True)
class Identity:
    """What the provider's verified claims say, mapped by the provider's claim mapping."""

    provider_id: int
    subject: str
    email: str | None
    email_verified: bool
    full_name: str
    organisation_id: int | None = None  # the organisation claim, when it names an allowed one
    audience_id: int | None = None

    def to_session(self, now: dt.datetime) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["exp"] = int(now.timestamp()) + PENDING_SECONDS
        return data

    @classmethod
    def from_session(cls, data: Any, now: dt.datetime) -> Identity | None:
        if not isinstance(data, dict) or int(data.get("exp", 0)) < now.timestamp():
            return None
        try:
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    user: User | None = None
    identity: Identity | None = None
    linked_now: bool = False


def _text(value: Any, limit: int) -> str:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip()[:limit]
    return ""


def _verified(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def identity_from_claims(
    session: Session, provider: OIDCProvider, claims: Mapping[str, Any]
) -> Identity:
    """Map the claims of a verified ID token (and userinfo) to an :class:`Identity`."""
    subject = _text(claims.get(provider.claim("subject")), SUBJECT_LENGTH + 1)
    if not subject or len(subject) > SUBJECT_LENGTH:
        raise ServiceError(_("Il fornitore di identità non ha indicato chi sei."))
    email = _text(claims.get(provider.claim("email")), 254) or None
    name = _text(claims.get(provider.claim("name")), 255)
    if not name:
        given = _text(claims.get(provider.claim("given_name")), 120)
        family = _text(claims.get(provider.claim("family_name")), 120)
        name = f"{given} {family}".strip()
    organisation_id = None
    org_claim = provider.claim("organisation")
    if org_claim:
        wanted = _text(claims.get(org_claim), 100).lower()
        for org in _allowed_organisations(session, provider):
            if wanted and wanted in (org.code.lower(), str(org.id)):
                organisation_id = org.id
    audience_id = None
    if (provider.claim_mapping or {}).get("audience"):
        code = _text(claims.get(provider.claim("audience")), 40)
        audience = session.scalar(select(Audience).where(Audience.code == code)) if code else None
        audience_id = audience.id if audience else None
    return Identity(
        provider_id=provider.id,
        subject=subject,
        email=email.lower() if email else None,
        email_verified=_verified(claims.get("email_verified")),
        full_name=name,
        organisation_id=organisation_id,
        audience_id=audience_id,
    )


def _allowed_organisations(session: Session, provider: OIDCProvider) -> list[Organisation]:
    ids = [int(i) for i in provider.allowed_organisation_ids or [] if isinstance(i, int)]
    if not ids:
        return []
    stmt = (
        select(Organisation)
        .where(Organisation.id.in_(ids), Organisation.active.is_(True))
        .order_by(Organisation.name)
    )
    return list(session.scalars(stmt))


def join_choices(
    session: Session, provider: OIDCProvider, identity: Identity
) -> tuple[list[Organisation], list[Audience]]:
    """Organisations (the one the claim named, or the provider's allowed ones) and audiences."""
    organisations = _allowed_organisations(session, provider)
    if identity.organisation_id is not None:
        organisations = [o for o in organisations if o.id == identity.organisation_id]
    audiences = list(session.scalars(select(Audience).order_by(Audience.name_it)))
    return organisations, audiences


def _identity_row(session: Session, provider_id: int, subject: str) -> OIDCIdentity | None:
    return session.scalar(
        select(OIDCIdentity).where(
            OIDCIdentity.provider_id == provider_id, OIDCIdentity.subject == subject
        )
    )


def signed_in(session: Session, user: User, provider: OIDCProvider, now: dt.datetime) -> None:
    """Record a sign-in through ``provider`` as the password form records one."""
    user.last_login_at = now
    audit.record(
        session,
        "login",
        actor=user,
        subject_id=user.id,
        details={"via": f"sso:{provider.slug}"},
        at=now,
    )


def link(
    session: Session, provider: OIDCProvider, identity: Identity, user: User, now: dt.datetime
) -> OIDCIdentity:
    row = OIDCIdentity(
        provider_id=provider.id, subject=identity.subject, user_id=user.id, created_at=now
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "sso.linked",
        actor=user,
        object_type="oidc_identity",
        object_id=row.id,
        subject_id=user.id,
        details={"provider": provider.slug},
        at=now,
    )
    return row


def resolve(session: Session, provider: OIDCProvider, identity: Identity) -> Result:
    """What the verified identity leads to (links by verified e-mail only)."""
    now = clock.now()
    row = _identity_row(session, provider.id, identity.subject)
    if row is not None:
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            return Result(Outcome.INACTIVE)
        row.last_login_at = now
        signed_in(session, user, provider, now)
        return Result(Outcome.SIGNED_IN, user)
    if not identity.email or not identity.email_verified:
        log.info("sso: refused, e-mail not verified provider=%s", provider.slug)
        return Result(Outcome.UNVERIFIED)
    user = accounts.get_user_by_email(session, identity.email)
    if user is not None:
        if not user.active:
            return Result(Outcome.INACTIVE)
        link(session, provider, identity, user, now).last_login_at = now
        signed_in(session, user, provider, now)
        return Result(Outcome.SIGNED_IN, user, linked_now=True)
    if not _allowed_organisations(session, provider):
        return Result(Outcome.NO_ACCOUNT)
    return Result(Outcome.SIGN_UP, identity=identity)


@dataclass(frozen=True)
class SignUp:
    status: str  # "approved" (signed in) or "pending" (a referent decides)
    user: User | None


def sign_up(
    session: Session,
    provider: OIDCProvider,
    identity: Identity,
    *,
    organisation_id: int,
    audience_id: int,
) -> SignUp:
    """Just-in-time creation through the organisation's approval rule
    (``lms.registration``): ServiceError when the organisation does not accept."""
    from lms.registration.services import register_verified

    allowed = {o.id for o in join_choices(session, provider, identity)[0]}
    if organisation_id not in allowed or not identity.email or not identity.email_verified:
        raise ServiceError(_("Organizzazione non trovata."))
    request = register_verified(
        session,
        email=identity.email,
        full_name=identity.full_name or identity.email,
        organisation_id=organisation_id,
        unit_id=None,
        audience_id=audience_id,
        source=f"sso:{provider.slug}",
    )
    if request.status != "approved" or request.user_id is None:
        return SignUp("pending", None)
    user = session.get(User, request.user_id)
    assert user is not None
    now = clock.now()
    if _identity_row(session, provider.id, identity.subject) is None:
        link(session, provider, identity, user, now).last_login_at = now
    signed_in(session, user, provider, now)
    return SignUp("approved", user)


# --- Logout ---------------------------------------------------------------------------------


def remember_provider_session(
    session_data: MutableMapping[str, Any], provider: OIDCProvider, id_token: str | None
) -> None:
    """Keep what RP-initiated logout needs, in the signed session."""
    session_data[SESSION_KEY] = {"provider_id": provider.id, "id_token": id_token or ""}


def logout_redirect(
    session_data: MutableMapping[str, Any], post_logout_redirect_uri: str | None = None
) -> str | None:
    """The provider's end-session URL for the person signing out, or None.

    Call it while the person is still signed in and before ``logout_user()``; it takes
    the provider session out of ``session_data`` (the Flask session). None when they
    came without single sign-on, or the provider offers no ``end_session_endpoint``.
    ``post_logout_redirect_uri`` defaults to the platform's login page (absolute URL;
    it must be registered at the provider).
    """
    from flask import url_for

    from lms import db
    from lms.sso.client import client_for, metadata

    held = session_data.pop(SESSION_KEY, None)
    if not isinstance(held, dict) or not isinstance(held.get("provider_id"), int):
        return None
    provider = db.session.get(OIDCProvider, held["provider_id"])
    if provider is None:
        return None
    try:
        client = client_for(provider)
        if not metadata(provider, client).get("end_session_endpoint"):
            return None
        target = post_logout_redirect_uri or url_for("accounts.login", _external=True)
        result = client.create_logout_url(
            post_logout_redirect_uri=target,
            id_token_hint=str(held.get("id_token") or "") or None,
            client_id=provider.client_id,
        )
    except Exception:  # the provider is unreachable: signing out here must still work
        log.warning("sso: no provider logout for provider=%s", provider.slug, exc_info=True)
        return None
    return str(result["url"])
