"""Single sign-on pages (OpenID Connect): the login round trip, the sign-up of a new
identity, and the admin's providers. Thin: the exchange is Authlib's
(:mod:`lms.sso.client`), the decisions :mod:`lms.sso.services`'."""

from __future__ import annotations

import logging
from typing import Any

from authlib.common.errors import AuthlibBaseError
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user
from joserfc.errors import JoseError
from requests import RequestException
from sqlalchemy import select

from lms import clock, db
from lms.accounts.models import Role
from lms.authz import current_person, public, roles_required
from lms.errors import NotFound, ServiceError
from lms.forms import ActionForm
from lms.organisations.models import Organisation
from lms.sso import services
from lms.sso.client import ProviderMisconfigured, client_for, metadata
from lms.sso.forms import CLAIM_FIELDS, JoinForm, ProviderForm
from lms.sso.models import OIDCProvider
from lms.urls import safe_next_url

log = logging.getLogger(__name__)
bp = Blueprint("sso", __name__, template_folder="templates")

NEXT_KEY = "lms_sso_next"
#: what the exchange with a provider may raise: refused, never a server error
EXCHANGE_ERRORS = (
    AuthlibBaseError,
    JoseError,
    RequestException,
    ProviderMisconfigured,
    ValueError,
    KeyError,
    TypeError,
)


def _provider(slug: str) -> OIDCProvider:
    try:
        return services.provider_by_slug(db.session, slug)
    except NotFound:
        abort(404)


def _refused(message: str, status: int) -> Any:
    return render_template("sso/refused.html", message=message), status


def _sign_in(provider: OIDCProvider, user: Any) -> Any:
    """The person is in: Flask-Login's session, the provider session kept for logout."""
    pending = session.pop(services.PENDING_KEY, None)
    id_token = pending.get("id_token") if isinstance(pending, dict) else None
    id_token = session.pop("lms_sso_id_token", None) or id_token
    db.session.commit()
    login_user(user)
    services.remember_provider_session(session, provider, id_token)
    log.info("login ok via sso provider=%s user=%s", provider.slug, user.id)
    target = safe_next_url(session.pop(NEXT_KEY, None)) or url_for("lms.home")
    return redirect(target)


@bp.route("/<slug>/login")
@public
def login(slug: str) -> Any:
    provider = _provider(slug)
    if current_user.is_authenticated:
        return redirect(url_for("lms.home"))
    session.pop(NEXT_KEY, None)
    target = safe_next_url(request.args.get("next"))
    if target:
        session[NEXT_KEY] = target
    try:
        client = client_for(provider)
        metadata(provider, client)
        return client.authorize_redirect(url_for("sso.callback", slug=slug, _external=True))
    except EXCHANGE_ERRORS as error:
        log.warning("sso: provider %s unreachable or misconfigured: %r", slug, error)
        return _refused(_("Il servizio di accesso non risponde: riprova più tardi."), 503)


@bp.route("/<slug>/callback")
@public
def callback(slug: str) -> Any:
    provider = _provider(slug)
    try:
        client = client_for(provider)
        metadata(provider, client)  # the issuer checked again, before any token
        # State, the code exchanged with the PKCE verifier, the ID token's signature
        # (the provider's JWKS), issuer, audience, expiry and nonce: Authlib's.
        token = client.authorize_access_token()
        claims = token.get("userinfo")
        if not claims:
            raise ValueError("no ID token")
        claims = dict(claims)
        if metadata(provider, client).get("userinfo_endpoint"):
            extra = dict(client.userinfo(token=token))
            if extra.get("sub") != claims.get("sub"):  # OIDC Core 5.3.2
                raise ValueError("userinfo for another subject")
            claims = {**extra, **claims}
    except EXCHANGE_ERRORS as error:
        log.warning("sso: callback refused provider=%s: %r", slug, error)
        return _refused(
            _("Accesso non riuscito: la risposta del fornitore non è valida. Riprova."), 400
        )
    try:
        identity = services.identity_from_claims(db.session, provider, claims)
    except ServiceError as error:
        return _refused(str(error), 400)
    result = services.resolve(db.session, provider, identity)
    outcome = services.Outcome
    if result.outcome is outcome.SIGNED_IN and result.user is not None:
        session["lms_sso_id_token"] = token.get("id_token")
        return _sign_in(provider, result.user)
    db.session.commit()
    if result.outcome is outcome.UNVERIFIED:
        return _refused(
            _(
                "Il fornitore di identità non conferma il tuo indirizzo e-mail: non possiamo "
                "collegarlo a un account della piattaforma. Accedi con e-mail e password, "
                "oppure chiedi al referente della tua organizzazione."
            ),
            403,
        )
    if result.outcome is outcome.INACTIVE:
        return _refused(_("Questo account non è attivo: rivolgiti al tuo referente."), 403)
    if result.outcome is outcome.NO_ACCOUNT:
        return _refused(
            _(
                "Non c'è un account della piattaforma per questa identità. Chiedi al "
                "referente della tua organizzazione di invitarti."
            ),
            403,
        )
    pending = identity.to_session(clock.now())
    pending["id_token"] = token.get("id_token")
    session[services.PENDING_KEY] = pending
    return redirect(url_for("sso.join", slug=slug))


