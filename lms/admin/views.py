"""Administration: people and roles, personal data, audit log, privacy notice."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from lms import audit, clock, db, privacy
from lms.accounts.models import Role, User, UserRole
from lms.admin.forms import AuditFilterForm, EraseForm, PrivacyNoticeForm, RoleForm, UserSearchForm
from lms.authz import current_person, organisation_manager, roles_required
from lms.downloads import attachment
from lms.errors import ServiceError
from lms.limits import EDITOR, body_limit
from lms.settings import get_setting, set_setting

bp = Blueprint("admin", __name__, template_folder="templates")
admin_only = roles_required(Role.ADMIN)


@bp.route("/users/")
@admin_only
def users() -> Any:
    form = UserSearchForm(request.args)
    stmt = select(User).order_by(User.full_name).limit(200)
    if form.q.data:
        pattern = f"%{form.q.data.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.full_name).like(pattern), User.email.like(pattern)))
    return render_template("admin/users.html", form=form, users=list(db.session.scalars(stmt)))


@bp.route("/users/<id:user_id>")
@admin_only
def user(user_id: int) -> Any:
    person = db.session.get(User, user_id) or abort(404)
    from lms.organisations.services import memberships_of

    return render_template(
        "admin/user.html",
        person=person,
        role_form=RoleForm(),
        erase_form=EraseForm(),
        memberships=memberships_of(db.session, user_id),
    )


@bp.route("/users/<id:user_id>/roles", methods=["POST"])
@admin_only
def change_role(user_id: int) -> Any:
    person = db.session.get(User, user_id) or abort(404)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    role = form.role.data
    if request.form.get("action") == "revoke":
        if person.id == current_user.id and role == Role.ADMIN:
            flash(_("Non puoi togliere a te stessa/o il ruolo di amministrazione."), "error")
            return redirect(url_for("admin.user", user_id=user_id))
        for granted in [r for r in person.roles if r.role == role]:
            person.roles.remove(granted)
            audit.record(
                db.session,
                "role.revoked",
                actor=current_person(),
                object_type="user",
                object_id=person.id,
                subject_id=person.id,
                details={"role": role},
            )
    elif not person.has_role(role):
        person.roles.append(UserRole(role=role))
        audit.record(
            db.session,
            "role.granted",
            actor=current_person(),
            object_type="user",
            object_id=person.id,
            subject_id=person.id,
            details={"role": role},
        )
    db.session.commit()
    flash(_("Ruoli aggiornati."), "success")
    return redirect(url_for("admin.user", user_id=user_id))


def _data_response(user_id: int, fmt: str) -> Any:
    data = privacy.export_user(db.session, user_id, actor=current_person())
    db.session.commit()
    stamp = clock.today().isoformat()
    name = f"dati-personali-{user_id}-{stamp}.{fmt}"
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2)
        return attachment(body, name, "application/json; charset=utf-8")
    return attachment(render_template("admin/personal_data.html", data=data), name, "text/html")


@bp.route("/users/<id:user_id>/data.<any(json,html):fmt>")
@admin_only
def user_data(user_id: int, fmt: str) -> Any:
    if db.session.get(User, user_id) is None:
        abort(404)
    return _data_response(user_id, fmt)


@bp.route("/users/<id:user_id>/erase", methods=["POST"])
@admin_only
def erase(user_id: int) -> Any:
    form = EraseForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        privacy.erase_user(
            db.session, user_id, actor=current_person(), confirm_email=form.confirm_email.data
        )
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("I dati personali sono stati cancellati e gli attestati revocati."), "success")
    return redirect(url_for("admin.user", user_id=user_id))


def _audit_filters() -> tuple[AuditFilterForm, dict[str, Any]]:
    form = AuditFilterForm(request.args)
    form.validate()
    since = form.since.data
    until = form.until.data
    return form, {
        "action": form.action.data or None,
        "since": dt.datetime.combine(since, dt.time(), dt.UTC) if since else None,
        "until": dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        if until
        else None,
    }


@bp.route("/audit/")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def audit_log() -> Any:
    form, filters = _audit_filters()
    if request.args.get("format") == "csv":
        return _csv(audit.search(db.session, limit=None, **filters), "registro-attivita.csv")
    return render_template(
        "admin/audit.html",
        form=form,
        entries=audit.search(db.session, **filters),
        organisation=None,
    )


@bp.route("/organisations/<id:org_id>/audit/")
@organisation_manager()
def organisation_audit(org_id: int) -> Any:
    """A referent sees only entries about their own organisation."""
    from lms.organisations.services import get_organisation

    form, filters = _audit_filters()
    entries = audit.search(
        db.session,
        organisation_id=org_id,
        limit=None if request.args.get("format") == "csv" else 500,
        **filters,
    )
    if request.args.get("format") == "csv":
        return _csv(entries, f"registro-attivita-{org_id}.csv")
    return render_template(
        "admin/audit.html",
        form=form,
        entries=entries,
        organisation=get_organisation(db.session, org_id),
    )


def _csv(entries: list[audit.AuditEntry], filename: str) -> Any:
    return attachment(audit.to_csv(entries), filename, "text/csv")


@bp.route("/privacy", methods=["GET", "POST"])
@admin_only
@body_limit(EDITOR)
def privacy_notice() -> Any:
    from lms.web import PRIVACY_KEY, default_privacy_notice

    form = PrivacyNoticeForm()
    if form.validate_on_submit():
        set_setting(db.session, PRIVACY_KEY, form.text.data, by_id=current_user.id)
        audit.record(db.session, "privacy.notice_changed", actor=current_person())
        db.session.commit()
        flash(_("Informativa aggiornata."), "success")
        return redirect(url_for("lms.privacy"))
    if request.method == "GET":
        form.text.data = get_setting(db.session, PRIVACY_KEY, default_privacy_notice())
    return render_template("admin/privacy_notice.html", form=form)
