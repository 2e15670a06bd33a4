"""The dashboard, the exports and the network view run a number of SQL statements that
does not grow with the number of staff (10 versus 1,000), and stay fast at 1,000."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import insert

from courses.models import Enrolment, ModuleProgress
from lms import db
from lms.accounts.models import Role
from tests.commitments.helpers import (
    PL,
    announce_bulk_load,
    bulk_completions,
    bulk_staff,
    count_statements,
    make_commitment,
    org_id,
)
from tests.conftest import login

NOW = dt.datetime.now(dt.UTC)
SMALL_ORG, LARGE_ORG = PL, "MUNICIPIO-1"
PATHS = ["", "?sort=status&dir=desc&page=2", "export.csv", "export.xlsx", "summary.pdf"]


def populate(org_code: str, count: int, network, specific) -> list[int]:
    """Staff in every state: complete, in progress, enrolled only, nothing."""
    ids = bulk_staff(org_code, count, prefix=f"p{org_code.lower().replace('-', '')}")
    quarter = max(1, count // 4)
    bulk_completions(ids[:quarter], network, NOW - dt.timedelta(days=100))
    bulk_completions(ids[:quarter], specific, NOW - dt.timedelta(days=50))
    enrolled = ids[quarter : 3 * quarter]
    db.session.execute(
        insert(Enrolment),
        [
            {
                "user_id": u,
                "course_id": specific.course_id,
                "source": "referent",
                "cycle": 1,
                "enrolled_at": NOW - dt.timedelta(days=30),
            }
            for u in enrolled
        ],
    )
    db.session.execute(
        insert(ModuleProgress),
        [
            {
                "user_id": u,
                "course_id": specific.course_id,
                "cycle": 1,
                "module_slug": "primo",
                "status": "in_progress",
                "started_at": NOW - dt.timedelta(days=3),
                "last_seen_at": NOW - dt.timedelta(days=3),
                "time_spent_seconds": 60,
            }
            for u in enrolled[: len(enrolled) // 2]
        ],
    )
    announce_bulk_load()
    db.session.commit()
    return ids


def measure(app, client, org: int) -> tuple[dict[str, int], dict[str, float]]:
    counts, timings = {}, {}
    for path in PATHS:
        url = f"/commitments/organisations/{org}/{path}"
        client.get(url)  # warm-up (font preparation, template compilation)
        with count_statements(app) as counter:
            started = time.perf_counter()
            response = client.get(url)
            timings[path] = time.perf_counter() - started
        assert response.status_code == 200, url
        counts[path] = counter.count
    return counts, timings


@pytest.mark.slow  # a query-count bench at 1,000 staff
def test_statement_count_does_not_grow_with_staff(app, make_user, two_courses, capsys):
    network, specific = two_courses
    with app.app_context():
        make_commitment([network, specific])
        admin = make_user(roles=(Role.ADMIN,))
        populate(SMALL_ORG, 10, network, specific)
        populate(LARGE_ORG, 1000, network, specific)
        small, large = org_id(SMALL_ORG), org_id(LARGE_ORG)
    client = app.test_client()
    login(client, admin.email)
    small_counts, _ = measure(app, client, small)
    large_counts, timings = measure(app, client, large)
    assert small_counts == large_counts
    assert max(large_counts.values()) <= 30
    large_page = client.get(f"/commitments/organisations/{large}/").get_data(as_text=True)
    assert "Persone 1–50 di 1.000" in large_page  # counts in the locale's format
    with capsys.disabled():
        print(f"\nstatements per request (10 and 1,000 staff): {large_counts}")
        print(
            "seconds at 1,000 staff: "
            + ", ".join(f"{p or 'dashboard'}={t:.2f}" for p, t in timings.items())
        )
    assert timings[""] < 5 and timings["export.xlsx"] < 5


def test_network_view_statement_count_does_not_grow(app, make_user, two_courses):
    network, specific = two_courses
    with app.app_context():
        make_commitment([network, specific])
        coordinator = make_user(roles=(Role.COORDINATOR,))
        populate(SMALL_ORG, 10, network, specific)
    client = app.test_client()
    login(client, coordinator.email)
    counts = []
    for staff in (10, 1000):
        if staff == 1000:
            with app.app_context():
                populate(LARGE_ORG, 990, network, specific)
        client.get("/commitments/network/")
        with count_statements(app) as counter:
            assert client.get("/commitments/network/").status_code == 200
        with count_statements(app) as csv_counter:
            assert client.get("/commitments/network/export.csv").status_code == 200
        counts.append((counter.count, csv_counter.count))
    assert counts[0] == counts[1]
