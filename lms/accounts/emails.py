"""E-mail addresses as accounts know them: one normal form for sign-in, throttling and import."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from lms.errors import ServiceError


def normalise_email(raw: str) -> str:
    """Validate syntax (no DNS look-up) and lower-case the whole address."""
    try:
        # ".test" addresses are allowed (RFC 2606) for demo accounts and tests.
        info = validate_email(raw.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ServiceError(_("Indirizzo e-mail non valido: %(email)s", email=raw)) from exc
    return info.normalized.lower()
