"""Issuing, renewal, re-issue and revocation.

Issuing runs inside the completion's own transaction (a ``completion_recorded``
receiver): the certificate commits or rolls back with the completion. It
happens once per completion: a UNIQUE (completion_ref, reissue) constraint
decides between concurrent completions, and the loser's savepoint is rolled
back so that its transaction goes on with the winner's certificate.

Any kind of completion (course, commitment, attendance session) goes through
the same path: the event carries everything that is printed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certificates import accreditation, codes, keys, signing
from certificates.models import Certificate, CertificateKind
from lms import audit, clock, signals
from lms.accounts.models import User
from lms.dates import add_months
from lms.errors import NotFound, ServiceError
from lms.organisations.models import Membership, Organisation
from lms.signals import CompletionEvent

log = logging.getLogger(__name__)

DEFAULT_ISSUER = "Comune di Milano – Area Diritti e Inclusione, Rete antiviolenza di Milano"


@dataclass(frozen=True)
class IssuerSettings:
    """Who signs, with what, and how serials look (from the app's config)."""

    issuer: str
    serial_prefix: str
    secret_key: str  # LMS_SECRET_KEY: unlocks the installation's signing key


def holder_organisation(session: Session, user_id: int) -> Organisation | None:
    """The holder's current organisation; with several, the first by name."""
    stmt = (
        select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user_id, Membership.ended_at.is_(None))
        .order_by(Organisation.name)
        .limit(1)
    )
    return session.scalar(stmt)


def _find(session: Session, completion_ref: str, reissue: int = 0) -> Certificate | None:
    return session.scalar(
        select(Certificate).where(
            Certificate.completion_ref == completion_ref, Certificate.reissue == reissue
        )
    )


def _chain_head(session: Session, user_id: int, key: str) -> Certificate | None:
    """The latest certificate of this user for this key, not yet superseded."""
    return session.scalar(
        select(Certificate)
        .where(
            Certificate.user_id == user_id,
            Certificate.key == key,
            Certificate.superseded_at.is_(None),
        )
        .order_by(Certificate.id.desc())
        .limit(1)
    )


def payload_of(cert: Certificate, key_id: str) -> bytes:
    return signing.canonical(
        {
            "format": signing.PAYLOAD_FORMAT,
            "serial": cert.serial,
            "code": codes.grouped(cert.code),
            "holder": cert.holder_name,
            "organisation": cert.organisation_name,
            "kind": cert.kind,
            "title": cert.title,
            "version": cert.version_label,
            "hours": cert.hours if cert.hours_printed else None,
            "credits": cert.credits,
            "tracked_seconds": cert.tracked_seconds,
            "accreditation": cert.accreditation,
            "completed": signing.timestamp(cert.completed_at),
            "issued": signing.timestamp(cert.issued_at),
            "expires": signing.timestamp(cert.expires_at),
            "issuer": cert.issuer,
            "key_id": key_id,
        }
    )


def _insert(
    session: Session, cert: Certificate, settings: IssuerSettings, serial: str | None = None
) -> None:
    """Insert, then fill what needs the row id (serial) and sign."""
    cert.serial = f"pending-{cert.code}"  # unique placeholder until the id exists
    cert.payload, cert.signature, cert.key_id = "", "", ""
    session.add(cert)
    session.flush()
    cert.serial = serial or codes.serial_for(settings.serial_prefix, cert.issued_at.year, cert.id)
    key = keys.signing_key(session, settings.secret_key)
    # The PDF signer of this generation made now, in the issuing transaction, if it is a
    # generation from before PAdES: downloads (GETs) then never write.
    keys.pades_key(session, settings.secret_key, settings.issuer)
    payload = payload_of(cert, key.key_id)
    cert.payload = payload.decode("utf-8")
    cert.signature = signing.sign(payload, key)
    cert.key_id = key.key_id
    session.flush()


