"""Learner and trainer pages, through the test client."""

from __future__ import annotations

import io
import re
import zipfile

from flask import Flask

from courses import authoring
from lms import db
from lms.accounts.models import Role
from lms.organisations.services import organisation_by_code
from tests.conftest import csrf_token, login, post_form
from tests.courses.helpers import course_files

STUDY_TOKEN_RE = re.compile(r'data-study-token="([^"]+)"')


def test_catalogue_filters_by_audience_and_search(app: Flask, make_user, make_course):
    user = make_user(org="CDM-PL-NTDM", audience="polizia_locale")
    make_course(slug="per-tutti", title="Corso per tutti")
    make_course(slug="per-pl", title="Corso Polizia", audiences="[polizia_locale]")
    make_course(slug="per-scuola", title="Corso Scuola", audiences="[scuola]")
    client = app.test_client()
    login(client, user.email)
    own = client.get("/courses/").get_data(as_text=True)  # defaults to the learner's profile
    assert "Corso per tutti" in own and "Corso Polizia" in own and "Corso Scuola" not in own
    everything = client.get("/courses/?audience=").get_data(as_text=True)
    assert "Corso Scuola" in everything
    searched = client.get("/courses/?audience=&q=scuola").get_data(as_text=True)
    assert "Corso Scuola" in searched and "Corso per tutti" not in searched


def test_operator_enrols_reads_leaves_and_resumes(app: Flask, make_user, make_course):
    user = make_user()
    make_course(modules=("alfa", "beta", "gamma"))
    client = app.test_client()
    login(client, user.email)
    page = "/courses/corso-prova/"
    assert "Iscriviti" in client.get(page).get_data(as_text=True)
    # Modules are closed before enrolment.
    assert client.get(page + "modules/alfa").status_code == 302
    post_form(client, page + "enrol", {}, form_url=page)
    module = client.get(page + "modules/alfa")
    assert module.status_code == 200 and "Testo della lezione alfa" in module.get_data(as_text=True)
    token = csrf_token(client, page)
    study = STUDY_TOKEN_RE.search(module.get_data(as_text=True)).group(1)
    seen = client.post(
        page + "modules/alfa/seen", data={"token": study}, headers={"X-CSRFToken": token}
    )
    assert seen.status_code == 200 and seen.json["remaining"] == 0
    done = post_form(client, page + "modules/alfa/complete", {}, form_url=page + "modules/alfa")
    assert done.headers["Location"].endswith("/modules/beta")
    beta = client.get(page + "modules/beta").get_data(as_text=True)
    study = STUDY_TOKEN_RE.search(beta).group(1)
    client.post(page + "modules/beta/seen", data={"token": study}, headers={"X-CSRFToken": token})
    # Log out and in again: the course page offers to continue from beta.
    client.post("/account/logout", data={"csrf_token": token})
    login(client, user.email)
    course_page = client.get(page).get_data(as_text=True)
    assert "Continua da: Beta" in course_page and "33\u00a0%" in course_page


def test_get_pages_do_not_change_progress(app: Flask, make_user, make_course):
    from sqlalchemy import func, select

    from courses.models import ModuleProgress

    user = make_user()
    make_course()
    client = app.test_client()
    login(client, user.email)
    post_form(client, "/courses/corso-prova/enrol", {}, form_url="/courses/corso-prova/")
    client.get("/courses/corso-prova/modules/primo")
    assert db.session.scalar(select(func.count(ModuleProgress.id))) == 0


def test_seen_without_csrf_is_refused(app: Flask, make_user, make_course):
    user = make_user()
    make_course()
    client = app.test_client()
    login(client, user.email)
    assert client.post("/courses/corso-prova/modules/primo/seen").status_code == 400


def test_operator_cannot_author(app: Flask, make_user):
    user = make_user()
    client = app.test_client()
    login(client, user.email)
    assert client.get("/courses/author/").status_code == 403
    assert client.post("/courses/author/preview", json={"markdown": "x"}).status_code in (400, 403)


