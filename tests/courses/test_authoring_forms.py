"""Authoring without YAML (issue 17): course, modules and quiz from forms; front matter
round-trip; Italian YAML errors; co-authors; the draft page and publish confirmation."""

from __future__ import annotations

import re

from flask import Flask

from courses import authoring
from courses.models import CourseCoauthor, CourseOwner
from lms import db
from lms.accounts.models import Role
from lms.errors import FormatError, FormatIssue
from tests.conftest import login, post_form
from tests.courses.helpers import course_files

BASE = "/courses/author"


def _trainer_client(app: Flask, make_user, email: str | None = None):
    trainer = make_user(email=email, roles=(Role.TRAINER,))
    client = app.test_client()
    login(client, trainer.email)
    return trainer, client


def _new_course(client, slug: str = "corso-form", title: str = "Violenza: riconoscerla"):
    return post_form(
        client,
        f"{BASE}/new",
        {
            "slug": slug,
            "title": title,
            "summary": "Un corso scritto senza YAML.",
            "audiences": ["all"],
            "objectives": "Riconoscere i segnali\nSapere a chi rivolgersi",
            "prerequisites": "",
            "renewal_months": "",
            "evidence": "",
            "self_enrolment": "y",
            "intro": "Introduzione: il corso.",
        },
    )


