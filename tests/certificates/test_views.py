"""Pages: the holder's list and downloads, the public verify page, admin actions."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from certificates import codes
from certificates.models import Certificate
from lms import clock, db
from lms.accounts.models import Role
from tests.conftest import login, post_form


def test_my_certificates_list_and_own_download_only(app: Flask, make_user, complete):
    holder = make_user(name="Maria Rossi")
    other = make_user(name="Altra Persona")
    mine = complete(holder, title="Primo corso")
    theirs = complete(other, title="Corso altrui")
    client = app.test_client()
    assert client.get("/certificates/").status_code == 302  # login first
    login(client, holder.email)
    page = client.get("/certificates/").get_data(as_text=True)
    assert "Primo corso" in page and mine.serial in page and "valido" in page
    assert "Corso altrui" not in page
    download = client.get(f"/certificates/{mine.id}/download")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert mine.serial in download.headers["Content-Disposition"]
    assert download.data.startswith(b"%PDF")
    assert client.get(f"/certificates/{theirs.id}/download").status_code == 404
    assert client.get("/certificates/999999/download").status_code == 404


def test_nav_item_and_dashboard_widget(app: Flask, make_user, complete):
    holder = make_user()
    complete(holder, title="Corso in evidenza", completed_at=clock.now() - dt.timedelta(days=700))
    client = app.test_client()
    login(client, holder.email)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/certificates/"' in home and "I miei attestati" in home
    assert "Corso in evidenza" in home and "in scadenza" in home


def test_verify_by_code_shows_the_certificate(app: Flask, client, make_user, complete):
    cert = complete(make_user(name="Łucja Żółć"), title="Accoglienza")
    response = client.get(f"/certificates/verify/{codes.grouped(cert.code)}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-outcome="valid"' in page
    assert "Łucja Żółć" in page and "Accoglienza" in page and cert.serial in page
    # the signed details, prominent, and the reader asked to compare them with the paper
    assert 'data-fact="holder"><strong>Łucja Żółć</strong>' in page
    assert 'data-fact="version">2026.1<' in page and "Confronta questi dati" in page
    sloppy = codes.grouped(cert.code).lower().replace("-", "")
    assert client.get(f"/certificates/verify/{sloppy}").status_code == 200
    form = post_form(client, "/certificates/verify", {"code": cert.code.lower()})
    assert form.status_code == 302
    assert form.headers["Location"].endswith(f"/certificates/verify/{codes.grouped(cert.code)}")


def test_unknown_and_revoked_codes_are_told_apart(app: Flask, client, make_user, complete):
    from certificates import issuing

    cert = complete(make_user(name="Nome Riservato"))
    issuing.revoke(db.session, cert, "Dati errati", actor=None)
    db.session.commit()
    revoked = client.get(f"/certificates/verify/{cert.code}")
    page = revoked.get_data(as_text=True)
    assert 'data-outcome="revoked"' in page and cert.serial in page
    assert "Nome Riservato" not in page and "Dati errati" not in page
    unknown = client.get(f"/certificates/verify/{codes.grouped(codes.new_code())}")
    assert unknown.status_code == 404
    assert 'data-outcome="unknown"' in unknown.get_data(as_text=True)
    assert client.get(f"/certificates/api/status/{cert.code}").get_json()["status"] == "revoked"


def test_expired_code(app: Flask, client, make_user, complete):
    cert = complete(make_user(), completed_at=clock.now() - dt.timedelta(days=800))
    page = client.get(f"/certificates/verify/{cert.code}").get_data(as_text=True)
    assert 'data-outcome="expired"' in page


def test_lookups_are_throttled_per_address(app: Flask, make_user, complete, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_CERT_VERIFY_LIMIT", 5)
    cert = complete(make_user())
    client = app.test_client()
    guesses = [codes.grouped(codes.new_code()) for _ in range(5)]
    assert [client.get(f"/certificates/verify/{g}").status_code for g in guesses] == [404] * 5
    blocked = client.get(f"/certificates/verify/{cert.code}")  # even the right one, now
    assert blocked.status_code == 429
    assert "Troppe verifiche" in blocked.get_data(as_text=True)
    assert client.get(f"/certificates/api/status/{cert.code}").status_code == 429
    other = app.test_client()
    elsewhere = other.get(
        f"/certificates/verify/{cert.code}", environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert elsewhere.status_code == 200  # per client address


def test_admin_revokes_with_reason_and_csrf(app: Flask, make_user, complete):
    admin = make_user(roles=(Role.ADMIN,))
    cert = complete(make_user())
    client = app.test_client()
    login(client, admin.email)
    url = f"/certificates/admin/{cert.id}"
    assert client.post(url, data={"reason": "Senza token"}).status_code == 400
    short = post_form(client, url, {"reason": "no"})
    assert short.status_code == 200 and cert.revoked_at is None
    done = post_form(client, url, {"reason": "Completamento annullato"}, follow_redirects=True)
    assert "revocato" in done.get_data(as_text=True)
    db.session.expire_all()
    cert = db.session.get(Certificate, cert.id)
    assert cert.revoked_reason == "Completamento annullato" and cert.revoked_by_id == admin.id
    found = client.get(f"/certificates/admin/?q={cert.serial}").get_data(as_text=True)
    assert f"/certificates/admin/{cert.id}" in found


def test_admin_reissues_with_the_corrected_name(app: Flask, make_user, complete):
    admin = make_user(roles=(Role.ADMIN,))
    holder = make_user(name="Lucia Zolc")
    cert = complete(holder)
    holder.full_name = "Łucja Żółć"
    db.session.commit()
    client = app.test_client()
    login(client, admin.email)
    url = f"/certificates/admin/{cert.id}"
    response = post_form(client, f"{url}/reissue", {}, form_url=url, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"{cert.serial}-R1" in page and "Łucja Żółć" in page


def test_only_admins_manage(app: Flask, make_user, complete):
    cert = complete(make_user())
    for role in ((), (Role.COORDINATOR,), (Role.TRAINER,)):
        user = make_user(roles=role)
        client = app.test_client()
        login(client, user.email)
        assert client.get("/certificates/admin/").status_code == 403
        assert client.get(f"/certificates/admin/{cert.id}").status_code == 403
        assert client.post(f"/certificates/admin/{cert.id}/reissue").status_code in (400, 403)


def test_every_certificate_route_declares_its_access(app: Flask):
    from lms.authz import access_of

    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("certificates.") and not r.endpoint.endswith(".static")
    ]
    assert len(rules) >= 12
    for rule in rules:
        assert access_of(app.view_functions[rule.endpoint]), rule.endpoint
