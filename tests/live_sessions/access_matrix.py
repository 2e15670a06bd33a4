"""The live_sessions rows of the access-control matrix (tests/security/access_matrix.py).

Ready to join the security suite's ``TABLES`` / ``ENDPOINT_PARAMS`` / ``FORMS``:
``LIVE_SESSIONS``, ``LIVE_SESSIONS_PARAMS`` and ``LIVE_SESSIONS_FORMS``. Until then
``test_access.py`` checks them with the same world of one user per role.

The world: a session run by the trainer, with the operator registered (for pages,
registering and cancelling), and one under way today (for attendance, which opens on
the day). Everything needs an account; the roster and its files are for the session's
trainer and admins; the staff view for the referent of organisation A and admins.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.security.matrix_base import Form, Table, signed_in

if TYPE_CHECKING:
    from tests.security.conftest import World

_RUNNERS = {"trainer": 200, "admin": 200}
_RUNNERS_REDIRECT = {"trainer": 302, "admin": 302}
_MANAGERS_OF_A = {"referent_a": 200, "admin": 200}

LIVE_SESSIONS: Table = {
    "live_sessions.index": {"GET": signed_in(200)},
    "live_sessions.detail": {"GET": signed_in(200)},
    "live_sessions.calendar_file": {"GET": signed_in(200)},
    # Anyone signed in registers themself (already registered: explained, redirected).
    "live_sessions.register": {"POST": signed_in(302)},
    # The operator's place: the operator, their referent, the session's trainer, admins.
    "live_sessions.cancel": {
        "POST": signed_in(403, operator=302, referent_a=302, trainer=302, admin=302)
    },
    "live_sessions.manage": {"GET": signed_in(403, **_RUNNERS)},
    # An empty form is shown again with its errors.
    "live_sessions.new_session": {
        "GET": signed_in(403, **_RUNNERS),
        "POST": signed_in(403, **_RUNNERS),
    },
    "live_sessions.edit_session": {
        "GET": signed_in(403, **_RUNNERS),
        "POST": signed_in(403, **_RUNNERS),
    },
    "live_sessions.cancel_session": {
        "GET": signed_in(403, **_RUNNERS),
        "POST": signed_in(403, **_RUNNERS_REDIRECT),
    },
    "live_sessions.roster": {"GET": signed_in(403, **_RUNNERS)},
    "live_sessions.mark_attendance": {"POST": signed_in(403, **_RUNNERS_REDIRECT)},
    "live_sessions.import_attendance": {
        "GET": signed_in(403, **_RUNNERS),
        "POST": signed_in(403, **_RUNNERS),
    },
    "live_sessions.sign_in_sheet": {"GET": signed_in(403, **_RUNNERS)},
    "live_sessions.roster_csv": {"GET": signed_in(403, **_RUNNERS)},
    "live_sessions.sheet_template": {"GET": signed_in(403, **_RUNNERS)},
    "live_sessions.organisation": {
        "GET": signed_in(403, **_MANAGERS_OF_A),
        "POST": signed_in(403, **_MANAGERS_OF_A),
    },
    "live_sessions.organisation_csv": {"GET": signed_in(403, **_MANAGERS_OF_A)},
}


def _sessions(world: World) -> dict[str, Any]:
    """The trainer's two sessions and the operator's registrations, made once per world."""
    if "live_sessions" not in world.extra:
        from sqlalchemy import update

        from live_sessions import registration
        from live_sessions.models import LiveSession
        from live_sessions.scheduling import SessionData, create_session
        from lms import clock, db
        from lms.accounts.models import User

        trainer = db.session.get(User, world.user_id("trainer"))
        operator = db.session.get(User, world.user_id("operator"))
        assert trainer is not None and operator is not None
        made = {}
        for name in ("upcoming", "held"):
            live = create_session(
                db.session,
                SessionData(
                    title=f"Incontro matrice ({name})",
                    starts_at=clock.now() + dt.timedelta(days=7),
                    duration_minutes=120,
                    capacity=10,
                    hours=Decimal(2),
                    trainer_ids=[trainer.id],
                    place="Casa dei Diritti",
                    all_audiences=True,
                ),
                actor=trainer,
            )
            mine = registration.register(db.session, live.id, operator.id, actor=operator)
            made[name] = {"session_id": live.id, "registration_id": mine.id}
        db.session.execute(
            update(LiveSession)
            .where(LiveSession.id == made["held"]["session_id"])
            .values(starts_at=clock.now())
        )
        db.session.commit()
        world.extra["live_sessions"] = made
    return world.extra["live_sessions"]


def _upcoming(key: str) -> Any:
    return lambda w: _sessions(w)["upcoming"][key]


def _held(w: World) -> int:
    return _sessions(w)["held"]["session_id"]


_SESSION = {"session_id": _upcoming("session_id")}
LIVE_SESSIONS_PARAMS: dict[str, dict[str, Any]] = {
    endpoint: _SESSION
    for endpoint in LIVE_SESSIONS
    if endpoint not in ("live_sessions.mark_attendance", "live_sessions.import_attendance")
}
LIVE_SESSIONS_PARAMS["live_sessions.cancel"] = {
    **_SESSION,
    "registration_id": _upcoming("registration_id"),
}
LIVE_SESSIONS_PARAMS["live_sessions.mark_attendance"] = {"session_id": _held}
LIVE_SESSIONS_PARAMS["live_sessions.import_attendance"] = {"session_id": _held}


def session_fields(title: str) -> dict[str, Any]:
    day = dt.date.today() + dt.timedelta(days=30)
    return {
        "title": title,
        "day": day.isoformat(),
        "start": "10:00",
        "time_zone": "Europe/Rome",
        "duration_minutes": "120",
        "place": "Casa dei Diritti",
        "capacity": "20",
        "all_audiences": "y",
        "hours": "2",
    }


def _attendance(w: World) -> dict[str, Any]:
    return {"rows-0-user_id": str(w.user_id("operator")), "rows-0-status": "present"}


def _sheet(w: World) -> dict[str, Any]:
    text = f"email,presenza\n{w.email('operator')},presente\n"
    return {"sheet": (io.BytesIO(text.encode()), "firme.csv")}


LIVE_SESSIONS_FORMS: dict[str, Form] = {
    "live_sessions.register": Form("trainer", lambda w: {}),
    "live_sessions.cancel": Form("operator", lambda w: {}),
    "live_sessions.new_session": Form("trainer", lambda w: session_fields("Nuovo incontro")),
    "live_sessions.edit_session": Form("trainer", lambda w: session_fields("Titolo cambiato")),
    "live_sessions.cancel_session": Form("trainer", lambda w: {}),
    "live_sessions.mark_attendance": Form("trainer", _attendance),
    "live_sessions.import_attendance": Form("trainer", _sheet),
    "live_sessions.organisation": Form(
        "referent_a",
        lambda w: {
            "live_session": str(_sessions(w)["upcoming"]["session_id"]),
            "members": [str(w.user_id("referent_a"))],
        },
    ),
}
