"""Creating and changing courses: import, drafts, publishing, diff.

Every change, from a CLI import or from the browser editor, goes through the
same path: the draft's files are validated by ``format.parse_bundle`` and the
draft is replaced as a whole, so a course in the database is always a course
that the format accepts.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RoundTripError
from ruamel.yaml.scalarstring import ScalarString
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from courses import packaging
from courses.format import CourseBundle, parse_bundle, split_front_matter
from courses.models import (
    Asset,
    Course,
    CourseCoauthor,
    CourseOwner,
    CourseVersion,
    Module,
    VersionStatus,
)
from courses.rendering import render_lesson, render_markdown
from courses.signals import version_published
from lms import audit, clock, signals
from lms.accounts.models import Role, User
from lms.errors import Forbidden, FormatError, FormatIssue, NotFound, ServiceError
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
    """Admins author everything; trainers create courses and edit and publish those they
    own or co-author."""
    if user is None:  # command line: the operator of the server
        return True
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.TRAINER):
        return False
    return (
        course is None
        or any(o.user_id == user.id for o in course.owners)
        or any(c.user_id == user.id for c in course.coauthors)
    )


def can_manage_coauthors(user: User | None, course: Course) -> bool:
    """Only owners (and admins) choose co-authors: a co-author cannot take a course over."""
    if user is None or user.has_role(Role.ADMIN):
        return True
    return user.has_role(Role.TRAINER) and any(o.user_id == user.id for o in course.owners)


def add_coauthor(session: Session, course: Course, email: str, *, actor: User | None) -> User:
    """Make the trainer with this e-mail a co-author of ``course``."""
    from lms.accounts.models import UserRole

    address = email.strip().lower()
    trainer = session.scalar(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(func.lower(User.email) == address, UserRole.role == Role.TRAINER)
    )
    if trainer is None:
        raise NotFound(_("Nessuna formatrice o formatore con l'indirizzo %(email)s.", email=email))
    if any(o.user_id == trainer.id for o in course.owners) or any(
        c.user_id == trainer.id for c in course.coauthors
    ):
        raise ServiceError(_("%(name)s scrive già questo corso.", name=trainer.full_name))
    course.coauthors.append(CourseCoauthor(user_id=trainer.id))
    session.flush()
    audit.record(
        session,
        "course.coauthor_added",
        actor=actor,
        object_type="course",
        object_id=course.slug,
        details={"user_id": trainer.id},
    )
    return trainer


def remove_coauthor(session: Session, course: Course, user_id: int, *, actor: User | None) -> None:
    for coauthor in list(course.coauthors):
        if coauthor.user_id == user_id:
            course.coauthors.remove(coauthor)
            session.flush()
            audit.record(
                session,
                "course.coauthor_removed",
                actor=actor,
                object_type="course",
                object_id=course.slug,
                details={"user_id": user_id},
            )
            return
    raise NotFound(_("Non è tra le persone coautrici del corso."))


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
    draft = replace_draft(session, course, bundle, audiences, user, files)
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
    files: dict[str, bytes] | None = None,
) -> CourseVersion:
    """The draft, replaced by ``bundle``; ``files`` keep each front matter as written."""
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
        front_matter=_written_front_matter(files, "course.md"),
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
                front_matter=_written_front_matter(files, source.filename),
            )
        )
    for path, content in bundle.assets.items():
        media_type = packaging_media_type(path)
        draft.assets.append(Asset(path=path, media_type=media_type, content=content))
    session.flush()
    draft.content_hash = content_hash(packaging.version_files(draft))
    return draft


def _written_front_matter(files: dict[str, bytes] | None, name: str) -> str | None:
    if not files or name not in files:
        return None
    try:
        front, _body, _line, issues = split_front_matter(files[name].decode(), name)
    except UnicodeDecodeError:
        return None
    if issues or not front.strip():
        return None
    return front if front.endswith("\n") else front + "\n"


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
    return replace_draft(session, course, bundle, audiences, user, files)


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
        owned = select(CourseOwner.course_id).where(CourseOwner.user_id == user.id)
        shared = select(CourseCoauthor.course_id).where(CourseCoauthor.user_id == user.id)
        stmt = stmt.where(Course.id.in_(owned) | Course.id.in_(shared))
    return list(session.scalars(stmt))


# --- Front matter written by forms, the author's formatting kept ---------------------------
#
# ruamel.yaml's round-trip mode keeps comments, key order and quotes of the keys a form does
# not change; PyYAML (which validates everything, lms.yamlsafe) would drop them all.


def _round_trip(text: str) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long title or summary
    if re.search(r"^\s+- ", text, re.MULTILINE) or not re.search(r"^- ", text, re.MULTILINE):
        yaml.indent(mapping=2, sequence=4, offset=2)  # "  - item", as the starter courses
    else:
        yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, list) and isinstance(new, list):
        return [str(v) for v in old] == [str(v) for v in new]
    if isinstance(old, bool) or isinstance(new, bool):
        return old is new or (isinstance(old, bool) and isinstance(new, bool) and old == new)
    return (
        old == new
        and type(old) is type(new)
        or (isinstance(old, str) and isinstance(new, str) and str(old) == str(new))
    )


def _styled(old: Any, new: Any) -> Any:
    """``new`` in the style of the value it replaces: same quotes, flow list stays flow."""
    if isinstance(new, str) and isinstance(old, ScalarString):
        return type(old)(new)
    if isinstance(new, list):
        seq = CommentedSeq(new)
        if isinstance(old, CommentedSeq) and old.fa.flow_style():
            seq.fa.set_flow_style()
        return seq
    return new


#: Values the format assumes when a key is absent (docs/course-format.md).
_DEFAULTS: dict[str, Any] = {"self_enrolment": True}


def set_front_matter(source: str, changes: dict[str, Any], *, file: str = "course.md") -> str:
    """``source`` (a whole .md file) with ``changes`` written into its front matter.

    A value of ``None`` removes the key. Keys whose value does not change stay exactly as
    written (comments, quotes, order); new keys go at the end.
    """
    if source.strip():
        front, body, _line, issues = split_front_matter(source, file)
        if issues:
            raise FormatError(issues)
    else:
        front, body = "", ""
    yaml = _round_trip(front)
    try:
        data = yaml.load(front) if front.strip() else None
    except RoundTripError as error:
        raise FormatError([yaml_issue(error, file=file, first_line=2)]) from None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        message = _("l'intestazione deve essere un elenco di chiavi")
        raise FormatError([FormatIssue(file, 2, message)])
    for key, value in changes.items():
        if value is None:
            if data.get(key):  # an empty value ([], false) means the same: left as written
                del data[key]
        elif key not in data and _DEFAULTS.get(key, ...) == value:
            continue  # the format's default, not written unless the author wrote it
        elif key not in data or not _same(data[key], value):
            data[key] = _styled(data.get(key), value)
    out = io.StringIO()
    yaml.dump(data, out)
    return f"---\n{out.getvalue()}---\n{body}"


def read_front_matter(source: str, *, file: str = "course.md") -> dict[str, Any]:
    """The front matter's values as plain Python (for filling a form)."""
    front, _body, _line, issues = split_front_matter(source, file)
    if issues:
        raise FormatError(issues)
    try:
        data = YAML(typ="safe").load(front) if front.strip() else {}
    except RoundTripError as error:
        raise FormatError([yaml_issue(error, file=file, first_line=2)]) from None
    return data if isinstance(data, dict) else {}


