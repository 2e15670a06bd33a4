"""The answers' tables hold nothing that points to a person."""

from __future__ import annotations

import re

from sqlalchemy import DateTime, Integer

from lms.db import Base
from surveys.models import SurveyMarker
from surveys.privacy import PROVIDER

ANSWER_TABLES = ("surveys_response", "surveys_answer")
PERSONAL = re.compile(r"user|person|people|email|mail|name|ip|address|login|session|_by|_at$")


def test_answer_tables_have_no_reference_to_a_person():
    tables = Base.metadata.tables
    for name in ANSWER_TABLES:
        table = tables[name]
        targets = {fk.column.table.name for fk in table.foreign_keys}
        assert targets <= {"courses_course", "courses_version", "surveys_response"}, name
        for column in table.columns:
            assert not PERSONAL.search(column.name), f"{name}.{column.name}"
            assert not isinstance(column.type, DateTime), (
                f"{name}.{column.name}: finer than a month"
            )


def test_the_only_time_kept_is_the_month():
    response = Base.metadata.tables["surveys_response"]
    assert response.c.month.type.length == 7  # "YYYY-MM"
    assert any(
        "length(month) = 7" in str(c.sqltext) for c in response.constraints if hasattr(c, "sqltext")
    )


def test_answer_keys_are_no_sequence_that_orders_them():
    for name in ANSWER_TABLES:
        table = Base.metadata.tables[name]
        for column in table.primary_key.columns:
            assert not (isinstance(column.type, Integer) and column.autoincrement is not False), (
                f"{name}.{column.name} numbers rows in the order they come"
            )


def test_the_marker_is_not_linked_to_the_answers_and_has_a_privacy_provider():
    marker = SurveyMarker.__table__
    assert {fk.column.table.name for fk in marker.foreign_keys} == {
        "lms_user",
        "courses_course",
        "courses_version",
    }
    assert {c.name for c in marker.columns} == {"user_id", "course_id", "version_id"}
    assert "surveys_marker" in PROVIDER.tables
