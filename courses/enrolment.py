"""Enrolment: joining and leaving a course, by oneself or by a referent; one's courses.

Prerequisites are checked here as well as when a module opens. As Moodle's
self-enrolment with course completion conditions: a person enrols themself only once
every prerequisite course is complete, and is told which ones are missing. A referent
or an admin may enrol staff ahead of time (a training plan for the year): the
enrolment is made, the people still waiting for a prerequisite are named in the audit
entry (:func:`unmet_prerequisites`), and the course's modules stay
closed to them until the prerequisites are complete (``courses.progress``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from courses.catalogue import latest_versions_query
from courses.models import Course, CourseCompletion, CourseVersion, Enrolment, EnrolmentSource
from courses.signals import LearningChanges, enrolled, learning_changed
from lms import audit, clock, signals
from lms.accounts.models import User
from lms.errors import Forbidden, NotFound
from lms.organisations.models import Membership

# The learner's pages ask this on every request: built once (as catalogue._PUBLISHED_VERSION).
_ACTIVE_ENROLMENT = select(Enrolment).where(
    Enrolment.user_id == bindparam("user_id"),
    Enrolment.course_id == bindparam("course_id"),
    Enrolment.ended_at.is_(None),
)


def active_enrolment(session: Session, user_id: int, course_id: int) -> Enrolment | None:
    return session.scalar(_ACTIVE_ENROLMENT, {"user_id": user_id, "course_id": course_id})


def unmet_prerequisites(
    session: Session, user_ids: list[int], version: CourseVersion
) -> dict[int, list[str]]:
    """Titles of the prerequisite courses each person has not completed (only people
    missing some), in one query: the enrolment twin of ``progress.missing_prerequisites``."""
    if not version.prerequisites or not user_ids:
        return {}
    done: dict[int, set[str]] = {user_id: set() for user_id in user_ids}
    for user_id, slug in session.execute(
        select(CourseCompletion.user_id, Course.slug)
        .join(Course, Course.id == CourseCompletion.course_id)
        .where(CourseCompletion.user_id.in_(user_ids), Course.slug.in_(version.prerequisites))
        .distinct()
    ):
        done[user_id].add(slug)
    missing = {
        user_id: [slug for slug in version.prerequisites if slug not in slugs]
        for user_id, slugs in done.items()
    }
    missing = {user_id: slugs for user_id, slugs in missing.items() if slugs}
    if not missing:
        return {}
    wanted = {slug for slugs in missing.values() for slug in slugs}
    titles = {
        v.course.slug: v.title
        for v in session.scalars(latest_versions_query().where(Course.slug.in_(wanted)))
    }
    return {
        user_id: [titles.get(slug, slug) for slug in slugs] for user_id, slugs in missing.items()
    }


def enrol(
    session: Session,
    user: User,
    version: CourseVersion,
    *,
    source: EnrolmentSource,
    by: User | None = None,
) -> Enrolment:
    """Enrol (or re-enrol) a person; history rows are reused, never duplicated."""
    if source is EnrolmentSource.SELF and not version.self_enrolment:
        raise Forbidden(
            _("Per questo corso l'iscrizione è fatta dalla/dal referente della tua organizzazione.")
        )
    enrolment = session.scalar(
        select(Enrolment).where(
            Enrolment.user_id == user.id, Enrolment.course_id == version.course_id
        )
    )
    if enrolment is not None and enrolment.ended_at is None:
        return enrolment
    if source is EnrolmentSource.SELF:
        missing = unmet_prerequisites(session, [user.id], version).get(user.id)
        if missing:
            raise Forbidden(
                _(
                    "Per iscriverti a questo corso devi prima completare: %(courses)s.",
                    courses=", ".join(missing),
                )
            )
    if enrolment is None:
        enrolment = Enrolment(
            user_id=user.id,
            course_id=version.course_id,
            source=source,
            enrolled_by_id=by.id if by else None,
        )
        session.add(enrolment)
    else:
        enrolment.ended_at = None
        enrolment.source = source
        enrolment.enrolled_by_id = by.id if by else None
        enrolment.enrolled_at = clock.now()
    session.flush()
    announce_change(session, user.id, version.course_id)
    signals.send(
        enrolled, session=session, enrolment=enrolment, version=version, by_id=by.id if by else None
    )
    return enrolment


def unenrol(session: Session, user_id: int, course_id: int) -> None:
    enrolment = active_enrolment(session, user_id, course_id)
    if enrolment is None:
        raise NotFound(_("Non risulta un'iscrizione a questo corso."))
    enrolment.ended_at = clock.now()
    session.flush()
    announce_change(session, user_id, course_id)


def announce_change(
    session: Session, user_id: int, course_id: int, *, activity_only: bool = False
) -> None:
    """Tell the app's receivers (e.g. commitments' standings) whose learning rows changed:
    enrolment, progress and completion writers call it after writing."""
    signals.send(
        learning_changed,
        session=session,
        changes=LearningChanges.of(user_id, course_id, activity_only=activity_only),
    )


def enrol_members(
    session: Session,
    organisation_id: int,
    version: CourseVersion,
    user_ids: list[int],
    *,
    by: User,
) -> int:
    """A referent enrols staff of their own organisation; anyone else is refused whole."""
    members = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.organisation_id == organisation_id,
                Membership.ended_at.is_(None),
                Membership.user_id.in_(user_ids),
            )
        )
    )
    strangers = set(user_ids) - members
    if strangers:
        raise Forbidden(_("Puoi iscrivere solo il personale della tua organizzazione."))
    users = session.scalars(select(User).where(User.id.in_(members))).all()
    waiting = unmet_prerequisites(session, sorted(members), version)
    before = {
        e.user_id
        for e in session.scalars(
            select(Enrolment).where(
                Enrolment.course_id == version.course_id,
                Enrolment.ended_at.is_(None),
                Enrolment.user_id.in_(members),
            )
        )
    }
    for user in users:
        if user.id not in before:
            enrolment = enrol(session, user, version, source=EnrolmentSource.REFERENT, by=by)
            audit.record(
                session,
                "enrolment.by_referent",
                actor=by,
                organisation_id=organisation_id,
                object_type="course",
                object_id=version.course.slug,
                subject_id=user.id,
                details={
                    "enrolment_id": enrolment.id,
                    "waiting_for_prerequisites": ", ".join(waiting.get(user.id, [])),
                },
            )
    return len(members - before)


def enrol_many(
    session: Session,
    organisation_id: int,
    wanted: Iterable[tuple[CourseVersion, Collection[int]]],
    *,
    by: User,
    now: dt.datetime | None = None,
) -> int:
    """:func:`enrol_members` for several courses at once, in bulk statements.

    "Enrol all" after a staff import makes tens of thousands of enrolments: one
    statement each for the membership check, the enrolments known, the new rows, the
    renewed ones and the audit entries of a course, whatever the number of people, and
    ONE ``learning_changed`` for the whole batch (standings are recomputed once). The
    rows, audit entries and ``enrolled`` signals are those of :func:`enrol_members`;
    people already enrolled are skipped, so applying a batch twice adds nothing.
    ``enrolled`` still goes once per enrolment, as its receivers expect: what they do
    (notifications: a notification and an e-mail each) costs per enrolment.
    Returns the number of new enrolments; the caller commits.
    """
    now = now or clock.now()
    versions: dict[int, CourseVersion] = {}
    people: dict[int, set[int]] = {}
    for version, user_ids in wanted:
        versions.setdefault(version.course_id, version)
        people.setdefault(version.course_id, set()).update(user_ids)
    everyone = sorted(set().union(*people.values())) if people else []
    if not everyone:
        return 0
    members = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.organisation_id == organisation_id,
                Membership.ended_at.is_(None),
                Membership.user_id.in_(everyone),
            )
        )
    )
    if set(everyone) - members:
        raise Forbidden(_("Puoi iscrivere solo il personale della tua organizzazione."))
    known: dict[tuple[int, int], tuple[int, dt.datetime | None]] = {}
    for enrolment_id, user_id, course_id, ended_at in session.execute(
        select(Enrolment.id, Enrolment.user_id, Enrolment.course_id, Enrolment.ended_at).where(
            Enrolment.user_id.in_(everyone), Enrolment.course_id.in_(list(versions))
        )
    ):
        known[(user_id, course_id)] = (enrolment_id, ended_at)
    fresh: list[dict[str, object]] = []
    renewed: list[int] = []
    for course_id, user_ids in people.items():
        for user_id in sorted(user_ids):
            found = known.get((user_id, course_id))
            if found is None:
                fresh.append(
                    {
                        "user_id": user_id,
                        "course_id": course_id,
                        "source": EnrolmentSource.REFERENT.value,
                        "enrolled_by_id": by.id,
                        "enrolled_at": now,
                    }
                )
            elif found[1] is not None:
                renewed.append(found[0])  # the history row comes back, as in enrol()
    made: list[Enrolment] = []
    if fresh:
        made += session.scalars(insert(Enrolment).returning(Enrolment), fresh)
    if renewed:
        session.execute(
            update(Enrolment)
            .where(Enrolment.id.in_(renewed))
            .values(
                ended_at=None,
                source=EnrolmentSource.REFERENT.value,
                enrolled_by_id=by.id,
                enrolled_at=now,
            )
        )
        made += session.scalars(
            select(Enrolment)
            .where(Enrolment.id.in_(renewed))
            .execution_options(populate_existing=True)
        )
    if not made:
        return 0
    changes: dict[int, set[int]] = {}
    for enrolment in made:
        changes.setdefault(enrolment.user_id, set()).add(enrolment.course_id)
    signals.send(
        learning_changed,
        session=session,
        changes=LearningChanges({u: frozenset(c) for u, c in changes.items()}),
    )
    # Receivers (notifications) read the people: loaded once here, and held while they run
    # (the identity map keeps only objects someone refers to).
    _held = session.scalars(select(User).where(User.id.in_(list(changes)))).all()
    for enrolment in made:
        signals.send(
            enrolled,
            session=session,
            enrolment=enrolment,
            version=versions[enrolment.course_id],
            by_id=by.id,
        )
    by_course: dict[int, list[Enrolment]] = {}
    for enrolment in made:
        by_course.setdefault(enrolment.course_id, []).append(enrolment)
    for course_id, enrolments in by_course.items():
        version = versions[course_id]
        waiting = unmet_prerequisites(session, [e.user_id for e in enrolments], version)
        audit.record_many(
            session,
            "enrolment.by_referent",
            (
                audit.Item(
                    object_id=version.course.slug,
                    subject_id=e.user_id,
                    details={
                        "enrolment_id": e.id,
                        "waiting_for_prerequisites": ", ".join(waiting.get(e.user_id, [])),
                    },
                )
                for e in enrolments
            ),
            actor=by,
            organisation_id=organisation_id,
            object_type="course",
            at=now,
        )
    return len(made)


def my_courses(session: Session, user_id: int) -> list[tuple[CourseVersion, Enrolment]]:
    enrolments = {
        e.course_id: e
        for e in session.scalars(
            select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.ended_at.is_(None))
        )
    }
    if not enrolments:
        return []
    versions = session.scalars(
        latest_versions_query()
        .where(CourseVersion.course_id.in_(enrolments))
        .order_by(CourseVersion.title)
    )
    return [(v, enrolments[v.course_id]) for v in versions]
