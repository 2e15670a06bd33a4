"""Coverage maths on a real database: statuses per person, scope, history, trend."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from commitments.reporting.coverage import evaluate
from commitments.reporting.trend import coverage_trend
from commitments.rules.status import Moment, Status
from courses.enrolment import active_enrolment, enrol
from courses.models import EnrolmentSource
from courses.progress import complete_module
from lms import db
from lms.dates import add_months
from lms.organisations.services import end_membership
from tests.commitments.helpers import ASST, PL, complete, make_commitment, org_id
from tests.conftest import membership

NOW = dt.datetime.now(dt.UTC)
MONTH = dt.timedelta(days=30)


def staff_of_every_kind(make_user, network, specific):
    people = {
        "complete": make_user(org=PL, name="Anna Completa"),
        "half": make_user(org=PL, name="Bruno Metà"),
        "enrolled": make_user(org=PL, name="Carla Iscritta"),
        "nothing": make_user(org=PL, name="Dario Nessuno"),
        "expiring": make_user(org=PL, name="Elena Scadenza"),
        "expired": make_user(org=PL, name="Fabio Scaduto"),
        "other_profile": make_user(org=PL, name="Gina Amministrativa", audience="amministrazione"),
        "removed": make_user(org=PL, name="Ugo Uscito"),
    }
    complete(people["complete"], network, NOW - MONTH)
    complete(people["complete"], specific, NOW - MONTH)
    complete(people["half"], network, NOW - 2 * MONTH)
    enrol(db.session, people["enrolled"], specific, source=EnrolmentSource.REFERENT)
    for course in (network, specific):
        complete(people["expiring"], course, NOW - 35 * MONTH)
        complete(people["expired"], course, NOW - 38 * MONTH)
        complete(people["removed"], course, NOW - MONTH)
    end_membership(db.session, org_id(PL), people["removed"].id)
    db.session.commit()
    return people


def test_statuses_and_coverage_of_an_organisation(ctx, make_user, two_courses):
    network, specific = two_courses
    commitment = make_commitment([network, specific], target=80)
    people = staff_of_every_kind(make_user, network, specific)
    report = evaluate(db.session, [org_id(PL)], Moment.now()).for_organisation(org_id(PL))[0]
    statuses = {row.full_name: row.status for row in report.rows}
    assert statuses == {
        "Anna Completa": Status.COMPLETE,
        "Bruno Metà": Status.IN_PROGRESS,
        "Carla Iscritta": Status.NOT_STARTED,
        "Dario Nessuno": Status.NOT_ENROLLED,
        "Elena Scadenza": Status.EXPIRING,
        "Fabio Scaduto": Status.EXPIRED,
    }
    assert report.commitment.id == commitment.id
    assert report.in_scope == 6 and report.valid == 2
    assert report.coverage == Fraction(1, 3)
    assert not report.target_met and report.missing_for_target == 3  # ceil(4.8) - 2
    assert report.counts[Status.OVERDUE] == 0
    anna = next(r for r in report.rows if r.user_id == people["complete"].id)
    assert anna.valid_until == add_months(NOW - MONTH, 36)
    bruno = next(r for r in report.rows if r.user_id == people["half"].id)
    assert bruno.cells[network.course_id].status is Status.COMPLETE
    assert bruno.cells[specific.course_id].status is Status.NOT_ENROLLED


def test_target_met_exactly_at_the_threshold(ctx, make_user, two_courses):
    network, _specific = two_courses
    make_commitment([network], target=75)
    users = [make_user(org=PL) for _ in range(4)]
    for user in users[:3]:
        complete(user, network, NOW - MONTH)
    db.session.commit()
    report = evaluate(db.session, [org_id(PL)], Moment.now()).for_organisation(org_id(PL))[0]
    assert report.coverage_percent == 75.0 and report.target_met
    assert report.missing_for_target == 0


def test_deadline_passed_turns_open_cases_overdue(ctx, make_user, two_courses):
    network, specific = two_courses
    yesterday = (NOW - dt.timedelta(days=1)).date()
    make_commitment([network, specific], deadline=yesterday - dt.timedelta(days=1))
    staff_of_every_kind(make_user, network, specific)
    report = evaluate(db.session, [org_id(PL)], Moment.now()).for_organisation(org_id(PL))[0]
    assert report.counts[Status.OVERDUE] == 4  # half, enrolled, nothing, expired
    assert report.counts[Status.COMPLETE] + report.counts[Status.EXPIRING] == 2
    assert report.deadline_passed


def test_scope_by_type_by_organisation_and_network(ctx, make_user, two_courses):
    network, specific = two_courses
    make_commitment([network], code="rete-tutti", audiences=("polizia_locale", "triage_asst"))
    make_commitment(
        [specific], code="solo-asst", organisation_type="sociosanitario", audiences=("triage_asst",)
    )
    make_commitment([specific], code="solo-pl", organisation=PL)
    make_user(org=PL)
    make_user(org=ASST, audience="triage_asst")
    evaluation = evaluate(db.session, [org_id(PL), org_id(ASST)], Moment.now())
    codes = {
        code: {r.commitment.code for r in evaluation.for_organisation(org_id(code))}
        for code in (PL, ASST)
    }
    assert codes[PL] == {"rete-tutti", "solo-pl"}
    assert codes[ASST] == {"rete-tutti", "solo-asst"}


def test_one_person_in_two_organisations_counts_in_both(ctx, make_user, two_courses):
    network, _specific = two_courses
    make_commitment([network], audiences=("polizia_locale",))
    person = make_user(org=PL)
    from lms.organisations.services import add_member, organisation_by_code

    add_member(
        db.session,
        organisation_by_code(db.session, ASST),
        email=person.email,
        full_name=person.full_name,
        audience_code="polizia_locale",
    )
    complete(person, network, NOW - MONTH)
    db.session.commit()
    evaluation = evaluate(db.session, None, Moment.now())
    for code in (PL, ASST):
        (report,) = evaluation.for_organisation(org_id(code))
        assert report.valid == 1


def test_a_past_date_sees_the_past(ctx, make_user, two_courses):
    network, _specific = two_courses
    make_commitment([network])
    early = make_user(org=PL, name="Prima")
    late = make_user(org=PL, name="Dopo")
    for user in (early, late):
        membership(user, PL).created_at = NOW - 12 * MONTH
    complete(early, network, NOW - 6 * MONTH)
    complete(late, network, NOW - MONTH)
    db.session.commit()
    three_months_ago = Moment.end_of((NOW - 3 * MONTH).date())
    report = evaluate(db.session, [org_id(PL)], three_months_ago).for_organisation(org_id(PL))[0]
    statuses = {row.full_name: row.status for row in report.rows}
    # "Dopo" was enrolled only later, so three months ago nothing was there yet.
    assert statuses["Prima"] is Status.COMPLETE
    assert statuses["Dopo"] is Status.NOT_ENROLLED


def test_n_of_a_set_and_commitment_renewal(ctx, make_user, make_course, two_courses):
    from tests.commitments.helpers import one_module

    network, specific = two_courses
    extra = make_course(**one_module("approfondimento", "Approfondimento", renewal=None))
    db.session.commit()
    make_commitment([network], optional=[specific, extra], choose=1, renewal_months=12)
    chose_extra = make_user(org=PL, name="Sceglie approfondimento")
    too_old = make_user(org=PL, name="Troppo vecchio")
    complete(chose_extra, network, NOW - MONTH)
    complete(chose_extra, extra, NOW - 2 * MONTH)
    complete(too_old, network, NOW - 13 * MONTH)
    complete(too_old, extra, NOW - 13 * MONTH)
    db.session.commit()
    report = evaluate(db.session, [org_id(PL)], Moment.now()).for_organisation(org_id(PL))[0]
    rows = {row.full_name: row for row in report.rows}
    # The extra course never expires by itself, but the commitment counts it 12 months.
    assert rows["Sceglie approfondimento"].status is Status.COMPLETE
    assert rows["Sceglie approfondimento"].valid_until == add_months(NOW - 2 * MONTH, 12)
    assert rows["Troppo vecchio"].status is Status.EXPIRED


def test_renewal_in_progress_shows_expired_until_completed_again(ctx, make_user, two_courses):
    network, _specific = two_courses
    make_commitment([network])
    user = make_user(org=PL)
    complete(user, network, NOW - 37 * MONTH)
    enrolment = active_enrolment(db.session, user.id, network.course_id)
    enrolment.cycle += 1  # a renewal opened (as start_renewal does)
    db.session.commit()
    (report,) = evaluate(db.session, [org_id(PL)], Moment.now()).for_organisation(org_id(PL))
    assert report.rows[0].status is Status.EXPIRED
    complete_module(db.session, user, network, "primo", now=NOW - dt.timedelta(days=1))
    db.session.commit()
    (report,) = evaluate(db.session, [org_id(PL)], Moment.now()).for_organisation(org_id(PL))
    assert report.rows[0].status is Status.COMPLETE


def test_trend_rebuilds_past_coverage_and_keeps_removed_people(ctx, make_user, two_courses):
    network, _specific = two_courses
    commitment = make_commitment([network])
    stays = make_user(org=PL, name="Resta")
    leaves = make_user(org=PL, name="Esce")
    for user in (stays, leaves):
        membership(user, PL).created_at = NOW - 11 * MONTH
    complete(stays, network, NOW - 4 * MONTH)
    complete(leaves, network, NOW - 8 * MONTH)
    end_membership(db.session, org_id(PL), leaves.id)
    db.session.commit()
    series = coverage_trend(db.session, org_id(PL), [commitment], Moment.now())[commitment.id]
    assert len(series) in (12, 13)
    by_age = {round((NOW.date() - p.on).days / 30): p for p in series}
    # 6 months ago: both members, only the leaver trained -> 50 %.
    six = min(series, key=lambda p: abs((NOW.date() - p.on).days - 182))
    assert (six.in_scope, six.valid) == (2, 1)
    # Today: the leaver's history is kept but no longer in scope.
    assert (series[-1].in_scope, series[-1].valid) == (1, 1)
    assert series[0].in_scope == 0 or series[0].percent is not None
    assert by_age  # every point is dated
