"""Self-registration: rules, requests, confirmation and referents' decisions.

Functions take plain values and a SQLAlchemy session; they never touch the request.
Callers commit. The single sign-on feature (``lms.sso``) calls :func:`admission` and
:func:`register_verified` for identities whose e-mail a provider verified. The rules'
functions live in :mod:`lms.registration.rules` and are part of this module's face.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from lms import audit, clock
from lms.accounts import services as accounts
from lms.accounts.emails import normalise_email
from lms.accounts.models import User
from lms.errors import NotFound, ServiceError
from lms.organisations import units as org_units
from lms.organisations.models import Audience, Membership, Organisation, OrganisationUnit
from lms.organisations.services import add_member
from lms.organisations.units import StaffScope
from lms.registration.models import SOURCE_LENGTH, RegistrationRequest, RequestStatus
from lms.registration.rules import (  # the feature's face: callers import them from here
    MAX_JOIN_CODE_LENGTH,
    Admission,
    admission,
    any_open,
    check_join_code,
    email_domain,
    open_organisation,
    open_organisations,
    parse_domains,
    rule_of,
    update_rule,
)
from lms.text import single_line

CONFIRM_SALT = "lms.registration-confirm"
DEFAULT_TOKEN_MAX_AGE = 48 * 3600  # seconds: a confirmation link's life
DEFAULT_RETENTION = dt.timedelta(days=90)  # decided and expired requests kept this long
MAX_REASON_LENGTH = 2000


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


# --- The public form --------------------------------------------------------------------


class FormOutcome:
    """What :func:`submit` did, for the e-mail sent after the answer (never shown)."""

    KNOWN = "known"  # an account exists: tell them, with the sign-in and reset links
    CONFIRM = "confirm"  # a new or refreshed request: send the confirmation link
    WAITING = "waiting"  # already confirmed and waiting for a referent


def check_form(
    session: Session, organisation: Organisation, email: str, join_code: str | None
) -> None:
    """The organisation's own conditions, shown on the form: they say nothing about
    whether the address has an account (the same for everyone who types it)."""
    rule = rule_of(session, organisation.id)
    if rule is None or not rule.enabled or not organisation.active:
        raise NotFound(_("Organizzazione non trovata."))
    if admission(session, organisation, email) == "closed":
        raise ServiceError(
            _(
                "Questa organizzazione accetta solo indirizzi e-mail dei domini: %(domains)s.",
                domains=", ".join(rule.allowed_domains or []),
            )
        )
    if not check_join_code(rule, join_code):
        raise ServiceError(_("Il codice di adesione non è corretto."))


def submit(
    session: Session,
    *,
    email: str,
    full_name: str,
    organisation_id: int,
    unit_id: int | None,
    audience_id: int,
    now: dt.datetime,
) -> tuple[str, RegistrationRequest | None, User | None]:
    """Record a form's request (run after the answer has gone): for an address with an
    account nothing is created; an open request is refreshed rather than duplicated."""
    email = normalise_email(email)
    user = accounts.get_user_by_email(session, email)
    if user is not None:
        return FormOutcome.KNOWN, None, user
    organisation = open_organisation(session, organisation_id)
    unit, audience = _check_place(session, organisation, unit_id, audience_id)
    name = _clean_name(full_name)
    request = _open_request(session, email, organisation.id)
    if request is not None and request.status == RequestStatus.PENDING:
        return FormOutcome.WAITING, request, None
    if request is None:
        request = RegistrationRequest(email=email, organisation_id=organisation.id, source="form")
        session.add(request)
    request.full_name = name
    request.unit_id = unit.id if unit else None
    request.audience_id = audience.id
    request.status = RequestStatus.CONFIRMING
    request.created_at = now
    session.flush()
    return FormOutcome.CONFIRM, request, None


def make_token(secret_key: str, request: RegistrationRequest) -> str:
    serializer = URLSafeTimedSerializer(secret_key, salt=CONFIRM_SALT)
    return serializer.dumps({"rid": request.id, "at": request.created_at.isoformat()})


def read_token(session: Session, secret_key: str, token: str, max_age: int) -> RegistrationRequest:
    """The request a confirmation link names, while it still waits for confirmation
    (a refreshed request invalidates older links: its time is in the token)."""
    serializer = URLSafeTimedSerializer(secret_key, salt=CONFIRM_SALT)
    try:
        data = serializer.loads(token[:1000], max_age=max_age)
    except SignatureExpired as exc:
        raise accounts.TokenError(_("Il link è scaduto: ripeti la registrazione.")) from exc
    except BadSignature as exc:
        raise accounts.TokenError(_("Il link non è valido.")) from exc
    request = session.get(RegistrationRequest, data.get("rid")) if isinstance(data, dict) else None
    if (
        request is None
        or request.status != RequestStatus.CONFIRMING
        or data.get("at") != request.created_at.isoformat()
    ):
        raise accounts.TokenError(
            _("Il link non è più valido: è già stato usato o è stato sostituito.")
        )
    return request


def confirm(
    session: Session, request: RegistrationRequest, password: str, *, now: dt.datetime
) -> User | None:
    """The person followed the link and chose a password: approved at once (the user is
    returned, to sign in) when the rule admits the domain, else pending (None)."""
    if request.status != RequestStatus.CONFIRMING:
        raise ServiceError(_("Questa richiesta è già stata confermata."))
    accounts.check_password_strength(password)
    if password.strip().lower() == request.email:
        raise ServiceError(_("La password non può coincidere con l'indirizzo e-mail."))
    if accounts.get_user_by_email(session, request.email) is not None:
        # an account appeared meanwhile (an invitation): it keeps its own password
        request.status = RequestStatus.EXPIRED
        raise ServiceError(
            _("Esiste già un account per questo indirizzo: accedi o reimposta la password.")
        )
    verdict = admission(session, request.organisation, request.email)
    if verdict == "closed":
        request.status = RequestStatus.EXPIRED
        raise ServiceError(_("Questa organizzazione non accetta più iscrizioni."))
    request.password_hash = accounts.hash_password(password)
    request.confirmed_at = now
    request.status = RequestStatus.PENDING
    session.flush()
    if verdict == "auto":
        return _admit(session, request, actor=None, now=now)
    _record_pending(session, request, now)
    return None


# --- Referents' decisions ---------------------------------------------------------------


def _in_scope(stmt, scope: StaffScope):  # type: ignore[no-untyped-def]
    stmt = stmt.where(RegistrationRequest.organisation_id == scope.organisation_id)
    if scope.unit_ids is not None:
        stmt = stmt.where(RegistrationRequest.unit_id.in_(sorted(scope.unit_ids)))
    return stmt


def pending_requests(session: Session, scope: StaffScope) -> list[RegistrationRequest]:
    """Requests waiting for a referent of ``scope``, oldest first. A unit referent sees
    those for their units only; requests without a unit go to the whole organisation's."""
    stmt = _in_scope(
        select(RegistrationRequest).where(RegistrationRequest.status == RequestStatus.PENDING),
        scope,
    ).order_by(RegistrationRequest.confirmed_at, RegistrationRequest.id)
    return list(session.scalars(stmt))