@bp.route("/<slug>/join", methods=["GET", "POST"])
@public
def join(slug: str) -> Any:
    provider = _provider(slug)
    identity = services.Identity.from_session(session.get(services.PENDING_KEY), clock.now())
    if identity is None or identity.provider_id != provider.id:
        flash(_("La richiesta è scaduta: accedi di nuovo."), "error")
        return redirect(url_for("accounts.login"))
    organisations, audiences = services.join_choices(db.session, provider, identity)
    form = JoinForm()
    form.organisation.choices = [(o.id, o.name) for o in organisations]
    form.audience.choices = [(a.id, a.name_it) for a in audiences]
    if identity.audience_id is not None and request.method == "GET":
        form.audience.data = identity.audience_id
    status = 200
    if form.validate_on_submit():
        try:
            done = services.sign_up(
                db.session,
                provider,
                identity,
                organisation_id=form.organisation.data,
                audience_id=form.audience.data,
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
            status = 400
        else:
            if done.status == "approved" and done.user is not None:
                return _sign_in(provider, done.user)
            db.session.commit()
            session.pop(services.PENDING_KEY, None)
            return render_template("sso/pending.html", provider=provider)
    elif request.method == "POST":
        status = 400
    return render_template("sso/join.html", form=form, provider=provider, identity=identity), status


# --- Admin ----------------------------------------------------------------------------------


@bp.route("/admin/providers/")
@roles_required(Role.ADMIN)
def admin_providers() -> Any:
    return render_template(
        "sso/admin_providers.html",
        providers=services.providers(db.session),
        action_form=ActionForm(),
    )


def _provider_form(provider: OIDCProvider | None) -> ProviderForm:
    form = ProviderForm(obj=provider)
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name))
    form.organisations.choices = [(o.id, o.name) for o in organisations]
    if provider is not None and request.method == "GET":
        form.organisations.data = list(provider.allowed_organisation_ids or [])
        for name, key, _label in CLAIM_FIELDS:
            getattr(form, name).data = (provider.claim_mapping or {}).get(key, "")
    return form


def _save(provider: OIDCProvider | None) -> Any:
    form = _provider_form(provider)
    status = 200
    if form.validate_on_submit():
        try:
            saved = services.save_provider(
                db.session,
                provider,
                actor=current_person(),
                slug=form.slug.data,
                display_name=form.display_name.data,
                issuer=form.issuer.data,
                client_id=form.client_id.data,
                client_secret=form.client_secret.data,
                scopes=form.scopes.data,
                enabled=form.enabled.data,
                allowed_organisation_ids=form.organisations.data or [],
                claim_mapping=form.claim_mapping(),
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
            status = 400
        else:
            db.session.commit()
            flash(_("Fornitore %(name)s salvato.", name=saved.display_name), "success")
            return redirect(url_for("sso.admin_providers"))
    elif request.method == "POST":
        status = 400
    callback = None
    if provider is not None:
        callback = url_for("sso.callback", slug=provider.slug, _external=True)
    return render_template(
        "sso/admin_provider_form.html", form=form, provider=provider, callback=callback
    ), status


@bp.route("/admin/providers/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_provider_new() -> Any:
    return _save(None)


@bp.route("/admin/providers/<id:provider_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_provider_edit(provider_id: int) -> Any:
    try:
        provider = services.provider_by_id(db.session, provider_id)
    except NotFound:
        abort(404)
    return _save(provider)


@bp.route("/admin/providers/<id:provider_id>/disable", methods=["POST"])
@roles_required(Role.ADMIN)
def admin_provider_disable(provider_id: int) -> Any:
    try:
        provider = services.provider_by_id(db.session, provider_id)
    except NotFound:
        abort(404)
    if ActionForm().validate_on_submit():
        services.disable_provider(db.session, provider, actor=current_person())
        db.session.commit()
        flash(_("Fornitore %(name)s disattivato.", name=provider.display_name), "success")
    return redirect(url_for("sso.admin_providers"))
