"""Helpers for commitments tests: small courses, commitments, completions, bulk staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert, select

from commitments.manage import definitions
from commitments.models import Commitment
from courses.enrolment import enrol
from courses.models import CourseCompletion, CourseVersion, EnrolmentSource
from courses.progress import complete_module
from courses.signals import LearningChanges, learning_changed
from lms import db, signals
from lms.accounts.models import User
from lms.dates import add_months
from lms.organisations.models import Audience, Membership
from lms.organisations.services import organisation_by_code

PL = "CDM-PL-NTDM"
ASST = "ASST-NIGUARDA"
UTC = dt.UTC


def one_module(slug: str, title: str, *, renewal: int | None = 36) -> dict[str, Any]:
    """The course shape these tests publish with ``make_course``: one module, ``primo``."""
    extra = f"renewal_months: {renewal}\n" if renewal else ""
    return {"slug": slug, "title": title, "modules": ("primo",), "extra": extra}


def audience_id(code: str) -> int:
    return db.session.scalar(select(Audience.id).where(Audience.code == code))


def org_id(code: str) -> int:
    return organisation_by_code(db.session, code).id


def make_commitment(
    courses: list[CourseVersion],
    *,
    code: str = "impegno-prova",
    title: str = "Impegno di prova",
    audiences: tuple[str, ...] = ("polizia_locale",),
    optional: list[CourseVersion] | None = None,
    choose: int = 0,
    organisation: str | None = None,
    organisation_type: str | None = None,
    renewal_months: int | None = None,
    target: int = 80,
    deadline: dt.date = dt.date(2030, 11, 22),
) -> Commitment:
    data = definitions.CommitmentData(
        code=code,
        title=title,
        audience_ids=[audience_id(a) for a in audiences],
        required_course_ids=[v.course_id for v in courses],
        optional_course_ids=[v.course_id for v in optional or []],
        choose_count=choose,
        organisation_id=org_id(organisation) if organisation else None,
        organisation_type=organisation_type,
        renewal_months=renewal_months,
        target_percent=target,
        deadline=deadline,
    )
    definitions.save(db.session, data)
    db.session.commit()
    return db.session.scalar(select(Commitment).where(Commitment.code == code))


def complete(user: User, version: CourseVersion, when: dt.datetime) -> CourseCompletion:
    enrol(db.session, user, version, source=EnrolmentSource.SELF)
    completion = complete_module(db.session, user, version, "primo", now=when)
    assert completion is not None
    return completion


def bulk_staff(
    org_code: str, count: int, *, audience: str = "polizia_locale", prefix: str = "agente"
) -> list[int]:
    """Users and memberships inserted in two statements (for 1,000 staff)."""
    now = dt.datetime.now(UTC)
    rows = [
        {
            "email": f"{prefix}{i:05d}@{org_code.lower()}.test",
            "full_name": f"{prefix.capitalize()} {i:05d}",
            "locale": "it",
            "active": True,
            "session_token": f"t{prefix}{i}",
            "created_at": now,
        }
        for i in range(count)
    ]
    db.session.execute(insert(User), rows)
    ids = list(
        db.session.scalars(
            select(User.id).where(User.email.like(f"{prefix}%@{org_code.lower()}.test"))
        )
    )
    db.session.execute(
        insert(Membership),
        [
            {
                "user_id": user_id,
                "organisation_id": org_id(org_code),
                "audience_id": audience_id(audience),
                "is_referent": False,
                "created_at": now - dt.timedelta(days=400),
            }
            for user_id in ids
        ],
    )
    db.session.commit()
    return ids


def bulk_completions(
    user_ids: list[int], version: CourseVersion, completed_at: dt.datetime
) -> None:
    expires = add_months(completed_at, version.renewal_months or 36)
    db.session.execute(
        insert(CourseCompletion),
        [
            {
                "user_id": user_id,
                "course_id": version.course_id,
                "version_id": version.id,
                "cycle": 1,
                "completed_at": completed_at,
                "expires_at": expires,
            }
            for user_id in user_ids
        ],
    )
    announce_bulk_load()
    db.session.commit()


def announce_bulk_load() -> None:
    """Rows written around courses' services name nobody: say so, as a data loader must
    (courses' ``learning_changed`` with ``everyone``), so standings are rebuilt."""
    signals.send(learning_changed, session=db.session, changes=LearningChanges(everyone=True))


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(app: Any) -> Iterator[StatementCounter]:
    engine = app.extensions["lms"].engine
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)
