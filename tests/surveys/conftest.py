"""Fixtures for surveys: courses that require the questionnaire, learners who finished one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from courses.api import CourseCompletion, CourseVersion, complete_module
from courses.enrolment import enrol
from courses.models import EnrolmentSource
from lms import db
from lms.accounts.models import User
from surveys import answering
from surveys.questions import questions
from tests.conftest import service_context

SCORES = {"rilevanza": 4, "qualita": 5, "utilita": 3, "indipendenza": 5}


#: course.md lines of a course whose evidence profile requires the questionnaire before
#: completion (and certificate), as ecm_fad and professional do; no study time or final
#: test, so that the fixtures below can complete it at once.
SURVEY_REQUIRED = """evidence:
  base: awareness
  min_time_share: 0
  certificate_hours: true
  survey_required: true
"""


@pytest.fixture
def finish(app: Flask) -> Callable[[User, CourseVersion], CourseCompletion | None]:
    """Enrol the person and complete every module; the course completion, if it came."""

    def factory(person: User, version: CourseVersion) -> CourseCompletion | None:
        completion = None
        with service_context(app):
            enrol(db.session, person, version, source=EnrolmentSource.SELF)
            for module in version.modules:
                completion = complete_module(db.session, person, version, module.slug)
            db.session.commit()
        return completion

    return factory


@pytest.fixture
def answer(app: Flask) -> Callable[..., CourseCompletion | None]:
    """Send the questionnaire through the service, as the view does, and commit."""

    def factory(person: User, version: CourseVersion, **values: Any) -> CourseCompletion | None:
        with service_context(app):
            completion = answering.submit(
                db.session, person, version.course_id, questions(), {**SCORES, **values}
            )
            db.session.commit()
        return completion

    return factory
