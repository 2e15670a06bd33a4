"""Issue 17, item 2: the home of each role, and the visitor's landing page.

A referent sees the organisation's state as a chart with groups of 1 to 4 people
withheld; a trainer their courses and recent results; a coordinator the network chart;
a visitor what the platform is, the public path, certificate checks and the login.
"""

from __future__ import annotations

import datetime as dt
import re

from lms import clock, db
from lms.accounts.models import Role
from quizzes.home import CourseResults
from tests.commitments.helpers import PL, bulk_staff, complete, make_commitment
from tests.conftest import login, service_context
from tests.courses.helpers import course_files

T0 = dt.datetime(2031, 3, 3, 9, 0, tzinfo=dt.UTC)


def page(app, user, url: str = "/") -> str:  # noqa: ANN001
    client = app.test_client()
    login(client, user.email)
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_referent_sees_the_state_as_a_chart_with_small_groups_withheld(
    app, make_user, make_course
):
    """Eight people: six not enrolled are said, two complete are withheld."""
    clock.set_now(T0)
    with service_context(app):
        course = make_course(slug="rete-home", title="Corso della Rete", modules=("primo",))
    with app.app_context():  # as the referent dashboard's own tests load people
        make_commitment([course], title="Impegno della Rete", deadline=dt.date(2031, 12, 31))
        referent = make_user(org=PL, referent=True, audience="amministrazione", name="Rita Neri")
        bulk_staff(PL, 6, prefix="homeagente")
        for name in ("Anna Uno", "Bruna Due"):
            complete(make_user(org=PL, name=name), course, T0 - dt.timedelta(days=10))
        db.session.commit()
    html = page(app, referent)
    assert "Formazione del personale" in html
    assert '<figure class="lms-chart">' in html and "Impegno della Rete" in html
    assert re.search(r'<th scope="row">Completato</th><td class="num">meno di 5</td>', html)
    assert re.search(r'<th scope="row">[^<]+</th><td class="num">6</td>', html)
    assert not re.search(r'<td class="num">2</td>', html)
    assert re.search(r'href="/commitments/organisations/\d+/"', html)  # the dashboard
    assert "Ciao, Rita" in html


def test_a_trainer_sees_their_courses_and_recent_results(app, make_user, make_course):
    clock.set_now(T0)
    trainer = make_user(roles=(Role.TRAINER,), name="Franca Bianchi")
    with service_context(app):
        make_course(course_files("curato", title="Corso curato"), user=trainer)
        db.session.commit()
    html = page(app, trainer)
    assert "I corsi che curi" in html and 'href="/courses/author/curato' in html
    assert "Risultati recenti dei quiz" in html
    assert "Corso curato" in html and '<td class="text-end">0</td>' in html  # no attempts


def test_recent_results_withhold_groups_of_fewer_than_five_people():
    four = CourseResults("a", "A", 4, 4, people=4)
    assert four.withheld and four.pass_rate is None
    one_person_five_times = CourseResults("a", "A", 5, 4, people=1)
    assert one_person_five_times.withheld and one_person_five_times.pass_rate is None
    assert CourseResults("a", "A", 5, 4, people=5).pass_rate == 80
    assert not CourseResults("a", "A", 0, 0).withheld


def test_a_coordinator_sees_the_network_chart(app, make_user, make_course):
    clock.set_now(T0)
    with service_context(app):
        course = make_course(slug="rete-coord", title="Corso della Rete", modules=("primo",))
        make_commitment([course], deadline=dt.date(2031, 12, 31))
        bulk_staff(PL, 3, prefix="coordagente")
        coordinator = make_user(roles=(Role.COORDINATOR,), name="Carla Verdi")
        db.session.commit()
    html = page(app, coordinator)
    assert "Impegni formativi della Rete" in html
    assert "Copertura della Rete per tipo di organizzazione" in html
    assert "n.d." in html  # three people in scope: withheld
    assert 'href="/commitments/network/"' in html


def test_a_visitor_finds_the_platform_the_public_path_and_verification(app, make_course):
    with service_context(app):
        make_course(
            slug="sensibilizzazione",
            title="Conoscere la violenza",
            modules=("primo",),
            extra="public: true\nevidence: awareness\n",
        )
        db.session.commit()
    html = app.test_client().get("/").get_data(as_text=True)
    assert "Protocollo Milano" in html
    assert 'href="/account/login"' in html
    assert 'href="/certificates/verify"' in html
    assert 'href="/courses/public/sensibilizzazione/"' in html
    assert "/" not in re.sub(r"<[^>]+>", "", html.split("<main", 1)[1].split("</main>")[0])
