"""Accredited courses: what their certificates state (credits and codes only within the
accreditation period, the time tracked), certificates signed before still verifying, and
the participants' report for the accrediting body (issue 14, item 7)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select, update

from certificates import codes, issuing, keys, signing
from certificates.config import issuer_settings
from certificates.models import Certificate
from certificates.verification import Outcome, check_pdf
from courses.enrolment import enrol
from courses.models import CourseCompletion, CourseVersion, EnrolmentSource, ModuleProgress
from courses.progress import complete_module
from lms import clock, db
from lms.accounts.models import User
from tests.certificates.conftest import pdf_bytes, pdf_text
from tests.certificates.test_verification import cli_verify, upload
from tests.conftest import login, service_context
from tests.courses.helpers import course_files

ORG = "CDM-PL-NTDM"
ACCREDITED = """accreditation:
  body: ECM
  provider: "Provider 1234 – Formazione Milano"
  event: "1234-5678"
  credits: 4.5
  valid_from: 2027-01-01
  valid_until: 2027-12-31
"""
INSIDE = dt.datetime(2027, 6, 1, 9, 30, tzinfo=dt.UTC)
# Still 31 December in UTC, already 1 January in Milan: outside the period.
OUTSIDE = dt.datetime(2027, 12, 31, 23, 30, tzinfo=dt.UTC)


def finish(app: Flask, user: User, version: CourseVersion, at: dt.datetime, seconds: int) -> int:
    """Complete the course at ``at`` with ``seconds`` tracked on its first module; the
    completion's id."""
    with clock.frozen(at), service_context(app):
        enrol(db.session, user, version, source=EnrolmentSource.SELF)
        assert complete_module(db.session, user, version, "primo") is None
        db.session.execute(
            update(ModuleProgress)
            .where(ModuleProgress.user_id == user.id, ModuleProgress.module_slug == "primo")
            .values(time_spent_seconds=seconds)
        )
        completion = complete_module(db.session, user, version, "secondo")
        assert completion is not None
        db.session.commit()
        return completion.id


def certificate_of(completion_id: int) -> Certificate:
    cert = db.session.scalar(
        select(Certificate).where(
            Certificate.completion_ref == f"course-completion:{completion_id}"
        )
    )
    assert cert is not None
    return cert


@pytest.fixture
def accredited(make_course, make_user) -> tuple[CourseVersion, User]:
    author = make_user(roles=("trainer",), name="Autrice del Corso")
    version = make_course(
        course_files(slug="corso-ecm", title="Violenza e salute", extra=ACCREDITED), user=author
    )
    return version, author


def test_within_the_period_the_certificate_states_codes_credits_and_tracked_time(
    app: Flask, make_user, accredited, tmp_path: Path
):
    version, _author = accredited
    learner = make_user(name="Giulia Bianchi")
    cert = certificate_of(finish(app, learner, version, INSIDE, 3 * 3600 + 7 * 60 + 40))

    assert cert.tracked_seconds == 3 * 3600 + 7 * 60 + 40 + 0
    assert cert.accreditation is not None and cert.accreditation["covered"] is True
    assert cert.credits == "4.5" and cert.hours_printed and cert.hours == 0.03
    payload = json.loads(cert.payload)
    assert payload["tracked_seconds"] == cert.tracked_seconds
    assert payload["accreditation"] == {
        "body": "ECM",
        "provider": "Provider 1234 – Formazione Milano",
        "event": "1234-5678",
        "credits": "4.5",
        "valid_from": "2027-01-01",
        "valid_until": "2027-12-31",
        "covered": True,
    }
    assert payload["credits"] == "4.5" and payload["hours"] == 0.03

    with clock.frozen(INSIDE):
        data = pdf_bytes(app, cert)
        text = " ".join(pdf_text(data).split())
        assert "Durata: 0,03 ore" in text
        assert "Tempo di studio registrato: 3 h 7 min" in text
        assert "Accreditamento ECM · Provider: Provider 1234 – Formazione Milano" in text
        assert "Evento: 1234-5678 · Crediti: 4,5" in text
        assert "Crediti formativi" not in text  # stated once, with the accreditation
        check = check_pdf(data, keys.public_keys(db.session))
        assert check.outcome is Outcome.VALID
        assert check.payload["accreditation"]["event"] == "1234-5678"
        result = cli_verify(app, tmp_path, data)
        assert result.exit_code == 0, result.output
        assert "Tempo di studio / study time: 3 h 7 min" in result.output
        assert "ECM, Provider 1234 – Formazione Milano, 1234-5678, 4.5" in result.output
        page = " ".join(upload(app, data).split())
        assert "Tempo di studio registrato" in page and "3 h 7 min" in page
        assert "evento: 1234-5678" in page and "crediti: 4,5" in page

        public = app.test_client().get(f"/certificates/verify/{codes.grouped(cert.code)}")
    html = " ".join(public.get_data(as_text=True).split())
    assert public.status_code == 200
    assert '<dd data-fact="tracked">3 h 7 min</dd>' in html
    assert "ECM · provider: Provider 1234 – Formazione Milano · evento: 1234-5678" in html
    assert "crediti: 4,5" in html and "non comprende" not in html
    # A re-issue (a name correction) states the same.
    with clock.frozen(INSIDE):
        new = issuing.reissue(db.session, cert, issuer_settings(app))
    assert new.accreditation == cert.accreditation and new.tracked_seconds == cert.tracked_seconds
    assert json.loads(new.payload)["accreditation"] == payload["accreditation"]


