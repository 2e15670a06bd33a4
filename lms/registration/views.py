"""Self-registration pages: the public form and its confirmation, the organisation's
rule, and the referents' decisions."""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from wtforms import SelectChoice

from lms import clock, db
from lms.accounts.emails import normalise_email
from lms.accounts.services import TokenError
from lms.authz import current_person, organisation_manager, public, staff_scope
from lms.errors import NotFound, ServiceError
from lms.forms import ActionForm
from lms.organisations import units as org_units
from lms.organisations.models import Organisation
from lms.organisations.services import list_audiences
from lms.organisations.units import StaffScope
from lms.registration import emails, services, throttling
from lms.registration.forms import ConfirmForm, RefuseForm, RegistrationForm, RuleForm

log = logging.getLogger(__name__)
bp = Blueprint("registration", __name__, template_folder="templates")
NO_UNIT = 0


@bp.app_template_global("registration_open")
def registration_open() -> bool:
    """For the login page's link (``registration/_login_link.html``)."""
    return services.any_open(db.session)


@bp.app_template_global("registration_pending_count")
def registration_pending_count(scope: StaffScope) -> int:
    """For a referent's dashboard (``registration/_pending_widget.html``)."""
    return services.pending_count(db.session, scope)


def _policy() -> throttling.RegistrationPolicy:
    return throttling.RegistrationPolicy.from_config(current_app.config)


def _remote_addr() -> str:
    return request.remote_addr or "-"


def _wait_message(seconds: int) -> str:
    return ngettext(
        "Troppe richieste: riprova tra %(num)d minuto.",
        "Troppe richieste: riprova tra %(num)d minuti.",
        max(1, math.ceil(seconds / 60)),
    )


def _open_or_404(org_id: int) -> Organisation:
    try:
        return services.open_organisation(db.session, org_id)
    except NotFound:
        abort(404)


@bp.route("/")
@public
def index() -> Any:
    """The organisations that take registrations."""
    return render_template(
        "registration/index.html", organisations=services.open_organisations(db.session)
    )


def _registration_form(organisation: Organisation) -> RegistrationForm:
    form = RegistrationForm()
    names = {u.id: u.name for u in org_units.units_of(db.session, organisation.id)}
    form.unit.choices = [SelectChoice(NO_UNIT, _("— nessuna unità in particolare —"))] + [
        SelectChoice(u.id, org_units.unit_label(u, names))
        for u in org_units.units_of(db.session, organisation.id, open_only=True)
    ]
    locale = str(get_locale())
    form.audience.choices = [SelectChoice(a.id, a.name(locale)) for a in list_audiences(db.session)]
    rule = services.rule_of(db.session, organisation.id)
    if rule is None or not rule.has_join_code:
        del form.join_code
    return form


@bp.route("/<id:org_id>", methods=["GET", "POST"])
@public
def form(org_id: int) -> Any:
    organisation = _open_or_404(org_id)
    form = _registration_form(organisation)
    page = "registration/form.html"
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template(page, form=form, organisation=organisation), status
    now = clock.now()
    wait = throttling.form_refusal(db.session, form.email.data, _remote_addr(), _policy(), now)
    if wait is not None:
        log.warning("registration form refused: throttled")
        flash(_wait_message(wait), "error")
        return (
            render_template(page, form=form, organisation=organisation),
            429,
            {"Retry-After": str(wait)},
        )
    join_code = form.join_code.data if "join_code" in form else None
    try:
        email = normalise_email(form.email.data)
        # The organisation's own conditions (domain, join code): the same for any person.
        services.check_form(db.session, organisation, email, join_code)
    except ServiceError as error:
        form.email.errors = [*form.email.errors, str(error)]
        return render_template(page, form=form, organisation=organisation), 400
    # From here on, the same answer and the same work for every address: the look-up,
    # the request and the e-mail happen after the answer has gone.
    throttling.record_form(db.session, email, _remote_addr(), now)
    db.session.commit()
    response = current_app.make_response(render_template("registration/sent.html"))
    emails.submit_after_response(
        response,
        {
            "email": email,
            "full_name": form.full_name.data,
            "organisation_id": organisation.id,
            "unit_id": form.unit.data or None,
            "audience_id": form.audience.data,
        },
    )
    return response


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public
def confirm(token: str) -> Any:
    now = clock.now()
    wait = throttling.confirm_refusal(db.session, _remote_addr(), _policy(), now)
    if wait is not None:
        flash(_wait_message(wait), "error")
        return render_template("registration/token_invalid.html"), 429, {"Retry-After": str(wait)}
    try:
        req = services.read_token(
            db.session, current_app.config["SECRET_KEY"], token, emails.token_max_age()
        )
    except TokenError as error:
        throttling.record_confirm(db.session, _remote_addr(), now)
        db.session.commit()
        flash(str(error), "error")
        return render_template("registration/token_invalid.html"), 400
    form = ConfirmForm()
    if form.validate_on_submit():
        throttling.record_confirm(db.session, _remote_addr(), now)
        try:
            user = services.confirm(db.session, req, form.password.data, now=now)
        except ServiceError as error:
            db.session.rollback()
            throttling.record_confirm(db.session, _remote_addr(), now)
            db.session.commit()
            flash(str(error), "error")
        else:
            db.session.commit()
            if user is None:
                return render_template("registration/pending.html", req=req)
            if current_user.is_authenticated:
                logout_user()
            login_user(user)
            flash(
                _(
                    "Registrazione completata. Ti diamo il benvenuto, %(name)s!",
                    name=user.full_name,
                ),
                "success",
            )
            return redirect(url_for("lms.home"))
    return render_template("registration/confirm.html", form=form, req=req)


