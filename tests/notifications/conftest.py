"""Helpers for the notifications tests: the send command and the rows of one person."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lms import db
from notifications.models import Notification, OutboxMessage
from tests.certificates.conftest import complete  # noqa: F401  (the certificates' fixture)


def send(app: Flask, *args: str) -> Any:
    """``lms notifications send`` as cron runs it."""
    result = app.test_cli_runner().invoke(args=["lms", "notifications", "send", *args])
    assert result.exit_code == 0, result.output
    return result


def notifications_of(user_id: int, kind: str | None = None) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def pending_mail() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))))


def to(outbox: Any, email: str) -> list[Any]:
    return [m for m in outbox.messages() if m["To"] == email]


@pytest.fixture
def course(app: Flask, make_course) -> Any:  # noqa: ANN001
    from tests.conftest import service_context

    with service_context(app):
        return make_course(
            slug="corso-notifiche", title="Corso delle notifiche", modules=("primo",)
        )
