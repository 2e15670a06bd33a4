"""Login, logout, password change and reset, invitation acceptance."""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import joinedload

from lms import audit, clock, db, throttle
from lms.accounts import services, throttling
from lms.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfessionalIdForm,
    ResetRequestForm,
    SetPasswordForm,
)
from lms.accounts.mailing import reset_after_response
from lms.accounts.models import User
from lms.authz import authenticated, current_person, public
from lms.errors import ServiceError
from lms.organisations.models import Membership
from lms.organisations.policy import CURRENT_ANY_REFERENT, remember_referent_organisations
from lms.sso.services import enabled_providers, logout_redirect
from lms.urls import safe_next_url

log = logging.getLogger(__name__)
bp = Blueprint("accounts", __name__, template_folder="templates")


# Built once (constructing and keying it costs about what running it does). Every
# page's navigation asks for the roles and for the organisations the user is a
# referent of: they come joined, in one statement rather than three.
_USER_WITH_ROLES = (
    select(User, Membership.organisation_id, Membership.unit_id)
    .outerjoin(Membership, and_(Membership.user_id == User.id, CURRENT_ANY_REFERENT))
    .where(User.id == bindparam("user_id"))
    .options(joinedload(User.roles))
)


def load_user(login_id: str) -> User | None:
    """Flask-Login loader: the id must come with the current session token."""
    user_id, _sep, token = login_id.partition(":")
    if not user_id.isdigit():
        return None
    rows = db.session.execute(_USER_WITH_ROLES, {"user_id": int(user_id)}).unique().all()
    user = rows[0][0] if rows else None
    if user is None or not user.active or user.session_token != token:
        return None
    remember_referent_organisations(
        user.id,
        (org for _u, org, unit in rows if org is not None and unit is None),
        managed_ids=(org for _u, org, _unit in rows if org is not None),
    )
    return user


def remember_cookie_sign_in(_app: Any, user: User, **_extra: Any) -> None:
    """A session restored from the "remember me" cookie is a sign-in for retention:
    without it, someone who never types their password again would look inactive."""
    user.last_login_at = clock.now()
    db.session.commit()


def _policy() -> throttling.LoginPolicy:
    return throttling.LoginPolicy.from_config(current_app.config)


def _remote_addr() -> str:
    # The client's address; behind LMS_TRUSTED_PROXIES proxies, ProxyFix has put the
    # forwarded one here (standalone app only: a host app runs its own WSGI stack).
    return request.remote_addr or "-"


def _devices() -> list[list[Any]]:
    return throttling.read_devices(
        current_app.config["SECRET_KEY"],
        request.cookies.get(throttling.DEVICE_COOKIE),
        _policy(),
        clock.now(),
    )


def _remember_device(response: Response, devices: list[list[Any]], email: str) -> Response:
    """Give this browser the device cookie for the account (see lms.accounts.throttling)."""
    value = throttling.remember_device(
        current_app.config["SECRET_KEY"], devices, throttling.account_key(email), clock.now()
    )
    response.set_cookie(
        throttling.DEVICE_COOKIE,
        value,
        max_age=_policy().device_days * 24 * 3600,
        path=url_for("accounts.login"),  # sent to the sign-in form only
        secure=bool(current_app.config["LMS_SECURE_COOKIES"]),
        httponly=True,
        samesite="Lax",
    )
    return response


