"""Commitments in hours and credits, on hand-built cases: certified hours of completed
courses plus attended sessions, credits only within the accreditation's validity, the
stored standing agreeing with the exact rule, and YAML errors on their own line."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from commitments.manage import definitions
from commitments.models import Commitment
from commitments.reporting.coverage import evaluate
from commitments.reporting.network import masked, network_overview
from commitments.rules.status import (
    Activity,
    Moment,
    Rule,
    Status,
    standing_of,
    status_at,
    validity_periods,
)
from courses.accreditation import Accreditation
from courses.models import CourseVersion
from live_sessions import registration
from live_sessions.attendance import Mark, record_marks
from live_sessions.models import AttendanceStatus
from live_sessions.scheduling import cancel_session, create_session, update_session
from lms import clock, db
from lms.accounts.models import Role
from lms.dates import add_months
from lms.errors import FormatError
from tests.commitments.helpers import (
    ASST,
    PL,
    audience_id,
    bulk_completions,
    bulk_staff,
    complete,
    one_module,
    org_id,
)
from tests.conftest import login, post_form, service_context
from tests.live_sessions.conftest import session_data

UTC = dt.UTC
#: The clock of these tests: spring 2030, long before the commitments' deadline.
NOW = dt.datetime(2030, 4, 1, 9, 0, tzinfo=UTC)
DEADLINE = "2031-12-31"


def hours_yaml(extra: str) -> str:
    return f"""\