def pending_count(session: Session, scope: StaffScope) -> int:
    stmt = _in_scope(
        select(func.count(RegistrationRequest.id)).where(
            RegistrationRequest.status == RequestStatus.PENDING
        ),
        scope,
    )
    return int(session.scalar(stmt) or 0)


def request_in_scope(session: Session, scope: StaffScope, request_id: int) -> RegistrationRequest:
    """A request the reader may decide on, or NotFound (another unit's is not there)."""
    request = session.scalar(
        _in_scope(select(RegistrationRequest).where(RegistrationRequest.id == request_id), scope)
    )
    if request is None or request.status == RequestStatus.CONFIRMING:
        raise NotFound(_("Richiesta non trovata."))
    return request


def approve(
    session: Session, request: RegistrationRequest, *, actor: User, now: dt.datetime
) -> bool:
    """Approve a pending request; True if this call approved it (approving an approved
    request again changes nothing)."""
    if request.status == RequestStatus.APPROVED:
        return False
    if request.status != RequestStatus.PENDING:
        raise ServiceError(_("Questa richiesta non è più in attesa."))
    _admit(session, request, actor=actor, now=now)
    return True


def refuse(
    session: Session, request: RegistrationRequest, reason: str, *, actor: User, now: dt.datetime
) -> bool:
    """Refuse a pending request with a reason the person will read."""
    if request.status == RequestStatus.REFUSED:
        return False
    if request.status != RequestStatus.PENDING:
        raise ServiceError(_("Questa richiesta non è più in attesa."))
    text = (reason or "").strip()
    if not text:
        raise ServiceError(_("Indica il motivo del rifiuto: sarà inviato alla persona."))
    if len(text) > MAX_REASON_LENGTH:
        raise ServiceError(_("Il motivo è troppo lungo."))
    request.status = RequestStatus.REFUSED
    request.reason = text
    request.password_hash = None
    request.decided_at = now
    request.decided_by_id = actor.id
    session.flush()
    audit.record(
        session,
        "registration.refused",
        actor=actor,
        organisation_id=request.organisation_id,
        object_type="registration",
        object_id=request.id,
        at=now,
    )
    return True


# --- Retention --------------------------------------------------------------------------


def prune_expired(
    session: Session,
    now: dt.datetime,
    *,
    token_max_age: int = DEFAULT_TOKEN_MAX_AGE,
    retention: dt.timedelta = DEFAULT_RETENTION,
) -> int:
    """Expire requests never confirmed within the link's age, and delete requests
    decided or expired longer than ``retention`` ago (the audit keeps the decisions).
    Pending requests stay until a referent decides. Returns the rows deleted."""
    unconfirmed = now - dt.timedelta(seconds=token_max_age)
    session.execute(
        update(RegistrationRequest)
        .where(
            RegistrationRequest.status == RequestStatus.CONFIRMING,
            RegistrationRequest.created_at < unconfirmed,
        )
        .values(status=RequestStatus.EXPIRED, password_hash=None, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(
        delete(RegistrationRequest)
        .where(
            RegistrationRequest.status.in_(
                [RequestStatus.APPROVED, RequestStatus.REFUSED, RequestStatus.EXPIRED]
            ),
            func.coalesce(RegistrationRequest.decided_at, RegistrationRequest.created_at)
            < now - retention,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


__all__ = [
    "MAX_JOIN_CODE_LENGTH",
    "Admission",
    "admission",
    "any_open",
    "approve",
    "check_form",
    "check_join_code",
    "confirm",
    "email_domain",
    "open_organisation",
    "open_organisations",
    "parse_domains",
    "pending_count",
    "pending_requests",
    "prune_expired",
    "read_token",
    "refuse",
    "register_verified",
    "request_in_scope",
    "rule_of",
    "submit",
    "update_rule",
]
