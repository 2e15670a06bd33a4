"""Receivers of other features' signals: each event becomes a notification (rows only).

They run inside the sender's transaction, usually while a request is answered: they
write the notification and its outbox message, and ``lms notifications send`` mails it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lms import clock
from lms.accounts.models import User
from lms.signals import Message
from notifications.models import Kind
from notifications.services import Mail, notify, path_for


def on_enrolled(
    _app: Any, *, session: Session, enrolment: Any, version: Any, by_id: int | None, **_extra: Any
) -> None:
    """Enrolled by someone else (a referent, an admin): the person is told, once per enrolment."""
    if by_id is None or by_id == enrolment.user_id:
        return
    user = session.get(User, enrolment.user_id)
    if user is None:
        return
    by = session.get(User, by_id)
    with force_locale(user.locale):
        title = _("Iscrizione al corso «%(title)s»", title=version.title)
        body = _(
            "%(name)s ha fatto per te l'iscrizione al corso «%(title)s».",
            name=by.full_name if by else _("La tua organizzazione"),
            title=version.title,
        )
    notify(
        session,
        user,
        Kind.ENROLLED,
        key=f"enrolment:{enrolment.id}:{enrolment.enrolled_at.isoformat()}",
        title=title,
        body=body,
        link=path_for("courses.course", slug=version.course.slug),
        now=clock.now(),
    )


def on_certificate_issued(
    _app: Any, *, session: Session, user_id: int, certificate_id: int, title: str, **_extra: Any
) -> None:
    user = session.get(User, user_id)
    if user is None:
        return
    with force_locale(user.locale):
        subject = _("Attestato rilasciato: %(title)s", title=title)
        body = _(
            "Il tuo attestato per «%(title)s» è pronto: puoi scaricarlo dalla pagina dei tuoi "
            "attestati.",
            title=title,
        )
    notify(
        session,
        user,
        Kind.CERTIFICATE_ISSUED,
        key=f"certificate:{certificate_id}",
        title=subject,
        body=body,
        link=path_for("certificates.mine"),
        now=clock.now(),
    )


def on_message_ready(_app: Any, *, session: Session, message: Message, **_extra: Any) -> bool:
    """A cron reminder's e-mail: listed, and sent now unless the person turned the kind off.

    A message already recorded (``--force`` runs) is left to its sender to mail again."""
    written = notify(
        session,
        message.user,
        Kind(message.kind),
        key=message.key,
        title=message.subject,
        link=message.link,
        now=clock.now(),
        mail_text=Mail(message.subject, message.body),
        deliver_now=True,
    )
    return written is not None
