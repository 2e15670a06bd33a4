"""The referent's staff page: the profile proposed when inviting, a confirmation before
removing someone, and where each invitation stands (with sending it again)."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask

from lms import clock, db
from lms.organisations.services import organisation_by_code
from tests.conftest import login, post_form


def _page(code: str) -> str:
    return f"/organisations/{organisation_by_code(db.session, code).id}/"


def _selected_audience(html: str) -> str | None:
    select = re.search(r'<select[^>]*id="audience".*?</select>', html, re.S)
    chosen = re.search(r'<option (?:selected )?value="([^"]+)"(?: selected)?>', select[0])
    options = re.findall(r"<option [^>]*>", select[0])
    picked = [o for o in options if "selected" in o]
    return re.search(r'value="([^"]+)"', picked[0])[1] if picked and chosen else None


def test_the_invite_form_proposes_the_organisations_usual_profile(app: Flask, make_user):
    referent = make_user(org="CDM-PL-NTDM", referent=True, audience="amministrazione")
    for _ in range(2):
        make_user(org="CDM-PL-NTDM", audience="polizia_locale")
    client = app.test_client()
    login(client, referent.email)
    assert _selected_audience(client.get(_page("CDM-PL-NTDM")).get_data(as_text=True)) == (
        "polizia_locale"  # not "avvocati", the first of the list
    )
    cav_referent = make_user(org="CAV-CADMI", referent=True, audience="operatrici_cav")
    client = app.test_client()
    login(client, cav_referent.email)
    assert _selected_audience(client.get(_page("CAV-CADMI")).get_data(as_text=True)) == (
        "operatrici_cav"
    )


def test_removing_someone_asks_for_confirmation_first(app: Flask, make_user):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    staff = make_user(org="CDM-PL-NTDM", name="Agente Da Rimuovere")
    client = app.test_client()
    login(client, referent.email)
    page = _page("CDM-PL-NTDM")
    listing = client.get(page).get_data(as_text=True)
    confirm_url = f"{page}members/{staff.id}/remove"
    assert f'href="{confirm_url}"' in listing  # a link to a confirmation, not a form posting
    confirm = client.get(confirm_url)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Agente Da Rimuovere" in html and "Sì, rimuovi" in html
    assert "Agente Da Rimuovere" in client.get(page).get_data(as_text=True)  # still there
    post_form(client, confirm_url, {})
    client.get(page)  # the message saying who was removed
    assert "Agente Da Rimuovere" not in client.get(page).get_data(as_text=True)
    assert client.get(f"{page}members/999999/remove").status_code == 404


def test_invitation_states_and_sending_again(app: Flask, make_user, outbox):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    invited = make_user(org="CDM-PL-NTDM", name="Nuova Agente", password=None)
    make_user(org="CDM-PL-NTDM", name="Agente Attiva")
    client = app.test_client()
    login(client, referent.email)
    page = _page("CDM-PL-NTDM")

    def state_of(name: str) -> str:
        html = client.get(page).get_data(as_text=True)
        row = re.search(rf"<tr>(?:(?!</tr>).)*{name}(?:(?!</tr>).)*</tr>", html, re.S)[0]
        return re.search(r'data-label="Invito"><span class="badge[^"]*">([^<]+)<', row)[1]

    assert state_of("Nuova Agente") == "in attesa"
    assert state_of("Agente Attiva") == "accettato"
    with clock.frozen(clock.now() + dt.timedelta(days=15)):
        assert state_of("Nuova Agente") == "scaduto"
        resend = f"{page}members/{invited.id}/invitation"
        post_form(client, resend, {}, form_url=page)
        assert [m["To"] for m in outbox.messages()] == [invited.email]
        assert outbox.links("http")  # a fresh link
        assert state_of("Nuova Agente") == "in attesa"
        for _ in range(3):
            post_form(client, resend, {}, form_url=page)
        assert len(outbox.messages()) == 3  # at most three a day
