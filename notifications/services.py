"""Writing notifications and delivering their e-mail.

:func:`notify` only writes rows: a notification for the person's list and, unless
they turned the kind off, an outbox message. Events raised while a request is
answered (an enrolment, a certificate) stop there; :func:`deliver` sends the
outbox from ``lms notifications send``. Reminders that already run from cron
(certificates, live sessions, the referents' digest) pass ``deliver_now`` so their
e-mail goes out in their own run, as before, and the row is marked sent.

Delivery claims a message with a conditional UPDATE inside a savepoint and
commits right after sending it: a second or concurrent run never sends it again,
and one that fails is rolled back, its error and attempt counted, and tried again
by the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms import clock, mail
from lms.accounts.models import User
from lms.errors import NotFound
from notifications.models import OPTIONAL, Kind, Muted, Notification, OutboxMessage

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "notifications-unsubscribe"
LIST_LIMIT = 100


def path_for(endpoint: str, **values: Any) -> str:
    """The platform's path to ``endpoint``, also outside a request (CLI)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def absolute(path: str) -> str:
    """A path made absolute with ``LMS_BASE_URL`` (links in e-mail)."""
    if not path or "://" in path:
        return path
    return current_app.config["LMS_BASE_URL"].rstrip("/") + path


def external_url(endpoint: str, **values: Any) -> str:
    return absolute(path_for(endpoint, **values))


# --- preferences and the unsubscribe token -------------------------------------------


def is_muted(session: Session, user_id: int, kind: Kind) -> bool:
    if not kind.optional:
        return False
    return session.get(Muted, (user_id, kind.value)) is not None


def muted_kinds(session: Session, user_id: int) -> set[Kind]:
    rows = session.scalars(select(Muted.kind).where(Muted.user_id == user_id))
    return {Kind(k) for k in rows if k in Kind._value2member_map_}


