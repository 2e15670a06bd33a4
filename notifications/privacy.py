"""Personal data held by this plugin: the person's notifications, their e-mail and
the kinds they turned off. Erasure removes them all (nothing here feeds statistics)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lms.plugins import PrivacyProvider
from notifications.models import Muted, Notification, OutboxMessage


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export(session: Session, user_id: int) -> dict[str, Any]:
    rows = session.execute(
        select(Notification, OutboxMessage.sent_at)
        .outerjoin(OutboxMessage, OutboxMessage.notification_id == Notification.id)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at, Notification.id)
    )
    return {
        "notifications": [
            {
                "kind": n.kind,
                "title": n.title,
                "body": n.body,
                "link": n.link,
                "created_at": _when(n.created_at),
                "read_at": _when(n.read_at),
                "emailed_at": _when(sent_at),
            }
            for n, sent_at in rows
        ],
        "email_turned_off": sorted(
            session.scalars(select(Muted.kind).where(Muted.user_id == user_id))
        ),
    }


def erase(session: Session, user_id: int) -> None:
    ids = select(Notification.id).where(Notification.user_id == user_id)
    session.execute(delete(OutboxMessage).where(OutboxMessage.notification_id.in_(ids)))
    session.execute(delete(Notification).where(Notification.user_id == user_id))
    session.execute(delete(Muted).where(Muted.user_id == user_id))
    session.flush()


PROVIDER = PrivacyProvider(
    tables=frozenset({"notifications_notification", "notifications_outbox", "notifications_muted"}),
    export=export,
    erase=erase,
)
