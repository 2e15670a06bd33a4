"""As a new user would: after ``lms demo``, the Polizia Locale referent imports 50 officers,
enrols them, sees coverage change after one completes, exports the XLSX and the PDF."""

from __future__ import annotations

import codecs
import io
import re

from babel.numbers import format_percent
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from commitments.models import Commitment
from courses.api import ModuleProgress, minimum_study_seconds
from courses.catalogue import published_version
from courses.progress import complete_module
from lms import db
from lms.accounts.models import User
from lms.cli import DEMO_PASSWORD
from lms.demo import PLANS
from surveys.answering import submit
from surveys.questions import questions
from tests.conftest import login, post_form
from tests.surveys.conftest import SCORES

REFERENT = "referente.pl@rete-milano.test"
PL_STAFF = next(plan for plan in PLANS if plan.org_code == "CDM-PL-NTDM")
IN_SCOPE = 52 + PL_STAFF.size
VALID = dict(PL_STAFF.counts)["complete"] + dict(PL_STAFF.counts)["expiring"]
PERCENT = format_percent((VALID + 1) / IN_SCOPE, "#,##0.0 %", locale="it_IT")


def officers_csv() -> bytes:
    lines = ["email;nome;cognome;profilo"]
    lines += [
        f"agente.{i:02d}@polizialocale.test;Agente;Numero {i:02d};Polizia Locale"
        for i in range(1, 51)
    ]
    return codecs.BOM_UTF8 + ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_polizia_locale_referent_journey(app, outbox):
    demo = app.test_cli_runner().invoke(args=["lms", "demo"])
    assert demo.exit_code == 0, demo.output
    assert "Impegni formativi predefiniti: 9 (9 nuovi)." in demo.output

    client = app.test_client()
    login(client, REFERENT, DEMO_PASSWORD)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/commitments/"' in home and "Formazione del personale" in home
    dashboard_url = client.get("/commitments/").location
    assert re.fullmatch(r"/commitments/organisations/\d+/", dashboard_url)
    before = client.get(dashboard_url).get_data(as_text=True)
    assert "Polizia Locale: la Rete e l&#39;accoglienza della denuncia" in before or (
        "Polizia Locale: la Rete e l'accoglienza della denuncia" in before
    )

    # 1. Import 50 officers: preview, then confirm.
    import_url = dashboard_url + "import"
    preview = post_form(
        client,
        import_url,
        {"file": (io.BytesIO(officers_csv()), "agenti.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Nuovo account (riceverà l&#39;invito): <strong>50 persone</strong>" in preview or (
        "Nuovo account (riceverà l'invito): <strong>50 persone</strong>" in preview
    )
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', preview).group(1)
    applied = post_form(
        client,
        import_url + "/apply",
        {"payload": payload},
        form_url=import_url,
        follow_redirects=True,
    )
    assert "Importazione completata: 50 nuovi account invitati" in applied.get_data(as_text=True)
    assert len(outbox.messages()) == 50
    # The demo also holds demo commitments (lms demo): the Polizia Locale one is chosen.
    with app.app_context():
        chosen = db.session.scalar(select(Commitment.id).where(Commitment.code == "polizia-locale"))
    page = client.get(f"{dashboard_url}?c={chosen}").get_data(as_text=True)
    # In scope: the 50 officers, agente@ and the referent, and the demo staff of lms.demo,
    # of whom those who completed (or whose completion is about to expire) are covered.
    assert f"con formazione valida: {VALID} su {IN_SCOPE} persone nel perimetro" in page

    # 2. Enrol everyone in scope, after the confirmation page.
    enrol_url = dashboard_url + "enrol"
    # Two courses for the 52 and for the demo staff never enrolled.
    to_enrol = 2 * (52 + dict(PL_STAFF.counts)["not_enrolled"])
    assert f"Conferma: crea {to_enrol} iscrizioni" in client.get(enrol_url).get_data(as_text=True)
    enrolled = post_form(client, enrol_url, {}, follow_redirects=True).get_data(as_text=True)
    assert f"{to_enrol} iscrizioni create." in enrolled

    # 3. One officer completes both courses (quizzes passed, questionnaire answered): coverage
    # moves.
    with app.app_context():
        officer = db.session.scalar(
            select(User).where(User.email == "agente.07@polizialocale.test")
        )
        for slug in ("rete-antiviolenza-milano", "polizia-locale-denuncia"):
            version = published_version(db.session, slug)
            for module in version.modules:
                # The starter courses are 'professional': the module's time first, as the
                # module page's heartbeats would track it.
                db.session.add(
                    ModuleProgress(
                        user_id=officer.id,
                        course_id=version.course_id,
                        module_slug=module.slug,
                        time_spent_seconds=minimum_study_seconds(version, module),
                    )
                )
                complete_module(
                    db.session, officer, version, module.slug, by_block=module.completed_by_block
                )
            submit(db.session, officer, version.course_id, questions(), SCORES)  # questionnaire
        db.session.commit()
    after = client.get(f"{dashboard_url}?c={chosen}").get_data(as_text=True)
    assert f"con formazione valida: {VALID + 1} su {IN_SCOPE} persone nel perimetro" in after
    assert PERCENT in after

    # 4. Exports for the Art. 6 meeting.
    xlsx = client.get(dashboard_url + "export.xlsx")
    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx.data))
    matrix = workbook[workbook.sheetnames[1]]
    statuses = {row[1]: row[4] for row in matrix.iter_rows(min_row=2, values_only=True)}
    assert statuses["Agente Numero 07"] == "Completato"
    assert len(statuses) == IN_SCOPE
    pdf = client.get(dashboard_url + "summary.pdf")
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert f"Copertura {PERCENT} ({VALID + 1} su {IN_SCOPE} persone)" in text
    assert "Agente Numero 07" not in text
