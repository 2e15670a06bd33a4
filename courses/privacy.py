"""Personal data held by the courses plugin (export, erasure)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from courses.models import (
    Course,
    CourseCoauthor,
    CourseCompletion,
    CourseOwner,
    CourseVersion,
    Enrolment,
    ModuleProgress,
    StudyClock,
)
from lms.plugins import PrivacyProvider


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def export(session: Session, user_id: int) -> dict[str, Any]:
    slugs = dict(session.execute(select(Course.id, Course.slug)).all())
    enrolments = session.scalars(select(Enrolment).where(Enrolment.user_id == user_id))
    progress = session.scalars(select(ModuleProgress).where(ModuleProgress.user_id == user_id))
    completions = session.scalars(
        select(CourseCompletion).where(CourseCompletion.user_id == user_id)
    )
    return {
        "enrolments": [
            {
                "course": slugs[e.course_id],
                "source": e.source,
                "from": _iso(e.enrolled_at),
                "until": _iso(e.ended_at),
                "cycle": e.cycle,
            }
            for e in enrolments
        ],
        "progress": [
            {
                "course": slugs[p.course_id],
                "module": p.module_slug,
                "status": p.status,
                "started_at": _iso(p.started_at),
                "completed_at": _iso(p.completed_at),
                "time_spent_seconds": p.time_spent_seconds,
                "cycle": p.cycle,
            }
            for p in progress
        ],
        "completions": [
            {
                "course": slugs[c.course_id],
                "version": c.version.number,
                "completed_at": _iso(c.completed_at),
                "expires_at": _iso(c.expires_at),
            }
            for c in completions
        ],
        "authored_courses": list(
            session.scalars(
                select(Course.slug).join(CourseOwner).where(CourseOwner.user_id == user_id)
            )
        ),
        "coauthored_courses": list(
            session.scalars(
                select(Course.slug).join(CourseCoauthor).where(CourseCoauthor.user_id == user_id)
            )
        ),
    }


def erase(session: Session, user_id: int) -> None:
    """Progress and completions stay, attached to the now anonymous account; the study
    clock (when the last heartbeat came) goes."""
    session.execute(delete(StudyClock).where(StudyClock.user_id == user_id))
    session.execute(delete(CourseOwner).where(CourseOwner.user_id == user_id))
    session.execute(delete(CourseCoauthor).where(CourseCoauthor.user_id == user_id))
    session.execute(
        update(CourseVersion)
        .where(CourseVersion.created_by_id == user_id)
        .values(created_by_id=None)
    )
    session.execute(
        update(Enrolment).where(Enrolment.enrolled_by_id == user_id).values(enrolled_by_id=None)
    )


PROVIDER = PrivacyProvider(
    tables=frozenset(
        {
            "courses_owner",
            "courses_coauthor",
            "courses_version",
            "courses_enrolment",
            "courses_module_progress",
            "courses_completion",
            "courses_study_clock",
        }
    ),
    export=export,
    erase=erase,
)
