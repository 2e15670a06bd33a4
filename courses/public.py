"""The public path: courses declared ``public: true``, read without an account.

Protocol 001 (Art. 2, and the communication commitments of the Comune and the Municipi)
asks the network to make violence recognisable and its services known to everyone. Such a
course is read by visitors who are not signed in, so nothing about the reader is kept:
no enrolment, no progress, no study clock, no page token (docs/privacy.md). Signed-in
people may still enrol in the same course to take its self-check quizzes.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from courses.catalogue import latest_versions_query, published_version
from courses.models import CourseVersion
from lms.errors import NotFound


def public_courses(session: Session) -> list[CourseVersion]:
    """The latest published version of every public course, by title."""
    statement = latest_versions_query().where(CourseVersion.public.is_(True))
    return list(session.scalars(statement.order_by(CourseVersion.title)))


def public_version(session: Session, slug: str) -> CourseVersion:
    """A course's latest published version if it is public; otherwise 404, as for a
    course that does not exist (a visitor learns nothing about other courses)."""
    version = published_version(session, slug)  # NotFound for a course that does not exist
    if not version.public:
        raise NotFound(_("Corso non trovato."))
    return version
