"""The plugin's settings, with defaults, ``LMS_CERT_*`` environment variables
and ``create_app(config=...)`` overrides (which win, as for core settings)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app, has_request_context, url_for

from certificates import codes
from certificates.issuing import DEFAULT_ISSUER, IssuerSettings
from lms.config import check_base_url

DEFAULTS: dict[str, Any] = {
    "LMS_CERT_ISSUER": DEFAULT_ISSUER,
    "LMS_CERT_SERIAL_PREFIX": "MI",
    "LMS_CERT_EXPIRING_DAYS": 60,  # "expiring" status this many days before expiry
    "LMS_CERT_VERIFY_LIMIT": 30,  # look-ups per client address ...
    "LMS_CERT_VERIFY_WINDOW_SECONDS": 60,  # ... within this window
    "LMS_CERT_REMINDER_DAYS": "60,30,7",
    "LMS_CERT_TSA_URL": "",  # RFC 3161 timestamping authority for PAdES B-T (none: B-B)
}


def init_config(app: Flask) -> None:
    for key, default in DEFAULTS.items():
        if key in app.config:
            continue
        raw = os.environ.get(key)
        if raw is None:
            app.config[key] = default
        else:
            app.config[key] = int(raw) if isinstance(default, int) else raw


def issuer_settings(app: Flask | None = None) -> IssuerSettings:
    """Who issues; refuses (``ConfigurationError``) without a public base URL, which every
    certificate carries for good in its verification link and QR code."""
    app = app or current_app
    base_url(app)
    return IssuerSettings(
        issuer=app.config["LMS_CERT_ISSUER"],
        serial_prefix=app.config["LMS_CERT_SERIAL_PREFIX"],
        secret_key=app.config["LMS_SECRET_KEY"],
    )


def expiring_days() -> int:
    return int(current_app.config["LMS_CERT_EXPIRING_DAYS"])


def parse_days(raw: str) -> list[int]:
    """``"60,30,7"`` -> ``[60, 30, 7]`` (positive, distinct, largest first)."""
    days = {int(part) for part in str(raw).replace(" ", "").split(",") if part}
    if not days or min(days) <= 0:
        raise ValueError("thresholds must be positive numbers of days")
    return sorted(days, reverse=True)


def base_url(app: Flask | None = None) -> str:
    """``LMS_BASE_URL`` checked again where it is signed into a certificate: a host
    application (or a command) that emptied or spoilt it after start-up gets a clear
    ``ConfigurationError`` naming the variable, never a link to nowhere."""
    return check_base_url((app or current_app).config.get("LMS_BASE_URL"))


def external_url(endpoint: str, **values: Any) -> str:
    """Absolute link from ``LMS_BASE_URL``, also outside a request (CLI, e-mails)."""
    base = base_url()
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context():
        return base + url_for(endpoint, **values)


def verify_url(code: str) -> str:
    """The verification link printed (and signed) on the certificate with ``code``: derived
    from the code alone, typed in any form (lower case, with or without dashes)."""
    normal = codes.normalise(code)
    if normal is None:
        raise ValueError("not a certificate code")
    return external_url("certificates.verify_code", code=codes.grouped(normal))


def renewal_url(key: str) -> str:
    """Where to renew: the course page when the courses plugin serves one, else home."""
    kind, _sep, slug = key.partition(":")
    if kind == "course" and slug and "courses.course" in current_app.view_functions:
        return external_url("courses.course", slug=slug)
    return external_url("lms.home")


def courses_loaded() -> bool:
    """The participants' report reads courses (``courses.api``): only where it is loaded."""
    return any(p.name == "courses" for p in current_app.extensions["lms"].plugins)
