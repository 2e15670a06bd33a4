"""Two submits of one attempt at the same moment: scored once, same result for both."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from courses.enrolment import enrol
from courses.models import CourseCompletion, EnrolmentSource
from lms import db
from lms.accounts.services import create_user
from lms.migrate import upgrade
from lms.organisations.services import seed_registry
from quizzes.models import Attempt, AttemptAnswer
from tests.conftest import csrf_token, login, make_test_app, own_database, separate_database
from tests.quizzes.helpers import quiz_course_files
from tests.quizzes.test_attempts import answers

PASSWORD = "password-concorrente"


def test_concurrent_double_submit_is_scored_once(tmp_path: Path, make_course):
    with separate_database(tmp_path) as url, own_database():
        app = make_test_app(tmp_path, url)
        try:
            with app.app_context():
                upgrade(app)
                seed_registry(db.session)
                user = create_user(
                    db.session, "doppio@rete-milano.test", "Doppio Invio", password=PASSWORD
                )
                version = make_course(quiz_course_files())
                enrol(db.session, user, version, source=EnrolmentSource.SELF)
                db.session.commit()
            clients = [app.test_client(), app.test_client()]
            for client in clients:
                login(client, "doppio@rete-milano.test", PASSWORD)
            page = "/quizzes/corso-quiz/triage/"
            started = clients[0].post(
                page + "start", data={"csrf_token": csrf_token(clients[0], page)}
            )
            attempt_url = started.headers["Location"]
            html = clients[0].get(attempt_url).get_data(as_text=True)
            forms = [
                {"csrf_token": csrf_token(c, "/"), **answers(html, right=True)} for c in clients
            ]
            barrier = threading.Barrier(2)
            responses: list = [None, None]
            errors: list[BaseException] = []

            def submit(index: int) -> None:
                try:
                    barrier.wait(timeout=20)
                    responses[index] = clients[index].post(attempt_url, data=forms[index])
                except BaseException as error:
                    errors.append(error)

            threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not errors, errors
            assert [r.status_code for r in responses] == [302, 302]
            assert responses[0].headers["Location"] == responses[1].headers["Location"]
            assert responses[0].headers["Location"].endswith("/result")
            with app.app_context():
                assert db.session.scalar(select(func.count(Attempt.id))) == 1
                assert db.session.scalar(select(func.count(AttemptAnswer.id))) == 4
                assert db.session.scalar(select(func.count(CourseCompletion.id))) == 1
        finally:
            app.extensions["lms"].engine.dispose()
