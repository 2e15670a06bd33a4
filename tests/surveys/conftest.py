"""Fixtures for surveys: the questionnaire required, learners who finished a course."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


@pytest.fixture
def survey_required(app: Flask) -> Iterator[None]:
    """The installation's default: no completion (and no certificate) before the answers."""
    previous = app.config["LMS_SURVEY_REQUIRED"]
    app.config["LMS_SURVEY_REQUIRED"] = True
    yield
    app.config["LMS_SURVEY_REQUIRED"] = previous


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
