"""The reminder the day before: once per registration, only for confirmed places."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from live_sessions import reminders, scheduling
from lms import clock, db

PL = "CDM-PL-NTDM"


def test_reminder_the_day_before_is_sent_once(
    app: Flask, make_user, make_session, register, outbox
):
    now = clock.now()
    today = scheduling.local(now).date()
    tomorrow = scheduling.from_local(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(9)))
    later = scheduling.from_local(dt.datetime.combine(today + dt.timedelta(days=3), dt.time(9)))
    soon = make_session(capacity=1, starts_at=tomorrow, title="Domani in aula")
    other = make_session(starts_at=later, title="Fra tre giorni")
    confirmed = make_user(email="confermata@rete-milano.test", org=PL)
    waiting = make_user(email="attesa@rete-milano.test", org=PL)
    register(soon, confirmed)
    register(soon, waiting)
    register(other, make_user(org=PL))

    runner = app.test_cli_runner()
    first = runner.invoke(args=["lms", "live_sessions", "remind"])
    assert first.exit_code == 0, first.output
    assert "Promemoria inviati: 1; non inviati per errore: 0." in first.output
    [message] = outbox.messages()
    assert message["To"] == confirmed.email and "Domani in aula" in message["Subject"]
    assert f"/live_sessions/{soon.id}/calendar.ics" in message.get_content()

    again = runner.invoke(args=["lms", "live_sessions", "remind"])
    assert "Promemoria inviati: 0; non inviati per errore: 0." in again.output
    assert len(outbox.messages()) == 1


def test_due_reminders_follow_the_sessions_time_zone(
    in_app_context, make_session, make_user, register
):
    # 00:30 in Milan on the 11th is still the 10th in UTC: the session is "tomorrow"
    # seen from the 10th in Milan, whatever the UTC date says.
    starts = scheduling.from_local(dt.datetime(2031, 3, 11, 0, 30))
    live = make_session(starts_at=starts)
    register(live, make_user(org=PL))
    evening = scheduling.from_local(dt.datetime(2031, 3, 10, 8, 0))
    day_before = scheduling.from_local(dt.datetime(2031, 3, 9, 23, 0))
    assert [r.session_id for r in reminders.due_reminders(db.session, evening)] == [live.id]
    assert reminders.due_reminders(db.session, day_before) == []


def test_an_account_asleep_gets_no_session_reminder(
    in_app_context, make_session, make_user, register
):
    now = clock.now()
    tomorrow = scheduling.from_local(
        dt.datetime.combine(scheduling.local(now).date() + dt.timedelta(days=1), dt.time(9))
    )
    live = make_session(starts_at=tomorrow)
    asleep, awake = make_user(org=PL), make_user(org=PL)
    register(live, asleep)
    register(live, awake)
    asleep.active = False
    db.session.commit()
    due = reminders.due_reminders(db.session, now)
    assert [r.user_id for r in due] == [awake.id]
