"""Versions, enrolment, prerequisites, progress carry-over and completion."""

from __future__ import annotations

import datetime as dt

import pytest

from courses import authoring
from courses.enrolment import active_enrolment, enrol, enrol_members, unenrol
from courses.models import EnrolmentSource, ProgressStatus
from courses.progress import (
    complete_module,
    open_module,
    progress_for,
    resume_module,
    start_renewal,
)
from courses.study import PageGrant, heartbeat
from lms import db
from lms.errors import Forbidden, ServiceError
from lms.organisations.services import organisation_by_code
from lms.signals import completion_recorded

pytestmark = pytest.mark.usefixtures("in_app_context")


@pytest.fixture
def events():
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs["event"])

    completion_recorded.connect(receiver)
    yield received
    completion_recorded.disconnect(receiver)


def test_published_version_is_immutable_and_drafts_are_separate(make_user, make_course):
    trainer = make_user(roles=("trainer",))
    v1 = make_course()
    draft = authoring.edit_draft(db.session, v1.course, trainer)
    assert draft.id != v1.id and draft.is_draft and draft.content_hash == v1.content_hash
    files = authoring.draft_files(db.session, v1.course, trainer)
    files["01-primo.md"] = files["01-primo.md"].replace(b"Testo della lezione", b"Nuovo testo")
    authoring.save_files(db.session, v1.course, files, trainer)
    db.session.refresh(v1)
    assert b"Nuovo testo" not in v1.modules[0].body_md.encode()
    diff = authoring.diff_against_published(db.session, v1.course)
    assert any(line.startswith("+") and "Nuovo testo" in line for line in diff)
    v2, changed = authoring.publish_draft(db.session, v1.course)
    assert changed and v2.number == 2 and "Nuovo testo" in v2.modules[0].body_md


def test_completion_records_version_and_sends_event_once(make_user, events, make_course):
    user = make_user()
    version = make_course(extra="renewal_months: 36\n")
    enrol(db.session, user, version, source=EnrolmentSource.SELF)
    assert complete_module(db.session, user, version, "primo") is None
    completion = complete_module(db.session, user, version, "secondo")
    assert completion is not None and completion.version_id == version.id
    assert completion.expires_at.year == completion.completed_at.year + 3
    assert len(events) == 1 and events[0].kind == "course"
    assert events[0].completion_ref == f"course-completion:{completion.id}"
    # No declared hours: two modules of about 30 characters, 1 computed minute each
    # (tests/courses/helpers.py): 2 minutes = 0.0333 hours, printed to the hundredth.
    assert events[0].hours == 0.03 and events[0].renewal_months == 36
    # Completing again (double submit) records nothing new.
    assert complete_module(db.session, user, version, "secondo") is None
    assert len(events) == 1


def test_progress_carries_over_to_a_new_version_by_module_slug(make_user, make_course):
    user = make_user()
    v1 = make_course(modules=("alfa", "beta", "gamma"))
    enrol(db.session, user, v1, source=EnrolmentSource.SELF)
    complete_module(db.session, user, v1, "alfa")
    complete_module(db.session, user, v1, "beta")
    # v2 reorders, drops gamma, adds delta: alfa and beta stay complete.
    v2 = make_course(modules=("beta", "alfa", "delta"))
    progress = progress_for(db.session, user.id, v2)
    assert progress.status_of("alfa") == progress.status_of("beta") == ProgressStatus.COMPLETED
    assert progress.status_of("delta") == "not_started" and progress.percent == 67
    completion = complete_module(db.session, user, v2, "delta")
    assert completion is not None and completion.version_id == v2.id


def test_quiz_module_completes_only_through_the_quiz(make_user, make_course):
    user = make_user()
    version = make_course(quiz_modules=("secondo",))
    enrol(db.session, user, version, source=EnrolmentSource.SELF)
    with pytest.raises(ServiceError, match="superando il quiz"):
        complete_module(db.session, user, version, "secondo")
    complete_module(db.session, user, version, "primo")
    assert complete_module(db.session, user, version, "secondo", by_block=True) is not None


