"""The e-mails the accounts feature sends (reset, invitation)."""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from lms import mail
from lms.accounts import services
from lms.accounts.models import User


def _external(endpoint: str, **values: str) -> str:
    base = current_app.config["LMS_BASE_URL"].rstrip("/")
    return base + url_for(endpoint, **values)


def send_password_reset(user: User) -> None:
    token = services.make_token(current_app.config["SECRET_KEY"], services.RESET_SALT, user)
    link = _external("accounts.reset_password", token=token)
    with force_locale(user.locale):
        subject = _("Reimpostazione della password")
        body = render_template("accounts/email/reset.txt", user=user, link=link)
    mail.send(user.email, subject, body)


def send_invitation(user: User, organisation_name: str, invited_by: str) -> None:
    token = services.make_token(current_app.config["SECRET_KEY"], services.INVITE_SALT, user)
    link = _external("accounts.accept_invitation", token=token)
    with force_locale(user.locale):
        subject = _("Invito alla piattaforma di formazione della Rete antiviolenza di Milano")
        body = render_template(
            "accounts/email/invitation.txt",
            user=user,
            link=link,
            organisation_name=organisation_name,
            invited_by=invited_by,
        )
    mail.send(user.email, subject, body)
