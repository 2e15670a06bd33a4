"""The professional identifier (codice fiscale or registration number): the person keeps
it on "I miei dati", it is in their data export and goes with erasure."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import select

from lms import db, privacy
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from tests.conftest import login, post_form

PAGE = "/account/data"


def test_the_person_sets_changes_and_removes_their_identifier(app: Flask, make_user):
    user = make_user()
    client = app.test_client()
    login(client, user.email)
    assert "Codice fiscale o n. di iscrizione" in client.get(PAGE).get_data(as_text=True)

    saved = post_form(client, PAGE, {"professional_id": "  RSSMRA80A01F205X  "})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(PAGE)
    db.session.expire_all()
    assert db.session.get(User, user.id).professional_id == "RSSMRA80A01F205X"
    assert "RSSMRA80A01F205X" in client.get(PAGE).get_data(as_text=True)
    changes = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "profile.changed", AuditEntry.subject_id == user.id
        )
    ).all()
    assert len(changes) == 1

    for refused in ("Ordine avvocati\nMilano 1234", "x" * 41):
        page = post_form(client, PAGE, {"professional_id": refused})
        assert page.status_code == 200 and 'class="errors"' in page.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(User, user.id).professional_id == "RSSMRA80A01F205X"

    post_form(client, PAGE, {"professional_id": "Ordine Avvocati Milano  n. 12345"})
    db.session.expire_all()
    assert db.session.get(User, user.id).professional_id == "Ordine Avvocati Milano n. 12345"
    post_form(client, PAGE, {"professional_id": ""})  # optional: empty removes it
    db.session.expire_all()
    assert db.session.get(User, user.id).professional_id is None


def test_the_identifier_is_exported_and_erased(app: Flask, make_user):
    user = make_user(name="Avvocata Riservata")
    user.professional_id = "MI-AVV-2019-0042"
    db.session.commit()
    client = app.test_client()
    login(client, user.email)
    data = json.loads(client.get("/account/data.json").get_data(as_text=True))
    assert data["core"]["profile"]["professional_id"] == "MI-AVV-2019-0042"

    admin = make_user(roles=(Role.ADMIN,))
    with app.app_context():
        privacy.erase_user(db.session, user.id, actor=admin, confirm_email=user.email)
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, user.id).professional_id is None
    with app.app_context():
        exported = privacy.export_user(db.session, user.id, actor=admin)
    assert exported["core"]["profile"]["professional_id"] is None
    assert "MI-AVV-2019-0042" not in json.dumps(exported)
