"""Coordinator and admin pages: the network view (aggregated), on screen, CSV and PDF."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request

from commitments.blueprint import bp
from commitments.config import setting
from commitments.reporting import charts, network, pdf
from commitments.reporting.views import chosen_moment
from lms import db
from lms.accounts.models import Role
from lms.authz import roles_required
from lms.downloads import attachment
from lms.organisations.views import organisation_type_label


def _network_args() -> tuple[str, bool]:
    sort = request.args.get("sort", "name")
    return (sort if sort in network.SORTS else "name"), request.args.get("dir") == "desc"


@bp.route("/network/")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def network_view() -> Any:
    moment, date_form = chosen_moment()
    sort, descending = _network_args()
    groups = network.network_overview(
        db.session,
        moment,
        sort=sort,
        descending=descending,
        expiring_days=setting("EXPIRING_DAYS"),
    )
    return render_template(
        "commitments/network.html",
        groups=groups,
        charts={
            g.organisation_type: charts.network_chart(
                g, organisation_type_label(g.organisation_type)
            )
            for g in groups
            if g.rows
        },
        sort=sort,
        descending=descending,
        moment=moment,
        date_form=date_form,
        small=network.SMALL,
    )


@bp.route("/network/export.csv")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def network_csv() -> Any:
    moment, _form = chosen_moment()
    sort, descending = _network_args()
    groups = network.network_overview(
        db.session,
        moment,
        sort=sort,
        descending=descending,
        expiring_days=setting("EXPIRING_DAYS"),
    )
    data = network.network_csv(groups, organisation_type_label, moment.on.isoformat())
    return attachment(data, f"impegni-rete-{moment.on}.csv", "text/csv; charset=utf-8")


@bp.route("/network/summary.pdf")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def network_pdf() -> Any:
    moment, _form = chosen_moment()
    sort, descending = _network_args()
    groups = network.network_overview(
        db.session,
        moment,
        sort=sort,
        descending=descending,
        expiring_days=setting("EXPIRING_DAYS"),
    )
    data = pdf.network_pdf(current_app.instance_path, groups, organisation_type_label, moment.on)
    return attachment(data, f"impegni-rete-{moment.on}.pdf", "application/pdf")
