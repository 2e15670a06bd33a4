"""The staff matrix paged and sorted in SQL gives the pages the Python rule gives.

``matrix.sql_page`` (stored standings, per-course states, name keys) against
``matrix.page_of`` over the exact evaluation: every sort key, ascending and
descending, every page, with ties (names equal once case-folded, the same completion
instant), accented and case-folded names, filters, and a deadline passed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, insert, select, update

from commitments.models import Commitment, NameKey
from commitments.reporting import coverage, matrix
from commitments.rules.status import STATUS_ORDER, Moment, Status
from courses.enrolment import enrol
from courses.models import EnrolmentSource
from lms import clock, db
from lms.accounts.models import User
from lms.dates import add_months
from lms.organisations.models import Audience
from tests.commitments.helpers import PL, audience_id, complete, make_commitment, org_id
from tests.conftest import login

PAGE = 3
# (name, audience, what they did with the network course, with the specific course)
PEOPLE = [
    ("Anna Rossi", "polizia_locale", "fresh", "fresh"),
    ("anna rossi", "polizia_locale", "fresh", None),  # ties "Anna Rossi" once folded
    ("Ànna Bianchi", "forze_ordine", "expiring", "fresh"),
    ("Zoe Neri", "polizia_locale", "expired", None),
    ("Straße Uno", "polizia_locale", "expiring", "expiring"),  # same instant as below
    ("STRASSE Due", "forze_ordine", "expiring", "expiring"),  # folds to "strasse due"
    ("élodie Ferri", "polizia_locale", "enrolled", None),
    ("Eva Galli", "polizia_locale", None, "enrolled"),
    ("Bruno Conti", "forze_ordine", None, None),
    ("bruno conti", "polizia_locale", "expired", "expired"),
    ("Ömer Ay", "polizia_locale", "fresh", "expired"),
]


def _populate(two_courses, make_user, *, deadline: dt.date | None = None) -> Commitment:
    network, specific = two_courses
    now = clock.now()
    instants = {
        "fresh": now - dt.timedelta(days=20),
        "expiring": add_months(now, -11),  # 12-month renewal: ends within 90 days
        "expired": add_months(now, -13),
    }
    extra = {"deadline": deadline} if deadline else {}
    commitment = make_commitment(
        [network, specific],
        audiences=("polizia_locale", "forze_ordine"),
        renewal_months=12,
        organisation=PL,
        **extra,
    )
    for n, (name, audience, first, second) in enumerate(PEOPLE):
        user = make_user(org=PL, name=name, audience=audience, email=f"m{n:02d}@pl.test")
        for version, done in ((network, first), (specific, second)):
            if done == "enrolled":
                enrol(db.session, user, version, source=EnrolmentSource.SELF)
            elif done:
                complete(user, version, instants[done])
        db.session.commit()
    return commitment


def _pages(query: matrix.MatrixQuery, commitment: Commitment, names: dict[int, str]) -> tuple:
    """Every page of ``query`` from both implementations, as user ids, with the totals."""
    moment, org = Moment.now(), org_id(PL)
    exact = coverage.evaluate(db.session, [org], moment, commitments=[commitment])
    report = exact.for_organisation(org)[0]
    python, sql = [], []
    for number in range(1, len(PEOPLE) // PAGE + 3):  # one page past the end too
        wanted = matrix.MatrixQuery(
            q=query.q,
            audience_id=query.audience_id,
            status=query.status,
            sort=query.sort,
            descending=query.descending,
            page=number,
        )
        expected = matrix.page_of(report, wanted, names, PAGE)
        found = matrix.sql_page(db.session, commitment, org, moment, 90, wanted, names, PAGE)
        assert found is not None
        assert (found.total, found.page, found.pages) == (
            expected.total,
            expected.page,
            expected.pages,
        )
        statuses = {r.user_id: (r.status, r.valid_until) for r in expected.rows}
        assert {r.user_id: (r.status, r.valid_until) for r in found.rows} == statuses
        python.append([r.user_id for r in expected.rows])
        sql.append([r.user_id for r in found.rows])
    return python, sql


def _names() -> dict[int, str]:
    # Two profiles whose names order them against their ids, and one absent ("" sorts first).
    return {a.id: a.code[::-1] for a in db.session.scalars(select(Audience))}


@pytest.mark.parametrize("passed", [False, True], ids=["before-deadline", "overdue"])
def test_every_sort_and_page_agrees_with_python(app, make_user, two_courses, passed) -> None:
    with app.app_context():
        deadline = Moment.now().on - dt.timedelta(days=1) if passed else None
        commitment = _populate(two_courses, make_user, deadline=deadline)
        names = _names()
        sorts = [*matrix.SORT_KEYS, *(f"course-{c}" for c in commitment.course_ids)]
        for sort in sorts:
            for descending in (False, True):
                query = matrix.MatrixQuery(sort=sort, descending=descending)
                python, sql = _pages(query, commitment, names)
                assert sql == python, (sort, descending)
                assert sum(map(len, sql[:-1])) == len(PEOPLE)  # the last: clamped
        del names[audience_id("forze_ordine")]  # a profile with no name sorts first
        python, sql = _pages(matrix.MatrixQuery(sort="audience"), commitment, names)
        assert sql == python


def test_filters_agree_with_python(app, make_user, two_courses) -> None:
    with app.app_context():
        commitment = _populate(two_courses, make_user)
        names = _names()
        queries = [matrix.MatrixQuery(q=q, sort="name") for q in ("ROSSI", "strasse", "m0", "ß")]
        queries += [
            matrix.MatrixQuery(status=s, sort=sort, descending=True)
            for s in STATUS_ORDER
            for sort in ("name", f"course-{commitment.course_ids[1]}")
        ]
        queries.append(
            matrix.MatrixQuery(audience_id=audience_id("forze_ordine"), sort="valid_until")
        )
        for query in queries:
            python, sql = _pages(query, commitment, names)
            assert sql == python, query
        counted = {
            s: _pages(matrix.MatrixQuery(status=s), commitment, names)[1][0]
            for s in (Status.COMPLETE, Status.EXPIRING, Status.IN_PROGRESS)
        }
        assert all(counted.values())  # the data set exercises these statuses


def test_stored_cells_are_the_exact_cells(app, make_user, two_courses) -> None:
    with app.app_context():
        commitment = _populate(two_courses, make_user)
        moment, org = Moment.now(), org_id(PL)
        exact = coverage.evaluate(db.session, [org], moment, commitments=[commitment])
        rows = exact.for_organisation(org)[0].rows
        stored = [
            coverage.PersonRow(r.user_id, org, r.audience_id, r.status, r.valid_until, {})
            for r in rows
        ]
        coverage.fill_stored_cells(db.session, stored, commitment, moment, 90)
        assert [r.cells for r in stored] == [r.cells for r in rows]
        seen = {cell.status for r in rows for cell in r.cells.values()}
        assert seen >= {Status.COMPLETE, Status.EXPIRING, Status.EXPIRED, Status.NOT_STARTED}


def _key(user_id: int) -> str | None:
    return db.session.scalar(select(NameKey.name_key).where(NameKey.user_id == user_id))


def test_name_keys_follow_the_people(app, make_user) -> None:
    with app.app_context():
        user = make_user(org=PL, name="Élise Moro")
        assert _key(user.id) == "élise moro"
        user.full_name = "ÉLISE MORO BIS"
        db.session.commit()
        assert _key(user.id) == "élise moro bis"
        db.session.execute(
            insert(User),
            [{"email": "bulk@pl.test", "full_name": "Bulk Persona", "session_token": "t"}],
        )
        db.session.commit()
        bulk = db.session.scalar(select(User.id).where(User.email == "bulk@pl.test"))
        assert _key(bulk) == "bulk persona"
        db.session.execute(update(User).where(User.id == bulk).values(full_name="Altra"))
        db.session.commit()
        assert _key(bulk) == "altra"


def test_missing_name_key_falls_back_to_python(app, make_user, two_courses) -> None:
    with app.app_context():
        commitment = _populate(two_courses, make_user)
        referent = make_user(org=PL, referent=True, name="Referente", audience="amministrazione")
        moment = Moment.now()
        db.session.execute(delete(NameKey).where(NameKey.user_id == referent.id - 1))
        db.session.commit()
        query = matrix.MatrixQuery()
        found = matrix.sql_page(db.session, commitment, org_id(PL), moment, 90, query, {}, PAGE)
        assert found is None
        org, email = org_id(PL), referent.email
    client = app.test_client()
    login(client, email)
    html = client.get(f"/commitments/organisations/{org}/?c={commitment.id}&sort=name")
    assert html.status_code == 200
    assert "Ànna Bianchi" in html.get_data(as_text=True)
