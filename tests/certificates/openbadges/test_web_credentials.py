"""Open Badges 3.0 on the web: the issuer's documents, the public credential page, the
holder's "add to wallet" (JSON, JWT, baked PNG and SVG) and the DID form."""

from __future__ import annotations

import base64
import gzip
import json
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from certificates import badge_verification, baking, codes, did, issuing, keys, openbadges
from certificates.models import Certificate, OpenBadge
from lms import db
from lms.accounts.models import Role
from lms.audit import AuditEntry
from tests.conftest import login, post_form

VALID_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def _wallet(cert: Certificate) -> str:
    return f"/certificates/{cert.id}/wallet"


def _make(client, cert: Certificate, did_value: str | None = None):
    """The holder's POST from the wallet page (with its CSRF token)."""
    data = {"did": did_value} if did_value is not None else {}
    return post_form(client, _wallet(cert), data)


def _badges(cert: Certificate) -> list[OpenBadge]:
    db.session.expire_all()
    return list(db.session.scalars(select(OpenBadge).where(OpenBadge.certificate_id == cert.id)))


def _verify(app: Flask, value, **options):
    """The ob3-core verifier (it reads the installation's DID from the app)."""
    with app.app_context():
        return badge_verification.verify(value, keys.public_keys(db.session), **options)


def _cacheable(response, max_age: int) -> None:
    assert response.cache_control.public and response.cache_control.max_age == max_age
    assert response.headers.get("ETag")


# --- The issuer's documents ------------------------------------------------------------