def test_outside_the_period_the_certificate_says_so_and_states_no_credits(
    app: Flask, make_user, accredited
):
    version, _author = accredited
    learner = make_user(name="Marta Neri")
    cert = certificate_of(finish(app, learner, version, OUTSIDE, 125))

    assert cert.accreditation["covered"] is False and cert.credits is None
    assert json.loads(cert.payload)["credits"] is None
    with clock.frozen(OUTSIDE):
        text = " ".join(pdf_text(pdf_bytes(app, cert)).split())
        public = app.test_client().get(f"/certificates/verify/{cert.code}")
    assert "Tempo di studio registrato: 0 h 2 min" in text
    assert "il periodo di accreditamento (dal 1 gennaio 2027 al 31 dicembre 2027) non " in text
    assert "Crediti: 4,5" not in text and "Crediti formativi" not in text
    html = " ".join(public.get_data(as_text=True).split())
    assert (
        "Il periodo di accreditamento (dal 1 gennaio 2027 al 31 dicembre 2027) non comprende"
        in html
    )
    assert "crediti: 4,5" not in html


def test_a_profile_that_prints_no_hours_gets_a_certificate_without_hours_or_credits(
    app: Flask, make_user, make_course
):
    extra = "evidence:\n  base: awareness\n  min_time_share: 0\n" + ACCREDITED
    version = make_course(course_files(slug="corso-sensibilizzazione", extra=extra))
    cert = certificate_of(finish(app, make_user(), version, INSIDE, 600))
    assert not cert.hours_printed and cert.printed_hours is None
    assert cert.accreditation is None and cert.credits is None
    payload = json.loads(cert.payload)
    assert payload["hours"] is None and payload["tracked_seconds"] == 600
    with clock.frozen(INSIDE):
        text = " ".join(pdf_text(pdf_bytes(app, cert)).split())
    assert "Durata" not in text and "Accreditamento" not in text
    assert "Tempo di studio registrato: 0 h 10 min" in text


def test_a_certificate_signed_in_the_format_before_still_verifies(
    app: Flask, make_user, complete, tmp_path: Path
):
    """The payload as it was signed before accreditation existed: no tracked time, no
    accreditation, hours always a number."""
    cert = complete(make_user(name="Anna Verdi"))
    old = json.loads(cert.payload)
    del old["tracked_seconds"], old["accreditation"]
    with app.app_context():
        key = keys.signing_key(db.session, issuer_settings(app).secret_key)
    payload = signing.canonical(old)
    cert.payload, cert.signature = payload.decode(), signing.sign(payload, key)
    cert.tracked_seconds = cert.accreditation = None
    db.session.commit()

    data = pdf_bytes(app, cert)
    result = cli_verify(app, tmp_path, data)
    assert result.exit_code == 0, result.output
    page = " ".join(upload(app, data).split())
    assert 'data-outcome="valid"' in page and "Tempo di studio" not in page
    text = " ".join(pdf_text(data).split())
    assert "Durata: 8 ore" in text and "Tempo di studio" not in text
    assert issuing.payload_of(cert, key.key_id) != payload  # new ones carry more fields