commitments:
  - code: ore-rete
    title: "Aggiornamento in ore"
    audiences: [polizia_locale]
    renewal_months: 12
    target_percent: 50
    deadline: {DEADLINE}
{extra}"""


def declare(version: CourseVersion, *, hours: str | None = None, **accredited: object) -> None:
    """Hand-built: the certified hours and the accreditation, as if the course declared them."""
    if hours is not None:
        version.estimated_hours = Decimal(hours)
    if accredited:
        version.accreditation = Accreditation(
            body="ECM", provider="Provider 1", event="1-2", **accredited
        ).to_dict()
    db.session.commit()


def commitment(code: str) -> Commitment:
    return db.session.scalar(select(Commitment).where(Commitment.code == code))


def row_of(user_id: int, code: str, moment: Moment, depth: str = "cells"):  # noqa: ANN201
    evaluation = evaluate(db.session, [org_id(PL)], moment, depth=depth)  # type: ignore[arg-type]
    [report] = [r for r in evaluation.for_organisation(org_id(PL)) if r.commitment.code == code]
    [row] = [r for r in report.rows if r.user_id == user_id]
    return row


@pytest.fixture
def courses(app, make_course):
    with service_context(app):
        first = make_course(**one_module("ore-uno", "Corso di tre ore", renewal=None))
        second = make_course(**one_module("ore-due", "Corso di due ore e mezza", renewal=None))
    return first, second


def test_hours_from_two_courses_and_a_session_reach_eight(app, make_user, courses):
    first, second = courses
    clock.set_now(NOW)
    with app.app_context():
        definitions.import_yaml(db.session, hours_yaml("    hours: 8\n"))
        db.session.commit()
        first, second = db.session.merge(first), db.session.merge(second)
        declare(first, hours="3")
        declare(second, hours="2.5")
        referent = make_user(org=PL, referent=True, audience="amministrazione")
        anna = make_user(org=PL, name="Anna Ore")
        trainer = make_user(name="Formatrice", roles=(Role.TRAINER,))
        complete(anna, first, NOW - dt.timedelta(days=20))
        complete(anna, second, NOW - dt.timedelta(days=10))
        db.session.commit()

        row = row_of(anna.id, "ore-rete", Moment.now())
        assert row.status is Status.IN_PROGRESS
        [part] = row.amounts
        assert (part.kind, part.counted, part.required) == ("hours", Decimal("5.5"), 8)
        assert row_of(anna.id, "ore-rete", Moment.now(), "people").status is Status.IN_PROGRESS

        # A morning session of 2.5 hours, attended in full.
        starts = NOW + dt.timedelta(days=1)
        live = create_session(
            db.session,
            session_data(trainer, starts_at=starts, duration_minutes=150, hours=Decimal("2.5")),
            actor=trainer,
        )
        db.session.commit()
        registration.register(db.session, live.id, anna.id, actor=anna)
        db.session.commit()
        clock.set_now(starts + dt.timedelta(hours=1))
        record_marks(db.session, live.id, [Mark(anna.id, AttendanceStatus.PRESENT)], actor=trainer)
        db.session.commit()

        moment = Moment.now()
        row = row_of(anna.id, "ore-rete", moment)
        assert row.status is Status.COMPLETE and row.amounts[0].counted == 8
        # Valid until the first course's 12 months end: without its 3 hours, 5.5 < 8.
        first_done = NOW - dt.timedelta(days=20)
        assert row.valid_until == add_months(first_done, 12)
        stored = row_of(anna.id, "ore-rete", moment, "people")
        assert (stored.status, stored.valid_until) == (Status.COMPLETE, row.valid_until)

        # After that, the hours no longer add up: expired, by both paths.
        later = add_months(first_done, 12) + dt.timedelta(days=1)
        clock.set_now(later)
        exact = row_of(anna.id, "ore-rete", Moment.now())
        assert exact.status is Status.EXPIRED and exact.amounts[0].counted == Decimal("5")
        assert row_of(anna.id, "ore-rete", Moment.now(), "people").status is Status.EXPIRED
        clock.set_now(starts + dt.timedelta(hours=1))

    client = app.test_client()
    login(client, referent.email)
    with app.app_context():
        org = org_id(PL)
    page = client.get(f"/commitments/organisations/{org}/people/{anna.id}").get_data(as_text=True)
    assert "8 h su 8" in page
    dashboard = client.get(f"/commitments/organisations/{org}/").get_data(as_text=True)
    assert "Ore (su 8)" in dashboard and "8 h su 8" in dashboard
    csv = client.get(f"/commitments/organisations/{org}/export.csv").get_data(as_text=True)
    assert "Ore (su 8)" in csv


def test_the_person_page_shows_hours_in_progress(app, make_user, courses):
    first, _second = courses
    clock.set_now(NOW)
    with app.app_context():
        definitions.import_yaml(db.session, hours_yaml("    hours: 8\n"))
        db.session.commit()
        first = db.session.merge(first)
        declare(first, hours="4.5")
        referent = make_user(org=PL, referent=True, audience="amministrazione")
        bruna = make_user(org=PL, name="Bruna Ore")
        complete(bruna, first, NOW - dt.timedelta(days=3))
        db.session.commit()
        org = org_id(PL)
    client = app.test_client()
    login(client, referent.email)
    page = client.get(f"/commitments/organisations/{org}/people/{bruna.id}").get_data(as_text=True)
    assert "In corso" in page and "4,5 h su 8" in page


def test_credits_count_only_within_the_accreditation_validity(app, make_user, courses):
    first, second = courses
    clock.set_now(NOW)
    with app.app_context():
        definitions.import_yaml(db.session, hours_yaml("    credits: 10\n"))
        db.session.commit()
        first, second = db.session.merge(first), db.session.merge(second)
        declare(
            first,
            credits=Decimal(6),
            valid_from=dt.date(2030, 1, 1),
            valid_until=dt.date(2030, 6, 30),
        )
        declare(
            second,
            credits=Decimal(5),
            valid_from=dt.date(2030, 1, 1),
            valid_until=dt.date(2030, 2, 28),
        )
        late, early = make_user(org=PL), make_user(org=PL)
        # Late: the second course completed after its accreditation ended gives nothing.
        complete(late, first, dt.datetime(2030, 3, 10, 10, tzinfo=UTC))
        complete(late, second, dt.datetime(2030, 3, 12, 10, tzinfo=UTC))
        # Early: both within their accreditation, 11 credits.
        complete(early, second, dt.datetime(2030, 2, 27, 10, tzinfo=UTC))
        complete(early, first, dt.datetime(2030, 3, 10, 10, tzinfo=UTC))
        db.session.commit()
        moment = Moment.now()
        late_row, early_row = (
            row_of(late.id, "ore-rete", moment),
            row_of(early.id, "ore-rete", moment),
        )
        assert late_row.status is Status.IN_PROGRESS
        assert (late_row.amounts[0].kind, late_row.amounts[0].counted) == ("credits", 6)
        assert early_row.status is Status.COMPLETE and early_row.amounts[0].counted == 11
        assert row_of(late.id, "ore-rete", moment, "people").status is Status.IN_PROGRESS
        assert row_of(early.id, "ore-rete", moment, "people").status is Status.COMPLETE


def test_a_standing_gives_the_exact_amount_rule_at_later_moments() -> None:
    """Hand-built activities: the greedy end of validity is where the valid sum drops."""
    start = dt.datetime(2030, 1, 10, tzinfo=UTC)
    activities = [
        Activity(start, None, Decimal(3)),
        Activity(start + dt.timedelta(days=30), add_months(start, 6), Decimal(4)),
        Activity(start + dt.timedelta(days=60), None, Decimal(2)),
    ]
    rule = Rule((), (), 0, 12, dt.date(2031, 12, 31), hours=Decimal(8))
    standing = standing_of(rule, {}, activities)
    assert standing.satisfied and standing.valid_until == add_months(start, 6)
    for days in (61, 150, 180, 181, 200, 400, 500):
        moment = Moment.end_of((start + dt.timedelta(days=days)).date())
        exact, _cells = rule.evaluate({}, moment, activities=activities)
        assert status_at(standing, moment, rule.deadline).status is exact.status, days


def test_yaml_errors_name_the_line_of_the_amount(ctx, two_courses):
    bad = hours_yaml(
        "    hours: otto\n"  # line 8
        "    credits: 0\n"  # line 9
        "  - code: vuoto\n"  # line 10
        '    title: "Né corsi né ore"\n'
        "    audiences: [polizia_locale]\n"
        "    deadline: 2031-01-01\n"
        "    target_percent: 50\n"
        "  - code: troppe\n"  # line 15
        '    title: "Troppe ore"\n'
        "    audiences: [polizia_locale]\n"
        "    deadline: 2031-01-01\n"
        "    target_percent: 50\n"
        "    hours: 8.125\n"  # line 20
        "    credits: true\n"  # line 21
    )
    with pytest.raises(FormatError) as raised:
        definitions.import_yaml(db.session, bad, filename="impegni.yaml")
    found = sorted((issue.line, issue.message.split(":")[0]) for issue in raised.value.issues)
    lines = [line for line, _message in found]
    assert lines == [8, 9, 10, 20, 21], found
    messages = {issue.line: issue.message for issue in raised.value.issues}
    assert "«hours»" in messages[8] and "otto" in messages[8]
    assert "«credits»" in messages[9]
    assert "almeno un corso, oppure le ore o i crediti" in messages[10]
    assert "8.125" in messages[20] and "«credits»" in messages[21]
    assert all(issue.file == "impegni.yaml" for issue in raised.value.issues)
    assert db.session.scalar(select(Commitment.id)) is None

    good = definitions.import_yaml(db.session, hours_yaml("    hours: 8\n    credits: 12.5\n"))
    assert [o.state for o in good] == ["created"]
    saved = commitment("ore-rete")
    assert (saved.required_hours, saved.required_credits) == (Decimal(8), Decimal("12.5"))
    assert saved.courses == []


def test_the_admin_form_sets_and_keeps_hours_and_credits(app, make_user, two_courses):
    with app.app_context():
        coordinator = make_user(roles=(Role.COORDINATOR,))
        audience = audience_id("polizia_locale")
    client = app.test_client()
    login(client, coordinator.email)
    form = {
        "code": "ore-modulo",
        "title": "Monte ore dal modulo",
        "organisation": "",
        "organisation_type": "",
        "audiences": [str(audience)],
        "choose_count": "0",
        "renewal_months": "24",
        "required_hours": "12.5",
        "required_credits": "",
        "target_percent": "70",
        "deadline": "2031-06-30",
        "active": "y",
    }
    assert post_form(client, "/commitments/manage/new", form).status_code == 302
    with app.app_context():
        saved = commitment("ore-modulo")
        assert (saved.required_hours, saved.required_credits) == (Decimal("12.5"), None)
        edit_url = f"/commitments/manage/{saved.id}/edit"
    assert 'value="12.50"' in client.get(edit_url).get_data(as_text=True)
    assert "Ore (su 12,5)" in client.get("/commitments/manage/").get_data(as_text=True)
    nothing = post_form(client, edit_url, {**form, "required_hours": ""})
    assert "almeno un corso, oppure le ore o i crediti" in nothing.get_data(as_text=True)
    credits = post_form(client, edit_url, {**form, "required_credits": "10"})
    assert credits.status_code == 302
    with app.app_context():
        saved = commitment("ore-modulo")
        assert (saved.required_hours, saved.required_credits) == (Decimal("12.5"), Decimal(10))


# --- Properties: with hours and credits, the standing and the validity periods still say
# what the exact rule says at any later moment / any instant --------------------------------

BASE = dt.datetime(2030, 1, 1, tzinfo=UTC)
days = st.integers(min_value=-2000, max_value=0).map(lambda d: BASE + dt.timedelta(days=d))
amounts = st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1), Decimal("2.5"), Decimal(4)])


@st.composite
def activity(draw: st.DrawFn) -> Activity:
    at = draw(days)
    expires = draw(st.none() | st.integers(1, 1500).map(lambda d: at + dt.timedelta(days=d)))
    return Activity(at, expires, draw(amounts), draw(amounts))


@st.composite
def amount_rules(draw: st.DrawFn) -> Rule:
    hours = draw(st.none() | st.sampled_from([Decimal(1), Decimal(3), Decimal("7.5")]))
    credits = draw(st.none() | st.sampled_from([Decimal(2), Decimal(5)]))
    if hours is None and credits is None:
        hours = Decimal(4)
    deadline = (BASE + dt.timedelta(days=draw(st.integers(-400, 400)))).date()
    renewal = draw(st.none() | st.integers(1, 48))
    return Rule((), (), 0, renewal, deadline, hours=hours, credits=credits)


@settings(max_examples=300, deadline=None)
@given(amount_rules(), st.lists(activity(), max_size=6), st.integers(0, 2500), st.integers(0, 365))
def test_amount_standing_equals_the_exact_rule(rule, done, later_days, expiring_days) -> None:
    moment = Moment.now(BASE + dt.timedelta(days=later_days, hours=3))
    exact, _cells = rule.evaluate({}, moment, expiring_days, done)
    derived = status_at(standing_of(rule, {}, done), moment, rule.deadline, expiring_days)
    assert (derived.status, derived.valid_until) == (exact.status, exact.valid_until)


@settings(max_examples=200, deadline=None)
@given(amount_rules(), st.lists(activity(), max_size=6), st.lists(days, max_size=6))
def test_amount_validity_periods_match_the_rule_at_any_instant(rule, done, probes) -> None:
    periods = validity_periods(rule, {}, done)
    for at in [*probes, *(a.at for a in done)]:
        inside = any(start <= at and (end is None or at < end) for start, end in periods)
        outcome, _cells = rule.evaluate({}, Moment.now(at), 90, done)
        assert inside == outcome.status.is_valid, (at, periods)


def test_the_network_counts_an_hours_commitment_and_hides_small_cells(app, two_courses):
    network, _specific = two_courses
    clock.set_now(NOW)
    with app.app_context():
        definitions.import_yaml(
            db.session,
            hours_yaml("    hours: 3\n").replace(
                "[polizia_locale]", "[polizia_locale, triage_asst]"
            ),
        )
        db.session.commit()
        declare(db.session.merge(network), hours="3")
        pl = bulk_staff(PL, 12, prefix="agente")
        asst = bulk_staff(ASST, 3, audience="triage_asst", prefix="infermiera")
        bulk_completions(pl[:7] + asst[:2], network, NOW - dt.timedelta(days=60))
        groups = network_overview(db.session, Moment.now())
    rows = {(row.organisation_id, row.commitment_title): row for g in groups for row in g.rows}
    with app.app_context():
        pl_row = rows[(org_id(PL), "Aggiornamento in ore")]
        asst_row = rows[(org_id(ASST), "Aggiornamento in ore")]
    assert (pl_row.in_scope, pl_row.valid) == ("12", "7")
    assert asst_row.in_scope == masked(3) and asst_row.valid == masked(2)
    assert asst_row.coverage == "n.d."


def test_the_cli_lists_the_amounts(app, two_courses, tmp_path):
    path = tmp_path / "ore.yaml"
    path.write_text(hours_yaml("    hours: 8\n    credits: 12.5\n"), encoding="utf-8")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["lms", "commitments", "import", str(path)]).exit_code == 0
    listed = runner.invoke(args=["lms", "commitments", "list"]).output
    assert "ore-rete: rete; profili polizia_locale; corsi —; ore 8; crediti 12.5;" in listed


def test_a_cancelled_or_shortened_session_stops_counting_in_the_standing(app, make_user, courses):
    first, _second = courses
    clock.set_now(NOW)
    with app.app_context():
        definitions.import_yaml(db.session, hours_yaml("    hours: 5\n"))
        db.session.commit()
        declare(db.session.merge(first), hours="3")
        anna = make_user(org=PL)
        trainer = make_user(name="Formatrice", roles=(Role.TRAINER,))
        complete(anna, first, NOW - dt.timedelta(days=5))
        data = session_data(trainer, starts_at=NOW + dt.timedelta(days=1), hours=Decimal(3))
        live = create_session(db.session, data, actor=trainer)
        db.session.commit()
        registration.register(db.session, live.id, anna.id, actor=anna)
        clock.set_now(NOW + dt.timedelta(days=1, hours=4))
        record_marks(db.session, live.id, [Mark(anna.id, AttendanceStatus.PRESENT)], actor=trainer)
        db.session.commit()
        assert row_of(anna.id, "ore-rete", Moment.now(), "people").status is Status.COMPLETE
        update_session(db.session, live.id, replace(data, hours=Decimal(1)), actor=trainer)
        db.session.commit()
        assert row_of(anna.id, "ore-rete", Moment.now(), "people").status is Status.IN_PROGRESS
        update_session(db.session, live.id, replace(data, hours=Decimal(2)), actor=trainer)
        db.session.commit()
        assert row_of(anna.id, "ore-rete", Moment.now(), "people").status is Status.COMPLETE
        cancel_session(db.session, live.id, actor=trainer)
        db.session.commit()
        stored = row_of(anna.id, "ore-rete", Moment.now(), "people")
        assert stored.status is row_of(anna.id, "ore-rete", Moment.now()).status
        assert stored.status is Status.IN_PROGRESS