def test_did_document_resolves_the_issuer_with_caching_and_cors(app: Flask, client):
    response = client.get("/certificates/did.json")
    assert response.status_code == 200 and response.mimetype == "application/did+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    _cacheable(response, 3600)
    document = response.get_json(force=True)
    with app.test_request_context():
        issuer = did.issuer_id()
    # did:web resolution: did:web:lms.test:certificates -> http(s)://lms.test/certificates/did.json
    assert issuer == "did:web:lms.test:certificates" and document["id"] == issuer
    assert document["assertionMethod"] and all(
        m["controller"] == issuer for m in document["verificationMethod"]
    )
    again = client.get(
        "/certificates/did.json", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and not again.data


def test_issuer_profile_and_status_list(app: Flask, client):
    profile = client.get("/certificates/issuer")
    assert profile.status_code == 200 and profile.mimetype == "application/ld+json"
    assert profile.headers["Access-Control-Allow-Origin"] == "*"
    _cacheable(profile, 3600)
    body = profile.get_json(force=True)
    assert body["id"].startswith("did:web:") and "Profile" in body["type"]

    listing = client.get("/certificates/credentials/status/revocation")
    assert listing.status_code == 200 and listing.mimetype == "application/ld+json"
    assert listing.headers["Access-Control-Allow-Origin"] == "*"
    _cacheable(listing, 300)  # short: a revocation reaches verifiers within minutes
    status = listing.get_json(force=True)
    assert "BitstringStatusListCredential" in status["type"] and "proof" in status
    assert status["id"] == "http://lms.test/certificates/credentials/status/revocation"


# --- The holder ------------------------------------------------------------------------


def test_add_to_wallet_then_download_json_jwt_png_svg(app: Flask, make_user, complete):
    holder = make_user(name="Maria Rossi")
    cert = complete(holder, title="Accoglienza")
    client = app.test_client()
    login(client, holder.email)
    page = client.get("/certificates/").get_data(as_text=True)
    assert "Aggiungi al wallet" in page and "Pagina pubblica della credenziale" in page
    # Nothing is issued by looking: the downloads exist once the holder asked.
    assert client.get(f"/certificates/{cert.id}/credential.json").status_code == 404
    assert "Prepara la credenziale" in client.get(_wallet(cert)).get_data(as_text=True)
    made = post_form(client, _wallet(cert), {}, form_url="/certificates/")
    assert made.status_code == 302 and made.headers["Location"].endswith("/wallet#credenziali")
    assert len(_badges(cert)) == 1
    assert _make(client, cert).status_code == 302 and len(_badges(cert)) == 1  # once
    wallet = client.get(_wallet(cert)).get_data(as_text=True)
    for fmt in ("json", "jwt", "png", "svg"):
        assert f"/certificates/{cert.id}/credential.{fmt}" in wallet
    [badge] = _badges(cert)

    as_json = client.get(f"/certificates/{cert.id}/credential.json")
    assert as_json.status_code == 200 and as_json.mimetype == "application/ld+json"
    assert f"{cert.serial}-open-badge.json" in as_json.headers["Content-Disposition"]
    credential = json.loads(as_json.data)
    assert "OpenBadgeCredential" in credential["type"]
    assert credential["id"].endswith(cert.code)
    assert _verify(app, credential).ok

    as_jwt = client.get(f"/certificates/{cert.id}/credential.jwt")
    assert as_jwt.status_code == 200 and as_jwt.mimetype == "text/plain"
    assert as_jwt.get_data(as_text=True) == badge.jwt
    assert _verify(app, badge.jwt).ok

    png = client.get(f"/certificates/{cert.id}/credential.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert (
        png.headers["Content-Disposition"].endswith('.png"')
        or ".png" in (png.headers["Content-Disposition"])
    )
    baked = baking.unbake_png(png.data)
    assert baked == badge.jwt
    result = _verify(app, baked)
    assert result.ok and result.credential["credentialSubject"]["achievement"]["name"] == (
        "Accoglienza"
    )

    svg = client.get(f"/certificates/{cert.id}/credential.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "<script" not in svg.get_data(as_text=True)
    baked = baking.unbake_svg(svg.data)
    assert baked == badge.jwt and _verify(app, baked).ok


def test_others_and_admins_get_404(app: Flask, make_user, complete):
    holder = make_user()
    cert = complete(holder)
    owner = app.test_client()
    login(owner, holder.email)
    assert _make(owner, cert).status_code == 302
    for intruder in (make_user(), make_user(roles=(Role.ADMIN,))):
        client = app.test_client()
        login(client, intruder.email)
        assert client.get(_wallet(cert)).status_code == 404
        assert post_form(client, _wallet(cert), {}, form_url="/certificates/").status_code == 404
        for fmt in ("json", "jwt", "png", "svg"):
            assert client.get(f"/certificates/{cert.id}/credential.{fmt}").status_code == 404
    assert len(_badges(cert)) == 1
    assert owner.get("/certificates/999999/wallet").status_code == 404
    assert owner.get("/certificates/999999/credential.png").status_code == 404
    assert owner.get(f"/certificates/{cert.id}/credential.gif").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(_wallet(cert)).status_code == 302  # to the login page
    assert anonymous.get(f"/certificates/{cert.id}/credential.json").status_code == 302


def test_wallet_post_needs_the_csrf_token(app: Flask, make_user, complete):
    holder = make_user()
    cert = complete(holder)
    client = app.test_client()
    login(client, holder.email)
    assert client.post(_wallet(cert), data={}).status_code == 400
    assert client.post(_wallet(cert), data={"did": VALID_DID}).status_code == 400
    assert _badges(cert) == []


@pytest.mark.parametrize(
    "junk",
    [
        "not-a-did",
        "did:",
        "did:key:",
        "did:KEY:z6Mk",  # the method name is lower case
        "did:key:z6Mk<script>",
        "did:key:z6Mk space",
        "did:key:z6Mk#frag",
        "did:key:%zz",
        "did:key:" + "a" * 300,
        "did:web:example.com\nLocation: x",
    ],
)
def test_did_form_refuses_junk(app: Flask, make_user, complete, junk):
    holder = make_user()
    cert = complete(holder)
    client = app.test_client()
    login(client, holder.email)
    response = _make(client, cert, junk)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page and "<script>" not in page.split("<main", 1)[-1]
    assert _badges(cert) == []


def test_did_credential_is_made_for_that_did_and_downloaded(app: Flask, make_user, complete):
    holder = make_user()
    cert = complete(holder)
    client = app.test_client()
    login(client, holder.email)
    assert _make(client, cert, f"  {VALID_DID} ").status_code == 302  # spaces trimmed
    [badge] = _badges(cert)
    assert badge.subject_id == VALID_DID
    with app.app_context():
        (entry,) = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "certificate.open_badge")
        )
        assert entry.object_id == cert.serial and entry.details == {"subject": VALID_DID}
    wallet = client.get(_wallet(cert)).get_data(as_text=True)
    assert VALID_DID in wallet and "Prepara la credenziale" in wallet  # not the e-mail's yet
    url = f"/certificates/{cert.id}/credential.json?did={VALID_DID}"
    credential = json.loads(client.get(url).data)
    assert credential["credentialSubject"]["id"] == VALID_DID
    assert "identifier" not in credential["credentialSubject"]  # no e-mail hash beside it
    png = client.get(f"/certificates/{cert.id}/credential.png?did={VALID_DID}")
    assert _verify(app, baking.unbake_png(png.data)).ok
    # Its own id, which serves it (the e-mail's badge has the address without ?did=).
    assert "?did=" in credential["id"] and credential["id"].startswith("http://lms.test/")
    served = app.test_client().get(
        credential["id"].removeprefix("http://lms.test"), headers={"Accept": "application/ld+json"}
    )
    assert served.status_code == 200 and json.loads(served.data) == credential
    # Without ?did= the e-mail's credential is meant, and it does not exist yet.
    assert client.get(f"/certificates/{cert.id}/credential.json").status_code == 404
    other = "did:example:" + "x" * 20
    assert client.get(f"/certificates/{cert.id}/credential.json?did={other}").status_code == 404


