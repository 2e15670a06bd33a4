"""The e-mails of self-registration, and the work done after the form's answer."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lms import clock, db, mail
from lms.registration import services
from lms.registration.models import RegistrationRequest

log = logging.getLogger(__name__)


def _external(endpoint: str, **values: Any) -> str:
    base = current_app.config["LMS_BASE_URL"].rstrip("/")
    return base + url_for(endpoint, **values)


def token_max_age() -> int:
    return int(
        current_app.config.get("LMS_REGISTRATION_TOKEN_MAX_AGE", services.DEFAULT_TOKEN_MAX_AGE)
    )


def _send(to: str, subject: str, template: str, **context: Any) -> None:
    body = render_template(f"registration/email/{template}", **context)
    mail.send(to, subject, body)


def send_confirmation(req: RegistrationRequest) -> None:
    token = services.make_token(current_app.config["SECRET_KEY"], req)
    _send(
        req.email,
        _("Conferma la tua registrazione"),
        "confirm.txt",
        req=req,
        link=_external("registration.confirm", token=token),
        hours=token_max_age() // 3600,
    )


def send_known(email: str, name: str) -> None:
    _send(
        email,
        _("Hai già un account sulla piattaforma"),
        "known.txt",
        name=name,
        login=_external("accounts.login"),
        reset=_external("accounts.reset_request"),
    )


def send_waiting(req: RegistrationRequest) -> None:
    _send(req.email, _("La tua richiesta è in attesa"), "waiting.txt", req=req)


def send_decision(req: RegistrationRequest) -> None:
    if req.status == "approved":
        _send(
            req.email,
            _("La tua registrazione è stata approvata"),
            "approved.txt",
            req=req,
            login=_external("accounts.login"),
        )
    else:
        _send(req.email, _("La tua richiesta di registrazione"), "refused.txt", req=req)


def submit_after_response(response: Response, values: dict[str, Any]) -> None:
    """Record the request and send its e-mail once ``response`` has gone, so that the
    answer takes the same time for addresses with and without an account (the same
    pattern as ``lms.accounts.mailing.reset_after_response``)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url_root = request.url_root

    def deliver() -> None:
        with app.test_request_context(base_url=url_root):
            try:
                outcome, req, user = services.submit(db.session, now=clock.now(), **values)
                if outcome == services.FormOutcome.KNOWN and user is not None:
                    send_known(user.email, user.full_name)
                elif outcome == services.FormOutcome.WAITING and req is not None:
                    send_waiting(req)
                elif req is not None:
                    send_confirmation(req)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("registration e-mail not sent after the response")

    response.call_on_close(deliver)
