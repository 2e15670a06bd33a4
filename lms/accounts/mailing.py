"""The e-mails the accounts feature sends (reset, invitation)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Flask, current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lms import audit, db, mail
from lms.accounts import services
from lms.accounts.models import User

if TYPE_CHECKING:
    from lms.jobs import JobContext

log = logging.getLogger(__name__)


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


def reset_after_response(response: Response, email: str) -> None:
    """Look the address up and send the reset e-mail once ``response`` has been sent.

    The request does the same work for registered and unknown addresses, so its answer
    time tells nothing; the look-up, the e-mail and its audit entry happen when the
    server closes the response (Werkzeug's ``call_on_close``; the test client: on
    ``response.close()``), in a fresh context of the same app. A failure there is logged,
    never lost. Until a job runner exists, the worker sends the mail itself.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url_root = request.url_root  # the same host and script root for the link

    def deliver() -> None:
        user_id = None
        with app.test_request_context(base_url=url_root):
            try:
                user = services.get_user_by_email(db.session, email)
                if user is None or not services.may_reset_password(user):
                    return
                user_id = user.id
                send_password_reset(user)
                audit.record(db.session, "password.reset_requested", subject_id=user.id)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("password reset e-mail not sent after the response user=%s", user_id)

    response.call_on_close(deliver)


INVITATIONS_JOB = "lms.invitations"


def queue_invitations(
    session: Session, user_ids: list[int], organisation_name: str, invited_by: str
) -> None:
    """Invite many people with one job (a staff import's slice): written and sent by the
    worker, each message once (the job's checkpoint counts the messages sent)."""
    if user_ids:
        from lms import jobs

        jobs.enqueue(
            session,
            INVITATIONS_JOB,
            {"users": user_ids, "organisation": organisation_name, "by": invited_by},
        )


def install(app: Flask) -> None:
    from lms.i18n import lazy_gettext as _l
    from lms.jobs import JOB_KINDS, JobKind
    from lms.plugins import registry

    registry(JOB_KINDS, app).add(
        INVITATIONS_JOB,
        # reads each person, writes only its progress: no write lock while it renders and sends
        JobKind(INVITATIONS_JOB, run_invitations, _l("Invio degli inviti"), reads_mostly=True),
    )


def run_invitations(ctx: JobContext) -> str:
    user_ids = ctx.params["users"]
    sent = int(ctx.checkpoint.get("sent", 0))
    ctx.progress(sent, len(user_ids))
    for user_id in user_ids[sent:]:
        user = ctx.session.get(User, user_id)
        if user is not None and user.active:
            message = invitation_message(user, ctx.params["organisation"], ctx.params["by"])
            mail.deliver(*message)
        sent += 1
        ctx.progress(sent, len(user_ids), checkpoint={"sent": sent})
    return str(sent)


def invitation_message(user: User, organisation_name: str, invited_by: str) -> tuple[str, str, str]:
    """(to, subject, body) of an invitation, in the person's language."""
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
    return user.email, subject, body


def send_invitation(user: User, organisation_name: str, invited_by: str) -> None:
    mail.send(*invitation_message(user, organisation_name, invited_by))
