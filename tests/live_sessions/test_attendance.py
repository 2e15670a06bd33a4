"""Attendance: marking and corrections with history, certificates, course completion and
commitment status, and that a trainer marks only their own sessions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from certificates import keys
from certificates.documents import certificate_pdf
from certificates.models import Certificate
from certificates.verification import Outcome, check_pdf
from commitments.manage import definitions
from commitments.reporting.coverage import evaluate
from commitments.rules.status import Moment, Status
from courses.enrolment import active_enrolment, enrol
from courses.models import CourseCompletion, EnrolmentSource
from courses.progress import check_completion, complete_module
from live_sessions import attendance
from live_sessions.attendance import Mark
from live_sessions.models import AttendanceChange, AttendanceStatus
from lms import db
from lms.accounts.models import Role
from lms.audit import AuditEntry
from lms.errors import Forbidden, ServiceError
from lms.organisations.models import Audience
from lms.organisations.services import organisation_by_code
from tests.conftest import login, post_form
from tests.live_sessions.conftest import begin_now

PL = "CDM-PL-NTDM"
PRESENT, PARTIAL, ABSENT = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.PARTIAL,
    AttendanceStatus.ABSENT,
)


def certificates_of(user_id: int, kind: str) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate).where(Certificate.user_id == user_id, Certificate.kind == kind)
        )
    )


def test_presence_issues_a_certificate_that_verifies_like_the_others(
    app: Flask, in_app_context, make_user, make_session, register, trainer
):
    person = make_user(name="Avvocata Zoë D'Angelo", org=PL)
    absent = make_user(org=PL)
    live = make_session(title="Corso professionalizzante", hours=Decimal("3.5"), credits="3 CFP")
    register(live, person)
    register(live, absent)
    begin_now(live)
    changed = attendance.record_marks(
        db.session, live.id, [Mark(person.id, PRESENT), Mark(absent.id, ABSENT)], actor=trainer
    )
    db.session.commit()
    assert changed == 2
    [cert] = certificates_of(person.id, "session")
    assert certificates_of(absent.id, "session") == []
    assert cert.title == "Corso professionalizzante" and cert.hours == 3.5
    assert cert.credits == "3 CFP" and cert.key == f"session:{live.id}"
    assert cert.completion_ref.startswith("session-attendance:")

    with app.test_request_context():
        pdf = certificate_pdf(cert)
    check = check_pdf(pdf, keys.public_keys(db.session))
    assert check.outcome is Outcome.VALID
    assert check.payload["kind"] == "session" and check.payload["hours"] == 3.5
    assert check.payload["credits"] == "3 CFP" and check.payload["holder"] == person.full_name

    # Marking present again (or after a correction) never issues a second certificate.
    attendance.record_marks(db.session, live.id, [Mark(person.id, ABSENT)], actor=trainer)
    attendance.record_marks(db.session, live.id, [Mark(person.id, PRESENT)], actor=trainer)
    db.session.commit()
    assert len(certificates_of(person.id, "session")) == 1


def test_corrections_keep_history_and_reach_the_audit_log(
    in_app_context, make_user, make_session, register, trainer
):
    person = make_user(org=PL)
    live = make_session(duration_minutes=180, hours=Decimal(3))
    register(live, person)
    begin_now(live)
    attendance.record_marks(db.session, live.id, [Mark(person.id, PRESENT)], actor=trainer)
    attendance.record_marks(db.session, live.id, [Mark(person.id, PARTIAL, 90)], actor=trainer)
    unchanged = attendance.record_marks(
        db.session, live.id, [Mark(person.id, PARTIAL, 90)], actor=trainer
    )
    db.session.commit()
    assert unchanged == 0
    history = attendance.history(db.session, live.id)
    assert [(c.old_status, c.old_minutes, c.new_status, c.new_minutes) for c in history] == [
        ("present", None, "partial", 90),
        (None, None, "present", None),
    ]
    assert all(c.changed_by_id == trainer.id for c in history)
    mark = attendance.attendance_by_user(db.session, live.id)[person.id]
    assert attendance.hours_attended(live, mark) == Decimal("1.50")
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.subject_id == person.id, AuditEntry.action.startswith("live_sessions."))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["live_sessions.attendance_marked", "live_sessions.attendance_corrected"]


def test_marks_are_checked_all_or_nothing(
    in_app_context, make_user, make_session, register, trainer
):
    person, stranger = make_user(org=PL), make_user(org=PL)
    live = make_session(duration_minutes=120)
    register(live, person)
    with pytest.raises(ServiceError, match="dall'inizio dell'incontro"):
        attendance.record_marks(db.session, live.id, [Mark(person.id, PRESENT)], actor=trainer)
    begin_now(live)
    bad = [
        [Mark(person.id, PRESENT), Mark(stranger.id, PRESENT)],  # not registered
        [Mark(person.id, PARTIAL)],  # minutes missing
        [Mark(person.id, PARTIAL, 120)],  # as long as the session: that is "present"
        [Mark(person.id, ABSENT, 10)],
    ]
    for marks in bad:
        with pytest.raises(ServiceError):
            attendance.record_marks(db.session, live.id, marks, actor=trainer)
    assert db.session.scalar(select(func.count(AttendanceChange.id))) == 0


def test_a_trainer_marks_only_own_sessions(
    app: Flask, client, make_user, make_session, register, trainer
):
    other = make_user(email="altro@rete-milano.test", roles=(Role.TRAINER,))
    admin = make_user(email="admin-ls@rete-milano.test", roles=(Role.ADMIN,))
    person = make_user(org=PL)
    live = make_session()
    register(live, person)
    begin_now(live)
    with pytest.raises(Forbidden):
        attendance.record_marks(db.session, live.id, [Mark(person.id, PRESENT)], actor=other)
    db.session.rollback()

    login(client, other.email)
    roster = f"/live_sessions/{live.id}/roster"
    assert client.get(roster).status_code == 403
    assert client.get(f"/live_sessions/{live.id}/sign-in.pdf").status_code == 403
    assert client.get(f"/live_sessions/{live.id}/edit").status_code == 403
    form = {"rows-0-user_id": person.id, "rows-0-status": "present"}
    refused = post_form(client, f"/live_sessions/{live.id}/attendance", form, form_url="/")
    assert refused.status_code == 403

    own = app.test_client()
    login(own, trainer.email)
    done = post_form(own, f"/live_sessions/{live.id}/attendance", form, form_url=roster)
    assert done.status_code == 302
    assert attendance.attendance_by_user(db.session, live.id)[person.id].status == "present"

    administrator = app.test_client()
    login(administrator, admin.email)
    assert administrator.get(roster).status_code == 200


def _course_with_required_session(make_course, make_session):
    version = make_course(
        slug="accoglienza-in-aula", title="Accoglienza in aula", modules=("primo",)
    )
    live = make_session(course_id=version.course_id, required=True, title="Esercitazione in aula")
    return version, live


def test_attendance_completes_the_course_and_the_commitment(
    in_app_context, make_user, make_course, make_session, register, trainer
):
    person = make_user(name="Agente in Aula", org=PL, audience="polizia_locale")
    version, live = _course_with_required_session(make_course, make_session)
    pl = organisation_by_code(db.session, PL)
    audience_id = db.session.scalar(select(Audience.id).where(Audience.code == "polizia_locale"))
    definitions.save(
        db.session,
        definitions.CommitmentData(
            code="aula-pl",
            title="Formazione in aula per la Polizia Locale",
            audience_ids=[audience_id],
            required_course_ids=[version.course_id],
            target_percent=80,
            deadline=dt.date.today() + dt.timedelta(days=365),
            organisation_id=pl.id,
        ),
    )
    enrol(db.session, person, version, source=EnrolmentSource.SELF)
    assert complete_module(db.session, person, version, "primo") is None  # not yet
    register(live, person)
    begin_now(live)

    def status() -> Status:
        [report] = [
            r
            for r in evaluate(
                db.session, [pl.id], Moment.now(), user_id=person.id
            ).for_organisation(pl.id)
            if r.commitment.code == "aula-pl"
        ]
        [row] = report.rows
        return row.status

    assert status() is Status.IN_PROGRESS
    attendance.record_marks(db.session, live.id, [Mark(person.id, PRESENT)], actor=trainer)
    db.session.commit()
    completion = db.session.scalar(
        select(CourseCompletion).where(
            CourseCompletion.user_id == person.id, CourseCompletion.course_id == version.course_id
        )
    )
    assert completion is not None
    assert status() is Status.COMPLETE
    assert len(certificates_of(person.id, "course")) == 1
    assert len(certificates_of(person.id, "session")) == 1


def test_attendance_first_then_modules_completes_too(
    in_app_context, make_user, make_course, make_session, register, trainer
):
    person = make_user(org=PL)
    version, live = _course_with_required_session(make_course, make_session)
    enrol(db.session, person, version, source=EnrolmentSource.SELF)
    register(live, person)
    begin_now(live)
    partial = [Mark(person.id, PARTIAL, 60)]
    attendance.record_marks(db.session, live.id, partial, actor=trainer)
    # Partial attendance does not close the session item.
    assert complete_module(db.session, person, version, "primo") is None
    attendance.record_marks(db.session, live.id, [Mark(person.id, PRESENT)], actor=trainer)
    completion = check_completion(
        db.session,
        person,
        version,
        active_enrolment(db.session, person.id, version.course_id),
    )
    assert completion is None  # already recorded when the presence was marked
    assert (
        db.session.scalar(
            select(func.count(CourseCompletion.id)).where(CourseCompletion.user_id == person.id)
        )
        == 1
    )
