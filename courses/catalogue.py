"""The catalogue: published courses, their latest versions, modules and lessons."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import String, and_, bindparam, cast, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager, defer, joinedload, selectinload

from courses.models import Course, CourseVersion, Module, VersionStatus, version_audience
from lms.errors import NotFound
from lms.organisations.models import Audience, Membership


def latest_versions_query():  # noqa: ANN201 - a Select
    """Latest published version of every (non archived) course."""
    latest = (
        select(CourseVersion.course_id, func.max(CourseVersion.number).label("number"))
        .where(CourseVersion.status == VersionStatus.PUBLISHED)
        .group_by(CourseVersion.course_id)
        .subquery()
    )
    return (
        select(CourseVersion)
        .join(
            latest,
            and_(
                latest.c.course_id == CourseVersion.course_id,
                latest.c.number == CourseVersion.number,
            ),
        )
        .join(Course, Course.id == CourseVersion.course_id)
        .where(Course.archived.is_(False))
    )


# Built once: a statement built per call costs more to construct and to key for
# SQLAlchemy's compiled cache than it costs to run.
_other_version = aliased(CourseVersion)
_PUBLISHED_VERSION = (
    select(CourseVersion)
    .join(Course, Course.id == CourseVersion.course_id)
    .where(
        Course.slug == bindparam("slug"),
        Course.archived.is_(False),
        CourseVersion.status == VersionStatus.PUBLISHED,
        # The highest published number, rather than ORDER BY ... LIMIT 1: with the
        # modules joined, a LIMIT makes SQLAlchemy wrap the version in a subquery that
        # SQLite materialises and sorts whole.
        CourseVersion.number
        == select(func.max(_other_version.number))
        .where(
            _other_version.course_id == CourseVersion.course_id,
            _other_version.status == VersionStatus.PUBLISHED,
        )
        .scalar_subquery(),
    )
    .options(
        contains_eager(CourseVersion.course),
        joinedload(CourseVersion.modules).defer(Module.body_md).defer(Module.body_html),
        # Repeated on every module's row and read by no learner page (loaded if asked).
        defer(CourseVersion.intro_md),
        defer(CourseVersion.content_hash),
        defer(CourseVersion.created_at),
        defer(CourseVersion.published_at),
        defer(CourseVersion.created_by_id),
    )
)


def published_version(session: Session, slug: str) -> CourseVersion:
    """The latest published version of one course, with its course and modules.

    One course's versions only (not the catalogue-wide ``latest_versions_query``),
    the course and the modules joined in (one statement), the modules without their
    bodies: a page reads at most one module's lesson (loaded when accessed), so the
    cost of a page does not grow with the size of the course. Audiences load when a
    page asks.
    """
    version = session.execute(_PUBLISHED_VERSION, {"slug": slug}).unique().scalar_one_or_none()
    if version is None:
        raise NotFound(_("Corso non trovato."))
    return version


def catalogue(
    session: Session, *, audience_code: str | None = None, query: str | None = None
) -> list[CourseVersion]:
    stmt = latest_versions_query().options(selectinload(CourseVersion.audiences))
    if audience_code:
        in_audience = exists().where(
            version_audience.c.version_id == CourseVersion.id,
            version_audience.c.audience_id == Audience.id,
            Audience.code == audience_code,
        )
        stmt = stmt.where(or_(CourseVersion.all_audiences.is_(True), in_audience))
    if query and query.strip():
        pattern = f"%{query.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(CourseVersion.title).like(pattern),
                func.lower(CourseVersion.summary).like(pattern),
                func.lower(cast(CourseVersion.objectives, String)).like(pattern),
            )
        )
    return list(session.scalars(stmt.order_by(CourseVersion.title)))


def user_audience_codes(session: Session, user_id: int) -> set[str]:
    return set(
        session.scalars(
            select(Audience.code)
            .join(Membership, Membership.audience_id == Audience.id)
            .where(Membership.user_id == user_id, Membership.ended_at.is_(None))
        )
    )


def find_module(version: CourseVersion, module_slug: str) -> Module:
    for module in version.modules:
        if module.slug == module_slug:
            return module
    raise NotFound(_("Modulo non trovato."))


@dataclass(frozen=True)
class Neighbours:
    """Where a module stands in its course: its 1-based position and the modules around it."""

    position: int
    previous: Module | None
    next: Module | None


def neighbours(version: CourseVersion, module: Module) -> Neighbours:
    index = version.modules.index(module)
    return Neighbours(
        position=index + 1,
        previous=version.modules[index - 1] if index else None,
        next=version.modules[index + 1] if index + 1 < len(version.modules) else None,
    )


_LESSON_HTML = select(Module.body_html).where(Module.id == bindparam("module_id"))


def lesson_html(session: Session, module: Module) -> str:
    """The module's lesson, which ``published_version`` leaves deferred: one built
    statement (cheaper than the ORM's deferred-column load)."""
    return session.scalar(_LESSON_HTML, {"module_id": module.id}) or ""
