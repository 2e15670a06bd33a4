"""Prerequisites at enrolment: a person enrols themself only once the prerequisite courses
are complete (told which are missing); a referent may enrol ahead, and the modules stay
closed until then."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from courses.enrolment import active_enrolment, enrol, enrol_members, unenrol
from courses.models import EnrolmentSource
from courses.progress import complete_module, require_module_access
from lms import db
from lms.audit import AuditEntry
from lms.errors import Forbidden
from lms.organisations.services import organisation_by_code
from tests.conftest import login, post_form

PL = "CDM-PL-NTDM"


@pytest.fixture
def chain(make_course):
    """Two basic courses and an advanced one that requires both."""
    base = make_course(slug="corso-base", title="Corso di base")
    rete = make_course(slug="rete-locale", title="La rete locale")
    advanced = make_course(
        slug="corso-avanzato", title="Corso avanzato", prerequisites="[corso-base, rete-locale]"
    )
    return base, rete, advanced


def complete(user, version) -> None:
    enrol(db.session, user, version, source=EnrolmentSource.SELF)
    complete_module(db.session, user, version, "primo")
    complete_module(db.session, user, version, "secondo")


def test_self_enrolment_names_every_missing_course_until_all_are_complete(
    in_app_context, make_user, chain
):
    user = make_user()
    base, rete, advanced = chain
    message = "devi prima completare: Corso di base, La rete locale"
    with pytest.raises(Forbidden, match=message):
        enrol(db.session, user, advanced, source=EnrolmentSource.SELF)
    assert active_enrolment(db.session, user.id, advanced.course_id) is None
    complete(user, base)
    with pytest.raises(Forbidden, match="devi prima completare: La rete locale\\.$"):
        enrol(db.session, user, advanced, source=EnrolmentSource.SELF)
    complete(user, rete)
    enrolment = enrol(db.session, user, advanced, source=EnrolmentSource.SELF)
    assert active_enrolment(db.session, user.id, advanced.course_id) is enrolment


def test_a_returning_learner_is_checked_again_and_an_active_enrolment_is_kept(
    in_app_context, make_user, make_course, chain
):
    user = make_user()
    base, rete, advanced = chain
    enrol(db.session, user, advanced, source=EnrolmentSource.REFERENT)
    # Already enrolled (by the referent): asking again changes nothing and refuses nothing.
    assert enrol(db.session, user, advanced, source=EnrolmentSource.SELF).source == "referent"
    unenrol(db.session, user.id, advanced.course_id)
    with pytest.raises(Forbidden, match="Corso di base"):
        enrol(db.session, user, advanced, source=EnrolmentSource.SELF)
    assert active_enrolment(db.session, user.id, advanced.course_id) is None


def test_a_referent_enrols_ahead_and_the_modules_wait_for_the_prerequisites(
    in_app_context, make_user, chain
):
    referent = make_user(org=PL, referent=True)
    ready, waiting = make_user(org=PL), make_user(org=PL)
    base, rete, advanced = chain
    complete(ready, base)
    complete(ready, rete)
    org = organisation_by_code(db.session, PL)
    added = enrol_members(db.session, org.id, advanced, [ready.id, waiting.id], by=referent)
    db.session.commit()
    assert added == 2
    assert active_enrolment(db.session, waiting.id, advanced.course_id) is not None
    with pytest.raises(Forbidden, match="Prima di questo corso devi completare"):
        require_module_access(db.session, waiting, advanced, "primo")
    enrolment, _status = require_module_access(db.session, ready, advanced, "primo")
    assert enrolment.user_id == ready.id
    details = {
        entry.subject_id: entry.details["waiting_for_prerequisites"]
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "enrolment.by_referent")
        )
    }
    assert details == {ready.id: "", waiting.id: "Corso di base, La rete locale"}


def test_the_course_page_says_what_is_missing_when_enrolment_is_refused(
    app, client, make_user, chain
):
    user = make_user(email="nuova@rete-milano.test")
    login(client, user.email)
    page = post_form(
        client,
        "/courses/corso-avanzato/enrol",
        {},
        form_url="/courses/corso-avanzato/",
        follow_redirects=True,
    )
    text = page.get_data(as_text=True)
    assert "devi prima completare: Corso di base, La rete locale" in text
    with app.app_context():
        assert active_enrolment(db.session, user.id, chain[2].course_id) is None
