"""Home-page widgets: a referent's coverage, the coordinator's network at a glance."""

from __future__ import annotations

from flask_babel import gettext as _

from commitments.config import setting
from commitments.reporting.coverage import evaluate
from commitments.rules.status import Moment
from lms import db
from lms.accounts.models import User
from lms.organisations.policy import can_view_network, referent_organisation_ids
from lms.plugins import Widget

MAX_ORGANISATIONS = 3


def widgets_for(user: User) -> list[Widget]:
    widgets = []
    moment = Moment.now()
    days = setting("EXPIRING_DAYS")
    managed = sorted(referent_organisation_ids(user))
    if managed:
        evaluation = evaluate(
            db.session, managed[:MAX_ORGANISATIONS], moment, expiring_days=days, depth="counts"
        )
        entries = tuple(
            (org, tuple(r for r in evaluation.for_organisation(org.id) if r.in_scope))
            for org in evaluation.organisations.values()
        )
        widgets.append(
            Widget(
                _("Formazione del personale"),
                "commitments/_widget_referent.html",
                context=(("entries", entries), ("more", max(0, len(managed) - MAX_ORGANISATIONS))),
                order=20,
            )
        )
    if can_view_network(user):
        evaluation = evaluate(
            db.session, None, moment, expiring_days=days, with_names=False, depth="counts"
        )
        reports = [r for rs in evaluation.reports.values() for r in rs if r.in_scope]
        widgets.append(
            Widget(
                _("Impegni formativi della Rete"),
                "commitments/_widget_network.html",
                context=(
                    ("organisations", len({r.organisation_id for r in reports})),
                    ("met", sum(1 for r in reports if r.target_met)),
                    ("total", len(reports)),
                ),
                order=25,
            )
        )
    return widgets
