"""Attendance cannot be marked before the session starts, on the same day included: not
one mark, not the roster form, not a sign-in sheet."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from live_sessions import attendance
from live_sessions.attendance import Mark
from live_sessions.attendance_import import import_sheet
from live_sessions.models import Attendance, AttendanceStatus
from lms import clock, db
from lms.errors import ServiceError
from tests.conftest import login, post_form

PL = "CDM-PL-NTDM"
#: 9:00 in Milan, the morning of a session that starts at 14:00 (13:00 UTC in winter).
MORNING = dt.datetime(2031, 2, 12, 8, 0, tzinfo=dt.UTC)
START = dt.datetime(2031, 2, 12, 13, 0, tzinfo=dt.UTC)


def count() -> int:
    return int(db.session.scalar(select(func.count(Attendance.id))) or 0)


@pytest.fixture
def afternoon(make_user, make_session, register):
    """A session this afternoon with one person registered; the clock is in the morning."""
    with clock.frozen(MORNING - dt.timedelta(days=10)):
        live = make_session(starts_at=START, duration_minutes=120)
        person = make_user(email="anna@rete-milano.test", org=PL)
        register(live, person)
    clock.set_now(MORNING)
    return live, person


def test_one_mark_is_refused_until_the_start(in_app_context, afternoon, trainer):
    live, person = afternoon
    with pytest.raises(ServiceError, match=r"dall'inizio dell'incontro \(12/02/2031 14:00\)"):
        attendance.record_marks(
            db.session, live.id, [Mark(person.id, AttendanceStatus.PRESENT)], actor=trainer
        )
    clock.set_now(START - dt.timedelta(seconds=1))
    with pytest.raises(ServiceError):
        attendance.record_marks(
            db.session, live.id, [Mark(person.id, AttendanceStatus.ABSENT)], actor=trainer
        )
    assert count() == 0
    clock.set_now(START)
    changed = attendance.record_marks(
        db.session, live.id, [Mark(person.id, AttendanceStatus.PRESENT)], actor=trainer
    )
    db.session.commit()
    assert changed == 1 and count() == 1


def test_a_sheet_is_refused_before_the_start_whatever_it_holds(in_app_context, afternoon, trainer):
    live, _person = afternoon
    good = b"email,presenza\nanna@rete-milano.test,presente\n"
    bad = b"nome,firma\nAnna,x\n"  # would be a FormatError once the session started
    for sheet in (good, bad):
        with pytest.raises(ServiceError, match="dall'inizio dell'incontro"):
            import_sheet(db.session, live.id, sheet, "firme.csv", actor=trainer)
    assert count() == 0
    clock.set_now(START + dt.timedelta(minutes=5))
    assert import_sheet(db.session, live.id, good, "firme.csv", actor=trainer) == (1, 1)


def test_the_roster_says_when_marking_opens_and_refuses_the_form(app, client, afternoon, trainer):
    live, person = afternoon
    login(client, trainer.email)
    roster = f"/live_sessions/{live.id}/roster"
    page = client.get(roster).get_data(as_text=True)
    assert "dall&#39;inizio dell&#39;incontro (12/02/2031 14:00)" in page
    form = {"rows-0-user_id": person.id, "rows-0-status": "present"}
    refused = post_form(
        client, f"/live_sessions/{live.id}/attendance", form, form_url=roster, follow_redirects=True
    )
    assert "dall&#39;inizio dell&#39;incontro" in refused.get_data(as_text=True)
    with app.app_context():
        assert count() == 0