def body_of(source: str, *, file: str = "course.md") -> str:
    _front, body, _line, _issues = split_front_matter(source, file)
    return body


def set_body(source: str, body: str, *, file: str = "course.md") -> str:
    """``source`` with its Markdown after the front matter replaced by ``body``."""
    lines = source.splitlines(keepends=True)
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "".join(lines[: index + 1]) + body
    message = _("l'intestazione YAML non è chiusa da una riga '---'")
    raise FormatError([FormatIssue(file, 1, message)])


# --- YAML problems said in Italian ----------------------------------------------------------

_ENGLISH_PROBLEM = re.compile(r"YAML non valido: (?P<problem>.*)$", re.DOTALL)
#: Words of PyYAML's problems (scanner, parser, composer, constructor), never Italian.
_PYYAML_WORDS = re.compile(
    r"\b(?:while|expected|found|could not|not allowed|unacceptable|cannot|undefined)\b"
)


def yaml_issue(error: Exception, *, file: str, first_line: int = 1) -> FormatIssue:
    """A YAML syntax error (PyYAML's or ruamel's) as a short Italian message and its line."""
    from lms.yamlsafe import syntax_hint

    mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
    line = first_line + mark.line if mark is not None else first_line
    problem = str(getattr(error, "problem", "") or "")
    context = str(getattr(error, "context", "") or "")
    hint = syntax_hint(problem, context) or _("controlla virgolette, rientri e i ':'")
    return FormatIssue(file, line, _("YAML non valido: %(hint)s", hint=hint))


