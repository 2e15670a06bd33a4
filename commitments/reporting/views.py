"""Referent pages: dashboard, matrix, person detail, enrol-all, exports."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from commitments import jobs as commitment_jobs
from commitments.blueprint import bp
from commitments.config import setting
from commitments.forms import DateChoiceForm, MatrixFilterForm
from commitments.reporting import charts, coverage, services
from commitments.reporting.labels import (
    STATUS_LABELS,
    CellTexts,
    amount_heading,
    amount_text,
    hours_minutes,
    local_day,
    percent,
)
from commitments.rules.status import STATUS_ORDER, Moment, Status, end_of_day
from commitments.staff import enrolment
from lms import db
from lms.authz import authenticated, current_person, organisation_manager, staff_scope
from lms.downloads import attachment
from lms.forms import ActionForm
from lms.organisations.policy import can_view_network, managed_organisation_ids
from lms.organisations.services import get_organisation, list_organisations
from lms.organisations.units import unit_choices


def chosen_moment() -> tuple[Moment, DateChoiceForm]:
    """``?on=YYYY-MM-DD`` (not in the future), else now."""
    form = DateChoiceForm(request.args)
    today = Moment.now().on
    if request.args.get("on") and form.validate() and form.on.data:
        if form.on.data > today:
            form.on.errors = [_("Scegli una data non successiva a oggi.")]
        else:
            return Moment.end_of(form.on.data), form
    form.on.data = form.on.data if form.on.data and form.on.data <= today else today
    return Moment.now(), form


@bp.route("/")
@authenticated
def index() -> Any:
    """Where to go: own organisations, the network view, the commitments."""
    network = can_view_network(current_user)
    if current_user.is_admin:
        summaries = list_organisations(db.session)
    else:
        managed = managed_organisation_ids(current_user)
        if not managed and not network:
            abort(403)
        summaries = list_organisations(db.session, only_ids=managed) if managed else []
    if len(summaries) == 1 and not network:
        return redirect(url_for("commitments.dashboard", org_id=summaries[0].organisation.id))
    return render_template("commitments/index.html", summaries=summaries, network=network)


def _matrix_args(form: MatrixFilterForm) -> services.MatrixArgs:
    return services.MatrixArgs(
        q=form.q.data or "",
        audience=form.audience.data or "",
        status=form.status.data or "",
        sort=request.args.get("sort"),
        descending=request.args.get("dir") == "desc",
        page=request.args.get("page", 1, type=int) or 1,
    )


def _filter_choices(form: MatrixFilterForm, report: coverage.CommitmentReport) -> None:
    locale = str(get_locale())
    in_scope = sorted(report.commitment.audiences, key=lambda a: a.name(locale))
    form.audience.choices = [SelectChoice("", _("Tutti i profili"))] + [
        SelectChoice(a.code, a.name(locale)) for a in in_scope
    ]
    form.status.choices = [SelectChoice("", _("Tutti gli stati"))] + [
        SelectChoice(s.value, str(STATUS_LABELS[s])) for s in STATUS_ORDER
    ]


@bp.route("/organisations/<id:org_id>/")
@organisation_manager(units=True)
def dashboard(org_id: int) -> Any:
    moment, date_form = chosen_moment()
    form = MatrixFilterForm(request.args)
    scope = staff_scope()
    found = services.dashboard_report(
        db.session,
        org_id,
        moment,
        commitment_id=request.args.get("c", type=int),
        args=_matrix_args(form),
        locale=str(get_locale()),
        expiring_days=setting("EXPIRING_DAYS"),
        page_size=setting("PAGE_SIZE"),
        unit_ids=scope.unit_ids,
    )
    granted = g.lms_staff_scope  # what the reader may see, before any ?unit= narrowing
    units = unit_choices(db.session, granted)
    if found.report is None:
        return render_template(
            "commitments/dashboard.html",
            organisation=found.organisation,
            reports=[],
            report=None,
            date_form=date_form,
            moment=moment,
            units=units,
            whole_organisation=granted.whole_organisation,
            scope=granted,
        )
    _filter_choices(form, found.report)
    return render_template(
        "commitments/dashboard.html",
        organisation=found.organisation,
        reports=found.reports,
        report=found.report,
        titles=found.titles,
        page=found.page,
        query=found.query,
        form=form,
        date_form=date_form,
        moment=moment,
        audience_names=found.audience_names,
        status_chart=charts.status_chart(found.report),
        trend_chart=charts.trend_chart(found.trend, found.report.commitment.target_percent),
        cell_view=CellTexts(),
        statuses=STATUS_ORDER,
        expiring_days=found.expiring_days,
        never_enrolled=found.never_enrolled,
        units=units,
        whole_organisation=granted.whole_organisation,
        scope=granted,
    )


@bp.route("/organisations/<id:org_id>/people/<id:user_id>")
@organisation_manager(units=True)
def person(org_id: int, user_id: int) -> Any:
    found = services.person_report(
        db.session,
        org_id,
        user_id,
        Moment.now(),
        expiring_days=setting("EXPIRING_DAYS"),
        unit_ids=staff_scope().unit_ids,
    )
    return render_template(
        "commitments/person.html",
        organisation=found.organisation,
        membership=found.membership,
        reports=found.reports,
        titles=found.titles,
        history=found.history,
        tracked=found.tracked,
        moment=found.moment,
        locale=str(get_locale()),
    )


@bp.route("/organisations/<id:org_id>/enrol", methods=["GET", "POST"])
@organisation_manager()
def enrol_all(org_id: int) -> Any:
    """Enrol every in-scope person who is not enrolled; GET shows what will happen, POST
    asks a worker to do it (the job's page follows it)."""
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        get_organisation(db.session, org_id)  # 404 for an unknown id
        job = commitment_jobs.ask_enrol_all(db.session, org_id, actor=current_person())
        db.session.commit()
        return redirect(url_for("jobs.job_page", job_id=job.id))
    found = enrolment.organisation_plan(
        db.session, org_id, Moment.now(), expiring_days=setting("EXPIRING_DAYS")
    )
    return render_template(
        "commitments/enrol_all.html", organisation=found.organisation, plan=found.plan, form=form
    )


def _export(org_id: int, kind: Literal["csv", "xlsx", "pdf"]) -> Any:
    moment, date_form = chosen_moment()
    if date_form.on.errors:
        flash(" ".join(map(str, date_form.on.errors)), "error")
        return redirect(url_for("commitments.dashboard", org_id=org_id))
    days = setting("EXPIRING_DAYS")
    unit_ids = staff_scope().unit_ids
    if kind != "pdf" and commitment_jobs.staff_count(db.session, org_id, unit_ids) > setting(
        "EXPORT_INLINE_MAX_STAFF"
    ):
        job = commitment_jobs.ask_export(
            db.session,
            org_id,
            kind,
            on=moment.on if moment.at == end_of_day(moment.on) else None,  # a chosen day
            actor=current_person(),
            locale=str(get_locale()),
            unit_ids=unit_ids,
        )
        db.session.commit()
        return redirect(url_for("jobs.job_page", job_id=job.id))
    if kind == "pdf":
        found = services.summary_file(
            db.session,
            org_id,
            moment,
            instance_path=current_app.instance_path,
            expiring_days=days,
            unit_ids=unit_ids,
        )
    else:
        found = services.matrix_file(
            db.session,
            org_id,
            moment,
            kind,
            actor=current_person(),
            locale=str(get_locale()),
            expiring_days=days,
            unit_ids=unit_ids,
        )
        db.session.commit()  # the access-log entry
    return attachment(found.data, found.filename, found.mimetype)


@bp.route("/organisations/<id:org_id>/export.csv")
@organisation_manager(units=True)
def export_csv(org_id: int) -> Any:
    return _export(org_id, "csv")


@bp.route("/organisations/<id:org_id>/export.xlsx")
@organisation_manager(units=True)
def export_xlsx(org_id: int) -> Any:
    return _export(org_id, "xlsx")


@bp.route("/organisations/<id:org_id>/summary.pdf")
@organisation_manager(units=True)
def summary_pdf(org_id: int) -> Any:
    return _export(org_id, "pdf")


@bp.app_template_global("commitments_status_label")
def status_label_global(status: str) -> str:
    return str(STATUS_LABELS[Status(status)])


@bp.app_template_filter("commitments_day")
def day_filter(value: dt.datetime | dt.date | None, style: str = "medium") -> str:
    return local_day(value, style)


@bp.app_template_global("commitments_amount")
def amount_global(part: Any) -> str:
    return amount_text(part)


@bp.app_template_global("commitments_amount_heading")
def amount_heading_global(kind: str, required: Any) -> str:
    return amount_heading(kind, required)


@bp.app_template_filter("commitments_hours_minutes")
def hours_minutes_filter(seconds: int | None) -> str:
    return hours_minutes(seconds)


@bp.app_template_filter("commitments_count")
def count_filter(value: int | str) -> str:
    """A count in the locale's format ("1.234" / "1,234"); a withheld one ("<5") as is."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return format_decimal(int(value), format="#,##0")
    return str(value)


@bp.app_template_filter("commitments_percent")
def percent_filter(value: float | None) -> str:
    return percent(value)


@bp.app_template_global("commitments_url")
def url_with(**changes: Any) -> str:
    """The current page's URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint or "commitments.index", **(request.view_args or {}), **args)


@bp.app_template_global("commitments_sort_link")
def sort_link(key: str, current: str, descending: bool) -> str:
    flip = "asc" if key == current and descending else ("desc" if key == current else "asc")
    return url_with(sort=key, dir=flip, page=None)
