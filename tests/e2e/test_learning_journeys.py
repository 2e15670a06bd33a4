"""Journeys of learning: a quiz failed and passed up to the certificate and its public
verification, a trainer uploading and editing a course, a quiz done with the keyboard only."""

from __future__ import annotations

import io
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import BIN
from tests.e2e.helpers import REPO, LiveServer, axe_check, choose, follow, go, login

OPERATOR = "agente@rete-milano.test"
TRAINER = "formatrice@rete-milano.test"
NETWORK_COURSE = "La Rete antiviolenza di Milano: nodi, principi e linguaggio comune"
QUICK = "e2e-quiz-rapido"  # failed, passed, certified
KEYS = "e2e-quiz-tastiera"  # done with the keyboard only


# The quick course: the professional profile with half the study time (the module's lesson
# computes to 1 minute, so 30 s before the quiz and 15 s again after a failed attempt);
# the keyboard journey's course asks no study time (it tests the keyboard, not evidence).
QUICK_EVIDENCE = "evidence: {base: professional, min_time_share: 0.5, reread_share: 0.5}\n"
KEYS_EVIDENCE = "evidence: {base: awareness, min_time_share: 0, certificate_hours: true}\n"


def course_md(slug: str, title: str, audiences: str = "[all]", evidence: str = "") -> str:
    # "audiences" stays on line 5: the upload journey expects the error at course.md:5.
    return f"""---
slug: {slug}
title: "{title}"
summary: "Un corso minimo per le prove nel browser."
audiences: {audiences}
# estimated_hours: facoltativa (vale la durata calcolata)
language: it
version: "1.0"
renewal_months: 12
self_enrolment: true
{evidence}---
Un corso di prova con un solo modulo.
"""


MODULE_MD = """---
title: "Il modulo unico"
estimated_minutes: 1
---
## Che cosa si impara

Il Protocollo Milano è stato firmato il 22 novembre 2023.

```quiz
pass_mark: 50
attempts: 5
cooldown_minutes: 0
show_feedback: after_each_attempt
show_answers: after_passing
questions:
  - id: data-firma
    type: single
    text: "In quale data è stato firmato il Protocollo Milano?"
    options:
      - text: "8 giugno 2012"
      - text: "22 novembre 2023"
        correct: true
      - text: "20 settembre 2013"
  - id: rete-prima
    type: true_false
    text: "La rete milanese ha cominciato a operare solo dopo l'intervento del Comune."
    answer: false
```
"""


def course_files(
    slug: str, title: str, audiences: str = "[all]", evidence: str = ""
) -> dict[str, str]:
    return {
        "course.md": course_md(slug, title, audiences, evidence),
        "01-modulo-unico.md": MODULE_MD,
    }