def italian_issue(issue: FormatIssue) -> FormatIssue:
    """``issue`` with PyYAML's English problem (from the importer) replaced by its hint."""
    from lms.yamlsafe import syntax_hint

    match = _ENGLISH_PROBLEM.match(issue.message)
    if not match:
        return issue
    problem = match.group("problem")
    if not _PYYAML_WORDS.search(problem):
        return issue  # one of the platform's own (Italian) messages
    hint = syntax_hint(problem) or _("controlla virgolette, rientri e i ':'")
    return FormatIssue(issue.file, issue.line, _("YAML non valido: %(hint)s", hint=hint))


# --- The quiz block, edited through a form --------------------------------------------------

QUIZ_FENCE = "```quiz"


def quiz_of(body: str) -> tuple[CommentedMap | None, YAML]:
    """The module's quiz block as round-trip data (``None`` if the module has none)."""
    from courses.format import split_block

    _lesson, source, line = split_block(body, "quiz")
    yaml = _round_trip(source or "")
    if source is None:
        return None, yaml
    try:
        data = yaml.load(source)
    except RoundTripError as error:
        raise FormatError([yaml_issue(error, file="quiz", first_line=line)]) from None
    return (data if isinstance(data, CommentedMap) else CommentedMap()), yaml


def write_quiz(body: str, quiz: CommentedMap, yaml: YAML) -> str:
    """``body`` with its quiz block replaced by ``quiz`` (appended if it had none)."""
    from courses.format import FENCE_RE

    out = io.StringIO()
    yaml.dump(quiz, out)
    block = out.getvalue()
    lines = body.splitlines(keepends=True)
    for start, line in enumerate(lines):
        match = FENCE_RE.match(line.rstrip("\n"))
        if not match or match.group(2) != "quiz":
            continue
        fence = match.group(1)
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].strip() == fence), len(lines)
        )
        tail = "".join(lines[end + 1 :])
        return "".join(lines[: start + 1]) + block + fence + "\n" + tail
    prefix = body if body.endswith("\n") or not body else body + "\n"
    return f"{prefix}\n{QUIZ_FENCE}\n{block}```\n"


def question_ids(quiz: CommentedMap | None) -> list[str]:
    return [str(q.get("id")) for q in (quiz or {}).get("questions") or [] if isinstance(q, dict)]


def give_ownerless_courses(session: Session, email: str) -> int:
    """Make the trainer with ``email`` the owner of every course nobody owns (the starter
    courses are imported from the command line, without an owner); the demo uses it so that
    its trainer can edit them, see their statistics and add co-authors."""
    trainer = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if trainer is None or not trainer.has_role(Role.TRAINER):
        return 0
    owned = select(CourseOwner.course_id)
    courses = list(session.scalars(select(Course).where(Course.id.not_in(owned))))
    for course in courses:
        course.owners.append(CourseOwner(user_id=trainer.id))
    session.flush()
    return len(courses)
