"""Referent pages: dashboard, matrix, person detail, enrol-all, exports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from commitments import standing
from commitments.blueprint import bp
from commitments.config import setting
from commitments.forms import ActionForm, DateChoiceForm, MatrixFilterForm
from commitments.reporting import coverage, exports, matrix, pdf, trend
from commitments.reporting.labels import STATUS_LABELS, CellTexts
from commitments.rules.status import STATUS_ORDER, Moment, Status
from commitments.staff import enrolment
from courses.models import CourseCompletion
from lms import audit, db
from lms.authz import authenticated, organisation_manager
from lms.errors import ServiceError
from lms.organisations.models import Audience, Membership, Organisation
from lms.organisations.policy import can_view_network, referent_organisation_ids
from lms.organisations.services import get_organisation, list_organisations


def _user() -> Any:
    return current_user._get_current_object()


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


def evaluate_organisation(org_id: int, moment: Moment, **kwargs: Any) -> coverage.Evaluation:
    return coverage.evaluate(
        db.session, [org_id], moment, expiring_days=setting("EXPIRING_DAYS"), **kwargs
    )


def audiences_by_id() -> dict[int, Audience]:
    return {a.id: a for a in db.session.scalars(select(Audience))}


@bp.route("/")
@authenticated
def index() -> Any:
    """Where to go: own organisations, the network view, the commitments."""
    network = can_view_network(current_user)
    if current_user.is_admin:
        summaries = list_organisations(db.session)
    else:
        managed = referent_organisation_ids(current_user)
        if not managed and not network:
            abort(403)
        summaries = list_organisations(db.session, only_ids=managed) if managed else []
    if len(summaries) == 1 and not network:
        return redirect(url_for("commitments.dashboard", org_id=summaries[0].organisation.id))
    return render_template("commitments/index.html", summaries=summaries, network=network)


def _filters(report: coverage.CommitmentReport, audiences: dict[int, Audience]) -> Any:
    locale = str(get_locale())
    form = MatrixFilterForm(request.args)
    in_scope = sorted(report.commitment.audiences, key=lambda a: a.name(locale))
    form.audience.choices = [SelectChoice("", _("Tutti i profili"))] + [
        SelectChoice(a.code, a.name(locale)) for a in in_scope
    ]
    form.status.choices = [SelectChoice("", _("Tutti gli stati"))] + [
        SelectChoice(s.value, str(STATUS_LABELS[s])) for s in STATUS_ORDER
    ]
    form.validate()
    by_code = {a.code: a.id for a in audiences.values()}
    try:
        status = Status(form.status.data) if form.status.data else None
    except ValueError:
        status = None
    query = matrix.MatrixQuery(
        q=form.q.data or "",
        audience_id=by_code.get(form.audience.data or ""),
        status=status,
        sort=matrix.parse_sort(request.args.get("sort"), report.commitment.course_ids),
        descending=request.args.get("dir") == "desc",
        page=request.args.get("page", 1, type=int) or 1,
    )
    return form, query


@bp.route("/organisations/<id:org_id>/")
@organisation_manager()
def dashboard(org_id: int) -> Any:
    organisation = get_organisation(db.session, org_id)
    moment, date_form = chosen_moment()
    fast = standing.usable(db.session, moment)
    evaluation = evaluate_organisation(org_id, moment, depth="counts" if fast else "cells")
    reports = evaluation.relevant(org_id)
    audiences = audiences_by_id()
    if not reports:
        return render_template(
            "commitments/dashboard.html",
            organisation=organisation,
            reports=[],
            report=None,
            date_form=date_form,
            moment=moment,
        )
    selected = request.args.get("c", type=int)
    report = next((r for r in reports if r.commitment.id == selected), None)
    report = report or next((r for r in reports if r.in_scope), reports[0])
    if fast:  # the people of the commitment shown, with their statuses; cells per page
        people = evaluate_organisation(
            org_id, moment, depth="people", commitments=[report.commitment]
        )
        report = people.for_organisation(org_id)[0]
    form, query = _filters(report, audiences)
    locale = str(get_locale())
    names = {a_id: a.name(locale) for a_id, a in audiences.items()}
    days = setting("EXPIRING_DAYS")
    if query.sort.startswith("course-"):  # sorting by a course needs everyone's cells
        coverage.fill_cells(db.session, report.rows, report.commitment, moment, days)
    page = matrix.page_of(report, query, names, setting("PAGE_SIZE"))
    coverage.fill_cells(db.session, page.rows, report.commitment, moment, days)
    series = trend.coverage_trend(
        db.session,
        org_id,
        [report.commitment],
        moment,
        expiring_days=setting("EXPIRING_DAYS"),
    )[report.commitment.id]
    return render_template(
        "commitments/dashboard.html",
        organisation=organisation,
        reports=reports,
        report=report,
        titles=evaluation.course_titles,
        page=page,
        query=query,
        form=form,
        date_form=date_form,
        moment=moment,
        audience_names=names,
        chart=trend.chart(series, report.commitment.target_percent),
        cell_view=CellTexts(),
        statuses=STATUS_ORDER,
        expiring_days=setting("EXPIRING_DAYS"),
    )


@bp.route("/organisations/<id:org_id>/people/<id:user_id>")
@organisation_manager()
def person(org_id: int, user_id: int) -> Any:
    organisation = get_organisation(db.session, org_id)
    membership = db.session.scalar(
        select(Membership).where(
            Membership.organisation_id == org_id, Membership.user_id == user_id
        )
    )
    if membership is None:
        abort(404)  # not this organisation's: nothing to show, not even whether they exist
    moment = Moment.now()
    evaluation = evaluate_organisation(org_id, moment, user_id=user_id)
    reports = [r for r in evaluation.for_organisation(org_id) if r.rows]
    course_ids = {
        cid for r in evaluation.for_organisation(org_id) for cid in r.commitment.course_ids
    }
    history = (
        list(
            db.session.scalars(
                select(CourseCompletion)
                .where(
                    CourseCompletion.user_id == user_id, CourseCompletion.course_id.in_(course_ids)
                )
                .order_by(CourseCompletion.completed_at.desc())
            )
        )
        if course_ids
        else []
    )
    return render_template(
        "commitments/person.html",
        organisation=organisation,
        membership=membership,
        reports=reports,
        titles=evaluation.course_titles,
        history=history,
        moment=moment,
        locale=str(get_locale()),
    )


@bp.route("/organisations/<id:org_id>/enrol", methods=["GET", "POST"])
@organisation_manager()
def enrol_all(org_id: int) -> Any:
    """Enrol every in-scope person who is not enrolled; GET shows what will happen."""
    organisation = get_organisation(db.session, org_id)
    evaluation = evaluate_organisation(org_id, Moment.now())
    plan = enrolment.plan_enrolment(evaluation.for_organisation(org_id), evaluation.course_titles)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        slugs = {
            link.course_id: link.course.slug for c in evaluation.commitments for link in c.courses
        }
        try:
            count = enrolment.enrol_all(db.session, org_id, plan, slugs, by=_user())
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Iscrizioni effettuate: %(n)d.", n=count), "success")
            return redirect(url_for("commitments.dashboard", org_id=org_id))
    return render_template(
        "commitments/enrol_all.html", organisation=organisation, plan=plan, form=form
    )


def download(data: bytes, mimetype: str, filename: str) -> Any:
    response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _export(org_id: int, kind: str) -> Any:
    organisation: Organisation = get_organisation(db.session, org_id)
    moment, date_form = chosen_moment()
    if date_form.on.errors:
        flash(" ".join(map(str, date_form.on.errors)), "error")
        return redirect(url_for("commitments.dashboard", org_id=org_id))
    if kind == "pdf":  # counts, validity and trend: no names, no per-course cells
        evaluation = evaluate_organisation(org_id, moment, depth="people", with_names=False)
    else:
        evaluation = evaluate_organisation(org_id, moment)
    locale = str(get_locale())
    name = exports.export_filename(organisation, moment.on, kind)
    if kind in ("csv", "xlsx"):  # named staff leave the platform: an access-log entry
        audit.record(
            db.session,
            "commitments.matrix_exported",
            actor=_user(),
            organisation_id=org_id,
            object_type="organisation",
            object_id=org_id,
            details={"format": kind, "on": moment.on.isoformat()},
        )
        db.session.commit()
    if kind == "csv":
        data = exports.matrix_csv(organisation, evaluation, audiences_by_id(), locale)
        return download(data, "text/csv; charset=utf-8", name)
    if kind == "xlsx":
        data = exports.matrix_xlsx(organisation, evaluation, audiences_by_id(), locale)
        return download(data, XLSX, name)
    reports = evaluation.relevant(org_id)
    series = trend.coverage_trend(
        db.session,
        org_id,
        [r.commitment for r in reports],
        moment,
        expiring_days=setting("EXPIRING_DAYS"),
    )
    data = pdf.summary_pdf(
        current_app.instance_path,
        organisation.name,
        reports,
        series,
        moment.on,
        setting("EXPIRING_DAYS"),
    )
    return download(data, "application/pdf", name)


@bp.route("/organisations/<id:org_id>/export.csv")
@organisation_manager()
def export_csv(org_id: int) -> Any:
    return _export(org_id, "csv")


@bp.route("/organisations/<id:org_id>/export.xlsx")
@organisation_manager()
def export_xlsx(org_id: int) -> Any:
    return _export(org_id, "xlsx")


@bp.route("/organisations/<id:org_id>/summary.pdf")
@organisation_manager()
def summary_pdf(org_id: int) -> Any:
    return _export(org_id, "pdf")


@bp.app_template_global("commitments_status_label")
def status_label_global(status: str) -> str:
    return str(STATUS_LABELS[Status(status)])


@bp.app_template_filter("commitments_day")
def day_filter(value: dt.datetime | dt.date | None, style: str = "medium") -> str:
    from commitments.reporting.labels import local_day

    return local_day(value, style)


@bp.app_template_filter("commitments_percent")
def percent_filter(value: float | None) -> str:
    from commitments.reporting.labels import percent

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