def _wait_message(seconds: int) -> str:
    if seconds < 120:
        return ngettext(
            "Troppi tentativi non riusciti: riprova tra %(num)d secondo "
            "oppure reimposta la password.",
            "Troppi tentativi non riusciti: riprova tra %(num)d secondi "
            "oppure reimposta la password.",
            seconds,
        )
    return ngettext(
        "Troppi tentativi non riusciti: riprova tra %(num)d minuto oppure reimposta la password.",
        "Troppi tentativi non riusciti: riprova tra %(num)d minuti oppure reimposta la password.",
        math.ceil(seconds / 60),
    )


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("lms.home"))
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        devices = _devices()
        account = throttling.account_key(form.email.data)
        result = services.authenticate(
            db.session,
            form.email.data,
            form.password.data,
            _remote_addr(),
            _policy(),
            device=throttling.device_for(devices, account),
        )
        db.session.commit()
        if result.outcome is services.LoginOutcome.OK and result.user is not None:
            login_user(result.user, remember=form.remember.data)
            log.info("login ok user=%s", result.user.id)
            target = safe_next_url(form.next.data) or url_for("lms.home")
            return _remember_device(redirect(target), devices, result.user.email)
        if result.outcome is services.LoginOutcome.THROTTLED:
            log.warning("login refused: throttled for %ss", result.retry_after)
            flash(_wait_message(result.retry_after), "error")
            page = _login_page(form)
            return page, 429, {"Retry-After": str(result.retry_after)}
        flash(_("E-mail o password non corretti."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return _login_page(form), status


def _login_page(form: LoginForm) -> str:
    return render_template(
        "accounts/login.html", form=form, sso_providers=enabled_providers(db.session)
    )


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Any:
    from lms.accounts.forms import LogoutForm

    if LogoutForm().validate_on_submit() and current_user.is_authenticated:
        # A copied session cookie must stop working too (shared office PCs): rotating the
        # token ends this person's sessions everywhere, which is the safe side to err on.
        user = current_person()
        # Signed in through a provider: its session ends too (RP-initiated logout).
        provider_logout = logout_redirect(session)
        user.rotate_session_token()
        audit.record(db.session, "logout", actor=user, subject_id=user.id)
        db.session.commit()
        logout_user()
        flash(_("Hai chiuso la sessione. A presto!"), "info")
        if provider_logout:
            return redirect(provider_logout)
    return redirect(url_for("accounts.login"))


@bp.route("/password", methods=["GET", "POST"])
@authenticated
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_person()
        try:
            services.change_password(db.session, user, form.current.data, form.password.data)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            login_user(user, fresh=True)  # keep this session, end the others
            flash(_("Password aggiornata. Le altre sessioni sono state chiuse."), "success")
            return redirect(url_for("lms.home"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/reset", methods=["GET", "POST"])
@public
def reset_request() -> Any:
    form = ResetRequestForm()
    if form.validate_on_submit():
        # The same work and the same answer whether or not the address is registered:
        # counting is by the typed address, and the account is looked up, the e-mail
        # built and sent, only after the answer has gone (mailing.reset_after_response).
        account = throttling.account_key(form.email.data)
        address = throttle.address_key(_remote_addr())
        now = clock.now()
        refusal = throttling.reset_refusal(db.session, account, address, _policy(), now)
        if refusal is not None:
            log.warning("password reset request refused: throttled")
            flash(_reset_refusal_message(refusal), "error")
            page = render_template("accounts/reset_request.html", form=form)
            return page, 429, {"Retry-After": str(refusal.retry_after)}
        throttling.record_reset_request(db.session, account, address, now)
        db.session.commit()
        flash(
            _(
                "Se l'indirizzo è registrato, riceverai un'e-mail con un link "
                "per reimpostare la password."
            ),
            "info",
        )
        response = redirect(url_for("accounts.login"))
        reset_after_response(response, form.email.data)
        return response
    return render_template("accounts/reset_request.html", form=form)


def _reset_refusal_message(refusal: throttling.ResetRefusal) -> str:
    minutes = max(1, math.ceil(refusal.retry_after / 60))
    if refusal.per_address:
        return ngettext(
            "Troppe richieste di reimpostazione da questa rete: riprova tra %(num)d minuto.",
            "Troppe richieste di reimpostazione da questa rete: riprova tra %(num)d minuti.",
            minutes,
        )
    return ngettext(
        "Hai già chiesto più link per questo indirizzo nell'ultima ora: se è registrato, "
        "controlla la posta (anche nella cartella spam) o riprova tra %(num)d minuto.",
        "Hai già chiesto più link per questo indirizzo nell'ultima ora: se è registrato, "
        "controlla la posta (anche nella cartella spam) o riprova tra %(num)d minuti.",
        minutes,
    )


def _token_user(salt: str, token: str, max_age_key: str) -> User | None:
    try:
        return services.read_token(
            db.session,
            current_app.config["SECRET_KEY"],
            salt,
            token,
            int(current_app.config[max_age_key]),
            allow_dormant=salt == services.RESET_SALT,
        )
    except services.TokenError as error:
        flash(str(error), "error")
        return None


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> Any:
    return _set_password_page(
        token,
        services.RESET_SALT,
        "LMS_RESET_TOKEN_MAX_AGE",
        _("Reimposta la password"),
        "password.reset",
    )


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str) -> Any:
    return _set_password_page(
        token,
        services.INVITE_SALT,
        "LMS_INVITE_TOKEN_MAX_AGE",
        _("Attiva il tuo account"),
        "invitation.accepted",
    )


def _set_password_page(token: str, salt: str, max_age_key: str, title: str, action: str) -> Any:
    user = _token_user(salt, token, max_age_key)
    if user is None:
        return render_template("accounts/token_invalid.html"), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(db.session, user, form.password.data)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            if user.is_dormant:  # the reset link is the way back from inactivity
                services.reactivate(db.session, user, actor=user, via="reset")
            devices = _devices()
            device = throttling.device_for(devices, throttling.account_key(user.email))
            services.signed_in_by_link(db.session, user, _remote_addr(), device)
            audit.record(db.session, action, actor=user, subject_id=user.id)
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            login_user(user)
            flash(
                _("Password impostata. Ti diamo il benvenuto, %(name)s!", name=user.full_name),
                "success",
            )
            return _remember_device(redirect(url_for("lms.home")), devices, user.email)
    return render_template("accounts/set_password.html", form=form, title=title, user=user)


@bp.route("/data", methods=["GET", "POST"])
@authenticated
def my_data() -> Any:
    """What the platform holds about me, and the one datum I keep myself (professional id)."""
    user = current_person()
    form = ProfessionalIdForm(data={"professional_id": user.professional_id or ""})
    if form.validate_on_submit():
        try:
            services.set_professional_id(db.session, user, form.professional_id.data)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Dati salvati."), "success")
            return redirect(url_for("accounts.my_data"))
    return render_template("accounts/my_data.html", form=form)


@bp.route("/data.<any(json,html):fmt>")
@authenticated
def my_data_download(fmt: str) -> Any:
    """GDPR Art. 15 and 20: everything the platform holds about me."""
    from lms.admin.views import _data_response

    return _data_response(current_user.id, fmt)