def issue(
    session: Session,
    event: CompletionEvent,
    settings: IssuerSettings,
    *,
    now: dt.datetime | None = None,
) -> Certificate:
    """The certificate for ``event``, created once; a second call returns the first."""
    existing = _find(session, event.completion_ref)
    if existing is not None:
        return existing
    user = session.get(User, event.user_id)
    if user is None:
        raise NotFound(_("Persona non trovata."))
    now = now or clock.now()
    organisation = holder_organisation(session, user.id)
    accredited = accreditation.record(event.accreditation, event.completed_at)
    try:
        with session.begin_nested():
            previous = _chain_head(session, user.id, event.key)
            cert = Certificate(
                user_id=user.id,
                organisation_id=organisation.id if organisation else None,
                organisation_name=organisation.name if organisation else None,
                previous_id=previous.id if previous else None,
                kind=CertificateKind(event.kind).value,
                key=event.key,
                completion_ref=event.completion_ref,
                reissue=0,
                code=codes.new_code(),
                holder_name=user.full_name,
                title=event.title,
                version_label=event.version_label,
                hours=float(event.hours) if event.hours is not None else 0.0,
                hours_printed=event.hours is not None,
                credits=event.credits or accreditation.credits_earned(accredited),
                tracked_seconds=event.tracked_seconds,
                accreditation=accredited,
                issuer=settings.issuer,
                completed_at=event.completed_at,
                issued_at=now,
                expires_at=(
                    add_months(event.completed_at, event.renewal_months)
                    if event.renewal_months
                    else None
                ),
            )
            _insert(session, cert, settings)
            if previous is not None:  # a renewal: the old one stays, as history
                previous.superseded_at = now
                session.flush()
    except IntegrityError:
        # A concurrent completion inserted it first (its transaction has committed).
        winner = _find(session, event.completion_ref)
        if winner is None:
            raise
        log.info("certificate for %s already issued concurrently", event.completion_ref)
        return winner
    log.info("certificate issued serial=%s user=%s", cert.serial, user.id)
    signals.send(
        signals.certificate_issued,
        session=session,
        user_id=user.id,
        certificate_id=cert.id,
        title=cert.title,
    )
    return cert


def reissue(
    session: Session,
    old: Certificate,
    settings: IssuerSettings,
    *,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> Certificate:
    """A corrected copy (the holder's current name) in the same serial chain.

    The old certificate is revoked with reason "reissued"; dates, course and
    expiry are kept, the code is new.
    """
    if old.revoked_at is not None:
        raise ServiceError(_("Un attestato revocato non può essere riemesso."))
    if old.superseded_at is not None:
        raise ServiceError(_("Questo attestato è già stato sostituito da uno più recente."))
    now = now or clock.now()
    organisation = holder_organisation(session, old.user_id)
    number = old.reissue + 1
    with session.begin_nested():
        new = Certificate(
            user_id=old.user_id,
            organisation_id=organisation.id if organisation else old.organisation_id,
            organisation_name=organisation.name if organisation else old.organisation_name,
            previous_id=old.id,
            kind=old.kind,
            key=old.key,
            completion_ref=old.completion_ref,
            reissue=number,
            code=codes.new_code(),
            holder_name=old.user.full_name,
            title=old.title,
            version_label=old.version_label,
            hours=old.hours,
            hours_printed=old.hours_printed,
            credits=old.credits,
            tracked_seconds=old.tracked_seconds,
            accreditation=old.accreditation,
            issuer=settings.issuer,
            completed_at=old.completed_at,
            issued_at=now,
            expires_at=old.expires_at,
        )
        _insert(session, new, settings, serial=codes.reissue_serial(old.serial, number))
        old.revoked_at = old.superseded_at = now
        old.revoked_reason = "reissued"
        old.revoked_by_id = actor.id if actor else None
        _audit(session, "certificate.reissued", old, actor, {"new_serial": new.serial})
        session.flush()
    log.info("certificate reissued old=%s new=%s by=%s", old.serial, new.serial, _who(actor))
    return new


def revoke(
    session: Session,
    cert: Certificate,
    reason: str,
    *,
    actor: User | None,
    now: dt.datetime | None = None,
) -> None:
    """Revoke with a reason; the row stays so verification can say so."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Indica il motivo della revoca."))
    if cert.revoked_at is not None:
        raise ServiceError(_("L'attestato è già revocato."))
    cert.revoked_at = now or clock.now()
    cert.revoked_reason = reason[:500]
    cert.revoked_by_id = actor.id if actor else None
    _audit(session, "certificate.revoked", cert, actor, {"reason": cert.revoked_reason})
    session.flush()
    log.warning("certificate revoked serial=%s by=%s reason=%r", cert.serial, _who(actor), reason)


def _audit(
    session: Session, action: str, cert: Certificate, actor: User | None, details: dict[str, str]
) -> None:
    audit.record(
        session,
        action,
        actor=actor,
        organisation_id=cert.organisation_id,
        object_type="certificate",
        object_id=cert.serial,
        subject_id=cert.user_id,
        details=details,
    )


def _who(actor: User | None) -> str:
    return str(actor.id) if actor else "cli"
