"""Quiz statistics against a hand-computed example, and the trainer's pages."""

from __future__ import annotations

import re
import statistics as pystats

import pytest
from flask import Flask

from courses import authoring
from courses.enrolment import enrol
from courses.models import EnrolmentSource
from lms import db
from lms.accounts.models import Role
from lms.organisations.services import organisation_by_code
from quizzes import attempts as service
from quizzes import stats
from tests.conftest import login
from tests.quizzes.helpers import quiz_course_files


def _answer(attempt, choices: dict[str, list[str] | str]) -> dict[str, object]:
    """Responses by option text, translated to the attempt's tokens."""
    responses: dict[str, object] = {}
    shown = {q["id"]: q for q in attempt.presented["questions"]}
    for question_id, wanted in choices.items():
        question = shown[question_id]
        if question["type"] == "short":
            responses[question_id] = [wanted]
            continue
        texts = [wanted] if isinstance(wanted, str) else wanted
        responses[question_id] = [o["id"] for o in question["options"] if o["text"] in texts]
    return responses


ANSWERS = {  # person: answers, expected percent
    "A": (
        {
            "codice": "Codice giallo",
            "garanzie": ["Stanza dedicata", "Figli con la madre"],
            "obi": "Vero",
            "strumento": "risposta segreta da5",
        },
        100.0,
    ),
    "B": (
        {
            "codice": "Codice giallo",
            "garanzie": ["Stanza dedicata"],
            "obi": "Falso",
            "strumento": "altro",
        },
        37.5,
    ),
    "C": (
        {
            "codice": "Codice bianco",
            "garanzie": [],
            "obi": "Vero",
            "strumento": "RISPOSTA SEGRETA DA5",
        },
        50.0,
    ),
    "D": (
        {
            "codice": "Codice bianco",
            "garanzie": ["Stanza dedicata", "Denuncia immediata"],
            "obi": "Falso",
            "strumento": "",
        },
        0.0,
    ),
    "E": (
        {
            "codice": "Codice giallo",
            "garanzie": ["Stanza dedicata", "Figli con la madre"],
            "obi": "Vero",
            "strumento": "risposta segreta da5",
        },
        100.0,
    ),
}
POLICE = "AB"  # the others are triage staff of an ASST


@pytest.fixture
def graded(app: Flask, make_user, make_course):
    with app.app_context():
        return _grade(make_user, make_course)


def _grade(make_user, make_course):
    version = make_course(quiz_course_files())
    module = version.modules[0]
    people = {}
    for name, (choices, expected) in ANSWERS.items():
        org = "CDM-PL-NTDM" if name in POLICE else "ASST-NIGUARDA"
        user = make_user(org=org, audience="polizia_locale" if name in POLICE else "triage_asst")
        enrol(db.session, user, version, source=EnrolmentSource.SELF)
        attempt = service.start_attempt(db.session, user, version, module)
        done = service.submit_attempt(
            db.session, user, attempt.id, _answer(attempt, {k: v for k, v in choices.items() if v})
        )
        assert float(done.percent) == pytest.approx(expected), name
        people[name] = user
    db.session.commit()
    return version, people


def test_statistics_match_the_hand_computed_example(graded):
    version, _people = graded
    quiz = service.quiz_of(db.session, version.modules[0])
    result = stats.quiz_stats(db.session, version.course_id, "triage", service.spec_of(quiz))
    assert result.attempts == 5 and result.passed == 2 and not result.withheld
    assert result.pass_rate == pytest.approx(40.0)
    assert result.mean_percent == pytest.approx((100 + 37.5 + 50 + 0 + 100) / 5)
    by_id = {q.question_id: q for q in result.questions}
    codice = by_id["codice"]
    assert codice.facility == pytest.approx(60.0)
    # Discrimination: correlation of the question's score with the rest of the quiz.
    x = [1, 1, 0, 0, 1]
    rest = [(4 - 1) / 3, (1.5 - 1) / 3, 2 / 3, 0 / 3, (4 - 1) / 3]
    assert codice.discrimination == pytest.approx(pystats.correlation(x, rest))
    assert {text: n for _id, text, n, _right in codice.options} == {
        "Codice bianco": 2,
        "Codice giallo": 3,
    }
    garanzie = by_id["garanzie"]
    assert garanzie.facility == pytest.approx((1 + 0.5 + 0 + 0 + 1) / 5 * 100)
    assert by_id["strumento"].facility == pytest.approx(60.0)