def test_prerequisites_are_enforced_with_a_clear_message(make_user, make_course):
    user = make_user()
    base = make_course(slug="corso-base", title="Corso di base")
    advanced = make_course(slug="corso-avanzato", prerequisites="[corso-base]")
    enrol(db.session, user, advanced, source=EnrolmentSource.REFERENT)
    with pytest.raises(Forbidden, match="Prima di questo corso devi completare: Corso di base"):
        open_module(db.session, user, advanced, "primo")
    enrol(db.session, user, base, source=EnrolmentSource.SELF)
    complete_module(db.session, user, base, "primo")
    complete_module(db.session, user, base, "secondo")
    assert open_module(db.session, user, advanced, "primo").status == "not_started"


def test_unknown_prerequisite_is_an_import_error(make_course):
    from lms.errors import FormatError

    with pytest.raises(FormatError, match="prerequisito sconosciuto: inesistente"):
        make_course(prerequisites="[inesistente]")


def test_self_enrolment_can_be_closed(make_user, make_course):
    user = make_user()
    version = make_course(extra="self_enrolment: false\n")
    with pytest.raises(Forbidden):
        enrol(db.session, user, version, source=EnrolmentSource.SELF)


def test_referent_enrols_only_own_staff(make_user, make_course):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    own = make_user(org="CDM-PL-NTDM")
    other = make_user(org="ASST-NIGUARDA")
    version = make_course()
    org = organisation_by_code(db.session, "CDM-PL-NTDM")
    with pytest.raises(Forbidden):
        enrol_members(db.session, org.id, version, [own.id, other.id], by=referent)
    assert active_enrolment(db.session, own.id, version.course_id) is None
    assert enrol_members(db.session, org.id, version, [own.id], by=referent) == 1
    assert enrol_members(db.session, org.id, version, [own.id], by=referent) == 0


def test_unenrolment_keeps_history_and_reenrolment_reuses_the_row(make_user, make_course):
    user = make_user()
    version = make_course()
    first = enrol(db.session, user, version, source=EnrolmentSource.SELF)
    complete_module(db.session, user, version, "primo")
    unenrol(db.session, user.id, version.course_id)
    assert active_enrolment(db.session, user.id, version.course_id) is None
    again = enrol(db.session, user, version, source=EnrolmentSource.SELF)
    assert again.id == first.id
    assert progress_for(db.session, user.id, version).status_of("primo") == "completed"


def test_time_spent_and_resume(make_user, make_course):
    """Heartbeats a minute apart count the minute; after a pause of hours, nothing
    (the bounds themselves: tests/courses/test_time_on_task.py)."""
    user = make_user()
    version = make_course(modules=("alfa", "beta", "gamma"))
    enrolment = enrol(db.session, user, version, source=EnrolmentSource.SELF)
    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    grant = PageGrant(user.id, version.course_id, "corso-prova", enrolment.cycle, "beta", 0, start)
    heartbeat(db.session, grant, now=start)
    assert heartbeat(db.session, grant, now=start + dt.timedelta(minutes=1)).tracked == 60
    paused = heartbeat(db.session, grant, now=start + dt.timedelta(hours=3))  # not counted
    assert paused.tracked == 60 and paused.credited == 0
    progress = progress_for(db.session, user.id, version)
    assert resume_module(version, progress).slug == "beta"


def test_renewal_opens_a_new_cycle_when_expiry_is_near(make_user, events, make_course):
    user = make_user()
    version = make_course(extra="renewal_months: 12\n")
    enrol(db.session, user, version, source=EnrolmentSource.SELF)
    done_at = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    complete_module(db.session, user, version, "primo", now=done_at)
    complete_module(db.session, user, version, "secondo", now=done_at)
    with pytest.raises(ServiceError, match="90 giorni"):
        start_renewal(db.session, user, version, now=done_at + dt.timedelta(days=30))
    enrolment = start_renewal(db.session, user, version, now=done_at + dt.timedelta(days=300))
    assert enrolment.cycle == 2
    assert progress_for(db.session, user.id, version).percent == 0
    complete_module(db.session, user, version, "primo")
    complete_module(db.session, user, version, "secondo")
    assert [e.key for e in events] == ["course:corso-prova", "course:corso-prova"]
    assert events[0].completion_ref != events[1].completion_ref
