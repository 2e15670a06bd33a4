"""The referent's person page carries the time actually tracked per course: what the
completion recorded for a completed course, the open cycle's time for one in progress."""

from __future__ import annotations

import datetime as dt

from courses.enrolment import enrol
from courses.models import EnrolmentSource, ModuleProgress
from lms import clock, db
from tests.commitments.helpers import PL, complete, make_commitment, org_id
from tests.conftest import login

NOW = dt.datetime(2030, 5, 6, 10, 0, tzinfo=dt.UTC)


def test_person_page_shows_tracked_time_in_hours_and_minutes(app, make_user, two_courses):
    network, specific = two_courses
    clock.set_now(NOW)
    with app.app_context():
        network, specific = db.session.merge(network), db.session.merge(specific)
        make_commitment([network, specific], deadline=dt.date(2031, 12, 31))
        referent = make_user(org=PL, referent=True, audience="amministrazione")
        anna = make_user(org=PL, name="Anna Tempo")
        done = complete(anna, network, NOW - dt.timedelta(days=2))
        done.tracked_seconds = 3 * 3600 + 5 * 60 + 59  # hand-built: 3 h 05 min 59 s
        enrol(db.session, anna, specific, source=EnrolmentSource.SELF)
        db.session.add(
            ModuleProgress(
                user_id=anna.id,
                course_id=specific.course_id,
                cycle=1,
                module_slug="primo",
                time_spent_seconds=25 * 60,
            )
        )
        db.session.commit()
        org = org_id(PL)
    client = app.test_client()
    login(client, referent.email)
    page = client.get(f"/commitments/organisations/{org}/people/{anna.id}").get_data(as_text=True)
    assert "Tempo tracciato" in page
    rows = {line.split("</th>")[0]: line for line in page.split('<tr><th scope="row">')[1:]}
    [network_row] = [line for title, line in rows.items() if "Corso della Rete" in title]
    [specific_row] = [line for title, line in rows.items() if "Corso Polizia Locale" in title]
    assert '<td data-label="Tempo tracciato">3:05</td>' in network_row
    assert '<td data-label="Tempo tracciato">0:25</td>' in specific_row
    assert "tempo tracciato 3:05" in page  # the completion in the history
