"""Issue 16: a title or an address with a line break never breaks a mail header, a
request after its data was saved, nor the reminder run for the sessions after it."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select, update

from live_sessions import scheduling
from live_sessions.models import LiveSession, Registration
from lms import clock, db
from lms.accounts.models import User
from lms.errors import ServiceError
from lms.text import flatten
from tests.conftest import login, post_form
from tests.live_sessions.conftest import session_data

PL = "CDM-PL-NTDM"
INJECTED = "Incontro\r\nBcc: tutti@esempio.test"


def old_title(live: LiveSession, title: str = INJECTED) -> None:
    """What a row saved before titles were checked may hold (bypasses validation)."""
    db.session.execute(update(LiveSession).where(LiveSession.id == live.id).values(title=title))
    db.session.commit()


def tomorrow_at(hour: int) -> dt.datetime:
    today = scheduling.local(clock.now()).date()
    return scheduling.from_local(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(hour)))


def test_registration_with_an_old_crlf_title_is_kept_and_confirmed(
    client, make_user, make_session, outbox
):
    live = make_session()
    old_title(live)
    person = make_user(org=PL)
    login(client, person.email)
    page = f"/live_sessions/{live.id}/"
    response = post_form(client, page + "register", {}, form_url=page)
    assert response.status_code == 302  # was a 500 after the registration was saved
    saved = db.session.scalar(select(Registration).where(Registration.user_id == person.id))
    assert saved is not None and saved.status == "confirmed"
    [message] = outbox.messages()
    assert message["Subject"] == "Iscrizione confermata: Incontro Bcc: tutti@esempio.test"
    assert message["Bcc"] is None and message["To"] == person.email


def test_reminders_go_on_past_an_old_crlf_title(
    app: Flask, make_user, make_session, register, outbox
):
    broken = make_session(starts_at=tomorrow_at(9), title="Prima")
    later = make_session(starts_at=tomorrow_at(15), title="Seconda, valida")
    first, second = make_user(org=PL), make_user(org=PL)
    register(broken, first)
    register(later, second)
    old_title(broken, "Prima\nriga finta\u2028e un'altra")

    result = app.test_cli_runner().invoke(args=["lms", "live_sessions", "remind"])
    assert result.exit_code == 0, result.output
    assert "Promemoria inviati: 2; non inviati per errore: 0." in result.output
    subjects = {m["To"]: m["Subject"] for m in outbox.messages()}
    assert subjects[second.email] == "Promemoria: domani Seconda, valida"
    assert subjects[first.email] == "Promemoria: domani Prima riga finta e un'altra"


def test_a_failing_reminder_is_reported_and_the_next_one_still_goes(
    app: Flask, make_user, make_session, register, outbox
):
    broken = make_session(starts_at=tomorrow_at(9), title="Prima")
    later = make_session(starts_at=tomorrow_at(15), title="Seconda")
    unreachable, reachable = make_user(org=PL), make_user(org=PL)
    failing = register(broken, unreachable)
    register(later, reachable)
    # An address that cannot go in a header (old data, or edited in the database).
    db.session.execute(
        update(User).where(User.id == unreachable.id).values(email="x@esempio.test\r\nbcc: y@z")
    )
    db.session.commit()

    runner = app.test_cli_runner()
    result = runner.invoke(args=["lms", "live_sessions", "remind"])
    assert result.exit_code == 1, result.output
    assert "Promemoria inviati: 1; non inviati per errore: 1." in result.output
    assert [m["To"] for m in outbox.messages()] == [reachable.email]
    db.session.refresh(failing)
    assert failing.reminder_sent_at is None  # not marked sent: the next run tries again

    again = runner.invoke(args=["lms", "live_sessions", "remind"])
    assert "Promemoria inviati: 0; non inviati per errore: 1." in again.output
    assert len(outbox.messages()) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "Prima riga\r\nseconda riga", "Il titolo non può contenere a capo"),
        ("title", "Prima riga\u2028seconda riga", "Il titolo non può contenere a capo"),
        ("place", "Via De Amicis 10\nMilano", "Il luogo non può contenere a capo"),
        ("title", "Campanello\x07", "Il titolo contiene un carattere non ammesso (U+0007)"),
    ],
)
def test_trainer_pasting_a_line_break_is_told_to_remove_it(client, trainer, field, value, message):
    login(client, trainer.email)
    form = {
        "title": "Seminario",
        "description": "Prima riga.\r\nSeconda riga: le descrizioni restano su più righe.",
        "course": "",
        "day": "2031-07-23",
        "start": "14:30",
        "time_zone": "Europe/Rome",
        "duration_minutes": "180",
        "place": "Casa dei Diritti",
        "capacity": "40",
        "all_audiences": "y",
        "trainers": [str(trainer.id)],
        "hours": "3",
        field: value,
    }
    response = post_form(client, "/live_sessions/manage/new", form)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    # shown again on one line, for the trainer to check and send
    assert f'value="{flatten(value)}"' in response.get_data(as_text=True)
    assert db.session.scalar(select(LiveSession.id)) is None
    fixed = post_form(client, "/live_sessions/manage/new", {**form, field: "Su  una riga "})
    assert fixed.status_code == 302
    live = db.session.scalar(select(LiveSession))
    assert getattr(live, field) == "Su una riga"  # trimmed, inner spaces collapsed
    assert live.description.count("\n") == 1  # multi-line fields keep their lines


def test_the_service_refuses_line_breaks_too(in_app_context, trainer):
    for overrides in ({"title": "a\nb"}, {"place": "a\rb"}, {"credits": "3\u0085CFP"}):
        with pytest.raises(ServiceError, match="a capo"):
            scheduling.create_session(db.session, session_data(trainer, **overrides), actor=trainer)
    live = scheduling.create_session(
        db.session, session_data(trainer, title="  Cafe\u0301\tin rete  "), actor=trainer
    )
    assert live.title == "Café in rete"  # NFC, one space, trimmed
