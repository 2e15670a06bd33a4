"""Personal data: the export says which questionnaires a person answered; erasure removes
that, and the anonymous answers stay for the statistics."""

from __future__ import annotations

from sqlalchemy import func, select

from lms import db, privacy
from lms.accounts.models import Role
from surveys.models import SurveyMarker, SurveyResponse
from tests.conftest import service_context


def test_export_lists_the_answered_courses_and_erasure_keeps_the_answers(
    app, make_user, make_course, finish, answer
):
    person = make_user(email="anna.gradimento@rete-milano.test")
    admin = make_user(roles=(Role.ADMIN,))
    version = make_course(title="Corso sul gradimento")
    finish(person, version)
    answer(person, version, commento="Bello.")
    with service_context(app):
        data = privacy.export_user(db.session, person.id, actor=person)
        assert data["surveys"]["questionnaires_answered"] == [
            {"course": "Corso sul gradimento", "version": version.number}
        ]
        assert "Bello." not in str(data)  # the answers are nobody's
        privacy.erase_user(db.session, person.id, actor=admin, confirm_email=person.email)
        db.session.commit()
    count = select(func.count()).select_from
    assert db.session.scalar(count(SurveyMarker)) == 0
    assert db.session.scalar(count(SurveyResponse)) == 1
