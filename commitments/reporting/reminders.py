"""The monthly digest for referents (``lms commitments digest``, for cron).

For every organisation with current referents, one e-mail per referent lists
the staff who are overdue, whose training has expired, or whose training
expires within the expiring window. One digest per organisation and month: a
row in ``commitments_digest`` (UNIQUE organisation + month) is written before
the mail goes, so a second run in the same month sends nothing (``force``
sends again). The statuses come from one evaluation of all organisations,
in a constant number of queries.

A digest that cannot be sent to one referent is logged and counted, and the run
goes on; if it reached none of an organisation's referents, the month's row is
rolled back so that the next run tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commitments.models import DigestSent
from commitments.reporting.coverage import CommitmentReport, PersonRow, evaluate
from commitments.rules.status import Moment, Status
from lms import clock, mail, signals
from lms.accounts.models import User
from lms.organisations.models import Membership

log = logging.getLogger(__name__)

ATTENTION = (Status.OVERDUE, Status.EXPIRED, Status.EXPIRING)
MAX_LISTED = 100


@dataclass
class DigestSection:
    report: CommitmentReport
    people: dict[Status, list[PersonRow]]

    @property
    def total(self) -> int:
        return sum(len(rows) for rows in self.people.values())


@dataclass(frozen=True)
class DigestReport:
    organisations: int
    messages: int
    skipped: int  # already sent this month
    failed: int = 0  # messages that could not be sent


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def sections_for(reports: list[CommitmentReport]) -> list[DigestSection]:
    sections = []
    for report in reports:
        people: dict[Status, list[PersonRow]] = {s: [] for s in ATTENTION}
        for row in report.rows:
            if row.status in people:
                people[row.status].append(row)
        section = DigestSection(report, people)
        if section.total:
            sections.append(section)
    return sections


def _referents(session: Session) -> dict[int, list[User]]:
    stmt = (
        select(Membership.organisation_id, User)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.is_referent.is_(True),
            Membership.ended_at.is_(None),
            User.active.is_(True),
        )
        .order_by(User.id)
    )
    found: dict[int, list[User]] = defaultdict(list)
    for org_id, user in session.execute(stmt):
        found[org_id].append(user)
    return found


def _claim(session: Session, organisation_id: int, period: str, recipients: int) -> bool:
    try:
        with session.begin_nested():
            session.add(
                DigestSent(
                    organisation_id=organisation_id,
                    period=period,
                    sent_at=clock.now(),
                    recipients=recipients,
                )
            )
    except IntegrityError:
        return False
    return True


def send_digests(
    session: Session,
    *,
    dashboard_link,  # noqa: ANN001 - callable(org_id) -> absolute URL
    moment: Moment | None = None,
    expiring_days: int = 90,
    force: bool = False,
    dry_run: bool = False,
) -> DigestReport:
    """Send this month's digests; the caller commits after each organisation's send."""
    moment = moment or Moment.now()
    period = period_of(moment.on)
    referents = _referents(session)
    evaluation = evaluate(
        session, list(referents), moment, expiring_days=expiring_days, with_names=True
    )
    organisations = messages = skipped = failed = 0
    for org_id, users in referents.items():
        organisation = evaluation.organisations.get(org_id)
        if organisation is None:
            continue
        sections = sections_for(evaluation.for_organisation(org_id))
        if not sections:
            continue
        if dry_run:
            organisations += 1
            messages += len(users)
            continue
        if force:
            session.execute(
                delete(DigestSent).where(
                    DigestSent.organisation_id == org_id, DigestSent.period == period
                )
            )
        claim = session.begin_nested()
        if not _claim(session, org_id, period, len(users)):
            claim.rollback()
            skipped += 1
            continue
        sent = 0
        for user in users:
            try:
                with force_locale(user.locale):
                    subject = _(
                        "Formazione del personale: %(org)s, %(period)s",
                        org=organisation.name,
                        period=period,
                    )
                    body = render_template(
                        "commitments/email/digest.txt",
                        user=user,
                        organisation=organisation,
                        sections=sections,
                        moment=moment,
                        expiring_days=expiring_days,
                        max_listed=MAX_LISTED,
                        link=dashboard_link(org_id),
                    )
                message = signals.Message(
                    user,
                    "digest",
                    f"commitments-digest:{org_id}:{period}",
                    subject,
                    body,
                    dashboard_link(org_id),
                )
                if not signals.handled(signals.message_ready, session=session, message=message):
                    mail.send(user.email, subject, body)  # no notifications, or a forced resend
            except Exception:  # noqa: BLE001 - one bad item (data, address, server) stops no other
                log.exception("digest not sent to user %s (organisation %s)", user.id, org_id)
                failed += 1
            else:
                sent += 1
        if sent:
            claim.commit()
            organisations += 1
            messages += sent
        else:
            claim.rollback()  # nobody reached: the next run tries again
        session.commit()
    return DigestReport(organisations, messages, skipped, failed)
