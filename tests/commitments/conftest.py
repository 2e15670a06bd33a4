"""Fixtures for the commitments tests."""

from __future__ import annotations

import pytest

from courses.models import CourseVersion
from lms import db
from tests.commitments.helpers import one_module
from tests.conftest import service_context


@pytest.fixture
def two_courses(app, make_course) -> tuple[CourseVersion, CourseVersion]:  # noqa: ANN001
    """A network course and a Polizia Locale course, one module each, 36-month renewal."""
    with service_context(app):  # importing asks the app for its plugins' fenced blocks
        network = make_course(**one_module("rete-prova", "Corso della Rete"))
        specific = make_course(**one_module("pl-prova", "Corso Polizia Locale"))
        db.session.commit()
    return network, specific


@pytest.fixture
def ctx(app):
    """An application context for the whole test (service-level tests only).

    Tests that use the test client must not hold one: each request needs its own
    (and its own ``g``). They prepare data inside ``with app.app_context():``.
    """
    with app.app_context():
        yield
