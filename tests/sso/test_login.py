"""Single sign-on against a real OpenID Connect provider on the loopback (tests/sso/provider.py):
the platform's test client goes to the provider over HTTP and comes back with the code."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from lms import db
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.sso.models import OIDCIdentity
from tests.sso.conftest import SLUG, consent, local, sign_in, signed_in_user_id, to_provider
from tests.sso.provider import CLIENT_ID, CLIENT_SECRET


def _claims(sub: str, email: str, verified: bool = True, **extra: object) -> dict:
    return {
        "sub": sub,
        "email": email,
        "email_verified": verified,
        "given_name": "Giulia",
        "family_name": "Bassi",
        **extra,
    }


def _identities(provider_id: int) -> list[OIDCIdentity]:
    stmt = select(OIDCIdentity).where(OIDCIdentity.provider_id == provider_id)
    return list(db.session.scalars(stmt))


def test_linked_identity_signs_in(client, make_user, make_provider, oidc):
    user = make_user(email="giulia@rete-milano.test")
    provider = make_provider()
    db.session.add(OIDCIdentity(provider_id=provider.id, subject="g-1", user_id=user.id))
    db.session.commit()
    # The provider's e-mail differs and is not verified: a linked subject needs neither.
    oidc.users.append(_claims("g-1", "altro@esempio.test", verified=False))

    response = sign_in(client, next="/account/password")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/password"
    assert signed_in_user_id(client) == user.id
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None
    assert _identities(provider.id)[0].last_login_at is not None
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "login", AuditEntry.subject_id == user.id)
    ).one()
    assert entry.details["via"] == f"sso:{SLUG}"
    assert client.get("/account/password").status_code == 200


def test_verified_email_links_the_existing_account(client, make_user, make_provider, oidc):
    user = make_user(email="giulia@rete-milano.test")
    provider = make_provider()
    oidc.users.append(_claims("g-2", "Giulia@Rete-Milano.test"))

    response = sign_in(client)

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in_user_id(client) == user.id
    [identity] = _identities(provider.id)
    assert (identity.subject, identity.user_id) == ("g-2", user.id)


def test_unverified_email_is_refused_and_nothing_linked(client, make_user, make_provider, oidc):
    make_user(email="giulia@rete-milano.test")
    provider = make_provider()
    oidc.users.append(_claims("g-3", "giulia@rete-milano.test", verified=False))

    response = sign_in(client)

    assert response.status_code == 403
    assert "non conferma il tuo indirizzo e-mail" in response.get_data(as_text=True)
    assert signed_in_user_id(client) is None
    assert _identities(provider.id) == []


def test_open_redirect_in_next_is_ignored(client, make_user, make_provider, oidc):
    make_user(email="giulia@rete-milano.test")
    make_provider()
    oidc.users.append(_claims("g-4", "giulia@rete-milano.test"))

    response = sign_in(client, next="//evil.example/x")

    assert response.headers["Location"] == "/"


def test_state_mismatch_is_refused(client, make_user, make_provider, oidc, app):
    make_user(email="giulia@rete-milano.test")
    make_provider()
    oidc.users.append(_claims("g-5", "giulia@rete-milano.test"))
    callback = consent(to_provider(client))
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    forged = f"{parts.path}?code={query['code'][0]}&state=forged-state"

    assert client.get(forged).status_code == 400
    assert signed_in_user_id(client) is None
    # Another browser (no state in its session) cannot use the code either.
    assert app.test_client().get(local(callback)).status_code == 400


def test_callback_replayed_is_refused(client, app, make_user, make_provider, oidc):
    make_user(email="giulia@rete-milano.test")
    make_provider()
    oidc.users.append(_claims("g-6", "giulia@rete-milano.test"))
    callback = local(consent(to_provider(client)))
    assert client.get(callback).status_code == 302

    assert client.get(callback).status_code == 400  # its state was used up
    other = app.test_client()
    assert other.get(callback).status_code == 400
    assert signed_in_user_id(other) is None


def test_nonce_mismatch_is_refused(client, make_user, make_provider, oidc):
    make_user(email="giulia@rete-milano.test")
    make_provider()
    oidc.users.append(_claims("g-7", "giulia@rete-milano.test"))
    oidc.tamper["nonce"] = "a-nonce-from-another-login"

    response = sign_in(client)

    assert response.status_code == 400
    assert signed_in_user_id(client) is None


def test_id_token_of_another_login_is_refused(client, app, make_user, make_provider, oidc):
    """A code obtained for one login brought into another browser's login, whose session
    holds that state and verifier but its own nonce: the ID token's nonce is not the one
    this browser sent, refused."""
    make_user(email="giulia@rete-milano.test")
    make_provider()
    oidc.users.append(_claims("g-8", "giulia@rete-milano.test"))
    victim = app.test_client()
    to_provider(victim)  # the victim's login under way, with its own state and nonce
    attacker_callback = local(consent(to_provider(client)))
    state = parse_qs(urlsplit(attacker_callback).query)["state"][0]
    with client.session_transaction() as attacker_session:
        key = next(k for k in attacker_session if k.endswith(state))
        held = dict(attacker_session[key])
    with victim.session_transaction() as victim_session:
        own = next(v for k, v in victim_session.items() if k.startswith("_state_"))
        held["data"] = {**held["data"], "nonce": own["data"]["nonce"]}
        victim_session[key] = held

    assert victim.get(attacker_callback).status_code == 400
    assert signed_in_user_id(victim) is None


def test_tampered_id_token_signature_is_refused(client, make_user, make_provider, oidc):
    make_user(email="giulia@rete-milano.test")
    make_provider()
    oidc.users.append(_claims("g-9", "giulia@rete-milano.test"))
    oidc.tamper["bad_signature"] = True

    response = sign_in(client)

    assert response.status_code == 400
    assert signed_in_user_id(client) is None


def test_pkce_s256_is_sent_and_the_provider_checks_it(client, make_user, make_provider, oidc):
    make_user(email="giulia@rete-milano.test")
    make_provider()
    oidc.users.append(_claims("g-10", "giulia@rete-milano.test"))

    assert sign_in(client).status_code == 302
    [asked] = oidc.authorize_requests
    assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
    [exchange] = oidc.token_requests
    verifier = exchange["code_verifier"]
    digest = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == asked["code_challenge"]

    # The provider refuses a code without its verifier, or with another.
    for wrong in (None, "x" * 50):
        callback = consent(to_provider(client.application.test_client()))
        code = parse_qs(urlsplit(callback).query)["code"][0]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback.split("?")[0],
        }
        if wrong:
            form["code_verifier"] = wrong
        answer = requests.post(
            f"{oidc.issuer}/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10
        )
        assert answer.status_code == 400, answer.text
        assert "id_token" not in answer.text


def test_disabled_and_unknown_providers_are_404(client, make_provider):
    make_provider(enabled=False)
    for url in ("/sso/rete/login", "/sso/rete/callback", "/sso/nessuno/login"):
        assert client.get(url).status_code == 404, url
    assert client.get("/sso/nessuno/callback?code=x&state=y").status_code == 404


def test_no_account_and_no_organisation_is_refused(client, make_provider, oidc):
    provider = make_provider()
    oidc.users.append(_claims("g-11", "nuova@rete-milano.test"))

    response = sign_in(client)

    assert response.status_code == 403
    assert signed_in_user_id(client) is None
    assert _identities(provider.id) == []


def test_secret_from_the_environment(client, make_user, make_provider, oidc, monkeypatch):
    make_user(email="giulia@rete-milano.test")
    make_provider(client_secret="env:LMS_TEST_SSO_SECRET")
    oidc.users.append(_claims("g-12", "giulia@rete-milano.test"))
    monkeypatch.setenv("LMS_TEST_SSO_SECRET", CLIENT_SECRET)

    assert sign_in(client).status_code == 302
    assert signed_in_user_id(client) is not None
