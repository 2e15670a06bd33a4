"""Administration: people and roles, personal data, audit log, privacy notice."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms import SelectChoice

from lms import audit, clock, db, privacy
from lms.accounts.models import Role, User, UserRole
from lms.admin.blueprint import bp
from lms.admin.forms import (
    CreateUserForm,
    EraseForm,
    PrivacyControllerForm,
    PrivacyNoticeForm,
    RoleForm,
    UserSearchForm,
)
from lms.admin.services import create_account
from lms.authz import current_person, roles_required
from lms.downloads import attachment
from lms.errors import ServiceError
from lms.limits import EDITOR, body_limit
from lms.settings import get_setting, set_setting

admin_only = roles_required(Role.ADMIN)


@bp.app_template_filter("role_label")
def role_label_filter(code: str) -> str:
    return audit.role_label(code)


@bp.app_template_filter("action_label")
def action_label_filter(code: str) -> str:
    return audit.action_label(code)


@bp.route("/users/")
@admin_only
def users() -> Any:
    form = UserSearchForm(request.args)
    stmt = select(User).order_by(User.full_name).limit(200)
    if form.q.data:
        pattern = f"%{form.q.data.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.full_name).like(pattern), User.email.like(pattern)))
    return render_template(
        "admin/users.html",
        form=form,
        users=list(db.session.scalars(stmt)),
        controller=privacy.controller_details(db.session),
    )


def _create_user_form() -> CreateUserForm:
    from lms.organisations.services import list_audiences, list_organisations

    form = CreateUserForm()
    locale = str(get_locale())
    form.organisation.choices = [SelectChoice("", _("Nessun ente"))] + [
        SelectChoice(str(s.organisation.id), s.organisation.name)
        for s in list_organisations(db.session)
        if s.organisation.active
    ]
    form.audience.choices = [SelectChoice("", _("Nessuno"))] + [
        SelectChoice(a.code, a.name(locale)) for a in list_audiences(db.session)
    ]
    return form


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def new_user() -> Any:
    """Create an account and send the usual invitation: the person sets the password."""
    from lms.accounts.mailing import send_invitation

    form = _create_user_form()
    if form.validate_on_submit():
        org_id = int(form.organisation.data) if form.organisation.data else None
        try:
            person = create_account(
                db.session,
                full_name=form.full_name.data,
                email=form.email.data,
                role=form.role.data or None,
                organisation_id=org_id,
                audience_code=form.audience.data or None,
                is_referent=form.is_referent.data,
                actor=current_person(),
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")  # the form keeps what was typed
        else:
            org_name = ""
            if org_id is not None:
                from lms.organisations.services import get_organisation

                org_name = get_organisation(db.session, org_id).name
            send_invitation(person, org_name, current_user.full_name)
            db.session.commit()
            flash(
                _("Account creato: l'invito è stato inviato a %(email)s.", email=person.email),
                "success",
            )
            return redirect(url_for("admin.user", user_id=person.id))
    return render_template("admin/new_user.html", form=form)


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
            flash(
                _("Non puoi togliere il ruolo di amministrazione al tuo stesso account."), "error"
            )
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


@bp.route("/privacy/controller", methods=["GET", "POST"])
@admin_only
def privacy_controller() -> Any:
    """The controller's and the DPO's details that the privacy notice shows."""
    form = PrivacyControllerForm()
    if form.validate_on_submit():
        values = {f.key: getattr(form, f.key).data or "" for f in privacy.CONTROLLER_FIELDS}
        privacy.save_controller_details(db.session, values, actor=current_person())
        db.session.commit()
        flash(_("Dati del titolare del trattamento salvati."), "success")
        return redirect(url_for("admin.privacy_controller"))
    if request.method == "GET":
        details = privacy.controller_details(db.session)
        for f in privacy.CONTROLLER_FIELDS:
            getattr(form, f.key).data = details.values.get(f.key, "")
    return render_template(
        "admin/privacy_controller.html",
        form=form,
        controller=privacy.controller_details(db.session),
        fields=privacy.CONTROLLER_FIELDS,
    )


@bp.app_template_global()
def privacy_controller_details() -> privacy.ControllerDetails:
    """For the public notice: the details configured, and which are missing."""
    return privacy.controller_details(db.session)


from lms.admin import audit_views, merge_views, organisation_views  # noqa: E402,F401  (their routes on bp)
