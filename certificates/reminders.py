"""Reminders before expiry, for cron: each certificate, each threshold, once.

A certificate gets at most one e-mail per run: for the smallest threshold it
has reached (a certificate found 5 days before expiry gets the 7-day reminder,
not three at once). The sent row is inserted before the e-mail goes and
committed right after it, so a second run (or a concurrent one, thanks to the
UNIQUE constraint) never sends it again, and a failed send is retried.

Each reminder and each digest is tried on its own (a reminder in a savepoint
that a failure rolls back, so the next run tries again): one that fails is
logged and counted, and the others go out all the same.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from certificates.models import Certificate, ReminderSent
from certificates.pdf import local_date
from lms import clock, mail, signals
from lms.accounts.models import User
from lms.organisations.models import Membership, Organisation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Due:
    certificate: Certificate
    threshold_days: int


@dataclass(frozen=True)
class ReminderReport:
    reminders: int
    digests: int
    failed: int = 0


def due(session: Session, thresholds: list[int], now: dt.datetime) -> list[Due]:
    """Current certificates of active accounts that reached a threshold not yet reminded
    (a person whose account is asleep could not follow the link to renew)."""
    horizon = now + dt.timedelta(days=max(thresholds))
    stmt = (
        select(Certificate)
        .join(User, User.id == Certificate.user_id)
        .where(
            User.active.is_(True),
            Certificate.revoked_at.is_(None),
            Certificate.superseded_at.is_(None),
            Certificate.expires_at.is_not(None),
            Certificate.expires_at > now,
            Certificate.expires_at <= horizon,
        )
        .order_by(Certificate.expires_at, Certificate.id)
    )
    certs = list(session.scalars(stmt))
    sent = {
        (row.certificate_id, row.threshold_days)
        for row in session.scalars(
            select(ReminderSent).where(ReminderSent.certificate_id.in_([c.id for c in certs]))
        )
    }
    found = []
    for cert in certs:
        if cert.expires_at is None:  # excluded by the query; keeps type checkers calm
            continue
        left = cert.expires_at - now
        threshold = min(t for t in thresholds if left <= dt.timedelta(days=t))
        if (cert.id, threshold) not in sent:
            found.append(Due(cert, threshold))
    return found


def _claim(session: Session, item: Due, now: dt.datetime) -> bool:
    try:
        with session.begin_nested():
            session.add(
                ReminderSent(
                    certificate_id=item.certificate.id,
                    threshold_days=item.threshold_days,
                    sent_at=now,
                )
            )
    except IntegrityError:
        return False  # another run has it
    return True


def _referents(session: Session, user_id: int) -> dict[Organisation, list[User]]:
    """Current referents of each organisation the holder currently belongs to."""
    holder_orgs = select(Membership.organisation_id).where(
        Membership.user_id == user_id, Membership.ended_at.is_(None)
    )
    stmt = (
        select(Membership)
        .where(
            Membership.organisation_id.in_(holder_orgs),
            Membership.is_referent.is_(True),
            Membership.ended_at.is_(None),
        )
        .order_by(Membership.organisation_id)
    )
    found: dict[Organisation, list[User]] = defaultdict(list)
    for membership in session.scalars(stmt):
        found[membership.organisation].append(membership.user)
    return found


def _remind(item: Due, link: str) -> None:
    holder = item.certificate.user
    with force_locale(holder.locale):
        subject = _("Il tuo attestato «%(title)s» scade presto", title=item.certificate.title)
        body = render_template(
            "certificates/email/reminder.txt",
            user=holder,
            cert=item.certificate,
            expires=local_date(item.certificate.expires_at, holder.locale),
            link=link,
        )
    key = f"certificate:{item.certificate.id}:{item.threshold_days}"
    _mail(holder, "certificate_expiring", key, subject, body, link)


def _mail(user: User, kind: str, key: str, subject: str, body: str, link: str) -> None:
    """Through the notifications (listed, preferences kept) when installed, else mailed."""
    message = signals.Message(user, kind, key, subject, body, link)
    if not signals.handled(signals.message_ready, session=object_session(user), message=message):
        mail.send(user.email, subject, body)


def _digest(referent: User, organisation: Organisation, items: list[Due], link: str) -> None:
    with force_locale(referent.locale):
        subject = _("Attestati in scadenza: %(org)s", org=organisation.name)
        body = render_template(
            "certificates/email/digest.txt",
            user=referent,
            organisation=organisation,
            items=[(i, local_date(i.certificate.expires_at, referent.locale)) for i in items],
            link=link,
        )
    key = f"certificates-digest:{organisation.id}:{clock.now().isoformat()}"
    _mail(referent, "digest", key, subject, body, link)


def send_reminders(
    session: Session,
    thresholds: list[int],
    *,
    link: str,
    renewal_link: Callable[[str], str] | None = None,
    now: dt.datetime | None = None,
) -> ReminderReport:
    """E-mail holders, then one digest per referent and organisation.

    ``renewal_link(key)`` gives the holder's way back to the course (default: ``link``).
    """
    now = now or clock.now()
    digests: dict[tuple[int, int], list[Due]] = defaultdict(list)
    users: dict[int, User] = {}
    organisations: dict[int, Organisation] = {}
    reminders = failed = 0
    for item in due(session, thresholds, now):
        cert_id = item.certificate.id
        try:
            with session.begin_nested():
                if not _claim(session, item, now):
                    continue
                _remind(item, renewal_link(item.certificate.key) if renewal_link else link)
        except Exception:  # noqa: BLE001 - one bad item (data, address, server) stops no other
            log.exception("certificate reminder not sent for certificate %s", cert_id)
            failed += 1
            continue
        session.commit()  # recorded as soon as it is sent
        reminders += 1
        holder = item.certificate.user
        for organisation, referents in _referents(session, holder.id).items():
            organisations[organisation.id] = organisation
            for referent in referents:
                users[referent.id] = referent
                digests[(referent.id, organisation.id)].append(item)
    sent_digests = 0
    for (referent_id, organisation_id), items in digests.items():
        referent, organisation = users[referent_id], organisations[organisation_id]
        try:
            _digest(referent, organisation, items, link)
        except Exception:  # noqa: BLE001 - as above
            log.exception("certificate digest not sent to user %s", referent_id)
            failed += 1
        else:
            sent_digests += 1
    log.info("certificate reminders sent=%d digests=%d failed=%d", reminders, sent_digests, failed)
    return ReminderReport(reminders, sent_digests, failed)
