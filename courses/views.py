"""Learner pages: catalogue, course, modules, enrolment, progress; referent enrolment."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from courses import enrolment
from courses.blueprint import bp
from courses.catalogue import catalogue as published_courses  # the view below is catalogue
from courses.catalogue import (
    find_module,
    lesson_html,
    neighbours,
    published_version,
    user_audience_codes,
)
from courses.durations import course_hours, module_minutes
from courses.evidence import minimum_study_seconds
from courses.forms import CatalogueFilterForm, EnrolStaffForm
from courses.models import Asset, CourseVersion, EnrolmentSource
from courses.progress import (
    complete_module,
    missing_prerequisites,
    open_module,
    progress_for,
    renewal_opens_at,
    require_access,
    resume_module,
    start_renewal,
)
from courses.study import (
    HeartbeatRefused,
    StudyTime,
    heartbeat,
    page_token,
    read_page_token,
    status_line,
)
from lms import clock, db
from lms.authz import authenticated, current_person, organisation_manager
from lms.downloads import attachment
from lms.errors import ServiceError
from lms.forms import ActionForm
from lms.organisations.services import current_members, get_organisation, list_audiences

bp.add_app_template_global(course_hours, "course_hours")
bp.add_app_template_global(module_minutes, "module_minutes")


@bp.app_template_filter("hours")
def format_hours(value: Any) -> str:
    """Hours as people write them in the current language: 2,5 ore (it) / 2.5 (en)."""
    from decimal import Decimal

    from flask_babel import format_decimal

    return format_decimal(Decimal(value).normalize())


@bp.app_template_global("courses_my_courses")
def my_courses_for_widget() -> list[Any]:
    return enrolment.my_courses(db.session, current_user.id)


@bp.route("/")
@authenticated
def catalogue() -> Any:
    form = CatalogueFilterForm(request.args)
    locale = str(get_locale())
    form.audience.choices = [SelectChoice("", _("Tutti i profili"))] + [
        SelectChoice(a.code, a.name(locale)) for a in list_audiences(db.session)
    ]
    mine = user_audience_codes(db.session, current_user.id)
    if "audience" not in request.args and len(mine) == 1:
        form.audience.data = next(iter(mine))  # start from the learner's own profile
    versions = published_courses(
        db.session, audience_code=form.audience.data or None, query=form.q.data
    )
    enrolled = {v.course_id for v, _e in enrolment.my_courses(db.session, current_user.id)}
    return render_template(
        "courses/catalogue.html", form=form, versions=versions, enrolled=enrolled, locale=locale
    )


@bp.route("/<slug>/")
@authenticated
def course(slug: str) -> Any:
    version = published_version(db.session, slug)
    progress = progress_for(db.session, current_user.id, version)
    opens = renewal_opens_at(progress.completion) if progress.completion else None
    return render_template(
        "courses/course.html",
        version=version,
        progress=progress,
        renewal_opens=opens,
        renewal_open=opens is not None and clock.now() >= opens,
        missing=missing_prerequisites(db.session, current_user.id, version),
        resume=resume_module(version, progress),
        locale=str(get_locale()),
    )


def _post_action(slug: str, action: Any, success: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    version = published_version(db.session, slug)
    try:
        action(version)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("courses.course", slug=slug))


@bp.route("/<slug>/enrol", methods=["POST"])
@authenticated
def enrol(slug: str) -> Any:
    return _post_action(
        slug,
        lambda v: enrolment.enrol(db.session, current_person(), v, source=EnrolmentSource.SELF),
        _("Iscrizione effettuata."),
    )


@bp.route("/<slug>/unenrol", methods=["POST"])
@authenticated
def unenrol(slug: str) -> Any:
    return _post_action(
        slug,
        lambda v: enrolment.unenrol(db.session, current_user.id, v.course_id),
        _("Iscrizione annullata. I tuoi progressi restano registrati."),
    )


@bp.route("/<slug>/renew", methods=["POST"])
@authenticated
def renew(slug: str) -> Any:
    return _post_action(
        slug,
        lambda v: start_renewal(db.session, current_person(), v),
        _("Rinnovo avviato: ripercorri i moduli per aggiornare l'attestato."),
    )


@bp.route("/<slug>/modules/<module_slug>")
@authenticated
def module(slug: str, module_slug: str) -> Any:
    version = published_version(db.session, slug)
    try:
        access = open_module(db.session, current_person(), version, module_slug)
        current = find_module(version, module_slug)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("courses.course", slug=slug))
    study = StudyTime(access.tracked_seconds, minimum_study_seconds(version, current))
    return render_template(
        "courses/module.html",
        version=version,
        module=current,
        lesson_html=lesson_html(db.session, current),
        # This module's status only: the page shows nothing of the rest of the course.
        status=access.status,
        study=study,
        study_status=status_line(study),
        study_token=page_token(
            current_app.config["SECRET_KEY"],
            current_user.id,
            version,
            current,
            access.enrolment.cycle,
        ),
        place=neighbours(version, current),
    )


@bp.route("/<slug>/modules/<module_slug>/seen", methods=["POST"])
@authenticated
def module_seen(slug: str, module_slug: str) -> Any:
    """Heartbeat from the module page (progress.js): credits real time, bounded by the
    server (courses.study); answers with the time tracked and what remains."""
    try:
        grant = read_page_token(
            current_app.config["SECRET_KEY"],
            request.form.get("token"),
            user_id=current_user.id,
            course_slug=slug,
            module_slug=module_slug,
        )
        # Retried on a lost write race (SQLite: "database is locked" when two workers
        # upgrade their read transactions at once), as other plugins' submits are.
        study = db.commit_with_retries(lambda: heartbeat(db.session, grant))
    except HeartbeatRefused as refused:
        db.session.rollback()
        status, message = refused.status, str(refused)
        if status == 400:  # no valid token: someone without access is told so instead
            try:
                require_access(db.session, current_person(), published_version(db.session, slug))
            except ServiceError as error:
                status, message = 403, str(error)
        return jsonify(error=message, message=message), status
    return jsonify(
        tracked=study.tracked,
        remaining=study.remaining,
        credited=study.credited,
        message=status_line(study),
    )


@bp.route("/<slug>/modules/<module_slug>/complete", methods=["POST"])
@authenticated
def module_complete(slug: str, module_slug: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    version = published_version(db.session, slug)
    try:
        completion = db.commit_with_retries(
            lambda: complete_module(db.session, current_person(), version, module_slug)
        )
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("courses.module", slug=slug, module_slug=module_slug))
    if completion is not None:
        flash(
            _("Complimenti: hai completato il corso «%(title)s».", title=version.title), "success"
        )
        return redirect(url_for("courses.course", slug=slug))
    following = resume_module(version, progress_for(db.session, current_user.id, version))
    flash(_("Modulo completato."), "success")
    if following is not None and following.slug != module_slug:
        return redirect(url_for("courses.module", slug=slug, module_slug=following.slug))
    return redirect(url_for("courses.course", slug=slug))


@bp.route("/<slug>/modules/assets/<id:version_id>/<path:path>")
@authenticated
def asset(slug: str, version_id: int, path: str) -> Any:
    """Images and attachments of a published version (drafts: see the author views)."""
    version = db.session.get(CourseVersion, version_id)
    if version is None or version.course.slug != slug or version.is_draft:
        abort(404)
    return send_asset(version_id, path)


def send_asset(version_id: int, path: str) -> Any:
    found = db.session.scalar(
        select(Asset).where(Asset.version_id == version_id, Asset.path == path)
    )
    if found is None:
        abort(404)
    if found.media_type == "application/pdf":
        response = attachment(found.content, path.rsplit("/", 1)[-1], found.media_type)
    else:
        response = make_response(found.content)
        response.headers["Content-Type"] = found.media_type
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; object-src 'none'; frame-ancestors 'none'; sandbox"
    )
    return response


@bp.route("/organisations/<id:org_id>/enrol", methods=["GET", "POST"])
@organisation_manager()
def enrol_staff(org_id: int) -> Any:
    """A referent (or admin) enrols staff of the organisation, one by one or all at once."""
    organisation = get_organisation(db.session, org_id)
    versions = published_courses(db.session)
    form = EnrolStaffForm()
    form.course.choices = [SelectChoice(v.course.slug, v.title) for v in versions]
    members = current_members(db.session, org_id)
    if form.validate_on_submit():
        chosen = [int(v) for v in request.form.getlist("member") if v.isdigit()]
        if not chosen:
            flash(_("Seleziona almeno una persona."), "error")
        else:
            version = published_version(db.session, form.course.data)
            try:
                count = enrolment.enrol_members(
                    db.session, org_id, version, chosen, by=current_person()
                )
            except ServiceError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(
                    ngettext(
                        "%(num)d persona iscritta al corso.",
                        "%(num)d persone iscritte al corso.",
                        count,
                    ),
                    "success",
                )
                return redirect(url_for("courses.enrol_staff", org_id=org_id))
    return render_template(
        "courses/enrol_staff.html",
        organisation=organisation,
        form=form,
        members=members,
        locale=str(get_locale()),
    )
