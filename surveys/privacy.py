"""Personal data held by this plugin: only the markers that a person answered.

The answers are anonymous (no person, no time finer than the month) and stay after an
erasure, as the statistics need them; the markers go.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from courses.api import CourseVersion
from lms.plugins import PrivacyProvider
from surveys.models import SurveyMarker


def export(session: Session, user_id: int) -> dict[str, Any]:
    rows = session.execute(
        select(CourseVersion.title, CourseVersion.number)
        .join(SurveyMarker, SurveyMarker.version_id == CourseVersion.id)
        .where(SurveyMarker.user_id == user_id)
        .order_by(CourseVersion.title, CourseVersion.number)
    )
    return {
        "questionnaires_answered": [{"course": title, "version": number} for title, number in rows],
        "note": "answers are stored without any reference to the person",
    }


def erase(session: Session, user_id: int) -> None:
    session.execute(delete(SurveyMarker).where(SurveyMarker.user_id == user_id))
    session.flush()


PROVIDER = PrivacyProvider(tables=frozenset({"surveys_marker"}), export=export, erase=erase)
