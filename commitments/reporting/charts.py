"""The commitments' charts, drawn by :mod:`lms.charts` from the reports already computed.

Three pictures: the referent's organisation by status (one stacked bar), its coverage
month by month (a line), and the network's coverage per organisation (bars). Each takes
the values the page shows anyway, so a chart never says more than the table beside it:
on the network, a withheld coverage is drawn as no bar and read "n.d.".
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

from commitments.reporting.coverage import CommitmentReport
from commitments.reporting.labels import STATUS_LABELS, percent
from commitments.reporting.network import NetworkGroup
from commitments.reporting.trend import TrendPoint
from commitments.rules.status import STATUS_ORDER, Status
from lms.charts import Bar, Segment, bar_chart, line_chart, stacked_bar

TONES = {
    Status.OVERDUE: "danger",
    Status.EXPIRED: "danger",
    Status.NOT_ENROLLED: "neutral",
    Status.NOT_STARTED: "neutral",
    Status.IN_PROGRESS: "info",
    Status.EXPIRING: "warning",
    Status.COMPLETE: "success",
}


def status_chart(report: CommitmentReport) -> Markup:
    """The people in scope split by status, in the order of urgency of the tiles."""
    segments = [
        Segment(str(STATUS_LABELS[s]), report.counts[s], TONES[s], str(report.counts[s]))
        for s in STATUS_ORDER
        if report.counts[s]
    ]
    return stacked_bar(
        segments,
        title=_("Persone per stato: %(title)s", title=report.commitment.title),
        caption=ngettext(
            "%(num)d persona nel perimetro dell'impegno, per stato.",
            "%(num)d persone nel perimetro dell'impegno, per stato.",
            report.in_scope,
        ),
    )


def trend_chart(points: Sequence[TrendPoint], target_percent: int) -> Markup:
    """Coverage at each month-end; a month with nobody in scope has no point."""
    return line_chart(
        [
            (format_date(p.on, "MMM yy"), None if p.percent is None else p.percent / 100)
            for p in points
        ],
        title=_("Andamento della copertura"),
        max_value=1.0,
        value_format=lambda v: percent(None if v is None else 100 * v),
        caption=_(
            "Percentuale di persone con formazione valida a fine mese; obiettivo: %(t)s.",
            t=percent(target_percent),
        ),
        headers=(_("Fine mese"), _("Copertura")),
    )


def network_chart(group: NetworkGroup, type_label: str) -> Markup:
    """Coverage of each organisation and commitment of one type; withheld ones as n.d."""
    bars = [
        Bar(
            f"{row.organisation_name} · {row.commitment_title}",
            None if row.coverage_key < 0 else row.coverage_key / 100,
            row.coverage,
            "success" if row.target_met else "primary",
        )
        for row in group.rows
    ]
    return bar_chart(
        bars,
        title=_("Copertura per organizzazione: %(type)s", type=type_label),
        caption=_(
            "Quota di persone con formazione valida; «n.d.» quando le persone nel perimetro "
            "sono meno di 5 o quelle formate da 1 a 4."
        ),
        headers=(_("Organizzazione e impegno"), _("Copertura")),
    )
