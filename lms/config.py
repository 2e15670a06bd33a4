"""Configuration from environment variables, with safe defaults.

Every setting can be overridden by ``create_app(config={...})`` (tests, host apps).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

ENV_PREFIX = "LMS_"

DEFAULTS: dict[str, Any] = {
    "LMS_DATABASE_URL": None,  # default: SQLite file in the instance folder
    # Required on a database server (every host must share it: docs/deployment.md); on
    # SQLite, one host by construction, generated once into instance/secret_key.
    "LMS_SECRET_KEY": None,
    # The public address, signed into every certificate (verification link, QR code) and
    # written into e-mails: required outside development (``base_url`` below).
    "LMS_BASE_URL": None,
    "LMS_PLUGINS": None,  # comma-separated allow-list; None = every installed plugin
    "LMS_MAIL_BACKEND": "console",  # console | file | smtp
    "LMS_MAIL_FROM": "formazione@rete-milano.test",
    "LMS_MAIL_FILE_DIR": None,  # default: instance/mail
    "LMS_SMTP_HOST": "localhost",
    "LMS_SMTP_PORT": 587,
    "LMS_SMTP_USERNAME": None,
    "LMS_SMTP_PASSWORD": None,
    "LMS_SMTP_STARTTLS": True,
    "LMS_SECURE_COOKIES": False,  # True behind HTTPS: Secure cookies and HSTS
    # Sign-in and reset throttling (lms/accounts/throttling.py, docs/limits.md): delays, no lock.
    "LMS_LOGIN_FREE_FAILURES": 3,  # per (account, address) or device, then 1, 2, 4 ... s
    "LMS_LOGIN_MAX_FAILURES_PER_ACCOUNT": 30,  # from all addresses, then delays too
    "LMS_LOGIN_MAX_FAILURES_PER_ADDRESS": 100,  # on all accounts, then delays too
    "LMS_LOGIN_WINDOW_MINUTES": 60,  # failures older than this are forgotten
    "LMS_LOGIN_MAX_DELAY_SECONDS": 300,
    "LMS_DEVICE_COOKIE_DAYS": 180,
    "LMS_RESET_MAX_PER_ACCOUNT": 3,  # reset e-mails per hour
    "LMS_RESET_MAX_PER_ADDRESS": 10,
    "LMS_TRUSTED_PROXIES": 0,  # reverse proxies in front (standalone app: ProxyFix)
    "LMS_RESET_TOKEN_MAX_AGE": 3600,  # seconds
    "LMS_INVITE_TOKEN_MAX_AGE": 14 * 24 * 3600,
    # Self-registration (lms/registration): the confirmation link's life, and throttles
    # per hour of the public form (per address, per e-mail) and of confirmations.
    "LMS_REGISTRATION_TOKEN_MAX_AGE": 48 * 3600,
    "LMS_REGISTRATION_MAX_PER_ADDRESS": 10,
    "LMS_REGISTRATION_MAX_PER_EMAIL": 3,
    "LMS_REGISTRATION_MAX_CONFIRM_PER_ADDRESS": 20,
    "LMS_LOG_JSON": True,
    "LMS_AUDIT_RETENTION_DAYS": 730,  # two years of audit entries
    "LMS_INACTIVE_MONTHS": 24,  # accounts without a login are deactivated after this
    "LMS_INACTIVE_WARNING_DAYS": 30,  # ... this many days after a warning e-mail
    # Request bodies (lms/limits.py): ordinary forms, and Markdown editors; uploads
    # declare their own limit. Anything larger answers 413 without being read.
    "LMS_MAX_FORM_BYTES": 256 * 1024,
    "LMS_MAX_EDITOR_BYTES": 8 * 1024 * 1024,
    # Background jobs (lms/jobs, docs/architecture.md): the queue, a running job's lease
    # (a worker silent this long is presumed dead and its job resumed elsewhere), where
    # jobs write files to download (shared by every host) and for how long they are kept.
    "LMS_JOBS_URL": None,  # default: instance/jobs.sqlite3, or the PostgreSQL database itself
    "LMS_JOBS_LEASE_SECONDS": 120,
    "LMS_JOB_FILES_DIR": None,  # default: instance/job-files
    "LMS_JOB_FILE_HOURS": 24,
    "LMS_WORKER_THREADS": 2,
}

_BOOL_TRUE = {"1", "true", "yes", "on"}


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in _BOOL_TRUE
    if isinstance(default, int):
        return int(raw)
    return raw


# Settings renamed in a release: the old name still works (with a warning in the log),
# so an installation that set it does not silently lose it.
RENAMED = {"LMS_LOGIN_LOCK_MINUTES": "LMS_LOGIN_WINDOW_MINUTES"}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ) if environ is None else environ
    for old, new in RENAMED.items():
        if old in environ and new not in environ:
            logging.getLogger(__name__).warning("%s is now called %s", old, new)
            environ[new] = environ[old]
    values: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        if key in environ:
            values[key] = _coerce(default, environ[key])
    return values


def _instance_secret(instance_path: Path) -> str:
    """Read or create the secret key; O_EXCL makes concurrent workers agree."""
    path = instance_path / "secret_key"
    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        key = new_secret_key()
        handle.write(key)
    return key


class ConfigurationError(RuntimeError):
    """A setting the platform cannot start without: the message says how to fix it."""


SECRET_KEY_MISSING = (
    "LMS_SECRET_KEY is not set, and the database is a server ({dialect}): every host "
    "serving this installation must sign sessions, CSRF tokens and links with the same "
    "secret, and it also encrypts the certificate signing keys kept in the database, so it "
    "is never generated per host. Run `lms secret-key` once, and set the value it prints "
    "as LMS_SECRET_KEY in the environment of every host, worker and command "
    "(docs/deployment.md)."
)


def is_sqlite(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0] == "sqlite"


def new_secret_key() -> str:
    """A fresh random secret (64 URL-safe characters) for ``LMS_SECRET_KEY``."""
    return secrets.token_urlsafe(48)


def _secret_key(app: Flask, instance: Path) -> str:
    """The one rule: ``LMS_SECRET_KEY`` (environment or overrides) or a host app's
    ``SECRET_KEY`` wins; else on SQLite, which only one host can serve, the instance
    file; else (a database server, so possibly several hosts) refuse to start."""
    explicit = app.config["LMS_SECRET_KEY"] or app.config.get("SECRET_KEY")
    if explicit:
        return str(explicit)
    url = str(app.config["LMS_DATABASE_URL"])
    if is_sqlite(url):
        return _instance_secret(instance)
    raise ConfigurationError(SECRET_KEY_MISSING.format(dialect=url.split(":", 1)[0]))


#: The address of ``make run`` and ``flask --debug run``: only ever taken without being set
#: in development (debug or testing), where nothing issued leaves the machine.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"

BASE_URL_MISSING = (
    "LMS_BASE_URL is not set: it is the platform's public address (e.g. "
    "https://formazione.example.it), signed into every certificate's verification link and "
    "QR code for good and written into e-mails, so it is never guessed outside development. "
    "Set LMS_BASE_URL in the environment of every host, worker and command "
    "(docs/deployment.md); for a trial on this machine, LMS_BASE_URL=http://127.0.0.1:5000 "
    "(what `make run` sets)."
)

BASE_URL_INVALID = (
    "LMS_BASE_URL must be an absolute http(s) address without query or fragment, such as "
    "https://formazione.example.it (or with a path prefix), not {value!r}."
)


def check_base_url(value: Any) -> str:
    """``LMS_BASE_URL`` as the platform uses it (no trailing slash), or the reason why not."""
    from urllib.parse import urlsplit

    if not value or not str(value).strip():
        raise ConfigurationError(BASE_URL_MISSING)
    text = str(value).strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if (
        parts is None
        or len(text) > 500
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or any(ch.isspace() for ch in text)
    ):
        raise ConfigurationError(BASE_URL_INVALID.format(value=text[:100]))
    return text.rstrip("/")


def _base_url(app: Flask) -> str:
    """The one rule: ``LMS_BASE_URL`` when set; else in development (``app.debug``, as
    with ``flask --debug run``, or ``app.testing``) the local address; else refuse to
    start, as for a missing secret on a database server."""
    value = app.config["LMS_BASE_URL"]
    if not value and (app.debug or app.testing):
        logging.getLogger(__name__).warning(
            "LMS_BASE_URL is not set: using %s (development only)", DEVELOPMENT_BASE_URL
        )
        return DEVELOPMENT_BASE_URL
    return check_base_url(value)


def configure(app: Flask, overrides: dict[str, Any] | None) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.update(from_environment())
    if overrides:
        app.config.update(overrides)

    instance = Path(app.instance_path)
    if not app.config["LMS_DATABASE_URL"]:
        instance.mkdir(parents=True, exist_ok=True)
        app.config["LMS_DATABASE_URL"] = f"sqlite:///{instance / 'lms.sqlite3'}"
    if not app.config["LMS_SECRET_KEY"]:
        app.config["LMS_SECRET_KEY"] = _secret_key(app, instance)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = app.config["LMS_SECRET_KEY"]
    app.config["LMS_BASE_URL"] = _base_url(app)
    if not app.config["LMS_JOB_FILES_DIR"]:
        app.config["LMS_JOB_FILES_DIR"] = str(instance / "job-files")
    if not app.config["LMS_MAIL_FILE_DIR"]:
        app.config["LMS_MAIL_FILE_DIR"] = str(instance / "mail")

    secure = bool(app.config["LMS_SECURE_COOKIES"])
    # Flask ships these keys with permissive values, so setdefault would not apply.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    if not app.config.get("REMEMBER_COOKIE_SAMESITE"):
        app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "it")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Rome")
