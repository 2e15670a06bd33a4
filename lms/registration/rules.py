"""Organisations' registration rules: whether, for which domains, with which join code.

An organisation's :class:`RegistrationRule` is off by default; it may restrict addresses
to some domains (exact match) and ask a join code; with ``auto_approve_domain`` an
address of an allowed domain is admitted without a referent. The join code guards the
public form only: a single sign-on identity never types it (a referent still decides
unless the domain admits it).
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
from lms.accounts.models import User
from lms.errors import NotFound, ServiceError
from lms.organisations.models import Organisation
from lms.registration.models import RegistrationRule
from lms.text import single_line

Admission = Literal["auto", "referent", "closed"]

MAX_DOMAINS = 50
MAX_DOMAIN_LENGTH = 253
MAX_JOIN_CODE_LENGTH = 100
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


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
        at=rule.updated_at,
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
