"""Creating and changing courses: import, drafts, publishing, diff.

Every change, from a CLI import or from the browser editor, goes through the
same path: the draft's files are validated by ``format.parse_bundle`` and the
draft is replaced as a whole, so a course in the database is always a course
that the format accepts.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from courses import packaging
from courses.format import CourseBundle, parse_bundle
from courses.models import (
    Asset,
    Course,
    CourseOwner,
    CourseVersion,
    Module,
    VersionStatus,
)
from courses.rendering import render_lesson, render_markdown
from courses.signals import version_published
from lms import audit, clock, signals
from lms.accounts.models import Role, User
from lms.errors import Forbidden, FormatError, FormatIssue, NotFound
from lms.organisations.models import Audience


def asset_base(version_id: int) -> str:
    """Relative URL prefix of a version's files, as seen from its module pages."""
    return f"assets/{version_id}/"


def content_hash(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def can_author(user: User | None, course: Course | None) -> bool:
    """Admins author everything; trainers create courses and edit those they (co-)own."""
    if user is None:  # command line: the operator of the server
        return True
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.TRAINER):
        return False
    return course is None or any(o.user_id == user.id for o in course.owners)


def get_course(session: Session, slug: str) -> Course:
    course = session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise NotFound(_("Corso non trovato: %(slug)s", slug=slug))
    return course


def latest_published(session: Session, course_id: int) -> CourseVersion | None:
    return session.scalar(
        select(CourseVersion)
        .where(
            CourseVersion.course_id == course_id, CourseVersion.status == VersionStatus.PUBLISHED
        )
        .order_by(CourseVersion.number.desc())
        .limit(1)
    )


def get_draft(session: Session, course_id: int) -> CourseVersion | None:
    return session.scalar(
        select(CourseVersion).where(
            CourseVersion.course_id == course_id, CourseVersion.status == VersionStatus.DRAFT
        )
    )


@dataclass(frozen=True)
class ImportResult:
    course: Course
    version: CourseVersion | None  # the published version, or the draft
    created_course: bool
    published: bool
    unchanged: bool


def import_files(
    session: Session, files: dict[str, bytes], *, user: User | None, publish: bool
) -> ImportResult:
    """Validate and store a course folder as the draft; optionally publish it."""
    audiences = {a.code: a for a in session.scalars(select(Audience))}
    bundle = parse_bundle(files, audiences)
    course = session.scalar(select(Course).where(Course.slug == bundle.slug))
    created = course is None
    if not can_author(user, course):
        raise Forbidden(_("Non puoi modificare il corso %(slug)s.", slug=bundle.slug))
    _check_prerequisites(session, bundle)
    if course is None:
        course = Course(slug=bundle.slug)
        if user is not None:
            course.owners.append(CourseOwner(user_id=user.id))
        session.add(course)
        session.flush()
    draft = replace_draft(session, course, bundle, audiences, user)
    if not publish:
        return ImportResult(course, draft, created, published=False, unchanged=False)
    version, changed = publish_draft(session, course, actor=user)
    return ImportResult(course, version, created, published=changed, unchanged=not changed)


def _check_prerequisites(session: Session, bundle: CourseBundle) -> None:
    if not bundle.prerequisites:
        return
    known = set(session.scalars(select(Course.slug).where(Course.slug.in_(bundle.prerequisites))))
    missing = [p for p in bundle.prerequisites if p not in known]
    if missing:
        raise FormatError(
            [
                FormatIssue("course.md", None, _("prerequisito sconosciuto: %(slug)s", slug=slug))
                for slug in missing
            ]
        )


def replace_draft(
    session: Session,
    course: Course,
    bundle: CourseBundle,
    audiences: dict[str, Audience],
    user: User | None,
) -> CourseVersion:
    old = get_draft(session, course.id)
    if old is not None:
        session.delete(old)
        session.flush()
    draft = CourseVersion(
        course=course,
        status=VersionStatus.DRAFT,
        number=None,
        label=bundle.version_label,
        title=bundle.title,
        summary=bundle.summary,
        all_audiences=bundle.all_audiences,
        estimated_hours=bundle.estimated_hours or 0,
        computed_minutes=sum(m.duration.minutes for m in bundle.modules),
        objectives=bundle.objectives,
        prerequisites=bundle.prerequisites,
        language=bundle.language,
        renewal_months=bundle.renewal_months,
        evidence=bundle.evidence,
        accreditation=bundle.accreditation.to_dict() if bundle.accreditation else None,
        self_enrolment=bundle.self_enrolment,
        public=bundle.public,
        intro_md=bundle.intro,
        created_by_id=user.id if user else None,
        audiences=[audiences[code] for code in bundle.audiences],
    )
    session.add(draft)
    session.flush()
    base = asset_base(draft.id)
    draft.intro_html = render_markdown(bundle.intro, base)
    for source in bundle.modules:
        draft.modules.append(
            Module(
                slug=source.slug,
                position=source.position,
                title=source.title,
                estimated_minutes=source.estimated_minutes or 0,
                computed_minutes=source.duration.minutes,
                required=source.required,
                body_md=source.body,
                body_html=render_lesson(source.body, base),
                completed_by_block=source.completed_by_block,
            )
        )
    for path, content in bundle.assets.items():
        media_type = packaging_media_type(path)
        draft.assets.append(Asset(path=path, media_type=media_type, content=content))
    session.flush()
    draft.content_hash = content_hash(packaging.version_files(draft))
    return draft