def test_a_few_dids_per_certificate_at_most(app: Flask, make_user, complete):
    from certificates.credential_views import MAX_DIDS_PER_CERTIFICATE

    holder = make_user()
    cert = complete(holder)
    client = app.test_client()
    login(client, holder.email)
    for n in range(MAX_DIDS_PER_CERTIFICATE):
        assert _make(client, cert, f"did:example:holder{n}").status_code == 302
    refused = _make(client, cert, "did:example:onemore")
    assert refused.status_code == 200 and "aria-invalid" in refused.get_data(as_text=True)
    assert _make(client, cert, "did:example:holder0").status_code == 302  # already made
    assert len(_badges(cert)) == MAX_DIDS_PER_CERTIFICATE


# --- The public credential page --------------------------------------------------------


def _issued(app: Flask, make_user, complete, **overrides):
    holder = make_user(name="Giulia Bianchi")
    cert = complete(holder, **overrides)
    client = app.test_client()
    login(client, holder.email)
    assert _make(client, cert).status_code == 302
    [badge] = _badges(cert)
    return cert, badge


def test_public_page_html_and_json(app: Flask, client, make_user, complete):
    cert, badge = _issued(app, make_user, complete, title="Orientamento")
    url = f"/certificates/credentials/{codes.grouped(cert.code)}"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'data-outcome="valid"' in html and "Giulia Bianchi" in html and "Orientamento" in html
    assert "did:web:lms.test:certificates" in html and "/certificates/did.json" in html
    assert "Vary" in page.headers and "Accept" in page.headers["Vary"]
    # The page holds the visitor's CSRF token and menu: never in a shared cache.
    assert page.cache_control.private and not page.cache_control.public

    as_json = client.get(
        f"/certificates/credentials/{cert.code}", headers={"Accept": "application/ld+json"}
    )
    assert as_json.status_code == 200 and as_json.mimetype == "application/ld+json"
    assert (
        as_json.headers["Access-Control-Allow-Origin"] == "*" and as_json.headers["Last-Modified"]
    )
    _cacheable(as_json, 300)
    credential = json.loads(as_json.data)
    assert credential == openbadges.credential_json(badge)
    # The credential's id is this very address.
    assert credential["id"] == f"http://lms.test/certificates/credentials/{cert.code}"
    again = client.get(
        f"/certificates/credentials/{cert.code}",
        headers={"Accept": "application/ld+json", "If-None-Match": as_json.headers["ETag"]},
    )
    assert again.status_code == 304

    vc = client.get(url, headers={"Accept": "application/vc+ld+json"})
    assert vc.mimetype == "application/vc+ld+json" and json.loads(vc.data) == credential
    plain = client.get(url, headers={"Accept": "application/json"})
    assert plain.mimetype == "application/json"
    jwt = client.get(url + "?format=jwt")
    assert jwt.mimetype == "text/plain" and jwt.get_data(as_text=True) == badge.jwt
    assert client.get(url, headers={"Accept": "application/vc+jwt"}).mimetype == (
        "application/vc+jwt"
    )
    assert client.get(url + "?format=json").mimetype == "application/ld+json"
    # A browser's Accept header gets the page.
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get(url, headers={"Accept": browser}).mimetype == "text/html"


def test_public_page_before_the_credential_and_unknown_codes(app, client, make_user, complete):
    cert = complete(make_user(name="Senza Badge"))
    page = client.get(f"/certificates/credentials/{cert.code}")
    assert page.status_code == 200 and "non è ancora stata emessa" in page.get_data(as_text=True)
    assert client.get(f"/certificates/credentials/{cert.code}?format=json").status_code == 404
    unknown = codes.grouped(codes.new_code())
    missing = client.get(f"/certificates/credentials/{unknown}")
    assert missing.status_code == 404 and 'data-outcome="unknown"' in missing.get_data(as_text=True)
    as_json = client.get(
        f"/certificates/credentials/{unknown}", headers={"Accept": "application/json"}
    )
    assert as_json.status_code == 404 and as_json.get_json()["error"] == 404
    assert client.get("/certificates/credentials/nonsense").status_code == 404


