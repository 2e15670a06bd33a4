"""Results for trainers and the coordinator: aggregates with every cell under 5 withheld,
on the page and in the CSV, whatever the filter; and who may see them."""

from __future__ import annotations

import csv
import io

import pytest

from lms.accounts.models import Role
from tests.conftest import login


@pytest.fixture
def trainer(make_user):
    return make_user(roles=(Role.TRAINER,), org="CDM-ADI", audience="amministrazione")


@pytest.fixture
def course(make_course, trainer):
    return make_course(slug="corso-gradimento", user=trainer)


@pytest.fixture
def answered(make_user, course, finish, answer):
    """``answered(n, org, **values)``: n learners of ``org`` finish the course and answer."""

    def factory(n: int, org: str = "CDM-PL-NTDM", **values):
        for _ in range(n):
            person = make_user(org=org)
            finish(person, course)
            answer(person, course, **values)

    return factory


def page(client, course, **query) -> str:
    response = client.get(f"/surveys/{course.course_id}/results", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def rows(client, course, **query) -> list[list[str]]:
    response = client.get(f"/surveys/{course.course_id}/results.csv", query_string=query)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_four_responses_show_nothing(client, trainer, course, answered):
    answered(4, commento="Un commento riconoscibile.")
    login(client, trainer.email)
    html = page(client, course)
    assert "Risposte: &lt;5" in html
    assert "Un commento riconoscibile." not in html
    assert '<table class="table">' not in html
    data = rows(client, course)
    assert data[1] == ["", "", "<5", "<5", "<5", "<5", "<5", "<5", "<5"]
    assert len(data) == 2


def test_five_responses_show_counts_mean_and_comments(client, trainer, course, answered):
    answered(3, rilevanza=4, commento="Chiaro e concreto.")
    answered(2, rilevanza=2)
    login(client, trainer.email)
    html = page(client, course)
    assert "Risposte: 5" in html and '<table class="table">' in html
    assert "Chiaro e concreto." in html
    data = rows(client, course)
    by_key = {row[0]: row for row in data[1:]}
    # rilevanza: three 4s and two 2s: mean 3.20, every score count under 5 withheld.
    assert by_key["rilevanza"][2:] == ["5", "3.20", "<5", "<5", "<5", "<5", "<5"]
    # qualita: 5 for everyone (the fixture's score): the one full cell is shown.
    assert by_key["qualita"][2:] == ["5", "5.00", "<5", "<5", "<5", "<5", "5"]
    assert set(by_key) == {"rilevanza", "qualita", "utilita", "indipendenza"}


def test_a_filter_that_narrows_seven_to_three_hides_everything(client, trainer, course, answered):
    answered(4, org="CDM-PL-NTDM", commento="Dalla polizia locale.")
    answered(3, org="ASST-NIGUARDA", commento="Dall'ospedale.")
    login(client, trainer.email)
    everyone = page(client, course)
    assert "Risposte: 7" in everyone and "Dall&#39;ospedale." in everyone
    narrowed = page(client, course, organisation_type="sociosanitario")
    assert "Risposte: &lt;5" in narrowed
    assert "Dall&#39;ospedale." not in narrowed and '<table class="table">' not in narrowed
    assert rows(client, course, organisation_type="sociosanitario")[1][2] == "<5"
    assert rows(client, course, organisation_type="comune")[1][2] == "<5"
    assert page(client, course, version="1").count("Risposte: 7") == 1
    assert "Risposte: &lt;5" in page(client, course, month_from="2999-01")


def test_who_sees_the_results(app, make_user, course, answered):
    answered(5)
    other_trainer = make_user(roles=(Role.TRAINER,))
    coordinator = make_user(roles=(Role.COORDINATOR,))
    learner = make_user(org="CDM-PL-NTDM")
    for person, status in (
        (learner, 403),
        (other_trainer, 403),
        (coordinator, 200),
    ):
        client = app.test_client()
        login(client, person.email)
        for suffix in ("results", "results.csv"):
            got = client.get(f"/surveys/{course.course_id}/{suffix}")
            assert got.status_code == status, (person.email, suffix)
        index = client.get("/surveys/").get_data(as_text=True)
        assert (f"/surveys/{course.course_id}/results" in index) == (status == 200)
    client = app.test_client()
    login(client, coordinator.email)
    assert client.get("/surveys/999999/results").status_code == 404


def test_results_stay_readable_after_the_course_is_archived(app, client, trainer, course, answered):
    from courses import authoring
    from lms import db
    from tests.conftest import service_context

    answered(5)
    with service_context(app):
        authoring.set_archived(db.session, course.course, True, actor=trainer)
        db.session.commit()
    login(client, trainer.email)
    html = page(client, course)
    assert course.title in html and "Risposte: 5" in html