# --- The participants' report ---------------------------------------------------------------


@pytest.fixture
def two_completions(app: Flask, make_user, accredited) -> dict[str, Any]:
    version, author = accredited
    first = make_user(name="Giulia Bianchi", org=ORG, email="giulia@rete-milano.test")
    first.professional_id = "BNCGLI80A41F205X"
    second = make_user(name='=HYPERLINK("http://x")', email="marta@rete-milano.test")
    db.session.commit()
    inside = finish(app, first, version, INSIDE, 2 * 3600 + 5 * 60)
    outside = finish(app, second, version, OUTSIDE, 59 * 60 + 59)
    db.session.execute(
        update(CourseCompletion).where(CourseCompletion.id == outside).values(evidence="legacy")
    )
    db.session.commit()
    return {
        "author": author,
        "version": version,
        "code": codes.grouped(certificate_of(inside).code),
        "outside_code": codes.grouped(certificate_of(outside).code),
    }


def signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user.email)
    return client


def test_the_author_downloads_the_report_as_csv(app: Flask, two_completions):
    client = signed_in(app, two_completions["author"])
    response = client.get("/certificates/participants/corso-ecm.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        "attachment; filename=partecipanti-corso-ecm-"
    )
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == [
        "Nome e cognome",
        "E-mail",
        "Codice fiscale o n. di iscrizione all'albo/ordine",
        "Organizzazione",
        "Ore registrate (h:mm)",
    ]
    assert len(rows) == 3
    giulia, marta = rows[1], rows[2]
    assert giulia[:8] == [
        "Giulia Bianchi",
        "giulia@rete-milano.test",
        "BNCGLI80A41F205X",
        giulia[3],
        "2:05",
        "completato",
        "2027-06-01",
        "1.0",
    ]
    assert giulia[3]  # the organisation's name
    assert giulia[9:] == ["ECM", "1234-5678", "4.5", "sì", two_completions["code"]]
    assert giulia[8] != "legacy" and not giulia[8].startswith("legacy")
    # Formula-like names are neutralised; no identifier, no organisation given.
    assert marta[0] == '\'=HYPERLINK("http://x")' and marta[2] == "" and marta[3] == ""
    assert marta[4] == "0:59" and marta[6] == "2028-01-01"
    assert marta[8].startswith("legacy")
    assert marta[9:] == ["ECM", "1234-5678", "", "no", two_completions["outside_code"]]


def test_the_admin_downloads_the_report_as_xlsx(app: Flask, make_user, two_completions):
    admin = make_user(roles=("admin",))
    response = signed_in(app, admin).get("/certificates/participants/corso-ecm.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Violenza e salute"
    assert rows[1][2] == "Codice fiscale o n. di iscrizione all'albo/ordine"
    giulia, marta = rows[2], rows[3]
    assert giulia[:3] == ["Giulia Bianchi", "giulia@rete-milano.test", "BNCGLI80A41F205X"]
    assert giulia[4] == "2:05" and giulia[6] == dt.datetime(2027, 6, 1)
    assert giulia[11] == 4.5 and giulia[12] == "sì" and giulia[13] == two_completions["code"]
    assert marta[0] == '\'=HYPERLINK("http://x")' and marta[2] is None
    assert marta[11] is None and marta[12] == "no" and str(marta[8]).startswith("legacy")


def test_only_authors_and_admins_get_the_report(app: Flask, make_user, two_completions):
    other_trainer = make_user(roles=("trainer",))
    learner = make_user()
    for user in (other_trainer, learner):
        client = signed_in(app, user)
        assert client.get("/certificates/participants/corso-ecm.csv").status_code == 403
        assert client.get("/certificates/participants/corso-ecm.xlsx").status_code == 403
    author = signed_in(app, two_completions["author"])
    assert author.get("/certificates/participants/nessun-corso.csv").status_code == 404
    page = author.get("/certificates/participants/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/certificates/participants/corso-ecm.xlsx" in html
    assert signed_in(app, other_trainer).get("/certificates/participants/").status_code == 200
    assert "corso-ecm" not in signed_in(app, other_trainer).get(
        "/certificates/participants/"
    ).get_data(as_text=True)
    assert signed_in(app, learner).get("/certificates/participants/").status_code == 403
