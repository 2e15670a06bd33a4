"""The training platform of the Milan anti-violence network (Protocollo Milano).

``create_app()`` builds the standalone platform; ``LMS().init_app(host,
url_prefix="/formazione")`` mounts it into an existing Flask application.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from lms.extension import LMS, LMSState

__all__ = ["LMS", "LMSState", "create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    import os

    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("LMS_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        static_folder=None,
    )
    LMS().init_app(app, config=config, standalone=True)
    _trust_proxies(app)
    app.login_manager._session_identifier_generator = _session_identifier  # type: ignore[attr-defined]
    return app


def _session_identifier() -> str:
    """Flask-Login's "strong" session protection, keyed on the address ProxyFix vouches
    for: Flask-Login's own reads the first X-Forwarded-For entry, which any client can
    write (no proxy trusted: the header should count for nothing; behind one: only what
    the trusted proxy appended). Same address and browser on every host: same identifier.
    """
    from hashlib import sha512

    from flask import request

    agent = request.headers.get("User-Agent", "")
    return sha512(f"{request.remote_addr}|{agent}".encode()).hexdigest()


def _trust_proxies(app: Flask) -> None:
    """Behind ``LMS_TRUSTED_PROXIES`` reverse proxies, take the client's address and
    scheme from the X-Forwarded-For/-Proto they append. Standalone only: a host
    application owns its WSGI stack (and its own ProxyFix, if it needs one)."""
    hops = int(app.config["LMS_TRUSTED_PROXIES"])
    if hops < 0:
        raise ValueError(f"LMS_TRUSTED_PROXIES must be 0 or more, not {hops}")
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
