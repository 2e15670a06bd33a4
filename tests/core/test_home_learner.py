"""Issue 17, item 2: an operator's home is a to-do list.

What the organisation's commitment asks (course, deadline, late), the progress of each
course with "Continua" to the first module not completed, the certificate of a completed
course, and a renewal button only inside the renewal window. The clock is fixed at
instants of its own (2031), so the tests pass on any date.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from courses.enrolment import enrol
from courses.models import EnrolmentSource
from courses.progress import complete_module
from lms import clock, db
from tests.commitments.helpers import PL, make_commitment
from tests.conftest import login, service_context

T0 = dt.datetime(2031, 3, 3, 9, 0, tzinfo=dt.UTC)
DEADLINE = dt.date(2031, 6, 30)


@pytest.fixture
def operator(app, make_user, make_course):  # noqa: ANN001, ANN201
    """Maria, Polizia Locale, with a commitment asking for a two-module course by 30 June
    2031 and a one-module course (12-month validity) completed at T0."""
    clock.set_now(T0)
    with service_context(app):
        required = make_course(
            slug="obbligo", title="Corso obbligatorio", modules=("primo", "secondo")
        )
        done = make_course(
            slug="finito", title="Corso finito", modules=("primo",), extra="renewal_months: 12\n"
        )
        maria = make_user(name="Maria Rossi", org=PL)
        make_commitment([required], title="Formazione di base PL", deadline=DEADLINE)
        enrol(db.session, maria, required, source=EnrolmentSource.SELF)
        complete_module(db.session, maria, required, "primo", now=T0)
        enrol(db.session, maria, done, source=EnrolmentSource.SELF)
        assert complete_module(db.session, maria, done, "primo", now=T0) is not None
        db.session.commit()
    return maria


def home(app, user) -> str:  # noqa: ANN001
    client = app.test_client()
    login(client, user.email)
    page = client.get("/")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def todo_section(html: str) -> str:
    match = re.search(r'<h2 id="widget-\d+" class="h4">Da fare</h2>(.*?)</section>', html, re.S)
    assert match, "no 'Da fare' on the home page"
    return match.group(1)


def test_the_home_greets_without_slashes_and_puts_da_fare_first(app, operator):
    html = home(app, operator)
    assert "Ciao, Maria" in html
    assert "Benvenuta/o" not in html and "iscritta/o" not in html
    headings = re.findall(r'<h2 id="widget-\d+" class="h4">([^<]+)</h2>', html)
    assert headings[0] == "Da fare"
    assert headings.index("I miei corsi") < headings.index("I miei attestati")


def test_the_commitment_shows_its_course_and_deadline_and_is_late_after_it(app, operator):
    todo = todo_section(home(app, operator))
    assert "Formazione di base PL" in todo
    assert "Corso obbligatorio" in todo and 'href="/courses/obbligo/"' in todo
    assert "30 giugno 2031" in todo
    assert "in ritardo" not in todo
    assert "in corso" in todo  # the course itself, one module of two done

    clock.set_now(dt.datetime(2031, 6, 10, 9, 0, tzinfo=dt.UTC))  # 20 days left
    assert "scadenza vicina" in todo_section(home(app, operator))

    clock.set_now(dt.datetime(2031, 7, 2, 9, 0, tzinfo=dt.UTC))  # deadline passed
    todo = todo_section(home(app, operator))
    assert re.search(r'class="badge bg-danger todo-status">in ritardo<', todo)
    assert "Scadenza passata: 30 giugno 2031" in todo


def test_continua_points_to_the_first_module_not_completed(app, operator):
    html = home(app, operator)
    link = re.search(r'class="btn btn-primary btn-sm home-continue" href="([^"]+)">Continua', html)
    assert link and link.group(1) == "/courses/obbligo/modules/secondo"
    # The progress bar says it in words and to assistive technology, width as a class.
    assert "1 modulo completato su 2" in html
    assert 'aria-valuenow="50"' in html and "courses-w-50" in html
    assert not re.search(r"\sstyle=", html)


def test_a_completed_course_links_to_its_certificate(app, operator):
    html = home(app, operator)
    card = html[html.index("Corso finito") : html.index("Corso finito") + 2500]
    download = re.search(r"href=\"(/certificates/\d+/download)\">Scarica l'attestato", card)
    assert download, card
    client = app.test_client()
    login(client, operator.email)
    assert client.get(download.group(1)).mimetype == "application/pdf"


def test_renewal_is_a_date_outside_its_window_and_a_button_inside(app, operator):
    clock.set_now(T0 + dt.timedelta(days=30))
    html = home(app, operator)
    assert "Rinnovo disponibile dal 4 dicembre 2031" in html  # 3 March 2032 (a leap year) - 90 days
    assert 'action="/courses/finito/renew"' not in html

    clock.set_now(dt.datetime(2031, 12, 10, 9, 0, tzinfo=dt.UTC))
    html = home(app, operator)
    assert 'action="/courses/finito/renew"' in html
    assert "Rinnovo disponibile dal" not in html


def test_the_course_page_follows_the_same_renewal_rule(app, operator):
    """The course page used to offer "Avvia il rinnovo" on any completed course, which then
    answered that renewal opens 90 days before expiry."""
    client = app.test_client()
    login(client, operator.email)
    clock.set_now(T0 + dt.timedelta(days=30))
    page = client.get("/courses/finito/").get_data(as_text=True)
    assert "Rinnovo disponibile dal 4 dicembre 2031" in page
    assert 'action="/courses/finito/renew"' not in page
    assert re.search(r'href="/certificates/\d+/download"', page)
    clock.set_now(dt.datetime(2031, 12, 10, 9, 0, tzinfo=dt.UTC))
    assert 'action="/courses/finito/renew"' in client.get("/courses/finito/").get_data(as_text=True)
