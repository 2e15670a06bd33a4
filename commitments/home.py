"""The commitments' part of the home page, one widget per role.

* an operator: "Da fare", what the organisation's commitments ask of them (:mod:`todo`);
* a referent: the organisation's state at a glance, one stacked bar per commitment with
  counts of 1 to 4 people withheld (the home is glanced at over a shoulder; the
  dashboard, one click away, has the names);
* whoever may see the network: coverage by type of organisation, aggregated, withheld
  as the network page does.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from commitments.config import setting
from commitments.reporting.charts import TONES
from commitments.reporting.coverage import CommitmentReport, evaluate
from commitments.reporting.labels import STATUS_LABELS
from commitments.reporting.network import network_overview, withheld
from commitments.rules.status import STATUS_ORDER, Moment
from commitments.todo import todo_for
from lms import db
from lms.accounts.models import User
from lms.charts import Bar, Segment, bar_chart, stacked_bar
from lms.organisations.policy import (
    can_view_network,
    managed_organisation_ids,
    referent_organisation_ids,
    referent_unit_ids,
)
from lms.plugins import Widget

MAX_ORGANISATIONS = 3


def referent_chart(report: CommitmentReport) -> Markup:
    """People in scope by status; a status held by 1 to 4 people is drawn as nothing and
    read "meno di 5", so the picture never points at a colleague."""
    segments = []
    for status in STATUS_ORDER:
        count = report.counts[status]
        if not count:
            continue
        hidden = withheld(count)
        segments.append(
            Segment(
                str(STATUS_LABELS[status]),
                0 if hidden else count,
                TONES[status],
                _("meno di 5") if hidden else str(count),
            )
        )
    in_scope = report.in_scope
    caption = (
        _("Meno di 5 persone nel perimetro dell'impegno.")
        if withheld(in_scope)
        else ngettext(
            "%(num)d persona nel perimetro dell'impegno, per stato; "
            "gruppi da 1 a 4 persone non mostrati.",
            "%(num)d persone nel perimetro dell'impegno, per stato; "
            "gruppi da 1 a 4 persone non mostrati.",
            in_scope,
        )
    )
    return stacked_bar(segments, title=report.commitment.title, caption=caption)


def widgets_for(user: User) -> list[Widget]:
    moment = Moment.now()
    days = setting("EXPIRING_DAYS")
    widgets = []
    todo = todo_for(db.session, user.id, expiring_days=days, moment=moment)
    if todo:
        widgets.append(
            Widget(_("Da fare"), "commitments/widgets/todo.html", (("todo", tuple(todo)),), 5)
        )
    whole = referent_organisation_ids(user)
    managed = sorted(managed_organisation_ids(user))
    if managed:
        shown = managed[:MAX_ORGANISATIONS]
        # Organisations followed wholly in one evaluation; through some units, one each.
        evaluations = [
            evaluate(
                db.session,
                [org_id for org_id in shown if org_id in whole],
                moment,
                expiring_days=days,
                depth="counts",
            )
        ] + [
            evaluate(
                db.session,
                [org_id],
                moment,
                expiring_days=days,
                depth="counts",
                unit_ids=referent_unit_ids(user, org_id),
            )
            for org_id in shown
            if org_id not in whole
        ]
        entries = tuple(
            (
                org,
                tuple(
                    (r, referent_chart(r))
                    for r in evaluation.for_organisation(org.id)
                    if r.in_scope
                ),
            )
            for evaluation in evaluations
            for org in evaluation.organisations.values()
        )
        widgets.append(
            Widget(
                _("Formazione del personale"),
                "commitments/widgets/referent.html",
                (("entries", entries), ("more", max(0, len(managed) - MAX_ORGANISATIONS))),
                order=20,
            )
        )
    if can_view_network(user):
        widgets.append(
            Widget(
                _("Impegni formativi della Rete"),
                "commitments/widgets/network.html",
                (("chart", network_home_chart(moment, days)),),
                order=25,
            )
        )
    return widgets


def network_home_chart(moment: Moment, expiring_days: int) -> Markup:
    """Coverage per type of organisation, the network page's totals (withheld as there)."""
    from lms.organisations.views import organisation_type_label

    groups = network_overview(db.session, moment, expiring_days=expiring_days)
    bars = []
    for group in groups:
        if not group.rows:
            continue
        shown = group.coverage not in ("n.d.", _("n.d."))
        value = None
        if shown and group.valid.isdigit() and group.in_scope.isdigit() and int(group.in_scope):
            value = int(group.valid) / int(group.in_scope)
        bars.append(
            Bar(str(organisation_type_label(group.organisation_type)), value, group.coverage)
        )
    return bar_chart(
        bars,
        title=_("Copertura della Rete per tipo di organizzazione"),
        caption=_(
            "Quota di persone con formazione valida, tutti gli impegni insieme; «n.d.» quando "
            "le persone nel perimetro sono meno di 5 o quelle formate da 1 a 4."
        ),
        headers=(_("Tipo di organizzazione"), _("Copertura")),
    )