def set_muted(session: Session, user_id: int, kind: Kind, muted: bool, now: dt.datetime) -> None:
    """Turn e-mail for an optional kind off or on; mandatory kinds cannot be turned off."""
    if not kind.optional:
        raise ValueError(f"{kind} cannot be turned off")
    row = session.get(Muted, (user_id, kind.value))
    if muted and row is None:
        session.add(Muted(user_id=user_id, kind=kind.value, muted_at=now))
    elif not muted and row is not None:
        session.delete(row)
    session.flush()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["LMS_SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, kind: Kind) -> str:
    """Signed (person, kind): the link in an e-mail turns off that kind for that person
    only, without signing in. It does not expire: an old e-mail's link still works."""
    return _serializer().dumps([user_id, kind.value])


def read_unsubscribe_token(token: str) -> tuple[int, Kind]:
    try:
        user_id, kind = _serializer().loads(token)
        found = Kind(kind)
    except (BadSignature, ValueError, TypeError) as error:
        raise NotFound(_("Questo link non è valido.")) from error
    if not found.optional or not isinstance(user_id, int):
        raise NotFound(_("Questo link non è valido."))
    return user_id, found


# --- writing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    """An e-mail already written by its sender (a reminder's own template)."""

    subject: str
    body: str


def _mail_for(user: User, kind: Kind, notification: Notification, mail_text: Mail | None) -> Mail:
    with force_locale(user.locale):
        unsubscribe = (
            external_url("notifications.unsubscribe", token=unsubscribe_token(user.id, kind))
            if kind.optional
            else None
        )
        if mail_text is None:
            body = render_template(
                "notifications/email/notification.txt",
                user=user,
                notification=notification,
                link=absolute(notification.link),
                unsubscribe=unsubscribe,
                preferences=external_url("notifications.preferences"),
            )
            mail_text = Mail(notification.title, body)
        elif unsubscribe:
            footer = render_template("notifications/email/footer.txt", unsubscribe=unsubscribe)
            mail_text = Mail(mail_text.subject, mail_text.body.rstrip("\n") + "\n\n" + footer)
    return mail_text


def notify(
    session: Session,
    user: User,
    kind: Kind,
    *,
    key: str,
    title: str,
    body: str = "",
    link: str = "",
    now: dt.datetime | None = None,
    mail_text: Mail | None = None,
    deliver_now: bool = False,
) -> Notification | None:
    """Write the notification of ``kind`` about ``key`` for ``user``, once.

    Returns ``None`` when it exists already (another run, or the same event twice).
    ``title`` and ``body`` are given already translated in the person's language.
    With ``deliver_now`` (cron reminders only: never in a request) the e-mail is
    sent here and a failure raises, so that the caller's savepoint undoes the rows.
    """
    now = now or clock.now()
    exists = session.scalar(
        select(Notification.id).where(
            Notification.user_id == user.id,
            Notification.kind == kind.value,
            Notification.key == key,
        )
    )
    if exists is not None:
        return None
    notification = Notification(
        user_id=user.id,
        kind=kind.value,
        key=key[:200],
        title=title[:300],
        body=body,
        link=link[:500],
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(notification)
            session.flush()
    except IntegrityError:
        return None  # written concurrently
    if is_muted(session, user.id, kind):
        return notification
    text = _mail_for(user, kind, notification, mail_text)
    message = OutboxMessage(
        notification_id=notification.id,
        subject=text.subject[:300],
        body=text.body,
        created_at=now,
    )
    session.add(message)
    session.flush()
    if deliver_now:
        mail.send(user.email, message.subject, message.body)
        message.sent_at = now
        message.attempts = 1
        session.flush()
    return notification


# --- delivering ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    dropped: int = 0  # for accounts no longer active


def _claim(session: Session, message_id: int, now: dt.datetime) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
        .values(sent_at=now, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def deliver(
    session: Session, *, now: dt.datetime | None = None, limit: int = 500
) -> DeliveryReport:
    """Send pending e-mail, each once; commits after each, goes on after a failure."""
    now = now or clock.now()
    pending = session.execute(
        select(OutboxMessage.id, User.email, User.active)
        .join(Notification, Notification.id == OutboxMessage.notification_id)
        .join(User, User.id == Notification.user_id)
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = failed = dropped = 0
    for message_id, email, active in pending:
        if not active:  # nobody reads it: recorded as not sent, never retried
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
                .values(sent_at=now, last_error="account not active")
                .execution_options(synchronize_session=False)
            )
            session.commit()
            dropped += 1
            continue
        try:
            with session.begin_nested():
                if not _claim(session, message_id, now):
                    continue  # sent by another run
                subject, body = session.execute(
                    select(OutboxMessage.subject, OutboxMessage.body).where(
                        OutboxMessage.id == message_id
                    )
                ).one()
                mail.deliver(email, subject, body)
        except Exception as error:  # noqa: BLE001 - one bad message stops no other
            log.exception("notification mail %s not sent", message_id)
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    attempts=OutboxMessage.attempts + 1,
                    last_error=f"{type(error).__name__}: {error}"[:500],
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()
            failed += 1
            continue
        session.commit()
        sent += 1
    return DeliveryReport(sent, failed, dropped)


# --- the person's list -----------------------------------------------------------------


# Every page's menu asks: built once (building and keying the statement cost more than
# running it).
_UNREAD = (
    select(func.count())
    .select_from(Notification)
    .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))
)


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(_UNREAD, {"user_id": user_id}) or 0


def my_notifications(session: Session, user_id: int, limit: int = LIST_LIMIT) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def own_notification(session: Session, user_id: int, notification_id: int) -> Notification:
    """One of the person's own notifications; anyone else's is as unknown as a missing one."""
    found = session.get(Notification, notification_id)
    if found is None or found.user_id != user_id:
        raise NotFound(_("Notifica non trovata."))
    return found


def mark_read(
    session: Session, user_id: int, notification_id: int, now: dt.datetime
) -> Notification:
    found = own_notification(session, user_id, notification_id)
    if found.read_at is None:
        found.read_at = now
        session.flush()
    return found


def mark_all_read(session: Session, user_id: int, now: dt.datetime) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return result.rowcount


__all__ = ["OPTIONAL", "Kind", "Mail", "notify", "deliver"]
