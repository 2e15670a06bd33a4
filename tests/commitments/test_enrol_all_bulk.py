"""Enrol-all in bulk (issue 21): the plan read from stored standings with cells only where
needed, and ``courses.api.enrol_many`` making the same enrolments, audit entries and
notifications as one by one, with one ``learning_changed`` for the batch and statements
of its own that do not grow with the people."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from commitments import standing
from commitments.reporting.coverage import evaluate
from commitments.rules.status import Moment
from commitments.staff import enrolment as staff_enrolment
from courses.api import enrol_many, enrol_members, learning_changed
from courses.enrolment import enrol, unenrol
from courses.models import Enrolment, EnrolmentSource
from lms import clock, db
from lms.audit import AuditEntry
from lms.errors import Forbidden
from notifications.models import Notification
from tests.commitments.helpers import (
    ASST,
    PL,
    bulk_staff,
    complete,
    count_statements,
    make_commitment,
    org_id,
)

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DAYS = 90


@pytest.fixture
def world(app, make_user, two_courses) -> dict[str, Any]:
    """Anna covered, Bruno missing the PL course, Dora nothing, Eva unenrolled from the PL
    course (her row comes back), Fabio's network course expired (still enrolled), a
    referent and someone of another organisation."""
    network, specific = two_courses
    with app.app_context():
        clock.set_now(NOW)
        make_commitment([network, specific])
        people = {
            "referent": make_user(
                org=PL, referent=True, name="Referente", audience="amministrazione"
            ),
            "anna": make_user(org=PL, name="Anna Rossi"),
            "bruno": make_user(org=PL, name="Bruno Bianchi"),
            "dora": make_user(org=PL, name="Dora Nuova"),
            "eva": make_user(org=PL, name="Eva Neri"),
            "fabio": make_user(org=PL, name="Fabio Blu"),
            "stranger": make_user(org=ASST, name="Altra Persona", audience="triage_asst"),
        }
        complete(people["anna"], network, NOW - dt.timedelta(days=10))
        complete(people["anna"], specific, NOW - dt.timedelta(days=5))
        complete(people["bruno"], network, NOW - dt.timedelta(days=3))
        enrol(db.session, people["eva"], specific, source=EnrolmentSource.SELF)
        unenrol(db.session, people["eva"].id, specific.course_id)
        complete(people["fabio"], network, NOW - dt.timedelta(days=5 * 365))  # expired
        complete(people["fabio"], specific, NOW - dt.timedelta(days=30))
        db.session.commit()
    return {"network": network, "specific": specific, **people}


def exact_plan(organisation_id: int) -> staff_enrolment.EnrolmentPlan:
    """The plan as it was made before: the per-cell evaluation of everyone."""
    evaluation = evaluate(db.session, [organisation_id], Moment.now(), expiring_days=DAYS)
    return staff_enrolment.plan_enrolment(
        evaluation.for_organisation(organisation_id), evaluation.course_titles
    )


def snapshot(user_ids: list[int]) -> dict[str, Any]:
    """What enrolling wrote, without ids and timestamps."""
    enrolments = db.session.execute(
        select(
            Enrolment.user_id,
            Enrolment.course_id,
            Enrolment.source,
            Enrolment.enrolled_by_id,
            Enrolment.cycle,
        ).where(Enrolment.user_id.in_(user_ids), Enrolment.ended_at.is_(None))
    )
    logged = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "enrolment.by_referent", AuditEntry.subject_id.in_(user_ids)
        )
    )
    told = db.session.execute(
        select(Notification.user_id, Notification.kind, Notification.title).where(
            Notification.user_id.in_(user_ids)
        )
    )
    return {
        "enrolments": sorted(tuple(row) for row in enrolments),
        "audit": sorted(
            (
                e.subject_id,
                e.actor_id,
                e.actor_role,
                e.organisation_id,
                e.object_type,
                e.object_id,
                e.details["waiting_for_prerequisites"],
            )
            for e in logged
        ),
        "notifications": sorted(tuple(row) for row in told),
    }


def test_the_plan_is_the_exact_one_and_enrolling_matches_one_by_one(app, world):
    network, specific = world["network"], world["specific"]
    referent = world["referent"]
    bruno, dora, eva = world["bruno"], world["dora"], world["eva"]
    with app.app_context():
        clock.set_now(NOW)
        pl = org_id(PL)
        assert standing.usable(db.session, Moment.now())  # the plan reads stored states
        found = staff_enrolment.organisation_plan(db.session, pl, Moment.now(), expiring_days=DAYS)
        assert found.plan == exact_plan(pl)
        assert found.plan.by_course == {
            network.course_id: sorted([dora.id, eva.id]),
            specific.course_id: sorted([bruno.id, dora.id, eva.id]),
        }
        assert (found.plan.people, found.plan.enrolments) == (3, 5)
        eva_row = db.session.scalar(
            select(Enrolment.id).where(
                Enrolment.user_id == eva.id, Enrolment.course_id == specific.course_id
            )
        )
        people = [bruno.id, dora.id, eva.id]
        referent = db.session.merge(referent)

        before = snapshot(people)
        # Today's path, one person and one course at a time, then undone.
        one_by_one = db.session.begin_nested()
        for course_id, user_ids in found.plan.by_course.items():
            version = network if course_id == network.course_id else specific
            enrol_members(db.session, pl, db.session.merge(version), user_ids, by=referent)
        expected = snapshot(people)
        one_by_one.rollback()
        assert snapshot(people) == before

        batches: list[Any] = []

        def seen(_app: Any, **kwargs: Any) -> None:
            batches.append(kwargs["changes"])

        learning_changed.connect(seen, sender=app)
        try:
            made = staff_enrolment.enrol_all(db.session, pl, found.plan, found.slugs, by=referent)
        finally:
            learning_changed.disconnect(seen, sender=app)
        assert made == 5
        assert len(batches) == 1  # one signal for the batch: standings recomputed once
        assert {u: set(c) for u, c in batches[0].courses.items()} == {
            bruno.id: {specific.course_id},
            dora.id: {network.course_id, specific.course_id},
            eva.id: {network.course_id, specific.course_id},
        }
        assert snapshot(people) == expected
        told = [n for n in expected["notifications"] if n[1] == "enrolled"]
        assert len(told) == 5  # each person told of each enrolment, as one by one
        db.session.commit()
        # Eva's history row came back rather than a second one.
        assert (
            db.session.scalar(
                select(Enrolment.id).where(
                    Enrolment.user_id == eva.id, Enrolment.course_id == specific.course_id
                )
            )
            == eva_row
        )
        # Stored standings agree with the exact evaluation after the batch.
        stored = evaluate(db.session, [pl], Moment.now(), expiring_days=DAYS, depth="counts")
        exact = evaluate(db.session, [pl], Moment.now(), expiring_days=DAYS)
        assert [r.counts for r in stored.for_organisation(pl)] == [
            r.counts for r in exact.for_organisation(pl)
        ]
        # Nothing left to do, and the same plan applied again adds nothing.
        again = staff_enrolment.organisation_plan(db.session, pl, Moment.now(), expiring_days=DAYS)
        assert again.plan.enrolments == 0
        logged = db.session.scalar(select(func.count(AuditEntry.id)))
        assert staff_enrolment.enrol_all(db.session, pl, found.plan, found.slugs, by=referent) == 0
        assert db.session.scalar(select(func.count(AuditEntry.id))) == logged


def test_slices_cover_the_plan_once(app, world):
    with app.app_context():
        clock.set_now(NOW)
        pl = org_id(PL)
        plan = staff_enrolment.organisation_plan(
            db.session, pl, Moment.now(), expiring_days=DAYS
        ).plan
        slices = plan.slices(2)
        assert [s.people for s in slices] == [2, 1]
        merged: dict[int, list[int]] = {}
        for piece in slices:
            for course_id, users in piece.by_course.items():
                merged.setdefault(course_id, []).extend(users)
        assert {c: sorted(u) for c, u in merged.items()} == plan.by_course


def test_someone_of_another_organisation_refuses_the_whole_batch(app, world):
    with app.app_context():
        clock.set_now(NOW)
        referent = db.session.merge(world["referent"])
        network = db.session.merge(world["network"])
        before = db.session.scalar(select(func.count(Enrolment.id)))
        with pytest.raises(Forbidden):
            enrol_many(
                db.session,
                org_id(PL),
                [(network, [world["dora"].id, world["stranger"].id])],
                by=referent,
            )
        assert db.session.scalar(select(func.count(Enrolment.id))) == before


def test_statements_of_enrol_many_do_not_grow_with_the_people(app, make_user, two_courses):
    """Its own statements (the notifications receiver writes one per enrolment, as ever)."""
    network, specific = two_courses
    with app.app_context():
        clock.set_now(NOW)
        make_commitment([network, specific])
        referent = make_user(org=PL, referent=True, audience="amministrazione")
        few = bulk_staff(PL, 20, prefix="pochi")
        many = bulk_staff(PL, 200, prefix="tanti")
        versions = [db.session.merge(network), db.session.merge(specific)]

        def statements(user_ids: list[int]) -> int:
            with count_statements(app) as counter:
                made = enrol_many(
                    db.session, org_id(PL), [(v, user_ids) for v in versions], by=referent
                )
            assert made == 2 * len(user_ids)
            own = [s for s in counter.statements if "notifications_" not in s]
            db.session.commit()
            return len(own)

        db.session.scalar(select(func.count(Enrolment.id)))  # the first query, not counted
        assert statements(few) == statements(many)