def _zip(files: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(f"corso/{name}", content)
    buffer.seek(0)
    return buffer


def test_trainer_upload_shows_line_numbered_errors_then_publishes(app: Flask, make_user):
    trainer = make_user(roles=(Role.TRAINER,))
    client = app.test_client()
    login(client, trainer.email)
    broken = course_files(audiences="[pompieri]")
    response = client.post(
        "/courses/author/upload",
        data={
            "csrf_token": csrf_token(client, "/courses/author/"),
            "archive": (_zip(broken), "corso.zip"),
            "publish": "y",
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "course.md:5: pubblico sconosciuto: pompieri" in html
    fixed = client.post(
        "/courses/author/upload",
        data={
            "csrf_token": csrf_token(client, "/courses/author/"),
            "archive": (_zip(course_files()), "corso.zip"),
            "publish": "y",
        },
        content_type="multipart/form-data",
    )
    assert fixed.status_code == 302
    assert "Pubblicata la versione 1" in client.get(fixed.headers["Location"]).get_data(
        as_text=True
    )


def test_trainer_edits_module_with_preview_and_publishes(app: Flask, make_user, make_course):
    trainer = make_user(roles=(Role.TRAINER,))
    make_course(user=trainer)
    client = app.test_client()
    login(client, trainer.email)
    editor = client.get("/courses/author/corso-prova/modules/primo")
    assert editor.status_code == 200 and "Testo della lezione primo" in editor.get_data(
        as_text=True
    )
    token = csrf_token(client, "/courses/author/corso-prova/modules/primo")
    preview = client.post(
        "/courses/author/preview",
        headers={"X-CSRFToken": token},
        json={"markdown": "**nuovo** <script>alert(1)</script>"},
    )
    assert preview.json["html"] == "<p><strong>nuovo</strong> </p>"
    edit = {"title": "Primo rivisto", "estimated_minutes": "12", "body": "Testo **rivisto**."}
    # "Testo rivisto." is 14 characters: 1 minute computed, at most 1 declared (1.5).
    refused = post_form(client, "/courses/author/corso-prova/modules/primo", edit)
    assert "estimated_minutes: 12 supera la durata calcolata dal contenuto (1 min" in (
        refused.get_data(as_text=True)
    )
    saved = post_form(
        client, "/courses/author/corso-prova/modules/primo", {**edit, "estimated_minutes": ""}
    )
    assert saved.status_code == 302
    diff = client.get("/courses/author/corso-prova/diff").get_data(as_text=True)
    assert "+Testo **rivisto**." in diff
    post_form(
        client, "/courses/author/corso-prova/publish", {}, form_url="/courses/author/corso-prova/"
    )
    learner_view = authoring.latest_published(
        db.session, authoring.get_course(db.session, "corso-prova").id
    )
    assert learner_view.number == 2 and learner_view.modules[0].title == "Primo rivisto"


def test_trainer_edit_with_broken_quiz_is_refused_and_draft_unchanged(
    app: Flask, make_user, make_course
):
    trainer = make_user(roles=(Role.TRAINER,))
    make_course(user=trainer)
    client = app.test_client()
    login(client, trainer.email)
    response = post_form(
        client,
        "/courses/author/corso-prova/modules/primo",
        {
            "title": "Primo",
            "estimated_minutes": "10",
            "body": "Testo\n\n![x](manca.png)\n",
        },
    )
    html = response.get_data(as_text=True)
    assert re.search(r"01-primo\.md:7: file non trovato", html), html
    course = authoring.get_course(db.session, "corso-prova")
    assert authoring.get_draft(db.session, course.id) is None  # nothing half-saved
    assert "manca.png" not in authoring.latest_published(db.session, course.id).modules[0].body_md


def test_trainer_cannot_edit_someone_elses_course(app: Flask, make_user, make_course):
    owner = make_user(roles=(Role.TRAINER,))
    other = make_user(roles=(Role.TRAINER,))
    make_course(user=owner)
    client = app.test_client()
    login(client, other.email)
    assert client.get("/courses/author/corso-prova/").status_code == 403
    upload = client.post(
        "/courses/author/upload",
        data={
            "csrf_token": csrf_token(client, "/courses/author/"),
            "archive": (_zip(course_files()), "corso.zip"),
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    assert "Non puoi modificare" in client.get("/courses/author/").get_data(as_text=True)


def test_referent_enrols_own_staff_page(app: Flask, make_user, make_course):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    staff = make_user(org="CDM-PL-NTDM", name="Agente Scelto")
    make_user(org="ASST-NIGUARDA", name="Estranea")
    make_course()
    org = organisation_by_code(db.session, "CDM-PL-NTDM")
    other = organisation_by_code(db.session, "ASST-NIGUARDA")
    client = app.test_client()
    login(client, referent.email)
    page = f"/courses/organisations/{org.id}/enrol"
    html = client.get(page).get_data(as_text=True)
    assert "Agente Scelto" in html and "Estranea" not in html
    assert client.get(f"/courses/organisations/{other.id}/enrol").status_code == 403
    response = post_form(client, page, {"course": "corso-prova", "member": str(staff.id)})
    assert response.status_code == 302
    from courses.enrolment import active_enrolment

    course = authoring.get_course(db.session, "corso-prova")
    assert active_enrolment(db.session, staff.id, course.id) is not None