@pytest.fixture(scope="module")
def quick_courses(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Two one-module courses without cooldown, imported with ``lms courses import``."""
    root = tmp_path_factory.mktemp("courses")
    for slug, title, evidence in (
        (QUICK, "Quiz rapido", QUICK_EVIDENCE),
        (KEYS, "Quiz con la tastiera", KEYS_EVIDENCE),
    ):
        folder = root / slug
        folder.mkdir()
        for name, content in course_files(slug, title, evidence=evidence).items():
            (folder / name).write_text(content, encoding="utf-8")
    env = {
        **os.environ,
        "LMS_DATABASE_URL": live_server.database_url,
        # Required on PostgreSQL (docs/deployment.md); an import signs nothing with it.
        "LMS_SECRET_KEY": "e2e-course-import-not-for-production",
        "LMS_INSTANCE_PATH": str(root / "instance"),
        "LMS_MAIL_BACKEND": "file",
        "LMS_MAIL_FILE_DIR": str(live_server.mail_dir),
        "LMS_BASE_URL": live_server.url,
    }
    result = subprocess.run(
        [str(BIN / "lms"), "courses", "import", str(root), "--publish"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"lms courses import failed:\n{result.stdout}{result.stderr}"


def question(page: Page, number: int) -> Locator:
    return page.locator(f"#question-{number}")


def question_about(page: Page, text: str) -> Locator:
    """A question found by its text: under a profile that shuffles, order says nothing."""
    return page.locator("fieldset.question").filter(has_text=text)


def answer_quick_quiz(page: Page, *, right: bool) -> None:
    date = question_about(page, "In quale data")
    choose(date, "22 novembre 2023" if right else "8 giugno 2012")
    network = question_about(page, "La rete milanese")
    choose(network, "Falso" if right else "Vero", exact=True)


def start_attempt(page: Page) -> None:
    follow(page, page.get_by_role("button", name="Inizia il tentativo"))
    expect(page.locator("#quiz-form")).to_be_visible()


def submit_attempt(page: Page) -> None:
    follow(page, page.get_by_role("button", name="Consegna"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Esito del quiz")


def read_for(page: Page, *, seconds: float) -> None:
    """Stay on the page as a reader does: the pointer moves now and then (the page counts
    study time only while the reader is active, courses/static/courses/progress.js)."""
    for step in range(int(seconds)):
        page.mouse.move(100 + step % 7 * 10, 200 + step % 5 * 10)
        page.wait_for_timeout(1000)


def study_until(page: Page, text: str, *, limit: float = 120) -> None:
    """Read until the module's study line says ``text`` (a heartbeat every 30 s)."""
    status = page.locator("#study-status")
    for _ in range(int(limit)):
        if text in (status.text_content() or ""):
            return
        read_for(page, seconds=1)
    expect(status).to_contain_text(text)


def enrol_from_catalogue(page: Page, title: str) -> None:
    follow(page, page.get_by_role("link", name=title, exact=True).first)
    follow(page, page.get_by_role("button", name="Iscriviti"))


def test_operator_fails_and_passes_quizzes_and_verifies_the_certificate(
    browser_page: Page, live_server: LiveServer, quick_courses: None, tmp_path: Path
):
    page = browser_page
    login(page, OPERATOR)
    go(page, "/courses/")
    expect(page.get_by_role("link", name=NETWORK_COURSE, exact=True).first).to_be_visible()

    # The network course: its module says how much study remains; the quiz waits for it.
    enrol_from_catalogue(page, NETWORK_COURSE)
    follow(page, page.locator("main").get_by_role("link", name="Dalla rete al Protocollo").first)
    expect(page.locator("#study-status")).to_contain_text("ancora")
    follow(page, page.get_by_role("link", name="Vai al quiz"))
    expect(page.locator("main")).to_contain_text("Prima del quiz serv")
    expect(page.get_by_role("button", name="Inizia il tentativo")).to_have_count(0)

    # The quick course: read (the page pings while the reader is active), fail, read again,
    # pass. Real time in a real browser: 30 s of study, then 15 s more after the failure.
    go(page, "/courses/")
    enrol_from_catalogue(page, "Quiz rapido")
    follow(page, page.locator("main").get_by_role("link", name="Il modulo unico").first)
    study_until(page, "Tempo minimo di studio raggiunto")
    follow(page, page.get_by_role("link", name="Vai al quiz"))
    start_attempt(page)
    answer_quick_quiz(page, right=False)
    submit_attempt(page)
    expect(page.get_by_role("status")).to_contain_text("Quiz non superato")
    # No right answer before the course is complete (the professional profile).
    expect(page.locator("main")).not_to_contain_text("22 novembre 2023")
    follow(page, page.get_by_role("link", name="Torna al quiz"))
    expect(page.locator("main")).to_contain_text("ripassa il contenuto del modulo")
    follow(page, page.get_by_role("link", name="Torna al modulo").first)
    read_for(page, seconds=35)
    follow(page, page.get_by_role("link", name="Vai al quiz"))
    start_attempt(page)
    answer_quick_quiz(page, right=True)
    submit_attempt(page)
    expect(page.get_by_role("status")).to_contain_text("Quiz superato")
    follow(page, page.get_by_role("link", name="Torna al corso"))
    expect(page.locator("main")).to_contain_text("completato")
    # The script that skips the reading gets nothing (tests/courses/test_time_on_task.py);
    # this reader's tracked time is at least the minimum the profile asks.
    tracked = live_server.scalar(
        "SELECT SUM(p.time_spent_seconds) FROM courses_module_progress p"
        " JOIN lms_user u ON u.id = p.user_id JOIN courses_course c ON c.id = p.course_id"
        " WHERE u.email = :email AND c.slug = :slug",
        email=OPERATOR,
        slug=QUICK,
    )
    assert tracked >= 30, tracked

    # The anonymous satisfaction questionnaire concludes the course (survey_required).
    expect(page.locator("main")).to_contain_text("manca il questionario di gradimento")
    follow(page, page.get_by_role("link", name="Compila il questionario di gradimento"))
    for group in page.locator("main form").get_by_role("group").all():
        choose(group, "4 — molto")
    page.get_by_label("Commenti e suggerimenti (facoltativo)").fill("Chiaro e utile.")
    follow(page, page.get_by_role("button", name="Invia le risposte"))
    expect(page.locator("main")).to_contain_text("Completato il")

    # The certificate: listed, downloaded, verified by its code and by its file.
    go(page, "/certificates/")
    expect(page.get_by_role("heading", level=1)).to_have_text("I miei attestati")
    row = page.get_by_role("article").filter(has_text="Quiz rapido")  # one card per certificate
    expect(row).to_have_count(1)
    with page.expect_download() as download_info:
        row.get_by_role("link", name=re.compile("Scarica")).click()
    pdf = tmp_path / "attestato.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF"), "the download is not a PDF"
    code = live_server.scalar(
        "SELECT c.code FROM certificates_certificate c JOIN lms_user u ON u.id = c.user_id"
        " WHERE u.email = :email AND c.title = :title",
        email=OPERATOR,
        title="Quiz rapido",
    )
    # Its hours are the duration computed from the content (none declared).
    hours = live_server.scalar("SELECT hours FROM certificates_certificate WHERE code = :c", c=code)
    minutes = live_server.scalar(
        "SELECT v.computed_minutes FROM courses_version v JOIN courses_course c"
        " ON c.id = v.course_id WHERE c.slug = :slug AND v.status = 'published'",
        slug=QUICK,
    )
    assert abs(float(hours) - minutes / 60) < 0.01, (hours, minutes)
    go(page, f"/certificates/verify/{code}")
    expect(page.locator("[data-outcome]")).to_have_attribute("data-outcome", "valid")
    expect(page.locator("main")).to_contain_text("Attestato valido.")

    go(page, "/certificates/verify")
    page.get_by_label("File PDF dell'attestato").set_input_files(pdf)
    follow(page, page.get_by_role("button", name="Verifica il file"))
    expect(page.locator("[data-outcome]")).to_have_attribute("data-outcome", "valid")
    expect(page.locator("main")).to_contain_text("Valido: dati firmati e documento integri")
    # the signed details, to compare with the document
    expect(page.locator("main")).to_contain_text("Dati firmati dalla piattaforma")


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(f"corso/{name}", content)
    return buffer.getvalue()