def test_course_two_modules_and_quiz_from_forms_then_published(app: Flask, make_user):
    _trainer, client = _trainer_client(app, make_user)
    created = _new_course(client)
    assert created.status_code == 302, created.get_data(as_text=True)
    course_url = f"{BASE}/corso-form/"
    page = client.get(course_url).get_data(as_text=True)
    assert "<h1>Violenza: riconoscerla</h1>" in page  # the title, not the slug
    added = post_form(
        client,
        f"{BASE}/corso-form/modules/new",
        {"slug": "secondo", "title": "Secondo: i passi"},
        form_url=course_url,
    )
    assert added.status_code == 302
    question_url = f"{BASE}/corso-form/modules/secondo/quiz/questions/nuova"
    preview = post_form(
        client,
        question_url,
        {
            "qid": "codice",
            "type": "single",
            "text": "Quale *codice* si assegna?",
            "options-0-text": "Giallo",
            "options-0-correct": "y",
            "options-1-text": "Bianco",
            "options-1-feedback": "No: le linee guida dicono giallo.",
            "points": "1",
            "answer": "true",
            "preview": "Anteprima",
        },
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<em>codice</em>" in html  # rendered Markdown
    assert "giusta" in html
    saved = post_form(
        client,
        question_url,
        {
            "qid": "codice",
            "type": "single",
            "text": "Quale codice si assegna?",
            "options-0-text": "Giallo",
            "options-0-correct": "y",
            "options-1-text": "Bianco",
            "points": "1",
            "answer": "true",
            "save": "Salva",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    second = post_form(
        client,
        question_url,
        {"qid": "vero", "type": "true_false", "text": "Vero?", "answer": "true", "save": "S"},
    )
    assert second.status_code == 302
    course = authoring.get_course(db.session, "corso-form")
    draft = authoring.get_draft(db.session, course.id)
    assert [m.title for m in draft.modules] == ["Introduzione", "Secondo: i passi"]
    assert draft.modules[1].completed_by_block  # the quiz block was written and accepted
    # Editing loads the question back into the form.
    edit = client.get(f"{BASE}/corso-form/modules/secondo/quiz/questions/codice")
    assert 'value="Giallo"' in edit.get_data(as_text=True)
    confirm = client.get(f"{BASE}/corso-form/publish")
    assert "Conferma e pubblica" in confirm.get_data(as_text=True)
    assert authoring.latest_published(db.session, course.id) is None  # GET publishes nothing
    done = post_form(client, f"{BASE}/corso-form/publish", {})
    assert done.status_code == 302
    assert authoring.latest_published(db.session, course.id).title == "Violenza: riconoscerla"
    assert "Violenza: riconoscerla" in client.get("/courses/").get_data(as_text=True)


def test_question_form_errors_in_italian(app: Flask, make_user, make_course):
    trainer, client = _trainer_client(app, make_user)
    make_course(user=trainer)
    response = post_form(
        client,
        f"{BASE}/corso-prova/modules/primo/quiz/questions/nuova",
        {
            "qid": "Non Valido",
            "type": "single",
            "text": "Domanda",
            "options-0-text": "A",
            "options-0-correct": "y",
            "options-1-text": "B",
            "options-1-correct": "y",
            "answer": "true",
            "save": "S",
        },
    )
    html = response.get_data(as_text=True)
    assert "Solo minuscole" in html and "una sola opzione è giusta" in html


COMMENTED = """---
slug: corso-prova
# Il titolo tra virgolette doppie, come lo vuole l'autrice.
title: "Corso di prova"
summary: 'Un corso di prova.'   # tra apici
audiences: [all]
objectives:
  - Primo obiettivo
language: it
version: "1.0"
---
Introduzione.
"""


def test_round_trip_keeps_comments_order_and_quotes():
    changed = authoring.set_front_matter(
        COMMENTED, {"title": "Corso: nuovo", "summary": "Un corso di prova."}
    )
    assert "# Il titolo tra virgolette doppie, come lo vuole l'autrice." in changed
    assert "summary: 'Un corso di prova.'   # tra apici" in changed  # untouched, as written
    assert 'version: "1.0"' in changed
    assert 'title: "Corso: nuovo"' in changed  # same quotes as before, colon safe
    keys = re.findall(r"^(\w+):", changed, re.MULTILINE)
    assert keys == ["slug", "title", "summary", "audiences", "objectives", "language", "version"]
    assert changed.endswith("---\nIntroduzione.\n")
    assert authoring.set_front_matter(COMMENTED, {"title": "Corso di prova"}) == COMMENTED


def test_colon_title_is_quoted_and_parses():
    text = authoring.set_front_matter("", {"slug": "x", "title": "Violenza: cosa fare"})
    assert authoring.read_front_matter(text)["title"] == "Violenza: cosa fare"


def test_form_save_keeps_the_authors_file(app: Flask, make_user, make_course):
    trainer, client = _trainer_client(app, make_user)
    files = course_files()
    files["course.md"] = COMMENTED.encode()
    make_course(files, user=trainer)
    client_course = f"{BASE}/corso-prova/"
    post_form(client, f"{BASE}/corso-prova/edit", {}, form_url=client_course)
    response = post_form(
        client,
        f"{BASE}/corso-prova/meta",
        {
            "title": "Corso: rinnovato",
            "summary": "Un corso di prova.",
            "audiences": ["all"],
            "objectives": "Primo obiettivo",
            "evidence": "",
            "self_enrolment": "y",
            "intro": "Introduzione.",
        },
        form_url=client_course,
    )
    assert response.status_code == 302
    course = authoring.get_course(db.session, "corso-prova")
    draft = authoring.get_draft(db.session, course.id)
    assert draft.title == "Corso: rinnovato"
    written = authoring.draft_files(db.session, course, trainer)["course.md"].decode()
    assert "# Il titolo tra virgolette doppie" in written
    assert "summary: 'Un corso di prova.'   # tra apici" in written


def test_yaml_error_in_italian_with_line(app: Flask, make_user, make_course):
    trainer, client = _trainer_client(app, make_user)
    make_course(user=trainer)
    post_form(client, f"{BASE}/corso-prova/edit", {}, form_url=f"{BASE}/corso-prova/")
    broken = COMMENTED.replace('title: "Corso di prova"', "title: Corso: di prova")
    client.get(f"{BASE}/corso-prova/source")
    response = post_form(
        client, f"{BASE}/corso-prova/source", {"source": broken}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "mapping values" not in html
    assert "course.md:4: YAML non valido: un &#39;:&#39; in un punto non previsto" in html
    issue = authoring.italian_issue(
        FormatIssue("course.md", 3, "YAML non valido: mapping values are not allowed here")
    )
    assert issue.line == 3 and "mapping values" not in issue.message


def test_set_front_matter_reports_bad_yaml_in_italian():
    try:
        authoring.set_front_matter("---\ntitle: a: b\n---\n", {"title": "x"})
    except FormatError as error:
        assert error.issues[0].line == 2
        assert "YAML non valido" in error.issues[0].message
        assert "mapping" not in error.issues[0].message
    else:
        raise AssertionError("bad YAML accepted")


def test_coauthor_permissions(app: Flask, make_user, make_course):
    owner, owner_client = _trainer_client(app, make_user)
    coauthor = make_user(roles=(Role.TRAINER,))
    stranger = make_user(roles=(Role.TRAINER,))
    make_course(user=owner)
    course_url = f"{BASE}/corso-prova/"
    added = post_form(
        owner_client,
        f"{BASE}/corso-prova/coauthors",
        {"email": coauthor.email},
        form_url=course_url,
    )
    assert added.status_code == 302
    db.session.expire_all()
    course = authoring.get_course(db.session, "corso-prova")
    assert [c.user_id for c in course.coauthors] == [coauthor.id]
    co_client = app.test_client()
    login(co_client, coauthor.email)
    page = co_client.get(course_url).get_data(as_text=True)
    assert "Aggiungi come coautrice o coautore" not in page
    post_form(co_client, f"{BASE}/corso-prova/edit", {}, form_url=course_url)
    edited = post_form(
        co_client,
        f"{BASE}/corso-prova/modules/primo",
        {"title": "Primo: rivisto", "estimated_minutes": "", "body": "## Primo\n\nTesto nuovo."},
    )
    assert edited.status_code == 302
    token_page = course_url
    refused = post_form(
        co_client, f"{BASE}/corso-prova/coauthors", {"email": stranger.email}, form_url=token_page
    )
    assert refused.status_code == 403
    removal = post_form(
        co_client, f"{BASE}/corso-prova/coauthors/{coauthor.id}/remove", {}, form_url=token_page
    )
    assert removal.status_code == 403
    other = app.test_client()
    login(other, stranger.email)
    assert other.get(course_url).status_code == 403
    assert (
        post_form(
            owner_client,
            f"{BASE}/corso-prova/coauthors/{coauthor.id}/remove",
            {},
            form_url=course_url,
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.query(CourseCoauthor).count() == 0
    assert co_client.get(course_url).status_code == 403


def test_only_trainers_become_coauthors(app: Flask, make_user, make_course):
    owner, client = _trainer_client(app, make_user)
    learner = make_user()
    make_course(user=owner)
    response = post_form(
        client,
        f"{BASE}/corso-prova/coauthors",
        {"email": learner.email},
        form_url=f"{BASE}/corso-prova/",
        follow_redirects=True,
    )
    assert "Nessuna formatrice o formatore" in response.get_data(as_text=True)


def test_withdraw_hidden_until_published(app: Flask, make_user):
    _trainer, client = _trainer_client(app, make_user)
    _new_course(client)
    page = client.get(f"{BASE}/corso-form/").get_data(as_text=True)
    assert "Ritira dal catalogo" not in page
    refused = post_form(client, f"{BASE}/corso-form/archive", {}, form_url=f"{BASE}/corso-form/")
    assert refused.status_code == 302
    assert not authoring.get_course(db.session, "corso-form").archived


def test_publish_confirmation_shows_diff_without_blank_lines(app: Flask, make_user, make_course):
    trainer, client = _trainer_client(app, make_user)
    make_course(user=trainer)
    course_url = f"{BASE}/corso-prova/"
    assert "Ritira dal catalogo" in client.get(course_url).get_data(as_text=True)
    post_form(client, f"{BASE}/corso-prova/edit", {}, form_url=course_url)
    post_form(
        client,
        f"{BASE}/corso-prova/modules/primo",
        {
            "title": "Primo",
            "estimated_minutes": "1",
            "body": "## Primo\n\nTesto della lezione cambiato.",
        },
    )
    html = client.get(f"{BASE}/corso-prova/publish").get_data(as_text=True)
    diff = re.search(r'<pre class="diff[^"]*">(.*?)</pre>', html, re.DOTALL).group(1)
    assert "+Testo della lezione cambiato." in diff
    assert "\n" not in diff  # each line is a block: a newline too would double them
    lines = re.findall(r"<span[^>]*>(.*?)</span>", diff)
    assert "" not in lines  # no empty line added between lines


def test_help_page_renders_the_format_guide(app: Flask, make_user):
    _trainer, client = _trainer_client(app, make_user)
    html = client.get(f"{BASE}/help").get_data(as_text=True)
    article = html[html.index('<article class="lesson">') : html.index("</article>")]
    assert "<h2" in article and "```quiz" in article and "<script" not in article
    assert f'href="{BASE}/help"' in client.get(f"{BASE}/").get_data(as_text=True)


def test_ownerless_courses_go_to_the_demo_trainer(app: Flask, make_user, make_course):
    make_course()
    trainer = make_user(email="formatrice-demo@rete-milano.test", roles=(Role.TRAINER,))
    assert authoring.give_ownerless_courses(db.session, trainer.email) == 1
    owners = db.session.query(CourseOwner).all()
    assert [o.user_id for o in owners] == [trainer.id]
    assert authoring.give_ownerless_courses(db.session, trainer.email) == 0


def test_form_does_not_add_or_drop_keys_it_did_not_change():
    source = course_files()["course.md"].decode()  # prerequisites: [] and no self_enrolment
    data = authoring.read_front_matter(source)
    changes = {
        "title": data["title"],
        "summary": data["summary"],
        "audiences": ["all"],
        "objectives": ["Primo obiettivo"],
        "prerequisites": None,
        "renewal_months": None,
        "evidence": None,
        "self_enrolment": True,
        "public": None,
    }
    assert authoring.set_front_matter(source, changes) == source
    renewed = authoring.set_front_matter(source, {**changes, "renewal_months": 24})
    assert renewed.count("renewal_months: 24") == 1
    assert "renewal_months" not in authoring.set_front_matter(renewed, changes)


def test_starter_course_saved_unchanged_through_the_forms(app: Flask, make_user, make_course):
    """A real starter course: the course form and a question saved as loaded change
    nothing in the files (quotes, flow lists, the other questions)."""
    from pathlib import Path

    from courses import packaging

    folder = Path(__file__).resolve().parents[2] / "content" / "conoscere-la-violenza"
    files = packaging.read_folder(folder)
    trainer, client = _trainer_client(app, make_user)
    make_course(files, user=trainer)
    slug = "conoscere-la-violenza"
    course_url = f"{BASE}/{slug}/"
    post_form(client, f"{BASE}/{slug}/edit", {}, form_url=course_url)
    data = authoring.read_front_matter(files["course.md"].decode())
    saved = post_form(
        client,
        f"{BASE}/{slug}/meta",
        {
            "title": data["title"],
            "summary": data["summary"],
            "audiences": data["audiences"],
            "objectives": "\n".join(data["objectives"]),
            "evidence": data["evidence"],
            "self_enrolment": "y",
            "public": "y",
            "intro": authoring.body_of(files["course.md"].decode()),
        },
        form_url=course_url,
    )
    assert saved.status_code == 302
    course = authoring.get_course(db.session, slug)
    after = authoring.draft_files(db.session, course, trainer)
    front = files["course.md"].decode().split("---\n")[1]
    assert after["course.md"].decode().split("---\n")[1] == front
    module = authoring.get_draft(db.session, course.id).modules[0]
    quiz, _yaml = authoring.quiz_of(module.body_md)
    question = quiz["questions"][0]
    form = {
        "qid": question["id"],
        "type": question["type"],
        "text": question["text"],
        "points": "1",
        "answer": "true",
        "save": "S",
    }
    for index, option in enumerate(question["options"]):
        form[f"options-{index}-text"] = option["text"]
        if option.get("correct"):
            form[f"options-{index}-correct"] = "y"
        if option.get("feedback"):
            form[f"options-{index}-feedback"] = option["feedback"]
    if question.get("feedback"):
        form["feedback"] = question["feedback"]
    url = f"{BASE}/{slug}/modules/{module.slug}/quiz/questions/{question['id']}"
    response = post_form(client, url, form)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    name = module.filename
    assert authoring.draft_files(db.session, course, trainer)[name] == files[name]


def test_coauthorship_is_exported_and_erased(app: Flask, make_user, make_course):
    from courses import privacy

    owner = make_user(roles=(Role.TRAINER,))
    coauthor = make_user(roles=(Role.TRAINER,))
    make_course(user=owner)
    course = authoring.get_course(db.session, "corso-prova")
    authoring.add_coauthor(db.session, course, coauthor.email.upper(), actor=owner)
    assert privacy.export(db.session, coauthor.id)["coauthored_courses"] == ["corso-prova"]
    privacy.erase(db.session, coauthor.id)
    assert db.session.query(CourseCoauthor).count() == 0
