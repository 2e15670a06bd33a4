"""Signing out at the provider too (RP-initiated logout), and the admin's provider pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from lms import db
from lms.accounts.models import Role
from lms.organisations.services import organisation_by_code
from lms.sso.models import OIDCProvider
from lms.sso.services import SESSION_KEY, logout_redirect
from tests.conftest import login, post_form
from tests.sso.conftest import sign_in


def test_logout_redirects_to_the_end_session_endpoint(client, app, make_user, make_provider, oidc):
    make_user(email="giulia@rete-milano.test")
    make_provider()
    oidc.users.append({"sub": "l-1", "email": "giulia@rete-milano.test", "email_verified": True})
    assert sign_in(client).status_code == 302
    with client.session_transaction() as session:
        held = dict(session)
    id_token = held[SESSION_KEY]["id_token"]
    assert id_token

    with app.test_request_context("/account/logout", method="POST"):
        target = logout_redirect(held)
    assert SESSION_KEY not in held  # taken out of the session

    parts = urlsplit(target)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{oidc.issuer}/end_session"
    assert query["post_logout_redirect_uri"] == ["http://localhost/account/login"]
    answer = requests.get(target, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("http://localhost/account/login?state=")
    [ended] = oidc.ended_sessions
    assert ended["id_token_hint"] == id_token


def test_no_provider_logout_for_a_password_sign_in(app):
    with app.test_request_context("/account/logout", method="POST"):
        assert logout_redirect({}) is None
        assert logout_redirect({SESSION_KEY: {"provider_id": 2**31 - 1}}) is None


def test_admin_creates_edits_and_disables_a_provider(client, make_user, oidc):
    make_user(email="admin@rete-milano.test", roles=(Role.ADMIN,))
    login(client, "admin@rete-milano.test")
    org = organisation_by_code(db.session, "CDM-PL-NTDM")
    form = {
        "slug": "comune",
        "display_name": "Directory del Comune",
        "issuer": oidc.issuer + "/",
        "client_id": "lms",
        "client_secret": "env:LMS_SSO_COMUNE_SECRET",
        "scopes": "openid email profile",
        "enabled": "y",
        "organisations": [str(org.id)],
        "claim_subject": "fiscal_number",
    }
    response = post_form(client, "/sso/admin/providers/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    provider = db.session.scalar(select(OIDCProvider).where(OIDCProvider.slug == "comune"))
    assert provider.issuer == oidc.issuer
    assert provider.client_secret == "env:LMS_SSO_COMUNE_SECRET"
    assert provider.allowed_organisation_ids == [org.id]
    assert provider.claim_mapping == {"subject": "fiscal_number"}
    assert "Directory del Comune" in client.get("/sso/admin/providers/").get_data(as_text=True)

    # Editing without a secret keeps the stored one; the page never shows it.
    edit = f"/sso/admin/providers/{provider.id}"
    page = client.get(edit).get_data(as_text=True)
    assert "LMS_SSO_COMUNE_SECRET" not in page and "/sso/comune/callback" in page
    form.update(client_secret="", display_name="Comune di Milano")
    assert post_form(client, edit, form).status_code == 302
    db.session.expire_all()
    provider = db.session.get(OIDCProvider, provider.id)
    assert provider.display_name == "Comune di Milano"
    assert provider.client_secret == "env:LMS_SSO_COMUNE_SECRET"

    response = post_form(client, f"{edit}/disable", {}, form_url="/sso/admin/providers/")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(OIDCProvider, provider.id).enabled is False
    assert client.get("/sso/comune/login").status_code == 404


def test_admin_form_refusals(client, make_user):
    make_user(email="admin@rete-milano.test", roles=(Role.ADMIN,))
    login(client, "admin@rete-milano.test")
    base = {
        "slug": "x",
        "display_name": "X",
        "issuer": "http://idp.example.org",
        "client_id": "c",
        "client_secret": "s",
        "scopes": "openid",
    }
    response = post_form(client, "/sso/admin/providers/new", base)
    assert response.status_code == 400
    assert "https" in response.get_data(as_text=True)
    response = post_form(
        client,
        "/sso/admin/providers/new",
        {**base, "issuer": "https://idp.example.org", "scopes": "email"},
    )
    assert response.status_code == 400
    assert db.session.scalars(select(OIDCProvider)).all() == []
    assert client.get("/sso/admin/providers/999").status_code == 404


def test_provider_pages_are_for_admins_only(client, make_user):
    make_user(email="persona@rete-milano.test")
    login(client, "persona@rete-milano.test")
    assert client.get("/sso/admin/providers/").status_code == 403


def test_login_buttons_of_the_enabled_providers(app, make_provider, oidc):
    from flask import render_template_string

    from lms.sso.services import enabled_providers

    make_provider()
    make_provider(slug="spento", display_name="Spento", enabled=False)
    with app.test_request_context("/account/login"):
        providers = enabled_providers(db.session)
        html = render_template_string(
            '{% include "sso/_login_buttons.html" %}', sso_providers=providers, next="/corsi"
        )
    assert [p.slug for p in providers] == ["rete"]
    assert 'href="/sso/rete/login?next=/corsi"' in html
    assert "Directory della rete" in html and "Spento" not in html
