"""Registering and cancelling: seats, waiting list and its promotion, windows, scoping."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select

from live_sessions import registration
from live_sessions.models import LiveSession, Registration
from lms import clock, db
from lms.accounts.models import Role
from lms.errors import Forbidden, ServiceError
from lms.organisations.services import organisation_by_code
from tests.conftest import login, post_form

PL, CAV = "CDM-PL-NTDM", "CAV-CADMI"


def statuses(live: LiveSession) -> list[tuple[str, str]]:
    rows = registration.roster(db.session, live.id)
    return [(r.user.full_name, r.status) for r in rows]


def test_seats_then_waiting_list_then_promotion_on_cancellation(
    in_app_context, make_user, make_session, register
):
    live = make_session(capacity=2)
    people = [make_user(name=f"Persona {n}", org=PL) for n in "ABCD"]
    made = [register(live, person) for person in people]
    assert [r.status for r in made] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [registration.waiting_position(db.session, r) for r in made] == [None, None, 1, 2]
    db.session.refresh(live)
    assert live.confirmed_count == 2 and live.seats_left == 0

    outcome = registration.cancel(db.session, live.id, made[1].id, actor=people[1])
    db.session.commit()
    assert [p.user_id for p in outcome.promoted] == [people[2].id]  # first in line
    db.session.refresh(live)
    assert live.confirmed_count == 2
    assert statuses(live) == [
        ("Persona A", "confirmed"),
        ("Persona C", "confirmed"),
        ("Persona D", "waitlisted"),
    ]
    assert registration.waiting_position(db.session, made[3]) == 1

    # Cancelling a place on the waiting list frees no seat and promotes nobody.
    outcome = registration.cancel(db.session, live.id, made[3].id, actor=people[3])
    assert outcome.promoted == []
    db.session.refresh(live)
    assert live.confirmed_count == 2


def test_registering_again_after_cancelling_goes_to_the_back(
    in_app_context, make_user, make_session, register
):
    live = make_session(capacity=1)
    first, second = make_user(org=PL), make_user(org=PL)
    mine = register(live, first)
    register(live, second)
    registration.cancel(db.session, live.id, mine.id, actor=first)
    db.session.commit()
    again = register(live, first)
    assert again.status == "waitlisted" and again.id != mine.id
    with pytest.raises(ServiceError):
        register(live, first)  # already on the list


def test_full_session_without_waiting_list_refuses(
    in_app_context, make_user, make_session, register
):
    live = make_session(capacity=1, waiting_list=False)
    register(live, make_user(org=PL))
    with pytest.raises(ServiceError, match="al completo"):
        register(live, make_user(org=PL))


def test_registration_window_and_cancellation_deadline(
    in_app_context, make_user, make_session, register, trainer
):
    now = clock.now()
    person = make_user(org=PL)
    later = make_session(registration_opens_at=now + dt.timedelta(days=1))
    with pytest.raises(ServiceError, match="non sono aperte"):
        register(later, person)
    live = make_session(cancellation_deadline=now - dt.timedelta(minutes=1))
    mine = register(live, person)
    with pytest.raises(ServiceError, match="termine"):
        registration.cancel(db.session, live.id, mine.id, actor=person)
    db.session.rollback()
    # The session's trainer may still cancel it until the start.
    outcome = registration.cancel(db.session, live.id, mine.id, actor=trainer)
    assert outcome.registration.status == "cancelled"


def test_referent_registers_own_staff_only(in_app_context, make_user, make_session, register):
    live = make_session()
    referent = make_user(org=PL, referent=True)
    own = make_user(name="Agente Nostra", org=PL)
    stranger = make_user(name="Operatrice Altrui", org=CAV, audience="operatrici_cav")
    mine = register(live, own, actor=referent)
    assert mine.source == "referent" and mine.registered_by_id == referent.id
    with pytest.raises(Forbidden):
        register(live, stranger, actor=referent)
    # Nor may an operator register a colleague, or cancel someone else's place.
    colleague = make_user(org=PL)
    with pytest.raises(Forbidden):
        register(live, colleague, actor=own)
    with pytest.raises(Forbidden):
        registration.cancel(db.session, live.id, mine.id, actor=colleague)
    db.session.rollback()
    # The referent may cancel their staff's place.
    assert registration.cancel(db.session, live.id, mine.id, actor=referent).promoted == []


def test_referent_page_registers_staff_and_refuses_others(
    app: Flask, client, make_user, make_session, outbox
):
    live = make_session()
    referent = make_user(email="ref@rete-milano.test", org=PL, referent=True)
    own = make_user(name="Agente Nostra", org=PL)
    stranger = make_user(name="Operatrice Altrui", org=CAV, audience="operatrici_cav")
    pl, cav = organisation_by_code(db.session, PL).id, organisation_by_code(db.session, CAV).id
    login(client, referent.email)
    page = f"/live_sessions/organisations/{pl}/"
    assert client.get(f"/live_sessions/organisations/{cav}/").status_code == 403
    refused = post_form(client, page, {"live_session": live.id, "members": [stranger.id]})
    assert refused.status_code == 200  # not one of the choices: the form says so
    assert (
        db.session.scalar(select(Registration).where(Registration.user_id == stranger.id)) is None
    )
    done = post_form(client, page, {"live_session": live.id, "members": [own.id]})
    assert done.status_code == 302
    created = db.session.scalar(select(Registration).where(Registration.user_id == own.id))
    assert created is not None and created.status == "confirmed"
    assert "Agente Nostra" in client.get(page).get_data(as_text=True)
    [message] = outbox.messages()
    assert message["To"] == own.email and "confermata" in message["Subject"]


def test_operator_registers_and_cancels_through_the_pages(client, make_user, make_session, outbox):
    live = make_session(capacity=1)
    first = make_user(email="prima@rete-milano.test", org=PL)
    second = make_user(email="seconda@rete-milano.test", org=PL)
    page = f"/live_sessions/{live.id}/"
    login(client, first.email)
    assert post_form(client, page + "register", {}, form_url=page).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Iscrizione confermata" in html and "calendar.ics" in html
    other = client.application.test_client()
    login(other, second.email)
    post_form(other, page + "register", {}, form_url=page)
    assert "lista d&#39;attesa (posizione 1)" in other.get(page).get_data(as_text=True)

    mine = registration.active_registration(db.session, live.id, first.id)
    assert mine is not None
    cancelled = post_form(client, f"{page}registrations/{mine.id}/cancel", {}, form_url=page)
    assert cancelled.status_code == 302
    promoted = registration.active_registration(db.session, live.id, second.id)
    assert promoted is not None and promoted.status == "confirmed"
    subjects = [m["Subject"] for m in outbox.messages()]
    assert any("Si è liberato un posto" in s for s in subjects)
    # Someone else's registration cannot be cancelled through the page.
    stranger = client.application.test_client()
    login(stranger, make_user(org=PL).email)
    refused = post_form(stranger, f"{page}registrations/{promoted.id}/cancel", {}, form_url=page)
    assert refused.status_code == 403
    assert registration.active_registration(db.session, live.id, second.id) is not None


def test_only_trainers_schedule(client, make_user):
    login(client, make_user(org=PL).email)
    assert client.get("/live_sessions/manage/new").status_code == 403
    assert client.get("/live_sessions/manage/").status_code == 403


def test_admin_registers_outside_the_window(in_app_context, make_user, make_session, register):
    admin = make_user(roles=(Role.ADMIN,))
    live = make_session(registration_opens_at=clock.now() + dt.timedelta(days=2))
    person = make_user(org=PL)
    made = register(live, person, actor=admin)
    assert made.source == "admin" and made.status == "confirmed"
