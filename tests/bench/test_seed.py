"""The synthetic data generator (bench/seed.py) at a tiny size: deterministic, in proportion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from bench import seed as generator
from lms import db
from tests.conftest import own_database, separate_database

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def tiny(tmp: Path, name: str, url: str, seed_value: int = 7) -> generator.SeedReport:
    return generator.seed(
        "S",
        seed_value,
        database_url=url,
        instance=tmp / name,
        now=NOW,
        staff=80,
        learners=2,
        course_count=12,
        reset=True,
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory):
    """Two databases seeded alike. Module-scoped fixtures run outside any test's
    transaction, so the shared session is unbound here (no ``own_database``)."""
    tmp = tmp_path_factory.mktemp("seed")
    with separate_database(tmp) as first, separate_database(tmp) as second:
        db.session.remove()
        # SQLAlchemy's default mode: what a previous test's teardown configured is not
        # a valid name (tests/conftest.py: "conservative_savepoint").
        db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
        one = tiny(tmp, "one", first)
        two = tiny(tmp, "two", second)
        db.session.remove()
        yield one, two, generator.fingerprint(first), generator.fingerprint(second)


def test_same_seed_same_data(seeded) -> None:
    one, two, print_one, print_two = seeded
    assert print_one == print_two
    assert set(print_one) >= {"lms_user", "courses_enrolment", "courses_completion"}
    assert one.counts == two.counts and one.pair_states == two.pair_states


def test_another_seed_other_data(seeded, tmp_path: Path) -> None:
    _one, _two, reference, _same = seeded
    with separate_database(tmp_path) as url, own_database():
        other = tiny(tmp_path, "other", url, seed_value=8)
        fingerprint = generator.fingerprint(url)
    assert fingerprint["lms_user"] != reference["lms_user"]
    assert other.counts["lms_user"] == 80 + 3 + 2  # staff, referent/coordinator/admin, learners


def test_proportions(seeded) -> None:
    one, _two, _a, _b = seeded
    pairs = sum(one.pair_states.values())
    assert pairs > 0
    expected = {state: round(pairs * share / 100) for state, share in generator.STATES[:-1]}
    for state, count in expected.items():
        assert one.pair_states[state] == count, (state, one.pair_states)
    engine = create_engine(one.database_url)
    with engine.connect() as connection:
        valid = connection.execute(
            text("SELECT COUNT(*) FROM courses_completion WHERE expires_at > :now"),
            {"now": _stored(connection, NOW)},
        ).scalar()
        expired = connection.execute(
            text("SELECT COUNT(*) FROM courses_completion WHERE expires_at <= :now"),
            {"now": _stored(connection, NOW)},
        ).scalar()
        certificates = connection.execute(
            text("SELECT COUNT(*) FROM certificates_certificate")
        ).scalar()
        big, largest = connection.execute(
            text(
                "SELECT (SELECT COUNT(*) FROM lms_membership m JOIN lms_organisation o "
                "ON o.id = m.organisation_id WHERE o.code = :code), "
                "(SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM lms_membership "
                "GROUP BY organisation_id) AS counts)"
            ),
            {"code": generator.BIG_ORG},
        ).one()
        passed = connection.execute(
            select(func.count()).select_from(text("quizzes_attempt")).where(text("passed"))
        ).scalar()
    engine.dispose()
    assert valid == expected["complete"]
    assert expired == expected["expired"]
    assert certificates == valid + expired  # one per completion
    assert big == largest  # the Polizia Locale stays the largest organisation
    assert passed > 0


def _stored(connection, moment: dt.datetime):  # noqa: ANN001, ANN202
    """How a UTC timestamp compares in this database (SQLite keeps naive UTC text)."""
    if connection.dialect.name == "sqlite":
        return moment.replace(tzinfo=None).isoformat(sep=" ")
    return moment