def test_true_false_answers_are_counted(graded):
    """Three said "Vero", two "Falso" (the counts were always 0: the answer was stored as
    Python's True/False, not as the option ids the statistics read)."""
    version, _people = graded
    quiz = service.quiz_of(db.session, version.modules[0])
    result = stats.quiz_stats(db.session, version.course_id, "triage", service.spec_of(quiz))
    obi = {q.question_id: q for q in result.questions}["obi"]
    assert {option_id: n for option_id, _text, n, _right in obi.options} == {
        "true": 3,
        "false": 2,
    }
    assert [right for *_rest, right in obi.options] == [True, False]


def test_filters_narrowing_to_fewer_than_five_attempts_show_nothing_else(graded):
    version, _people = graded
    quiz = service.quiz_of(db.session, version.modules[0])
    spec = service.spec_of(quiz)
    police = organisation_by_code(db.session, "CDM-PL-NTDM").id
    only_police = stats.quiz_stats(
        db.session, version.course_id, "triage", spec, organisation_id=police
    )
    assert only_police.withheld and only_police.questions == []
    assert only_police.pass_rate is None and only_police.mean_percent is None
    triage = stats.quiz_stats(
        db.session, version.course_id, "triage", spec, audience_code="triage_asst"
    )
    assert triage.withheld  # three people
    header_only = stats.stats_csv(only_police).splitlines()
    assert len(header_only) == 1 and header_only[0].startswith("question_id")
    everyone = stats.quiz_stats(db.session, version.course_id, "triage", spec)
    assert not everyone.withheld and everyone.attempts == 5


