"""Commitment deadlines: reminders 30 and 7 days ahead, and the notice once it has passed.

Scanned by ``lms notifications send`` against ``now`` (the platform's clock), for every
person in scope of an active commitment who has not completed what it asks: a person
30 to 8 days before the deadline is told once ("in 30 days"), from 7 days to the day
itself once more ("in 7 days"), and once after it ("late", the commitment's overdue
status). Each is keyed on the commitment, its deadline and the step, so a run finds
what an earlier one wrote, and a deadline moved later starts again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts.models import User
from notifications.models import Kind
from notifications.services import notify, path_for

STEPS = (7, 30)  # days before the deadline, smallest first


@dataclass(frozen=True)
class Due:
    user_id: int
    kind: Kind
    commitment_id: int
    title: str
    deadline: dt.date
    step: int | None  # 30 or 7 days ahead; None once late
    days_left: int


def step_for(days_left: int) -> int | None:
    """The reminder step a person is in (7 covers the deadline day itself)."""
    for step in STEPS:
        if 0 <= days_left <= step:
            return step
    return None


def due(session: Session, now: dt.datetime) -> list[Due]:
    """Everyone who should hear about a deadline at ``now`` (before de-duplication)."""
    if current_app.extensions["lms"].plugin("commitments") is None:
        return []
    from commitments.api import Moment, Status, evaluate

    moment = Moment.now(now)
    evaluation = evaluate(session, None, moment, with_names=False, depth="cells")
    found: dict[tuple[int, int], Due] = {}
    for reports in evaluation.reports.values():
        for report in reports:
            commitment = report.commitment
            days_left = report.days_to_deadline
            for row in report.rows:
                if row.status.is_valid:
                    continue
                if report.deadline_passed:
                    if row.status != Status.OVERDUE:
                        continue
                    item = Due(
                        row.user_id,
                        Kind.LATE,
                        commitment.id,
                        commitment.title,
                        commitment.deadline,
                        None,
                        days_left,
                    )
                else:
                    step = step_for(days_left)
                    if step is None:
                        continue
                    item = Due(
                        row.user_id,
                        Kind.DEADLINE,
                        commitment.id,
                        commitment.title,
                        commitment.deadline,
                        step,
                        days_left,
                    )
                found.setdefault((row.user_id, commitment.id), item)
    return list(found.values())


def key_of(item: Due) -> str:
    step = "late" if item.step is None else str(item.step)
    return f"commitment:{item.commitment_id}:{item.deadline.isoformat()}:{step}"


def scan(session: Session, now: dt.datetime) -> int:
    """Write the deadline notifications due at ``now``; how many are new."""
    items = due(session, now)
    if not items:
        return 0
    users = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({i.user_id for i in items}), User.active.is_(True))
        )
    }
    link = path_for("lms.home")
    written = 0
    for item in items:
        user = users.get(item.user_id)
        if user is None:
            continue
        with force_locale(user.locale):
            when = format_date(item.deadline, "long")
            if item.kind is Kind.LATE:
                title = _("Scadenza superata: %(title)s", title=item.title)
                body = _(
                    "La scadenza del %(date)s per «%(title)s» è passata e la formazione "
                    "richiesta non risulta ancora completata.",
                    date=when,
                    title=item.title,
                )
            elif item.days_left == 0:
                title = _("Scade oggi: %(title)s", title=item.title)
                body = _(
                    "Oggi è l'ultimo giorno per completare la formazione «%(title)s», che "
                    "non risulta ancora completata.",
                    title=item.title,
                )
            else:
                title = ngettext(
                    "Manca %(num)d giorno alla scadenza: %(title)s",
                    "Mancano %(num)d giorni alla scadenza: %(title)s",
                    item.days_left,
                    title=item.title,
                )
                body = _(
                    "Entro il %(date)s la tua organizzazione ti chiede di completare la "
                    "formazione «%(title)s», che non risulta ancora completata.",
                    date=when,
                    title=item.title,
                )
        made = notify(
            session, user, item.kind, key=key_of(item), title=title, body=body, link=link, now=now
        )
        written += made is not None
    session.commit()
    return written
