"""Outgoing mail through a small backend chosen by ``LMS_MAIL_BACKEND``.

``send`` never talks to a mail server: it checks the message and asks for a job
(``lms.mail``) in the caller's transaction, so the message leaves after the work it
tells about has committed, and not at all if that work rolls back; the job retries
with backoff when the server refuses. ``deliver`` is the transport the job (and the
notifications outbox) uses: ``console`` logs the message (development), ``file``
writes one ``.eml`` per message into ``LMS_MAIL_FILE_DIR`` (development, end-to-end
tests), ``smtp`` sends through the configured server (production).

Headers are built only from safe values: the subject is flattened to one line
(a title saved before titles were checked may hold a line break), and an address
with a line break or a control character is refused with :class:`MailError`
rather than folded, since it can only come from bad data. The message uses the
email package's default policy, which itself refuses line breaks in any header.
"""

from __future__ import annotations

import logging
import os
import smtplib
import uuid
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app

from lms.text import flatten, is_unsafe, visible

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lms.jobs import JobContext

log = logging.getLogger(__name__)


class MailError(ValueError):
    """A message that cannot be built from these values (an unsafe address)."""


def _address(value: str, header: str) -> str:
    if is_unsafe(value) or "\t" in value:
        raise MailError(f"unsafe {header} address: {visible(value)}")
    return value


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage(policy=policy.default)
    message["From"] = _address(current_app.config["LMS_MAIL_FROM"], "From")
    message["To"] = _address(to, "To")
    message["Subject"] = flatten(str(subject))
    message["Message-ID"] = f"<{uuid.uuid4()}@lms>"
    message.set_content(body)
    return message


def send(to: str, subject: str, body: str, *, session: Session | None = None) -> None:
    """Queue the message in ``session`` (default: the current one); it is delivered by a
    worker once the session commits. An unsafe address raises :class:`MailError` now."""
    from lms import db, jobs

    message = build_message(to, subject, body)
    jobs.enqueue(
        session or db.session,
        MAIL_JOB,
        {"to": to, "subject": str(message["Subject"]), "body": body},
    )


MAIL_JOB = "lms.mail"


def install(app: Flask) -> None:
    """Declare the job that delivers each message (called by ``LMS.init_app``)."""
    from lms.i18n import lazy_gettext as _l
    from lms.jobs import JOB_KINDS, JobKind
    from lms.plugins import registry

    registry(JOB_KINDS, app).add(
        MAIL_JOB,
        # talks to the mail server only: no write lock held while it does
        JobKind(
            MAIL_JOB, run_mail_job, _l("Invio di un'e-mail"), max_attempts=6, reads_mostly=True
        ),
    )


def run_mail_job(ctx: JobContext) -> str:
    deliver(ctx.params["to"], ctx.params["subject"], ctx.params["body"])
    return str(ctx.params["to"])


def deliver(to: str, subject: str, body: str) -> None:
    """Hand the message to the configured backend now (from a worker)."""
    message = build_message(to, subject, body)
    backend = current_app.config["LMS_MAIL_BACKEND"]
    if backend == "console":
        log.info("mail to %s: %s\n%s", to, message["Subject"], body)
    elif backend == "file":
        directory = Path(current_app.config["LMS_MAIL_FILE_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.eml"
        tmp = directory / f".{name}.tmp"
        tmp.write_bytes(bytes(message))
        os.replace(tmp, directory / name)  # readers never see half a message
    elif backend == "smtp":
        config = current_app.config
        with smtplib.SMTP(config["LMS_SMTP_HOST"], int(config["LMS_SMTP_PORT"])) as smtp:
            if config["LMS_SMTP_STARTTLS"]:
                smtp.starttls()
            if config["LMS_SMTP_USERNAME"]:
                smtp.login(config["LMS_SMTP_USERNAME"], config["LMS_SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    else:
        raise ValueError(f"unknown LMS_MAIL_BACKEND {backend!r}")
