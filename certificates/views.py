"""Certificate pages: the holder's list, public verification, referents' ZIP, admin."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from certificates import accreditation, codes, issuing, listing
from certificates import jobs as certificate_jobs
from certificates.blueprint import bp
from certificates.config import courses_loaded, expiring_days, issuer_settings
from certificates.documents import certificate_pdf
from certificates.forms import (
    OrganisationFilterForm,
    ReissueForm,
    RevokeForm,
    SearchForm,
)
from certificates.models import Certificate, Status
from certificates.pdf import filename
from lms import clock, db
from lms.accounts.models import Role
from lms.authz import authenticated, current_person, organisation_manager, roles_required
from lms.downloads import attachment
from lms.errors import ServiceError
from lms.forms import ActionForm
from lms.i18n import lazy_gettext as _l
from lms.organisations.policy import referent_organisation_ids
from lms.organisations.services import get_organisation, list_organisations

STATUS_LABELS = {
    Status.VALID: _l("valido"),
    Status.EXPIRING: _l("in scadenza"),
    Status.EXPIRED: _l("scaduto"),
    Status.REVOKED: _l("revocato"),
    Status.SUPERSEDED: _l("sostituito da un rinnovo"),
}
FILTER_LABELS = {
    "current": _l("validi e in scadenza"),
    Status.VALID: _l("validi"),
    Status.EXPIRING: _l("in scadenza"),
    Status.EXPIRED: _l("scaduti"),
}


@bp.app_template_global()
def certificate_status_label(status: str) -> str:
    return str(STATUS_LABELS.get(Status(status), status))


@bp.app_template_global()
def certificate_code(code: str) -> str:
    return codes.grouped(code)


@bp.app_template_global()
def certificate_accreditation(data: Any) -> accreditation.Accreditation | None:
    return accreditation.read(data)


@bp.app_template_global()
def study_time(seconds: int) -> str:
    """Tracked time as the certificate prints it: "2 h 5 min"."""
    hours, minutes = accreditation.hours_minutes(seconds)
    return _("%(h)d h %(m)d min", h=hours, m=minutes)


@bp.app_template_global()
def certificate_for_course(course_slug: str) -> Certificate | None:
    """The signed-in person's current certificate for a course (the home's course cards)."""
    from certificates.widgets import for_course

    return for_course(db.session, current_user.id, course_slug)


def _now() -> dt.datetime:
    return clock.now()


# --- The holder ------------------------------------------------------------------


@bp.route("/")
@authenticated
def mine() -> Any:
    certs = listing.of_holder(db.session, current_user.id)
    return render_template(
        "certificates/mine.html", rows=listing.with_status(certs, expiring_days())
    )


@bp.route("/<id:cert_id>/download")
@authenticated
def download(cert_id: int) -> Any:
    """Own certificates only (admins: any); others get 404, not a hint."""
    cert = db.session.get(Certificate, cert_id)
    if cert is None or (cert.user_id != current_user.id and not current_user.is_admin):
        abort(404)
    return attachment(certificate_pdf(cert), filename(cert), "application/pdf")


# --- Referents --------------------------------------------------------------------


def _filters(org_id: int) -> tuple[OrganisationFilterForm, str | None, str]:
    form = OrganisationFilterForm(request.args)
    form.key.choices = [SelectChoice("", _("Tutti i corsi"))] + [
        SelectChoice(key, title) for key, title in listing.organisation_titles(db.session, org_id)
    ]
    form.status.choices = [SelectChoice(str(v), str(label)) for v, label in FILTER_LABELS.items()]
    if request.args and form.validate():
        return form, form.key.data or None, form.status.data
    return form, None, "current"


@bp.route("/organisations/<id:org_id>/")
@organisation_manager()
def organisation(org_id: int) -> Any:
    organisation = get_organisation(db.session, org_id)
    form, key, status = _filters(org_id)
    page = listing.organisation_page(
        db.session,
        org_id,
        key=key,
        status=status,
        expiring_days=expiring_days(),
        page=request.args.get("page", 1, type=int) or 1,
    )
    others = [
        summary.organisation
        for summary in list_organisations(db.session, referent_organisation_ids(current_user))
        if summary.organisation.id != org_id
    ]
    return render_template(
        "certificates/organisation.html",
        organisation=organisation,
        others=others,
        form=form,
        page=page,
        rows=page.rows,
        key=key,
        status=status,
        zip_form=ActionForm(),
    )


@bp.route("/organisations/<id:org_id>/certificates.zip", methods=["POST"])
@organisation_manager()
def organisation_zip(org_id: int) -> Any:
    """A worker prepares the archive (5,000 PDFs take about a minute); the job's page
    shows its progress, then the download link."""
    if not ActionForm().validate_on_submit():
        abort(400)
    get_organisation(db.session, org_id)
    _form, key, status = _filters(org_id)
    job = certificate_jobs.ask_organisation_zip(
        db.session, org_id, key=key, status=status, actor=current_person()
    )
    db.session.commit()
    return redirect(url_for("jobs.job_page", job_id=job.id))


# --- Administration ----------------------------------------------------------------


@bp.route("/admin/")
@roles_required(Role.ADMIN)
def admin_index() -> Any:
    form = SearchForm(request.args)
    results = listing.search(db.session, form.q.data or "") if form.validate() else []
    return render_template(
        "certificates/admin_index.html",
        form=form,
        rows=listing.with_status(results, expiring_days()),
    )


def _certificate_or_404(cert_id: int) -> Certificate:
    cert = db.session.get(Certificate, cert_id)
    if cert is None:
        abort(404)
    return cert


@bp.route("/admin/<id:cert_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_detail(cert_id: int) -> Any:
    """The certificate; ``?revoke=1`` asks to confirm the revocation, with a reason (the
    form posts here; a reason refused shows that page again with the error)."""
    cert = _certificate_or_404(cert_id)
    form = RevokeForm()
    confirming = request.args.get("revoke") == "1" and cert.revoked_at is None
    if request.method == "POST" and not form.validate_on_submit():
        confirming = cert.revoked_at is None
    if form.validate_on_submit():
        try:
            issuing.revoke(db.session, cert, form.reason.data, actor=current_person())
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Attestato %(serial)s revocato.", serial=cert.serial), "success")
            return redirect(url_for("certificates.admin_detail", cert_id=cert.id))
    chain = []
    previous = cert.previous
    while previous is not None and len(chain) < 50:
        chain.append(previous)
        previous = previous.previous
    if confirming:
        return render_template(
            "certificates/revoke.html",
            cert=cert,
            status=cert.status(_now(), expiring_days()),
            form=form,
        )
    return render_template(
        "certificates/admin_detail.html",
        cert=cert,
        status=cert.status(_now(), expiring_days()),
        chain=chain,
        form=form,
        reissue_form=ReissueForm(),
    )


@bp.route("/admin/<id:cert_id>/reissue", methods=["POST"])
@roles_required(Role.ADMIN)
def admin_reissue(cert_id: int) -> Any:
    """Re-issue with the holder's current name (e.g. after a correction)."""
    cert = _certificate_or_404(cert_id)
    if not ReissueForm().validate_on_submit():
        abort(400)
    try:
        new = issuing.reissue(db.session, cert, issuer_settings(), actor=current_person())
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("certificates.admin_detail", cert_id=cert.id))
    db.session.commit()
    flash(_("Nuovo attestato %(serial)s emesso.", serial=new.serial), "success")
    return redirect(url_for("certificates.admin_detail", cert_id=new.id))


# --- Course authors: the participants' report ------------------------------------------


def _participants_module() -> Any:
    """``certificates.participants`` reads courses: 404 where that plugin is not loaded."""
    if not courses_loaded():
        abort(404)
    from certificates import participants

    return participants


@bp.route("/participants/")
@roles_required(Role.TRAINER)
def participants_index() -> Any:
    """The author's courses, accredited ones first, with their report downloads."""
    participants = _participants_module()
    courses = participants.report_courses(db.session, current_person())
    return render_template("certificates/participants.html", courses=courses)


@bp.route("/participants/<slug>.<any(csv,xlsx):fmt>")
@authenticated
def participants_report(slug: str, fmt: str) -> Any:
    """Every completion of the course: 404 for an unknown course, 403 for non-authors."""
    participants = _participants_module()
    course = participants.course_for_report(db.session, slug, current_person())
    rows = participants.participants(db.session, course)
    name = participants.filename(course, clock.today(), fmt)
    if fmt == "csv":
        return attachment(participants.report_csv(rows), name, "text/csv; charset=utf-8")
    title = participants.course_title(db.session, course)
    return attachment(participants.report_xlsx(rows, title), name, participants.XLSX)
