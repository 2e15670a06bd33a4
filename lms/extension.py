"""The LMS Flask extension: the fixed build order of the platform.

config -> database -> i18n, login, CSRF -> core blueprints -> plugins
(models, blueprints, CLI, init_app) -> navigation and security hooks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lms import config as lms_config
from lms import db
from lms.db import new_session_class
from lms.plugins import Plugin, Registries, discover, installed_fenced_blocks, load_models

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class LMSState:
    """Everything the platform keeps per app, in ``app.extensions["lms"]``."""

    engine: Engine
    url_prefix: str
    plugins: list[Plugin]
    blueprint_names: set[str] = field(default_factory=set)
    standalone: bool = False
    #: the extension points' entries for this app (see ``lms.plugins.registry``)
    registries: Registries = field(default_factory=Registries)
    #: the class of this app's sessions, on which its session hooks are installed
    session_class: type[Session] = field(default_factory=new_session_class)
    #: fenced blocks cut out of lessons: those of every installed plugin, loaded or not
    hidden_blocks: frozenset[str] = field(default_factory=frozenset)
    #: the background job runner (``lms.jobs``)
    jobs: Any = None

    def plugin(self, name: str) -> Plugin | None:
        return next((p for p in self.plugins if p.name == name), None)


class LMS:
    def __init__(
        self, app: Flask | None = None, *, url_prefix: str = "", plugins: list[str] | None = None
    ) -> None:
        self.url_prefix = url_prefix
        self.plugin_names = plugins
        if app is not None:
            self.init_app(app)

    def init_app(
        self,
        app: Flask,
        *,
        url_prefix: str | None = None,
        config: dict[str, Any] | None = None,
        standalone: bool = False,
    ) -> None:
        prefix = (self.url_prefix if url_prefix is None else url_prefix).rstrip("/")
        lms_config.configure(app, config)
        from lms.logs import configure_logging

        configure_logging(bool(app.config["LMS_LOG_JSON"]))

        # Core models first so plugin models can refer to them.
        import lms.accounts.models  # noqa: F401
        import lms.audit  # noqa: F401
        import lms.organisations.models  # noqa: F401
        import lms.registration.models  # noqa: F401
        import lms.settings  # noqa: F401
        import lms.sso.models  # noqa: F401
        import lms.throttle  # noqa: F401

        allowed = self.plugin_names
        if allowed is None and app.config.get("LMS_PLUGINS") is not None:
            raw = app.config["LMS_PLUGINS"]
            names = raw.split(",") if isinstance(raw, str) else raw
            allowed = [n.strip() for n in names if n.strip()]
        plugins = discover(allowed)
        for plugin in plugins:
            load_models(plugin)

        state = LMSState(
            engine=db.init_app(app),
            url_prefix=prefix,
            plugins=plugins,
            standalone=standalone,
            hidden_blocks=installed_fenced_blocks()
            | {name for plugin in plugins for name in plugin.fenced_blocks},
        )
        app.extensions["lms"] = state
        from lms import audit

        audit.install(state.session_class)
        from lms import jobs

        state.jobs = jobs.install(app, state.session_class)
        from lms import mail, upkeep

        mail.install(app)
        upkeep.install(app)
        from lms.accounts import mailing

        mailing.install(app)

        self._init_i18n(app)
        self._init_login(app)
        from lms import limits

        limits.install(app, state.blueprint_names, standalone=standalone)  # before CSRF reads
        self._init_csrf(app, state)
        self._init_converters(app)

        from lms.accounts.views import bp as accounts_bp
        from lms.admin.views import bp as admin_bp
        from lms.jobs.views import bp as jobs_bp
        from lms.organisations.views import bp as organisations_bp
        from lms.registration.views import bp as registration_bp
        from lms.sso.views import bp as sso_bp
        from lms.web import bp as core_bp

        self._register(app, state, core_bp, "")
        self._register(app, state, accounts_bp, "/account")
        self._register(app, state, organisations_bp, "/organisations")
        self._register(app, state, admin_bp, "/admin")
        self._register(app, state, jobs_bp, "/jobs")
        self._register(app, state, registration_bp, "/register")
        self._register(app, state, sso_bp, "/sso")
        for plugin in plugins:
            blueprint = plugin.blueprint()
            if blueprint is not None:
                if blueprint.name != plugin.name:
                    raise RuntimeError(
                        f"plugin {plugin.name!r} provides blueprint {blueprint.name!r}"
                    )
                self._register(app, state, blueprint, plugin.url_prefix or f"/{plugin.name}")

        from lms.cli import build_cli

        app.cli.add_command(build_cli(plugins))
        for plugin in plugins:
            plugin.init_app(app)

        from lms import web

        web.install_hooks(app, state)

    @staticmethod
    def _register(app: Flask, state: LMSState, bp: Blueprint, sub_prefix: str) -> None:
        app.register_blueprint(bp, url_prefix=(state.url_prefix + sub_prefix) or None)
        state.blueprint_names.add(bp.name)

    @staticmethod
    def _init_converters(app: Flask) -> None:
        """``<id:...>`` for database ids; before any blueprint, whose rules use it."""
        from lms.urls import IdConverter

        existing = app.url_map.converters.get("id")
        if existing is not None and existing is not IdConverter:
            raise RuntimeError("the host app already has a URL converter named 'id'")
        app.url_map.converters["id"] = IdConverter

    @staticmethod
    def _init_i18n(app: Flask) -> None:
        from pathlib import Path

        from flask_babel import Babel

        from lms.i18n import (
            DATE_FORMATS,
            install_template_gettext,
            select_locale,
            select_timezone,
        )

        translations = str(Path(__file__).with_name("translations"))
        dirs = app.config.get("BABEL_TRANSLATION_DIRECTORIES")
        app.config["BABEL_TRANSLATION_DIRECTORIES"] = (
            f"{dirs};{translations}" if dirs and translations not in dirs else translations
        )
        if "babel" not in app.extensions:
            Babel(
                app,
                locale_selector=select_locale,
                timezone_selector=select_timezone,
                date_formats=DATE_FORMATS,
            )
            install_template_gettext(app)  # a host's own Babel keeps its callables

    @staticmethod
    def _init_login(app: Flask) -> None:
        from flask_login import LoginManager

        from lms.accounts.views import load_user

        if not hasattr(app, "login_manager"):
            manager = LoginManager(app)
            manager.session_protection = "strong"
            manager.login_view = "accounts.login"
            manager.user_loader(load_user)
            from lms.i18n import lazy_gettext as _l

            manager.login_message = _l("Accedi per vedere questa pagina.")
            manager.login_message_category = "info"
        from flask_login import user_loaded_from_cookie

        from lms.accounts.views import remember_cookie_sign_in

        user_loaded_from_cookie.connect(remember_cookie_sign_in, sender=app, weak=False)

    @staticmethod
    def _init_csrf(app: Flask, state: LMSState) -> None:
        """Protect every LMS form; in a host app, only LMS blueprints unless the host opts in."""
        if "csrf" in app.extensions:
            return  # the host already protects every view, ours included
        app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
        csrf = CSRFProtect(app)

        @app.before_request
        def _protect_lms_forms() -> None:
            if request.method in UNSAFE_METHODS and request.blueprint in state.blueprint_names:
                csrf.protect()
