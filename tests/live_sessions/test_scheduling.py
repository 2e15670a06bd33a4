"""Scheduling: times in Milan stored in UTC, links checked, trainers only, through the form."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from live_sessions import scheduling
from live_sessions.models import LiveSession
from lms import db
from lms.accounts.models import Role
from lms.errors import Forbidden, ServiceError
from lms.organisations.models import Audience
from tests.conftest import login, post_form
from tests.live_sessions.conftest import PLACE, session_data

PL = "CDM-PL-NTDM"


def test_local_times_and_skipped_hours():
    winter = scheduling.from_local(dt.datetime(2031, 1, 15, 9, 30))
    assert winter == dt.datetime(2031, 1, 15, 8, 30, tzinfo=dt.UTC)
    nicosia = scheduling.from_local(dt.datetime(2031, 1, 15, 9, 30), "Europe/Nicosia")
    assert nicosia == dt.datetime(2031, 1, 15, 7, 30, tzinfo=dt.UTC)
    with pytest.raises(ServiceError, match="ora legale"):
        scheduling.from_local(dt.datetime(2031, 3, 30, 2, 30))  # clocks go 02:00 -> 03:00
    with pytest.raises(ServiceError, match="Fuso orario"):
        scheduling.from_local(dt.datetime(2031, 1, 15, 9, 30), "Europe/Atlantide")


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/file",
        "https://",
        "//evil.example.org/",
        "https://meet.example.org/a b",
        "https://meet.example.org/\nx",
    ],
)
def test_online_links_must_be_http_or_https(raw):
    with pytest.raises(ServiceError):
        scheduling.clean_url(raw)


def test_good_links_are_kept():
    assert (
        scheduling.clean_url("  HTTPS://meet.example.org/r?x=1 ")
        == "https://meet.example.org/r?x=1"
    )
    assert scheduling.clean_url("") is None


def test_checks_on_the_session(in_app_context, trainer, make_user):
    operator = make_user(org=PL)
    with pytest.raises(Forbidden):
        scheduling.create_session(db.session, session_data(trainer), actor=operator)
    cases = [
        {"place": "", "online_url": None},
        {"capacity": 0},
        {"trainer_ids": [operator.id]},  # not a trainer
        {"all_audiences": False, "audience_ids": []},
        {"required": True, "course_id": None},
        {"cancellation_deadline": session_data(trainer).starts_at + dt.timedelta(hours=1)},
        {"online_url": "javascript:alert(1)"},
        {"starts_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
    ]
    for overrides in cases:
        with pytest.raises(ServiceError):
            scheduling.create_session(db.session, session_data(trainer, **overrides), actor=trainer)


def test_trainer_schedules_through_the_form_and_runs_it(client, trainer, make_user):
    other = make_user(email="altra-formatrice@rete-milano.test", roles=(Role.TRAINER,))
    lawyers = db.session.scalar(select(Audience.id).where(Audience.code == "avvocati"))
    login(client, trainer.email)
    form = {
        "title": "Corso professionalizzante per l'avvocatura",
        "description": "Replica del corso del 23 luglio 2024.",
        "course": "",
        "day": "2031-07-23",
        "start": "14:30",
        "time_zone": "Europe/Rome",
        "duration_minutes": "180",
        "place": "Ordine degli Avvocati di Milano",
        "online_url": "",
        "capacity": "40",
        "waiting_list": "y",
        "audiences": [str(lawyers)],
        "trainers": [str(other.id)],
        "hours": "3",
        "credits": "3 CFP",
        "registration_opens_at": "",
        "registration_closes_at": "2031-07-22T18:00",
        "cancellation_deadline": "",
    }
    response = post_form(client, "/live_sessions/manage/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    live = db.session.scalar(select(LiveSession).where(LiveSession.title == form["title"]))
    assert live is not None
    assert live.starts_at == dt.datetime(2031, 7, 23, 12, 30, tzinfo=dt.UTC)
    assert live.registration_closes_at == dt.datetime(2031, 7, 22, 16, 0, tzinfo=dt.UTC)
    assert {t.id for t in live.trainers} == {trainer.id, other.id}  # who schedules, runs it
    assert [a.code for a in live.audiences] == ["avvocati"]
    assert live.hours == Decimal(3) and live.credits == "3 CFP"
    edit = f"/live_sessions/{live.id}/edit"
    assert 'value="2031-07-23"' in client.get(edit).get_data(as_text=True)
    bad = post_form(client, edit, {**form, "online_url": "javascript:alert(1)"})
    assert bad.status_code == 200 and "https://" in bad.get_data(as_text=True)


def test_more_seats_promote_the_waiting_list(
    in_app_context, make_session, make_user, register, trainer
):
    live = make_session(capacity=1)
    first, second = make_user(org=PL), make_user(org=PL)
    register(live, first)
    waiting = register(live, second)
    data = session_data(trainer, capacity=2, starts_at=live.starts_at, place=PLACE)
    _live, promoted = scheduling.update_session(db.session, live.id, data, actor=trainer)
    assert [p.id for p in promoted] == [waiting.id]
    with pytest.raises(ServiceError, match="non possono essere meno"):
        scheduling.update_session(
            db.session, live.id, session_data(trainer, capacity=1), actor=trainer
        )