def test_trainer_uploads_a_course_fixes_it_and_publishes_an_edit(browser_page: Page):
    page = browser_page
    login(page, TRAINER)
    go(page, "/courses/author/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Area autori")
    slug = "e2e-caricato"
    upload = page.get_by_label("Cartella del corso compressa (.zip)")

    broken = course_files(slug, "Corso caricato", audiences="[astronauti]")
    upload.set_input_files(
        {"name": "corso.zip", "mimeType": "application/zip", "buffer": zipped(broken)}
    )
    follow(page, page.get_by_role("button", name="Carica", exact=True))
    errors = page.locator("#format-errors")
    expect(errors).to_contain_text("course.md:5")

    fixed = course_files(slug, "Corso caricato")
    page.get_by_label("Cartella del corso compressa (.zip)").set_input_files(
        {"name": "corso.zip", "mimeType": "application/zip", "buffer": zipped(fixed)}
    )
    choose(page, "Pubblica subito")
    follow(page, page.get_by_role("button", name="Carica", exact=True))
    expect(page.locator("main")).to_contain_text("Pubblicata la versione 1")
    assert page.url.endswith(f"/courses/author/{slug}/"), page.url

    follow(page, page.get_by_role("button", name="Modifica (crea una bozza)"))
    follow(page, page.locator("main").get_by_role("link", name="Il modulo unico", exact=True))
    body = page.get_by_label("Testo del modulo (Markdown)")
    lesson = body.input_value()
    assert "```quiz" in lesson  # the module's quiz stays as it is
    body.fill("## Una sezione nuova\n\nTesto **in evidenza** scritto nel browser.\n\n" + lesson)
    preview = page.locator("#preview")
    expect(preview.get_by_role("heading", name="Una sezione nuova")).to_be_visible()
    expect(preview.locator("strong")).to_contain_text("in evidenza")
    axe_check(page)  # the page with the preview filled in
    follow(page, page.get_by_role("button", name="Salva nella bozza"))
    expect(page.get_by_role("status").first).to_contain_text("Modulo salvato nella bozza")
    crumbs = page.get_by_role("navigation", name="Percorso")
    follow(page, crumbs.get_by_role("link", name="Corso caricato"))
    follow(page, page.get_by_role("link", name="Pubblica la bozza"))
    expect(page.locator("main pre.diff")).to_contain_text("+Testo **in evidenza**")
    follow(page, page.get_by_role("button", name="Conferma e pubblica"))
    expect(page.locator("main")).to_contain_text("Pubblicata la versione 2")


def press_until_focused(page: Page, key: str, target: Locator, limit: int = 60) -> None:
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{target} never got the focus with {key}")


def choose_with_arrows(page: Page, group: Locator, label: str) -> None:
    """Tab into a group of radio buttons, Space on the first, arrows down to ``label``."""
    radios = group.get_by_role("radio")
    press_until_focused(page, "Tab", radios.first)
    page.keyboard.press("Space")
    target = group.get_by_label(label, exact=True)
    for _ in range(radios.count()):
        if target.is_checked():
            return
        page.keyboard.press("ArrowDown")
    expect(target).to_be_checked()


def test_quiz_with_the_keyboard_only(browser_page: Page, quick_courses: None):
    page = browser_page
    login(page, OPERATOR)
    go(page, "/courses/")
    enrol_from_catalogue(page, "Quiz con la tastiera")
    follow(page, page.locator("main").get_by_role("link", name="Il modulo unico").first)
    follow(page, page.get_by_role("link", name="Vai al quiz"))

    # From here on, only the keyboard.
    press_until_focused(page, "Tab", page.get_by_role("button", name="Inizia il tentativo"))
    follow(page, lambda: page.keyboard.press("Enter"))
    choose_with_arrows(page, question(page, 1), "22 novembre 2023")
    choose_with_arrows(page, question(page, 2), "Falso")
    expect(page.locator("#quiz-progress")).to_contain_text("2 di 2")
    press_until_focused(page, "Tab", page.get_by_role("button", name="Consegna"))
    follow(page, lambda: page.keyboard.press("Enter"))
    expect(page.get_by_role("status")).to_contain_text("Quiz superato")
