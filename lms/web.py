"""Core pages (home, language, health), error pages, navigation and security headers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.globals import _cv_request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from markupsafe import Markup
from sqlalchemy import text
from werkzeug import exceptions as werkzeug_exceptions
from werkzeug.exceptions import HTTPException

from lms import db, limits
from lms.accounts.models import SUPPORTED_LOCALES
from lms.authz import current_person, public
from lms.errors import Forbidden, NotFound, ServiceError
from lms.forms import LanguageForm
from lms.i18n import LANGUAGE_NAMES, file_size
from lms.plugins import MANAGEMENT_ORDER, NavItem, Widget
from lms.quantities import decimal_text, hours_text, minutes_text, percent_text
from lms.urls import safe_next_url

log = logging.getLogger(__name__)
bp = Blueprint(
    "lms",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


@bp.route("/")
@public
def home() -> str:
    """The signed-in person's dashboard; for a visitor, what the platform is (issue 15:
    the public path and certificate verification need no account)."""
    plugins = current_app.extensions["lms"].plugins
    if not current_user.is_authenticated:
        return render_template(
            "lms/landing.html", widgets=_in_order(w for p in plugins for w in p.public_widgets())
        )
    user = current_person()
    # Each plugin contributes its part (commitments' "Da fare" first, then courses, live
    # sessions, certificates; referents', trainers' and coordinators' views after).
    widgets = _in_order(w for p in plugins for w in p.dashboard_widgets(user))
    from lms.organisations.services import memberships_of

    return render_template(
        "lms/home.html",
        widgets=widgets,
        memberships=memberships_of(db.session, user.id),
        first_name=_first_name(user.full_name),
    )


def _first_name(full_name: str) -> str:
    """ "Maria Rossi" -> "Maria": the home greets by first name (the full one if single)."""
    parts = full_name.split()
    return parts[0] if parts else full_name


def _in_order(widgets: Iterable[Widget]) -> list[Widget]:
    return sorted(widgets, key=lambda w: w.order)


@bp.route("/language", methods=["POST"])
@public
def set_language() -> Any:
    form = LanguageForm()
    if form.validate_on_submit() and form.locale.data in SUPPORTED_LOCALES:
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
    return redirect(safe_next_url(form.next.data) or url_for("lms.home"))


@bp.route("/healthz")
@public
def healthz() -> Any:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # the check must answer, whatever the database does
        log.exception("health check failed")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


PRIVACY_KEY = "privacy_notice"
NOTICE_TEMPLATE = "lms/privacy_notice.md"


def default_privacy_notice() -> str:
    """The notice shown until an administrator writes one: Markdown kept as a template
    file, read as a document and overridable by a host like any other template."""
    env = current_app.jinja_env
    return env.loader.get_source(env, NOTICE_TEMPLATE)[0]  # type: ignore[union-attr]


@bp.route("/privacy")
@public
def privacy() -> str:
    from lms.rendering import render_markdown
    from lms.settings import get_setting

    text = get_setting(db.session, PRIVACY_KEY, default_privacy_notice())
    return render_template("lms/privacy.html", html=render_markdown(text))


# --- Hooks ---------------------------------------------------------------------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _navigation() -> list[NavItem]:
    # The user itself, not the proxy: the core and every plugin read it many times.
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return []
    from lms.organisations.policy import can_view_network, managed_organisation_ids

    items = [NavItem(_("Home"), "lms.home", order=0)]
    if user.is_admin:
        items.append(NavItem(_("Amministrazione"), "admin.users", order=90))
    if user.has_role("admin", "coordinator"):
        items.append(NavItem(_("Registro attività"), "admin.audit_log", order=95))
    if user.is_admin or can_view_network(user) or managed_organisation_ids(user):
        items.append(NavItem(_("Organizzazioni"), "organisations.index", order=80))
    for plugin in current_app.extensions["lms"].plugins:
        items.extend(plugin.nav_items(user))
    return sorted(items, key=lambda i: i.order)


@dataclass(frozen=True)
class Menu:
    """The header's menu: the person's own entries, then those of their work on others'
    training, grouped (``manage_current``: the page shown is one of those)."""

    own: list[NavItem]
    manage: list[NavItem]
    manage_current: bool


def _menu() -> Menu:
    items = _navigation()
    own = [i for i in items if i.order < MANAGEMENT_ORDER]
    manage = [i for i in items if i.order >= MANAGEMENT_ORDER]
    if len(manage) == 1:  # a menu of one entry is a click for nothing
        own, manage = own + manage, []
    return Menu(own, manage, any(i.endpoint == request.endpoint for i in manage))


def csrf_field() -> Markup:
    """The hidden CSRF input a FlaskForm renders (same id, name and token), for pages
    whose buttons post nothing else, without building a form just to print it."""
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return Markup('<input id="{0}" name="{0}" type="hidden" value="{1}">').format(
        name, generate_csrf()
    )


class TemplateUrlFor:
    """Templates' ``url_for``, remembering the URLs it built for this app.

    A page builds dozens of URLs (navigation, footer, assets, one per module of a course),
    each through Werkzeug's rule matching; what a URL is depends only on the URL map, fixed
    once the app is set up, and on what the request's URL adapter is bound to (script
    root, subdomain, method), which the key holds. Anything else falls back to Flask:
    ``_anchor``/``_external`` and the like, values other than text and integers (an
    object kept in the cache would outlive its request), ``url_defaults`` callbacks,
    host or subdomain matching, blueprint-relative endpoints, external results.
    """

    LIMIT = 20_000  # URLs with ids in them are many: start again rather than grow

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.cache: dict[tuple[Any, ...], str] = {}

    def __call__(self, endpoint: str, /, **values: Any) -> str:
        app = self.app
        context = _cv_request.get(None)
        if (
            context is None
            or app.url_default_functions
            or app.url_map.host_matching
            or app.subdomain_matching
            or endpoint[:1] == "."
        ):
            return app.url_for(endpoint, **values)
        adapter = context.url_adapter
        if adapter is None:
            return app.url_for(endpoint, **values)
        key: tuple[Any, ...] = (
            endpoint,
            adapter.script_name,
            adapter.subdomain,
            adapter.default_method,
        )
        for name, value in values.items():
            kind = value.__class__
            if (kind is not str and kind is not int) or name[:1] == "_":
                return app.url_for(endpoint, **values)
            key += (name, kind, value)
        found = self.cache.get(key)
        if found is None:
            found = app.url_for(endpoint, **values)
            if found[:1] == "/":  # relative: the same for every request with this key
                if len(self.cache) >= self.LIMIT:
                    self.cache.clear()
                self.cache[key] = found
        return found


def has_control_character(value: Any) -> bool:
    return isinstance(value, str) and any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value)


def install_hooks(app: Flask, state: Any) -> None:
    app.add_template_global(csrf_field, "lms_csrf_field")
    app.jinja_env.globals["url_for"] = TemplateUrlFor(app)
    app.add_template_filter(hours_text, "hours_text")
    app.add_template_filter(minutes_text, "minutes_text")
    app.add_template_filter(percent_text, "percent_text")
    app.add_template_filter(decimal_text, "decimal_text")

    def _ours() -> bool:
        return state.standalone or request.blueprint in state.blueprint_names

    @app.context_processor
    def _inject() -> dict[str, Any]:
        if not _ours():
            return {}
        return {
            "lms_nav": _navigation,
            "lms_menu": _menu,
            "lms_languages": LANGUAGE_NAMES,
            "get_locale": get_locale,
        }

    @app.url_value_preprocessor
    def _refuse_control_characters(endpoint: str | None, values: dict[str, Any] | None) -> None:
        """No slug, code, token or path of ours holds one (``<id:...>`` values are digits);
        PostgreSQL refuses NUL in text, so such a value must not reach a query, nor a NUL
        in the query string (searches, filters)."""
        if not _ours():
            return
        if values and any(has_control_character(v) for v in values.values()):
            abort(404)
        if any("\x00" in key + value for key, value in request.args.items(multi=True)):
            abort(400)

    @app.before_request
    def _remember_user() -> None:
        if current_user and current_user.is_authenticated:
            g.lms_user_id = current_user.id

    @app.after_request
    def _security_headers(response: Any) -> Any:
        if not _ours():
            return response
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("LMS_SECURE_COOKIES"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user and current_user.is_authenticated:
            headers.setdefault("Cache-Control", "no-store")
        return response

    def _render_error(error: HTTPException) -> Any:
        code = error.code or 500
        if request.accept_mimetypes.best == "application/json":
            return jsonify(error=code), code
        limit = limits.current_limit() if code == 413 else None
        size = file_size(limit) if limit else None
        return render_template("lms/error.html", code=code, error=error, limit=size), code

    def _render_service_error(error: ServiceError) -> Any:
        """A service's refusal that its view left uncaught: 404, 403, or 400 with its reason.

        Views that answer a refusal on their own page (a flash, the form again) catch it
        first; this covers look-ups of URL values (``NotFound``) and the rest.
        """
        if not _ours():
            raise error
        db.session.rollback()  # refused: nothing it may have flushed is kept
        if isinstance(error, NotFound):
            return _render_error(werkzeug_exceptions.NotFound())
        if isinstance(error, Forbidden):
            return _render_error(werkzeug_exceptions.Forbidden())
        if request.accept_mimetypes.best == "application/json":
            return jsonify(error=400, message=str(error)), 400
        return render_template("lms/error.html", code=400, error=None, message=str(error)), 400

    def _render_csrf(error: CSRFError) -> Any:
        return render_template("lms/error.html", code=400, error=error, csrf=True), 400

    def _render_500(error: Exception) -> Any:
        db.session.rollback()
        log.exception("unhandled error")
        return render_template("lms/error.html", code=500, error=None), 500

    def _ours_or_default(handler: Any) -> Any:
        # In a host app, only our blueprints' errors get our pages.
        def handle(error: Any) -> Any:
            if _ours():
                return handler(error)
            return error

        return handle

    def _host_handles(code: int) -> bool:
        return not state.standalone and bool(app.error_handler_spec.get(None, {}).get(code))

    for code in (400, 403, 404, 405, 413, 429):
        if not _host_handles(code):
            app.register_error_handler(code, _ours_or_default(_render_error))
    app.register_error_handler(CSRFError, _ours_or_default(_render_csrf))
    app.register_error_handler(ServiceError, _render_service_error)
    if state.standalone:
        app.register_error_handler(500, _render_500)


__all__ = ["Widget", "bp", "install_hooks"]
