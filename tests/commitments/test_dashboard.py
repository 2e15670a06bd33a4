"""The referent dashboard: headline, counts, matrix (filter, sort, pages), detail, enrol-all."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from courses.enrolment import enrol
from courses.models import Enrolment, EnrolmentSource
from lms import clock, db
from lms.organisations.services import end_membership
from tests.commitments.helpers import PL, bulk_staff, complete, make_commitment, org_id
from tests.conftest import login, post_form

NOW = dt.datetime.now(dt.UTC)


def setup_org(app, make_user, two_courses):
    network, specific = two_courses
    with app.app_context():
        commitment = make_commitment([network, specific], target=50)
        referent = make_user(org=PL, referent=True, name="Referente PL", audience="amministrazione")
        anna = make_user(org=PL, name="Anna Rossi")
        bruno = make_user(org=PL, name="Bruno Bianchi")
        carla = make_user(org=PL, name="Carla Verdi", audience="forze_ordine")
        complete(anna, network, NOW - dt.timedelta(days=10))
        complete(anna, specific, NOW - dt.timedelta(days=5))
        complete(bruno, network, NOW - dt.timedelta(days=3))
        db.session.commit()
        return commitment, referent, anna, bruno, carla


def test_dashboard_headline_counts_and_matrix(app, make_user, two_courses):
    commitment, referent, anna, bruno, carla = setup_org(app, make_user, two_courses)
    client = app.test_client()
    login(client, referent.email)
    page = client.get(f"/commitments/organisations/{org_id_of(app)}/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Impegno di prova" in html
    assert "50 %" in html  # one of two in scope (Carla's profile is out of scope)
    assert "Obiettivo raggiunto." in html
    assert "Anna Rossi" in html and "Bruno Bianchi" in html
    assert "Carla Verdi" not in html  # out of scope
    assert f"/people/{referent.id}" not in html  # amministrazione: out of scope
    assert html.count('<figure class="lms-chart">') == 2  # statuses, trend (lms.charts)
    assert '<path d="M' in html  # the trend's line
    assert "vittima" not in html.lower()
    # Filter by status, search by text, sort by status.
    only_progress = client.get(
        f"/commitments/organisations/{org_id_of(app)}/?status=in_progress"
    ).get_data(as_text=True)
    assert "Bruno Bianchi" in only_progress and "Anna Rossi" not in only_progress
    searched = client.get(f"/commitments/organisations/{org_id_of(app)}/?q=ROSSI")
    assert "Anna Rossi" in searched.get_data(as_text=True)
    assert "Bruno Bianchi" not in searched.get_data(as_text=True)
    by_status = client.get(f"/commitments/organisations/{org_id_of(app)}/?sort=status").get_data(
        as_text=True
    )
    assert by_status.index("Bruno Bianchi") < by_status.index("Anna Rossi")
    descending = client.get(
        f"/commitments/organisations/{org_id_of(app)}/?sort=name&dir=desc"
    ).get_data(as_text=True)
    assert descending.index("Bruno Bianchi") < descending.index("Anna Rossi")
    assert 'aria-sort="descending"' in descending


def org_id_of(app) -> int:
    with app.app_context():
        return org_id(PL)


def test_matrix_is_paginated_for_thousands(app, make_user, two_courses):
    network, specific = two_courses
    with app.app_context():
        make_commitment([network, specific])
        referent = make_user(org=PL, referent=True, audience="amministrazione")
        bulk_staff(PL, 120)
    client = app.test_client()
    login(client, referent.email)
    base = f"/commitments/organisations/{org_id_of(app)}/"
    first = client.get(base).get_data(as_text=True)
    assert "Persone 1–50 di 120" in first and "Pagina 1 di 3" in first
    assert "Agente 00000" in first and "Agente 00050" not in first
    third = client.get(base + "?page=3").get_data(as_text=True)
    assert "Persone 101–120 di 120" in third and "Agente 00119" in third
    beyond = client.get(base + "?page=99").get_data(as_text=True)
    assert "Pagina 3 di 3" in beyond


def test_person_detail_and_history(app, make_user, two_courses):
    _c, referent, anna, _bruno, _carla = setup_org(app, make_user, two_courses)
    client = app.test_client()
    login(client, referent.email)
    page = client.get(f"/commitments/organisations/{org_id_of(app)}/people/{anna.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Anna Rossi" in html and "Storico dei completamenti" in html
    assert "Completato" in html and "Corso Polizia Locale" in html
    # Removed from the organisation: the page still shows the history.
    with app.app_context():
        end_membership(db.session, org_id(PL), anna.id)
        db.session.commit()
    removed = client.get(f"/commitments/organisations/{org_id_of(app)}/people/{anna.id}")
    assert "Non fa più parte" in removed.get_data(as_text=True)
    assert "Anna Rossi" not in client.get(f"/commitments/organisations/{org_id_of(app)}/").get_data(
        as_text=True
    )


def test_enrol_all_asks_for_confirmation_then_enrols(app, make_user, two_courses):
    network, specific = two_courses
    _c, referent, anna, bruno, _carla = setup_org(app, make_user, two_courses)
    with app.app_context():
        dora = make_user(org=PL, name="Dora Nuova")
    client = app.test_client()
    login(client, referent.email)
    url = f"/commitments/organisations/{org_id_of(app)}/enrol"
    confirm = client.get(url).get_data(as_text=True)
    # Bruno lacks the PL course (he enrolled in the network course himself); Dora lacks both.
    assert "Conferma: crea 3 iscrizioni" in confirm
    with app.app_context():
        before = db.session.scalar(select(func.count(Enrolment.id)))
    assert before == 3  # the GET changed nothing
    done = post_form(client, url, {})
    assert done.status_code == 302 and "/jobs/" in done.headers["Location"]  # a worker enrols
    job_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "3 iscrizioni create." in job_page and "Completata" in job_page
    with app.app_context():
        enrolled = set(
            db.session.execute(
                select(Enrolment.user_id, Enrolment.course_id).where(Enrolment.ended_at.is_(None))
            )
        )
    assert (dora.id, network.course_id) in enrolled and (dora.id, specific.course_id) in enrolled
    assert (bruno.id, specific.course_id) in enrolled
    again = client.get(url).get_data(as_text=True)
    assert "Tutte le persone nel perimetro sono già iscritte" in again
    dashboard = client.get(f"/commitments/organisations/{org_id_of(app)}/").get_data(as_text=True)
    assert re.search(r"Non iniziato</span></span> <span class=\"n\">[12]</span>", dashboard)


def test_enrol_all_without_csrf_is_refused(app, make_user, two_courses):
    _c, referent, *_rest = setup_org(app, make_user, two_courses)
    client = app.test_client()
    login(client, referent.email)
    response = client.post(f"/commitments/organisations/{org_id_of(app)}/enrol")
    assert response.status_code == 400


def test_dashboard_for_a_chosen_past_date(app, make_user, two_courses):
    _c, referent, *_rest = setup_org(app, make_user, two_courses)
    client = app.test_client()
    login(client, referent.email)
    day = (NOW - dt.timedelta(days=30)).date().isoformat()
    html = client.get(f"/commitments/organisations/{org_id_of(app)}/?on={day}").get_data(
        as_text=True
    )
    # A month ago the staff were not yet members: nobody in scope.
    assert "Nessuna persona dell'organizzazione rientra" in html
    future = (NOW + dt.timedelta(days=30)).date().isoformat()
    html = client.get(f"/commitments/organisations/{org_id_of(app)}/?on={future}").get_data(
        as_text=True
    )
    assert "Scegli una data non successiva a oggi." in html


def test_home_widget_and_navigation_for_the_referent(app, make_user, two_courses):
    _c, referent, *_rest = setup_org(app, make_user, two_courses)
    client = app.test_client()
    login(client, referent.email)
    home = client.get("/").get_data(as_text=True)
    assert "Formazione del personale" in home and "Impegno di prova" in home
    assert "Impegni formativi" in home  # navigation item
    index = client.get("/commitments/")
    assert index.status_code == 302 and f"/organisations/{org_id_of(app)}/" in index.location


def test_dashboard_without_commitments_and_the_index_for_network_roles(app, make_user):
    from lms.accounts.models import Role

    with app.app_context():
        referent = make_user(org=PL, referent=True)
        coordinator = make_user(roles=(Role.COORDINATOR,))
    client = app.test_client()
    login(client, referent.email)
    html = client.get(f"/commitments/organisations/{org_id_of(app)}/?on=non-una-data")
    assert html.status_code == 200
    assert "Nessun impegno formativo riguarda questa organizzazione." in html.get_data(as_text=True)
    network_client = app.test_client()
    login(network_client, coordinator.email)
    index = network_client.get("/commitments/").get_data(as_text=True)
    assert "/commitments/network/" in index and "/commitments/manage/" in index
    assert "/commitments/organisations/" not in index  # no named staff for the coordinator


def test_people_enrolled_in_nothing_are_counted_even_when_late(app, make_user, two_courses):
    """Past the deadline everyone untrained is "late", which took precedence over "not
    enrolled" in the tiles: 12 people enrolled in nothing read as "Nessuna iscrizione 0"."""
    network, _specific = two_courses
    with app.app_context():
        make_commitment([network], deadline=(clock.now() - dt.timedelta(days=30)).date())
        referent = make_user(org=PL, referent=True, audience="amministrazione")
        bulk_staff(PL, 12)
        enrolled = make_user(org=PL, name="Elena Iscritta")
        enrol(db.session, enrolled, network, source=EnrolmentSource.SELF)
        db.session.commit()
    client = app.test_client()
    login(client, referent.email)
    html = client.get(f"/commitments/organisations/{org_id_of(app)}/").get_data(as_text=True)
    assert "12 persone non sono iscritte a nessun corso dell'impegno" in html
    assert "Iscrivile ai corsi" in html
    assert "Non iscritta/o" not in html and "iscritta/o" not in html
