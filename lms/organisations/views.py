"""Organisation pages: the list (scoped) and each organisation's staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from lms import db
from lms.accounts.mailing import send_invitation, send_password_reset
from lms.authz import authenticated, current_person, organisation_manager
from lms.errors import ServiceError
from lms.i18n import lazy_gettext as _l
from lms.organisations import services
from lms.organisations.forms import InviteMemberForm, RemoveMemberForm
from lms.organisations.models import OrganisationType
from lms.organisations.policy import can_view_network, referent_organisation_ids

bp = Blueprint("organisations", __name__, template_folder="templates")


@bp.route("/")
@authenticated
def index() -> Any:
    """Admins and the coordinator see every organisation; referents their own."""
    if current_user.is_admin or can_view_network(current_user):
        only = None
    else:
        only = referent_organisation_ids(current_user)
        if not only:
            abort(403)
    summaries = services.list_organisations(db.session, only_ids=only)
    manageable = (
        {s.organisation.id for s in summaries}
        if current_user.is_admin
        else referent_organisation_ids(current_user)
    )
    return render_template("organisations/index.html", summaries=summaries, manageable=manageable)


def _invite_form() -> InviteMemberForm:
    form = InviteMemberForm()
    locale = str(get_locale())
    form.audience.choices = [
        SelectChoice(a.code, a.name(locale)) for a in services.list_audiences(db.session)
    ]
    return form


@bp.route("/<id:org_id>/", methods=["GET", "POST"])
@organisation_manager()
def detail(org_id: int) -> Any:
    organisation = services.get_organisation(db.session, org_id)
    form = _invite_form()
    if form.validate_on_submit():
        try:
            membership, created = services.add_member(
                db.session,
                organisation,
                email=form.email.data,
                full_name=form.full_name.data,
                audience_code=form.audience.data,
                is_referent=bool(form.is_referent.data and current_user.is_admin),
                actor=current_person(),
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            if created:
                send_invitation(membership.user, organisation.name, current_user.full_name)
                flash(_("Invito inviato a %(email)s.", email=membership.user.email), "success")
            else:
                flash(
                    _("%(name)s è stata/o aggiunta/o.", name=membership.user.full_name), "success"
                )
            return redirect(url_for("organisations.detail", org_id=org_id))
    return render_template(
        "organisations/detail.html",
        organisation=organisation,
        members=services.current_members(db.session, org_id),
        form=form,
        remove_form=RemoveMemberForm(),
        locale=str(get_locale()),
    )


@bp.route("/<id:org_id>/members/<id:user_id>/remove", methods=["POST"])
@organisation_manager()
def remove_member(org_id: int, user_id: int) -> Any:
    if not RemoveMemberForm().validate_on_submit():
        abort(400)
    try:
        membership = services.end_membership(db.session, org_id, user_id, actor=current_person())
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(
            _(
                "%(name)s non fa più parte dell'organizzazione; lo storico resta.",
                name=membership.user.full_name,
            ),
            "success",
        )
    return redirect(url_for("organisations.detail", org_id=org_id))


@bp.route("/<id:org_id>/members/<id:user_id>/reactivate", methods=["POST"])
@organisation_manager()
def reactivate_member(org_id: int, user_id: int) -> Any:
    """Bring back an account put to sleep for inactivity; the person gets a reset link."""
    if not RemoveMemberForm().validate_on_submit():
        abort(400)
    try:
        user = services.reactivate_member(db.session, org_id, user_id, actor=current_person())
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        send_password_reset(user)
        flash(
            _(
                "Account di %(name)s riattivato: ha ricevuto un'e-mail con il link per "
                "scegliere una nuova password.",
                name=user.full_name,
            ),
            "success",
        )
    return redirect(url_for("organisations.detail", org_id=org_id))


TYPE_LABELS = {
    OrganisationType.COMUNE: _l("Comune di Milano e Municipi"),
    OrganisationType.CAV: _l("Centri antiviolenza e case rifugio"),
    OrganisationType.MAGISTRATURA: _l("Magistratura"),
    OrganisationType.FORZE_ORDINE: _l("Forze dell'ordine"),
    OrganisationType.SOCIOSANITARIO: _l("Sistema socio-sanitario"),
    OrganisationType.ALTRO: _l("Altri soggetti"),
}


@bp.app_template_global()
def organisation_type_label(value: str) -> str:
    return str(TYPE_LABELS.get(OrganisationType(value), value))