def packaging_media_type(path: str) -> str:
    from courses.format import ASSET_TYPES

    return ASSET_TYPES[path[path.rfind(".") :].lower()]


def publish_draft(
    session: Session, course: Course, *, actor: User | None = None
) -> tuple[CourseVersion, bool]:
    """Publish the draft as the next version; an unchanged draft publishes nothing.

    Returns the version learners now see and whether a new one was published.
    """
    draft = get_draft(session, course.id)
    if draft is None:
        raise NotFound(_("Non c'è una bozza da pubblicare."))
    current = latest_published(session, course.id)
    if current is not None and current.content_hash == draft.content_hash:
        session.delete(draft)
        session.flush()
        return current, False
    highest = session.scalar(
        select(func.max(CourseVersion.number)).where(CourseVersion.course_id == course.id)
    )
    draft.status = VersionStatus.PUBLISHED
    draft.number = (highest or 0) + 1
    draft.published_at = clock.now()
    session.flush()
    signals.send(version_published, session=session, version=draft)
    audit.record(
        session,
        "course.published",
        actor=actor,
        object_type="course",
        object_id=course.slug,
        details={"version": draft.number},
    )
    return draft, True


def edit_draft(session: Session, course: Course, user: User | None) -> CourseVersion:
    """The course's draft, created from the latest published version if there is none."""
    draft = get_draft(session, course.id)
    if draft is not None:
        return draft
    current = latest_published(session, course.id)
    if current is None:
        raise NotFound(_("Il corso non ha versioni."))
    files = packaging.version_files(current)
    return save_files(session, course, files, user)


def save_files(
    session: Session, course: Course, files: dict[str, bytes], user: User | None
) -> CourseVersion:
    """Replace the draft with ``files`` after full validation (browser edits use this)."""
    audiences = {a.code: a for a in session.scalars(select(Audience))}
    bundle = parse_bundle(files, audiences)
    if bundle.slug != course.slug:
        raise FormatError([FormatIssue("course.md", None, _("lo slug del corso non può cambiare"))])
    _check_prerequisites(session, bundle)
    return replace_draft(session, course, bundle, audiences, user)


def draft_files(session: Session, course: Course, user: User | None) -> dict[str, bytes]:
    return packaging.version_files(edit_draft(session, course, user))


def diff_against_published(session: Session, course: Course) -> list[str]:
    """Unified diff, file by file, from the published version to the draft."""
    draft = get_draft(session, course.id)
    current = latest_published(session, course.id)
    before = packaging.version_files(current) if current else {}
    after = packaging.version_files(draft) if draft else before
    lines: list[str] = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, b""), after.get(name, b"")
        if old == new:
            continue
        if not name.endswith(".md"):
            lines.append(_("File modificato: %(name)s", name=name))
            continue
        lines += difflib.unified_diff(
            old.decode().splitlines(),
            new.decode().splitlines(),
            fromfile=f"pubblicata/{name}",
            tofile=f"bozza/{name}",
            lineterm="",
        )
    return lines


def set_archived(session: Session, course: Course, archived: bool, *, actor: User | None) -> None:
    """Unpublish (hide from the catalogue and learners) or publish again; history stays."""
    if course.archived == archived:
        return
    course.archived = archived
    audit.record(
        session,
        "course.unpublished" if archived else "course.republished",
        actor=actor,
        object_type="course",
        object_id=course.slug,
    )
    session.flush()


def versions_of(session: Session, course_id: int) -> list[CourseVersion]:
    return list(
        session.scalars(
            select(CourseVersion)
            .where(CourseVersion.course_id == course_id)
            .options(selectinload(CourseVersion.modules))
            .order_by(CourseVersion.number.desc().nulls_first())
        )
    )


def authored_courses(session: Session, user: User) -> list[Course]:
    stmt = select(Course).order_by(Course.slug)
    if not user.has_role(Role.ADMIN):
        stmt = stmt.join(CourseOwner).where(CourseOwner.user_id == user.id)
    return list(session.scalars(stmt))
