"""Organisation pages: the list (scoped) and each organisation's staff."""

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
from wtforms import SelectChoice

from lms import audit, clock, db, throttle
from lms.accounts.mailing import send_invitation, send_password_reset
from lms.authz import authenticated, current_person, organisation_manager
from lms.errors import NotFound, ServiceError
from lms.i18n import lazy_gettext as _l
from lms.organisations import services
from lms.organisations.blueprint import bp
from lms.organisations.forms import InviteMemberForm, RemoveMemberForm
from lms.organisations.models import OrganisationType
from lms.organisations.policy import can_view_network, referent_organisation_ids


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


def _invite_form(organisation: Any) -> InviteMemberForm:
    form = InviteMemberForm()
    locale = str(get_locale())
    form.audience.choices = [
        SelectChoice(a.code, a.name(locale)) for a in services.list_audiences(db.session)
    ]
    if not form.is_submitted():
        form.audience.data = services.usual_audience(db.session, organisation)
    return form


def _invitation_states(members: list[Any]) -> dict[int, services.InvitationState]:
    now, max_age = clock.now(), current_app.config["LMS_INVITE_TOKEN_MAX_AGE"]
    return {m.user_id: services.invitation_state(m.user, now, max_age) for m in members}


@bp.route("/<id:org_id>/", methods=["GET", "POST"])
@organisation_manager()
def detail(org_id: int) -> Any:
    organisation = services.get_organisation(db.session, org_id)
    form = _invite_form(organisation)
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
            if created:
                send_invitation(membership.user, organisation.name, current_user.full_name)
            db.session.commit()
            if created:
                flash(_("Invito inviato a %(email)s.", email=membership.user.email), "success")
            else:
                flash(
                    _("%(name)s fa ora parte dell'organizzazione.", name=membership.user.full_name),
                    "success",
                )
            return redirect(url_for("organisations.detail", org_id=org_id))
    members = services.current_members(db.session, org_id)
    return render_template(
        "organisations/detail.html",
        organisation=organisation,
        members=members,
        invitations=_invitation_states(members),
        form=form,
        remove_form=RemoveMemberForm(),
        locale=str(get_locale()),
    )


def _current_member(org_id: int, user_id: int) -> Any:
    for membership in services.current_members(db.session, org_id):
        if membership.user_id == user_id:
            return membership
    raise NotFound(_("Persona non trovata in questa organizzazione."))


@bp.route("/<id:org_id>/members/<id:user_id>/remove", methods=["GET", "POST"])
@organisation_manager()
def remove_member(org_id: int, user_id: int) -> Any:
    """GET asks for confirmation (who, and what removing means); POST removes."""
    if request.method == "GET":
        return render_template(
            "organisations/remove_member.html",
            organisation=services.get_organisation(db.session, org_id),
            membership=_current_member(org_id, user_id),
            form=RemoveMemberForm(),
        )
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


@bp.route("/<id:org_id>/members/<id:user_id>/invitation", methods=["POST"])
@organisation_manager()
def resend_invitation(org_id: int, user_id: int) -> Any:
    """Send a pending or expired invitation again (a new link, valid from now)."""
    if not RemoveMemberForm().validate_on_submit():
        abort(400)
    membership = _current_member(org_id, user_id)
    user = membership.user
    state = services.invitation_state(
        user, clock.now(), current_app.config["LMS_INVITE_TOKEN_MAX_AGE"]
    )
    if state is services.InvitationState.ACCEPTED:
        flash(_("%(name)s ha già accettato l'invito.", name=user.full_name), "info")
    elif throttle.is_limited(
        db.session, RESEND_SCOPE, str(user.id), limit=3, window=dt.timedelta(days=1)
    ):
        flash(_("L'invito è già stato inviato di nuovo tre volte oggi: riprova domani."), "error")
    else:
        throttle.record(db.session, RESEND_SCOPE, str(user.id))
        user.invitation_sent_at = clock.now()
        audit.record(
            db.session,
            "organisations.invitation_resent",
            actor=current_person(),
            organisation_id=org_id,
            object_type="user",
            object_id=user.id,
        )
        organisation = services.get_organisation(db.session, org_id)
        send_invitation(user, organisation.name, current_user.full_name)
        db.session.commit()
        flash(_("Invito inviato di nuovo a %(email)s.", email=user.email), "success")
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
        send_password_reset(user)
        db.session.commit()
        flash(
            _(
                "Account di %(name)s riattivato: ha ricevuto un'e-mail con il link per "
                "scegliere una nuova password.",
                name=user.full_name,
            ),
            "success",
        )
    return redirect(url_for("organisations.detail", org_id=org_id))


RESEND_SCOPE = "organisations.invitation_resend"

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


from lms.organisations import unit_views  # noqa: E402,F401  (its routes on bp)