# --- The organisation's rule and its referents' decisions -----------------------------


def _organisation(org_id: int) -> Organisation:
    organisation = db.session.get(Organisation, org_id)
    if organisation is None:
        abort(404)
    return organisation


@bp.route("/organisations/<id:org_id>/rule", methods=["GET", "POST"])
@organisation_manager()
def rule(org_id: int) -> Any:
    organisation = _organisation(org_id)
    current = services.rule_of(db.session, org_id)
    form = RuleForm(
        data={
            "enabled": bool(current and current.enabled),
            "domains": "\n".join(current.allowed_domains or []) if current else "",
            "auto_approve_domain": bool(current and current.auto_approve_domain),
        }
    )
    if form.validate_on_submit():
        try:
            services.update_rule(
                db.session,
                organisation,
                enabled=form.enabled.data,
                domains=services.parse_domains(form.domains.data or ""),
                auto_approve_domain=form.auto_approve_domain.data,
                join_code=form.join_code.data or None,
                clear_join_code=form.clear_join_code.data,
                actor=current_person(),
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Regole di registrazione salvate."), "success")
            return redirect(url_for("registration.rule", org_id=org_id))
    return render_template(
        "registration/rule.html", form=form, organisation=organisation, rule=current
    )


@bp.route("/organisations/<id:org_id>/requests")
@organisation_manager(units=True)
def requests(org_id: int) -> Any:
    organisation = _organisation(org_id)
    scope = staff_scope()
    pending = services.pending_requests(db.session, scope)
    names = {u.id: u.name for u in org_units.units_of(db.session, org_id)}
    labels = {u.id: org_units.unit_label(u, names) for u in org_units.units_of(db.session, org_id)}
    return render_template(
        "registration/requests.html",
        organisation=organisation,
        pending=pending,
        unit_labels=labels,
        action_form=ActionForm(),
        refuse_form=RefuseForm(),
        locale=str(get_locale()),
    )


def _request_or_404(request_id: int) -> Any:
    try:
        return services.request_in_scope(db.session, staff_scope(), request_id)
    except NotFound:
        abort(404)


@bp.route("/organisations/<id:org_id>/requests/<id:request_id>/approve", methods=["POST"])
@organisation_manager(units=True)
def approve(org_id: int, request_id: int) -> Any:
    req = _request_or_404(request_id)
    if ActionForm().validate_on_submit():
        try:
            changed = services.approve(db.session, req, actor=current_person(), now=clock.now())
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            if changed:
                emails.send_decision(req)
            db.session.commit()
            flash(_("Richiesta approvata: %(name)s", name=req.full_name), "success")
    return redirect(url_for("registration.requests", org_id=org_id))


@bp.route("/organisations/<id:org_id>/requests/<id:request_id>/refuse", methods=["POST"])
@organisation_manager(units=True)
def refuse(org_id: int, request_id: int) -> Any:
    req = _request_or_404(request_id)
    form = RefuseForm()
    if form.validate_on_submit():
        try:
            changed = services.refuse(
                db.session, req, form.reason.data, actor=current_person(), now=clock.now()
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            if changed:
                emails.send_decision(req)
            db.session.commit()
            flash(_("Richiesta rifiutata: %(name)s", name=req.full_name), "success")
    elif form.is_submitted():
        flash(_("Indica il motivo del rifiuto: sarà inviato alla persona."), "error")
    return redirect(url_for("registration.requests", org_id=org_id))
