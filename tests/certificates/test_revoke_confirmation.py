"""Revoking a certificate is confirmed on a page of its own (GET ``?revoke=1``), with the
reason, before the POST revokes it."""

from __future__ import annotations

from flask import Flask

from certificates.models import Certificate
from lms import db
from lms.accounts.models import Role
from tests.conftest import login, post_form


def test_revocation_asks_first(app: Flask, make_user, complete):
    admin = make_user(roles=(Role.ADMIN,))
    cert = complete(make_user())
    client = app.test_client()
    login(client, admin.email)
    url = f"/certificates/admin/{cert.id}"
    detail = client.get(url).get_data(as_text=True)
    assert f'href="{url}?revoke=1"' in detail and 'name="reason"' not in detail
    confirm = client.get(f"{url}?revoke=1").get_data(as_text=True)
    assert f"attestato {cert.serial}?</h1>" in confirm and 'name="reason"' in confirm
    assert "non si può annullare" in confirm
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_at is None  # looking changes nothing
    refused = post_form(client, url, {"reason": "no"}, form_url=f"{url}?revoke=1")
    assert refused.status_code == 200 and 'name="reason"' in refused.get_data(as_text=True)
    post_form(client, url, {"reason": "Rilasciato per errore"}, form_url=f"{url}?revoke=1")
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_reason == "Rilasciato per errore"
    # Revoked: no confirmation offered any more, the detail page instead.
    again = client.get(f"{url}?revoke=1").get_data(as_text=True)
    assert 'name="reason"' not in again
