"""The notifications rows of the access-control matrix (tests/security/access_matrix.py).

The world: one notification of the operator's. Only the operator may mark it read (302);
anyone else signed in is told it does not exist (404). The unsubscribe link works for
anyone who holds it, signed in or not (the e-mail is the proof), and confirms by POST.

To join the security suite, tests/security/access_matrix.py adds::

    from tests.notifications.access_matrix import (  # noqa: E402
        NOTIFICATIONS, NOTIFICATIONS_FORMS, NOTIFICATIONS_PARAMS,
    )
    _join(NOTIFICATIONS, NOTIFICATIONS_PARAMS, NOTIFICATIONS_FORMS)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.security.matrix_base import Form, Table, expect, signed_in

if TYPE_CHECKING:
    from tests.security.conftest import World

NOTIFICATIONS: Table = {
    "notifications.index": {"GET": signed_in(200)},
    "notifications.read": {"POST": signed_in(404, operator=302)},
    "notifications.read_all": {"POST": signed_in(302)},
    "notifications.preferences": {"GET": signed_in(200), "POST": signed_in(302)},
    "notifications.unsubscribe": {"GET": expect(200), "POST": expect(200)},
}


def _notification_id(world: World) -> int:
    """The operator's notification, made once per world."""
    if "notifications" not in world.extra:
        from lms import clock, db
        from lms.accounts.models import User
        from notifications.models import Kind
        from notifications.services import notify
        from tests.conftest import service_context

        operator = db.session.get(User, world.user_id("operator"))
        assert operator is not None
        with service_context(world.app):
            made = notify(
                db.session,
                operator,
                Kind.ENROLLED,
                key="matrix",
                title="Iscrizione al corso «Matrice»",
                link="/",
                now=clock.now(),
            )
            db.session.commit()
        assert made is not None
        world.extra["notifications"] = made.id
    return world.extra["notifications"]


def _token(world: World) -> str:
    from notifications.models import Kind
    from notifications.services import unsubscribe_token

    with world.app.test_request_context():
        return unsubscribe_token(world.user_id("operator"), Kind.DIGEST)


NOTIFICATIONS_PARAMS: dict[str, dict[str, Any]] = {
    "notifications.read": {"notification_id": _notification_id},
    "notifications.unsubscribe": {"token": _token},
}
NOTIFICATIONS_FORMS: dict[str, Form] = {
    "notifications.read": Form("operator", lambda w: {}),
    "notifications.read_all": Form("operator", lambda w: {}),
    "notifications.preferences": Form("operator", lambda w: {"digest": "y"}),
    "notifications.unsubscribe": Form("anonymous", lambda w: {}),
}
