"""Self-registration: rules, requests, confirmation and referents' decisions.

Functions take plain values and a SQLAlchemy session; they never touch the request.
Callers commit. The single sign-on feature (``lms.sso``) calls :func:`admission` and
:func:`register_verified` for identities whose e-mail a provider verified.

Who may join: an organisation's :class:`RegistrationRule` (off by default) may restrict
addresses to some domains (exact match) and ask a join code; with ``auto_approve_domain``
an address of an allowed domain is admitted without a referent. The join code guards the
public form only: a single sign-on identity never types it, and its request still goes
through :func:`admission` (a referent decides unless the domain admits it).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lms import audit, clock
from lms.accounts import services as accounts
from lms.accounts.emails import normalise_email
from lms.accounts.models import User
from lms.errors import NotFound, ServiceError
from lms.organisations import units as org_units
from lms.organisations.models import Audience, Membership, Organisation, OrganisationUnit
from lms.organisations.services import add_member
from lms.registration.models import (
    SOURCE_LENGTH,
    RegistrationRequest,
    RegistrationRule,
    RequestStatus,
)
from lms.text import single_line

Admission = Literal["auto", "referent", "closed"]

CONFIRM_SALT = "lms.registration-confirm"
DEFAULT_TOKEN_MAX_AGE = 48 * 3600  # seconds: a confirmation link's life
DEFAULT_RETENTION = dt.timedelta(days=90)  # decided and expired requests kept this long
MAX_DOMAINS = 50
MAX_DOMAIN_LENGTH = 253
MAX_JOIN_CODE_LENGTH = 100
MAX_REASON_LENGTH = 2000
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


# --- Rules ------------------------------------------------------------------------------


def rule_of(session: Session, organisation_id: int) -> RegistrationRule | None:
    return session.scalar(
        select(RegistrationRule).where(RegistrationRule.organisation_id == organisation_id)
    )


def parse_domains(text: str) -> list[str]:
    """Domains one per line or separated by commas/spaces, lower-case, "@" tolerated."""
    domains: list[str] = []
    for raw in re.split(r"[\s,;]+", text or ""):
        domain = raw.strip().lower().lstrip("@")
        if not domain:
            continue
        if len(domain) > MAX_DOMAIN_LENGTH or not _DOMAIN_RE.match(domain):
            raise ServiceError(_("Dominio non valido: %(domain)s", domain=single_line(raw)[:80]))
        if domain not in domains:
            domains.append(domain)
    if len(domains) > MAX_DOMAINS:
        raise ServiceError(_("Al massimo %(n)d domini.", n=MAX_DOMAINS))
    return domains


def update_rule(
    session: Session,
    organisation: Organisation,
    *,
    enabled: bool,
    domains: list[str],
    auto_approve_domain: bool,
    join_code: str | None = None,
    clear_join_code: bool = False,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> RegistrationRule:
    """Save the rule. ``join_code`` None keeps the current code; ``clear_join_code``
    removes it. Auto-approval needs at least one allowed domain."""
    if auto_approve_domain and not domains:
        raise ServiceError(
            _("L'approvazione automatica richiede almeno un dominio e-mail ammesso.")
        )
    rule = rule_of(session, organisation.id)
    if rule is None:
        rule = RegistrationRule(organisation_id=organisation.id)
        session.add(rule)
    rule.enabled = enabled
    rule.allowed_domains = list(domains)
    rule.auto_approve_domain = auto_approve_domain
    code_changed = False
    if clear_join_code:
        code_changed = rule.join_code_hash is not None
        rule.join_code_hash = None
    elif join_code is not None and join_code.strip():
        code = join_code.strip()
        if len(code) > MAX_JOIN_CODE_LENGTH:
            raise ServiceError(_("Il codice di adesione è troppo lungo."))
        rule.join_code_hash = generate_password_hash(code)
        code_changed = True
    rule.updated_at = now or clock.now()
    session.flush()
    audit.record(
        session,
        "registration.rule_changed",
        actor=actor,
        organisation_id=organisation.id,
        object_type="organisation",
        object_id=organisation.id,
        details={
            "enabled": enabled,
            "domains": ", ".join(domains),
            "auto_approve_domain": auto_approve_domain,
            "join_code_changed": code_changed,
        },
    )
    return rule


def open_organisations(session: Session) -> list[Organisation]:
    """Active organisations that take registrations, by name."""
    stmt = (
        select(Organisation)
        .join(RegistrationRule, RegistrationRule.organisation_id == Organisation.id)
        .where(RegistrationRule.enabled.is_(True), Organisation.active.is_(True))
        .order_by(Organisation.name)
    )
    return list(session.scalars(stmt))


def any_open(session: Session) -> bool:
    """Whether the login page should offer registration."""
    stmt = (
        select(RegistrationRule.id)
        .join(Organisation, RegistrationRule.organisation_id == Organisation.id)
        .where(RegistrationRule.enabled.is_(True), Organisation.active.is_(True))
        .limit(1)
    )
    return session.scalar(stmt) is not None


def open_organisation(session: Session, organisation_id: int) -> Organisation:
    """An organisation taking registrations, or NotFound (never a hint why)."""
    org = session.get(Organisation, organisation_id)
    rule = rule_of(session, organisation_id) if org is not None else None
    if org is None or not org.active or rule is None or not rule.enabled:
        raise NotFound(_("Organizzazione non trovata."))
    return org


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def admission(session: Session, organisation: Organisation, email: str) -> Admission:
    """How a verified address may join ``organisation``: "auto" (at once), "referent"
    (a referent decides) or "closed" (registration off, or the domain not allowed)."""
    rule = rule_of(session, organisation.id)
    if rule is None or not rule.enabled or not organisation.active:
        return "closed"
    domain = email_domain(email)
    allowed = rule.allowed_domains or []
    if allowed and domain not in allowed:
        return "closed"
    if rule.auto_approve_domain and allowed and domain in allowed:
        return "auto"
    return "referent"


def check_join_code(rule: RegistrationRule, code: str | None) -> bool:
    if not rule.join_code_hash:
        return True
    code = (code or "").strip()
    if not code or len(code) > MAX_JOIN_CODE_LENGTH:
        return False
    return check_password_hash(rule.join_code_hash, code)


# --- Requests ---------------------------------------------------------------------------


def _clean_name(full_name: str) -> str:
    name = single_line(full_name or "", what=_("Il nome")).strip()
    if not name:
        raise ServiceError(_("Il nome e cognome è obbligatorio."))
    if len(name) > 255:
        raise ServiceError(_("Il nome è troppo lungo."))
    return name


def _check_place(
    session: Session, organisation: Organisation, unit_id: int | None, audience_id: int
) -> tuple[OrganisationUnit | None, Audience]:
    unit = None
    if unit_id is not None:
        unit = session.get(OrganisationUnit, unit_id)
        if unit is None or unit.organisation_id != organisation.id or not unit.is_open:
            raise ServiceError(_("Unità non valida."))
    audience = session.get(Audience, audience_id)
    if audience is None:
        raise ServiceError(_("Ruolo professionale non valido."))
    return unit, audience


def _open_request(session: Session, email: str, organisation_id: int) -> RegistrationRequest | None:
    """The newest request of this address to this organisation still under way."""
    stmt = (
        select(RegistrationRequest)
        .where(
            RegistrationRequest.email == email,
            RegistrationRequest.organisation_id == organisation_id,
            RegistrationRequest.status.in_([RequestStatus.CONFIRMING, RequestStatus.PENDING]),
        )
        .order_by(RegistrationRequest.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def _admit(
    session: Session, request: RegistrationRequest, *, actor: User | None, now: dt.datetime
) -> User:
    """Create (or find) the account and the membership, in the requested unit."""
    organisation = request.organisation
    user = accounts.get_user_by_email(session, request.email)
    if user is None:
        user = accounts.create_user(session, request.email, request.full_name)
        if request.password_hash:
            user.password_hash = request.password_hash
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    )
    if membership is None or membership.ended_at is not None:
        membership, _created = add_member(
            session,
            organisation,
            email=user.email,
            full_name=user.full_name,
            audience_code=request.audience.code,
            actor=actor,
        )
    unit = request.unit
    if unit is not None and unit.is_open and membership.unit_id is None:
        org_units.place_member(session, membership, unit, actor=actor)
    request.status = RequestStatus.APPROVED
    request.user_id = user.id
    request.decided_at = now
    request.decided_by_id = actor.id if actor is not None else None
    request.password_hash = None
    session.flush()
    audit.record(
        session,
        "registration.approved",
        actor=actor,
        organisation_id=organisation.id,
        object_type="registration",
        object_id=request.id,
        subject_id=user.id,
        details={"source": request.source, "automatic": actor is None},
        at=now,
    )
    return user


def register_verified(
    session: Session,
    *,
    email: str,
    full_name: str,
    organisation_id: int,
    unit_id: int | None,
    audience_id: int,
    source: str,
) -> RegistrationRequest:
    """Register an identity whose e-mail a provider verified (no confirmation link).

    "auto": the account and membership are created, the request is "approved" with
    ``user_id`` set; "referent": the request is "pending" (an open one for the same
    address and organisation is returned as it is); "closed": ServiceError.
    An existing account is linked, never given a new password.
    """
    now = clock.now()
    email = normalise_email(email)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise ServiceError(_("Organizzazione non trovata."))
    verdict = admission(session, organisation, email)
    if verdict == "closed":
        raise ServiceError(
            _("Questa organizzazione non accetta iscrizioni per questo indirizzo e-mail.")
        )
    name = _clean_name(full_name)
    unit, audience = _check_place(session, organisation, unit_id, audience_id)
    source = single_line(source or "")[:SOURCE_LENGTH] or "sso"
    if verdict == "referent":
        existing = _open_request(session, email, organisation.id)
        if existing is not None and existing.status == RequestStatus.PENDING:
            return existing
        if existing is not None:  # a form request never confirmed: the provider confirms it
            existing.status = RequestStatus.EXPIRED
    request = RegistrationRequest(
        email=email,
        full_name=name,
        organisation_id=organisation.id,
        unit_id=unit.id if unit else None,
        audience_id=audience.id,
        status=RequestStatus.PENDING,
        source=source,
        created_at=now,
        confirmed_at=now,
    )
    session.add(request)
    session.flush()
    if verdict == "auto":
        _admit(session, request, actor=None, now=now)
    else:
        _record_pending(session, request, now)
    return request


def _record_pending(session: Session, request: RegistrationRequest, now: dt.datetime) -> None:
    audit.record(
        session,
        "registration.requested",
        organisation_id=request.organisation_id,
        object_type="registration",
        object_id=request.id,
        details={"source": request.source, "unit_id": request.unit_id},
        at=now,
    )
