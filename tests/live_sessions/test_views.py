"""Pages and files: the list by audience, the home widget, the roster, the sign-in sheet PDF,
CSV exports, the referent's view, demo data and personal data."""

from __future__ import annotations

import csv
import io

from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from live_sessions.attendance import Mark
from live_sessions.demo import DEMO_TITLE, load_demo
from live_sessions.models import AttendanceStatus, LiveSession, Registration
from lms import db
from lms.accounts.models import Role
from lms.accounts.services import create_user
from lms.organisations.models import Audience
from lms.organisations.services import add_member, organisation_by_code
from lms.privacy import export_user, uncovered_tables
from tests.conftest import login
from tests.live_sessions.conftest import begin_now, mark

PL, CAV = "CDM-PL-NTDM", "CAV-CADMI"


def audience(code: str) -> int:
    return db.session.scalar(select(Audience.id).where(Audience.code == code))


def test_list_starts_from_the_persons_audience(client, make_user, make_session):
    make_session(
        title="Per la Polizia Locale",
        all_audiences=False,
        audience_ids=[audience("polizia_locale")],
    )
    make_session(title="Per le avvocate", all_audiences=False, audience_ids=[audience("avvocati")])
    make_session(title="Per tutte e tutti")
    login(client, make_user(org=PL).email)
    html = client.get("/live_sessions/").get_data(as_text=True)
    assert "Per la Polizia Locale" in html and "Per tutte e tutti" in html
    assert "Per le avvocate" not in html
    everything = client.get("/live_sessions/?audience=").get_data(as_text=True)
    assert "Per le avvocate" in everything
    home = client.get("/").get_data(as_text=True)
    assert "Incontri in presenza" in home and "I miei incontri in presenza" in home


def test_anonymous_people_are_sent_to_login(client, make_session):
    live = make_session()
    for url in (
        "/live_sessions/",
        f"/live_sessions/{live.id}/",
        f"/live_sessions/{live.id}/calendar.ics",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_roster_sign_in_sheet_and_csv(
    app: Flask, client, make_user, make_session, register, trainer
):
    live = make_session(title="Seminario congiunto – Città metropolitana")
    first = make_user(name="Zoë Ağaoğlu", org=PL)
    formula = make_user(name='=HYPERLINK("http://x")', org=CAV, audience="operatrici_cav")
    register(live, first)
    register(live, formula)
    begin_now(live)
    mark(app, live, trainer, [Mark(first.id, AttendanceStatus.PRESENT)])
    login(client, trainer.email)
    roster = client.get(f"/live_sessions/{live.id}/roster").get_data(as_text=True)
    assert "Zoë Ağaoğlu" in roster and "Storico delle presenze" in roster

    pdf = client.get(f"/live_sessions/{live.id}/sign-in.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Zoë Ağaoğlu" in text and "Firma ingresso" in text and "3 CFP" in text

    exported = client.get(f"/live_sessions/{live.id}/roster.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0][:3] == ["incontro", "data", "nome"]
    by_name = {row[2]: row for row in rows[1:]}
    assert by_name["Zoë Ağaoğlu"][6:] == ["presente", "", "3.00"]
    assert '\'=HYPERLINK("http://x")' in by_name  # no formula reaches the spreadsheet


def test_referent_sees_staff_hours_and_exports(
    app: Flask, client, make_user, make_session, register, trainer
):
    referent = make_user(org=PL, referent=True)
    staff = make_user(name="Agente Presente", org=PL)
    outsider = make_user(name="Operatrice Esterna", org=CAV, audience="operatrici_cav")
    live = make_session(credits="3 CFP")
    register(live, staff)
    register(live, outsider)
    begin_now(live, minutes_ago=60 * 24 * 2)  # held two days ago
    marks = [
        Mark(staff.id, AttendanceStatus.PRESENT),
        Mark(outsider.id, AttendanceStatus.PARTIAL, 60),
    ]
    mark(app, live, trainer, marks)
    pl = organisation_by_code(db.session, PL).id
    login(client, referent.email)
    html = client.get(f"/live_sessions/organisations/{pl}/").get_data(as_text=True)
    assert "Agente Presente" in html and "Operatrice Esterna" not in html
    exported = client.get(f"/live_sessions/organisations/{pl}/export.csv").get_data(as_text=True)
    assert "Agente Presente" in exported and "Operatrice Esterna" not in exported
    assert "Incontri del personale" in client.get("/").get_data(as_text=True)


def test_demo_session_is_scheduled_once(app: Flask, in_app_context):
    org = organisation_by_code(db.session, "CDM-ADI")
    create_user(db.session, "formatrice@rete-milano.test", "Formatrice Demo", roles=(Role.TRAINER,))
    add_member(
        db.session,
        org,
        email="formatrice@rete-milano.test",
        full_name="Formatrice Demo",
        audience_code="amministrazione",
    )
    first = list(load_demo(db.session))
    second = list(load_demo(db.session))
    assert "programmato" in first[0] and "c'è già" in second[0]
    live = db.session.scalar(select(LiveSession).where(LiveSession.title == DEMO_TITLE))
    assert live is not None and live.credits == "3 CFP" and live.hours == 3
    assert [a.code for a in live.audiences] == ["avvocati"]
    assert (
        db.session.scalar(select(func.count(LiveSession.id)).where(LiveSession.title == DEMO_TITLE))
        == 1
    )


def test_personal_data_export_and_erasure(
    app: Flask, in_app_context, make_user, make_session, register
):
    from lms.privacy import erase_user

    admin = make_user(roles=(Role.ADMIN,))
    live = make_session(capacity=1)
    leaving, waiting = make_user(org=PL), make_user(org=PL)
    register(live, leaving)
    queued = register(live, waiting)
    assert "live_sessions_registration" not in uncovered_tables()
    assert not {t for t in uncovered_tables() if t.startswith("live_sessions_")}
    data = export_user(db.session, leaving.id, actor=admin)
    assert data["live_sessions"]["registrations"][0]["status"] == "confirmed"
    erase_user(db.session, leaving.id, actor=admin, confirm_email=leaving.email)
    db.session.commit()
    db.session.refresh(queued)
    assert queued.status == "confirmed"  # the freed seat went to the waiting list
    assert (
        db.session.scalar(
            select(func.count(Registration.id)).where(
                Registration.user_id == leaving.id, Registration.status == "confirmed"
            )
        )
        == 0
    )