def test_trainer_sees_statistics_and_csv_operator_does_not(graded, app: Flask, make_user):
    version, people = graded
    trainer = make_user(roles=(Role.TRAINER,))
    course = authoring.get_course(db.session, "corso-quiz")
    from courses.models import CourseOwner

    db.session.add(CourseOwner(course_id=course.id, user_id=trainer.id))
    db.session.commit()
    client = app.test_client()
    login(client, trainer.email)
    page = client.get("/quizzes/stats/corso-quiz/").get_data(as_text=True)
    assert "5 tentativi" in page and "superati: 40,0\u00a0%" in page  # Italian: 40,0 %
    assert "<svg" in page and "Tentativi superati, modulo per modulo" in page
    for person in people.values():
        assert person.full_name not in page or person.full_name == "Persona di Prova"
    csv_text = client.get("/quizzes/stats/corso-quiz/triage.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("question_id,type,attempts")
    assert "codice,single,5,60.0" in csv_text  # files for machines keep the dot
    police = organisation_by_code(db.session, "CDM-PL-NTDM").id
    filtered = client.get(f"/quizzes/stats/corso-quiz/?organisation={police}")
    filtered_page = filtered.get_data(as_text=True)
    assert "Meno di 5 persone" in filtered_page and "Codice giallo" not in filtered_page
    trainer.locale = "en"
    db.session.commit()
    assert "40.0%" in client.get("/quizzes/stats/corso-quiz/").get_data(as_text=True)
    operator = app.test_client()
    login(operator, people["A"].email)
    assert operator.get("/quizzes/stats/corso-quiz/").status_code == 403


def _trainer_client(app: Flask, make_user):
    from courses.models import CourseOwner

    trainer = make_user(roles=(Role.TRAINER,))
    course = authoring.get_course(db.session, "corso-quiz")
    db.session.add(CourseOwner(course_id=course.id, user_id=trainer.id))
    db.session.commit()
    client = app.test_client()
    login(client, trainer.email)
    return trainer, client


def _figure(page: str, title: str):
    """The chart whose SVG title is ``title``, parsed as XML (it must be well formed)."""
    import xml.etree.ElementTree as ET

    for chunk in re.findall(r'<figure class="lms-chart">.*?</figure>', page, re.S):
        if title in chunk:
            return ET.fromstring(chunk)
    raise AssertionError(f"no chart titled {title!r}")


def test_mean_score_per_question_drawn_with_its_table(graded, app: Flask, make_user):
    version, _people = graded
    trainer, client = _trainer_client(app, make_user)
    page = client.get("/quizzes/stats/corso-quiz/").get_data(as_text=True)
    figure = _figure(page, "Punteggio medio per domanda: Triage")
    svg = "{http://www.w3.org/2000/svg}"
    bars = [r for r in figure.iter(f"{svg}rect") if r.get("fill") not in (None, "none")]
    assert len(bars) == 4  # codice, garanzie, obi, strumento
    full = max(float(r.get("width")) for r in figure.iter(f"{svg}rect") if r.get("fill") == "none")
    widths = [float(r.get("width")) / full for r in bars]
    # facility: codice 60 %, garanzie 50 %, obi 60 % (A, C, E said true), strumento 60 %
    assert widths == pytest.approx([0.6, 0.5, 0.6, 0.6], abs=0.01)
    rows = [
        (row.find("th").text, row.find("td").text)
        for row in figure.iter("tr")
        if row.find("td") is not None
    ]
    assert [value for _label, value in rows] == ["60\u00a0%", "50\u00a0%", "60\u00a0%", "60\u00a0%"]
    assert rows[0][0].startswith("1. Quale codice")
    assert " style=" not in page
    police = organisation_by_code(db.session, "CDM-PL-NTDM").id
    filtered = client.get(f"/quizzes/stats/corso-quiz/?organisation={police}")
    assert "Punteggio medio per domanda" not in filtered.get_data(as_text=True)  # 2 people
    trainer.locale = "en"
    db.session.commit()
    page = client.get("/quizzes/stats/corso-quiz/").get_data(as_text=True)
    assert "60%" in page and "\u00a0%" not in page


def test_one_persons_five_attempts_stay_withheld_until_five_people(
    app: Flask, make_user, make_course
):
    """The small-cell rule counts people: five attempts of one person are still hers."""
    with app.app_context():
        _one_person_then_five(make_user, make_course)


def _one_person_then_five(make_user, make_course) -> None:
    version = make_course(quiz_course_files())
    module = version.modules[0]
    quiz = service.quiz_of(db.session, module)
    spec = service.spec_of(quiz)
    wrong, right = ANSWERS["D"][0], ANSWERS["A"][0]

    def attempt(user, choices) -> None:
        started = service.start_attempt(db.session, user, version, module)
        service.submit_attempt(
            db.session,
            user,
            started.id,
            _answer(started, {k: v for k, v in choices.items() if v}),
        )

    alone = make_user(org="ASST-NIGUARDA", audience="triage_asst")
    enrol(db.session, alone, version, source=EnrolmentSource.SELF)
    for _ in range(5):
        attempt(alone, wrong)
    db.session.commit()
    result = stats.quiz_stats(db.session, version.course_id, "triage", spec)
    assert result.withheld and result.questions == [] and result.pass_rate is None
    assert stats.stats_csv(result).count("\n") == 1  # the header alone
    others = []
    for _ in range(4):
        person = make_user(org="ASST-NIGUARDA", audience="triage_asst")
        enrol(db.session, person, version, source=EnrolmentSource.SELF)
        attempt(person, right)
        others.append(person)
    db.session.commit()
    result = stats.quiz_stats(db.session, version.course_id, "triage", spec)
    assert not result.withheld and result.people == 5 and result.attempts == 9
    assert result.pass_rate == pytest.approx(400 / 9)
    obi = next(q for q in result.questions if q.question_id == "obi")
    assert {text: n for _id, text, n, _right in obi.options} == {"Vero": 4, "Falso": 5}