def test_public_page_is_throttled(app: Flask, make_user, complete, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_CERT_VERIFY_LIMIT", 3)
    cert = complete(make_user())
    client = app.test_client()
    address = {"REMOTE_ADDR": "192.0.2.44"}
    guesses = [codes.grouped(codes.new_code()) for _ in range(3)]
    assert [
        client.get(f"/certificates/credentials/{g}", environ_base=address).status_code
        for g in guesses
    ] == [404] * 3
    blocked = client.get(f"/certificates/credentials/{cert.code}", environ_base=address)
    assert blocked.status_code == 429 and "Troppe verifiche" in blocked.get_data(as_text=True)
    as_json = client.get(f"/certificates/credentials/{cert.code}?format=json", environ_base=address)
    assert as_json.status_code == 429


def _bit(status_credential: dict, index: int) -> bool:
    """Bit ``index`` of a Bitstring Status List, read as the W3C specification says
    (multibase "u" base64url, GZIP, index 0 the left-most bit), not with our decoder."""
    encoded = status_credential["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    bits = gzip.decompress(raw)
    return bool(bits[index // 8] >> (7 - index % 8) & 1)


def test_revoked_certificate_shows_revoked_and_its_bit_is_set(app, client, make_user, complete):
    cert, badge = _issued(app, make_user, complete)
    other, _other_badge = _issued(app, make_user, complete)
    index = int(openbadges.credential_json(badge)["credentialStatus"]["statusListIndex"])
    before = client.get("/certificates/credentials/status/revocation").get_json(force=True)
    assert _bit(before, index) is False

    issuing.revoke(db.session, cert, "Completamento annullato", actor=None)
    db.session.commit()
    page = client.get(f"/certificates/credentials/{cert.code}").get_data(as_text=True)
    assert 'data-outcome="revoked"' in page and cert.serial in page
    assert "Giulia Bianchi" not in page and "Completamento annullato" not in page
    after = client.get("/certificates/credentials/status/revocation").get_json(force=True)
    assert _bit(after, index) is True
    other_index = int(
        openbadges.credential_json(_other_badge)["credentialStatus"]["statusListIndex"]
    )
    assert _bit(after, other_index) is False
    # The JSON stays where wallets find it; the status list is what says revoked.
    credential = client.get(f"/certificates/credentials/{cert.code}?format=json").get_json(
        force=True
    )
    checked = _verify(app, credential, status_list_credential=after)
    assert checked.outcome is badge_verification.Outcome.REVOKED
    # No more downloads nor "add to wallet" for the holder.
    holder = app.test_client()
    login(holder, cert.user.email)
    assert holder.get(f"/certificates/{cert.id}/credential.png").status_code == 404
    assert holder.get(_wallet(cert)).status_code == 404
    mine = holder.get("/certificates/").get_data(as_text=True)
    assert f"/certificates/{cert.id}/wallet" not in mine
    assert (
        db.session.scalar(
            select(func.count()).select_from(OpenBadge).where(OpenBadge.certificate_id == other.id)
        )
        == 1
    )


def test_mine_links_the_public_page_with_the_code(app: Flask, make_user, complete):
    holder = make_user()
    cert = complete(holder)
    client = app.test_client()
    login(client, holder.email)
    page = client.get("/certificates/").get_data(as_text=True)
    link = re.search(r'href="(/certificates/credentials/[^"]+)"', page)
    assert link and codes.normalise(link.group(1).rsplit("/", 1)[1]) == cert.code
    assert client.get(link.group(1)).status_code == 200


def test_the_achievement_id_resolves(app: Flask, client, make_user, complete):
    cert, badge = _issued(app, make_user, complete, title="Triage", version_label="2026.2")
    achievement = openbadges.credential_json(badge)["credentialSubject"]["achievement"]
    assert achievement["id"].startswith("http://lms.test/certificates/achievements/")
    response = client.get(achievement["id"].removeprefix("http://lms.test"))
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    _cacheable(response, 3600)
    body = response.get_json(force=True)
    assert body["id"] == achievement["id"] and body["name"] == "Triage"
    assert "Achievement" in body["type"] and body["@context"]
    assert client.get("/certificates/achievements/course%3Anessuno/1").status_code == 404
    issuing.revoke(db.session, cert, "Completamento annullato", actor=None)
    db.session.commit()
    assert client.get(achievement["id"].removeprefix("http://lms.test")).status_code == 404


def test_an_achievement_whose_version_holds_a_slash_resolves(
    app: Flask, client, make_user, complete
):
    _cert, badge = _issued(app, make_user, complete, title="Triage", version_label="2026/27")
    achievement = openbadges.credential_json(badge)["credentialSubject"]["achievement"]
    assert achievement["id"].endswith("/2026%2F27")
    response = client.get(achievement["id"].removeprefix("http://lms.test"))
    assert response.status_code == 200
    assert response.get_json(force=True)["version"] == "2026/27"
