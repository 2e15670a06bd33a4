"""Commitment deadlines: 30 and 7 days ahead and late, against a frozen clock on any date."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from lms import clock, db
from notifications.deadlines import step_for
from tests.commitments.helpers import PL, complete, make_commitment, one_module
from tests.conftest import service_context
from tests.notifications.conftest import notifications_of, send, to

LOCAL = dt.timezone(dt.timedelta(hours=1))  # Milan in winter; the instants below are mid-day

STARTS = [
    dt.datetime(2031, 2, 27, 12, 0, tzinfo=dt.UTC),  # the deadline falls after 28 February
    dt.datetime(2032, 12, 20, 12, 0, tzinfo=dt.UTC),  # across a year's end, in a leap year
    dt.datetime(2027, 6, 30, 21, 30, tzinfo=dt.UTC),  # already the next day in Milan
]


def test_steps():
    assert [step_for(d) for d in (31, 30, 8, 7, 1, 0, -1)] == [None, 30, 30, 7, 7, 7, None]


@pytest.mark.parametrize("start", STARTS, ids=lambda s: s.date().isoformat())
def test_reminders_30_and_7_days_ahead_then_late(
    app: Flask, make_user, make_course, outbox, start: dt.datetime
):
    clock.set_now(start)
    today = clock.today()
    with service_context(app):
        version = make_course(**one_module("corso-scadenze", "Corso con scadenza"))
    late_person = make_user(org=PL, name="Agente in ritardo")
    done_person = make_user(org=PL, name="Agente in regola")
    with service_context(app):
        complete(done_person, version, clock.now())
        db.session.commit()
    deadline = today + dt.timedelta(days=40)
    make_commitment(
        [version], code="impegno-scadenze", title="Formazione di base", deadline=deadline
    )

    def kinds(user_id: int) -> list[str]:
        return [n.key.rsplit(":", 1)[1] for n in notifications_of(user_id)]

    send(app)  # 40 days before: nothing yet
    assert kinds(late_person.id) == []

    clock.set_now(start + dt.timedelta(days=10))  # 30 days before
    send(app)
    send(app)
    assert kinds(late_person.id) == ["30"]
    [mail] = to(outbox, late_person.email)
    assert "Formazione di base" in mail["Subject"] and "30" in mail["Subject"]

    clock.set_now(start + dt.timedelta(days=20))  # 20 days before: already told
    send(app)
    assert kinds(late_person.id) == ["30"]

    clock.set_now(start + dt.timedelta(days=36))  # 4 days before
    send(app)
    assert kinds(late_person.id) == ["30", "7"]

    clock.set_now(start + dt.timedelta(days=40))  # the deadline day itself is not late
    send(app)
    assert kinds(late_person.id) == ["30", "7"]

    clock.set_now(start + dt.timedelta(days=41))
    send(app)
    clock.set_now(start + dt.timedelta(days=60))
    send(app)
    assert kinds(late_person.id) == ["30", "7", "late"]
    assert len(to(outbox, late_person.email)) == 3
    # who completed the training hears only of the certificate
    assert [n.kind for n in notifications_of(done_person.id)] == ["certificate_issued"]
    assert len(to(outbox, done_person.email)) == 1


def test_a_deadline_first_seen_within_the_week_gets_only_the_7_day_notice(
    app: Flask, make_user, make_course, outbox
):
    clock.set_now(STARTS[0])
    with service_context(app):
        version = make_course(**one_module("corso-vicino", "Corso vicino"))
    person = make_user(org=PL)
    make_commitment([version], code="impegno-vicino", deadline=clock.today() + dt.timedelta(days=5))
    send(app)
    assert [n.kind for n in notifications_of(person.id)] == ["deadline"]
    assert notifications_of(person.id)[0].key.endswith(":7")
    assert len(to(outbox, person.email)) == 1
