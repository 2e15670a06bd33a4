"""The .ics file, read back with a standard iCalendar parser; the e-mail links to it."""

from __future__ import annotations

import datetime as dt

import icalendar

from live_sessions import calendar, scheduling
from lms import clock
from tests.conftest import login, post_form

PL = "CDM-PL-NTDM"


def test_ics_parses_with_icalendar(client, make_user, make_session, outbox):
    starts = scheduling.from_local(dt.datetime(2031, 7, 23, 14, 30))  # summer time in Milan
    assert starts == dt.datetime(2031, 7, 23, 12, 30, tzinfo=dt.UTC)
    description = "Come lavora la Rete; i Centri antiviolenza, le Case rifugio.\nSeconda riga. " * 3
    live = make_session(
        title="Corso professionalizzante: la Rete antiviolenza, CAV; Case rifugio",
        description=description,
        starts_at=starts,
        duration_minutes=150,
        online_url="https://meet.example.org/rete?incontro=1",
    )
    person = make_user(email="avvocata@rete-milano.test", org=PL)
    login(client, person.email)
    page = f"/live_sessions/{live.id}/"
    post_form(client, page + "register", {}, form_url=page)

    [message] = outbox.messages()
    body = message.get_content()
    ics_url = f"http://lms.test/live_sessions/{live.id}/calendar.ics"
    assert ics_url in body and "confermata" in message["Subject"]

    response = client.get(ics_url.removeprefix("http://lms.test"))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    raw = response.get_data()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    parsed = icalendar.Calendar.from_ical(raw)
    [event] = parsed.walk("VEVENT")
    assert str(event["SUMMARY"]) == live.title
    assert event.decoded("DTSTART") == starts
    assert event.decoded("DTEND") == starts + dt.timedelta(minutes=150)
    assert str(event["LOCATION"]).startswith("Casa dei Diritti, Via De Amicis 10")
    assert description.strip() in str(event["DESCRIPTION"])
    assert "https://meet.example.org/rete?incontro=1" in str(event["DESCRIPTION"])
    assert str(event["URL"]) == f"http://lms.test/live_sessions/{live.id}/"
    assert str(event["UID"]) == f"live-session-{live.id}@lms.test"
    assert str(parsed["VERSION"]) == "2.0" and str(event["STATUS"]) == "CONFIRMED"


def test_folding_never_splits_a_character(in_app_context, make_session):
    live = make_session(description="città è già più " * 20)
    data = calendar.session_ics(live, page_url="http://x/", base_url="http://x", now=clock.now())
    lines = data.split(b"\r\n")
    assert any(line.startswith(b" ") for line in lines)  # the description was folded
    for line in lines:
        assert len(line) <= 75
        line.decode("utf-8")  # each folded line is valid UTF-8 on its own
    [event] = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert str(event["DESCRIPTION"]).startswith(("città è già più " * 20).strip())


def test_title_with_commas_semicolons_and_newlines_round_trips(in_app_context, make_session):
    live = make_session(title="Rete, CAV; Case rifugio", place="Via De Amicis 10, Milano; piano 2")
    title = "Rete, CAV; Case rifugio\nseconda riga\\fine"
    live.title = title  # the form keeps titles on one line; the file must not rely on it
    now = clock.now()  # the stamp is the "now" given, read once (no second boundary between)
    data = calendar.session_ics(live, page_url="http://x/", base_url="http://x", now=now)
    assert b"SUMMARY:Rete\\, CAV\\; Case rifugio\\nseconda riga\\\\fine\r\n" in data
    [event] = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert str(event["SUMMARY"]) == title
    assert str(event["LOCATION"]) == "Via De Amicis 10, Milano; piano 2"
    assert event.decoded("DTSTAMP") == now.astimezone(dt.UTC).replace(microsecond=0)


def test_cancelled_session_says_so(in_app_context, make_session):
    from lms import db

    live = make_session()
    scheduling.cancel_session(db.session, live.id, actor=live.trainers[0])
    data = calendar.session_ics(live, page_url="http://x/", base_url="http://x", now=clock.now())
    [event] = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
