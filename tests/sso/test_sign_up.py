"""Just-in-time accounts: an identity with no account joins an organisation through its
approval rule (lms.registration), choosing among the provider's allowed organisations."""

from __future__ import annotations

import re

from sqlalchemy import select

from lms import db
from lms.organisations.models import Audience, Membership
from lms.organisations.services import organisation_by_code
from lms.registration.models import RegistrationRequest
from lms.registration.services import update_rule
from lms.sso.models import OIDCIdentity
from tests.conftest import csrf_token
from tests.sso.conftest import sign_in, signed_in_user_id

ORG = "CDM-PL-NTDM"
OTHER = "ASST-NIGUARDA"


def _newcomer(sub: str = "n-1", **extra: object) -> dict:
    return {
        "sub": sub,
        "email": "nuova@rete-milano.test",
        "email_verified": True,
        "given_name": "Sara",
        "family_name": "Longo",
        **extra,
    }


def _open(code: str, *, auto: bool) -> int:
    org = organisation_by_code(db.session, code)
    update_rule(
        db.session, org, enabled=True, domains=["rete-milano.test"], auto_approve_domain=auto
    )
    db.session.commit()
    return org.id


def _audience_id(code: str = "polizia_locale") -> int:
    return db.session.scalar(select(Audience.id).where(Audience.code == code))


def _options(page: str, name: str) -> dict[str, bool]:
    """A select's option values, each with whether it is selected."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select_html, name
    return {
        value: "selected" in attrs
        for attrs, value in re.findall(r'<option([^>]*?)value="([^"]+)"', select_html.group(1))
    }


def _join(client, organisation_id: int, audience_id: int):
    token = csrf_token(client, "/sso/rete/join")
    return client.post(
        "/sso/rete/join",
        data={"csrf_token": token, "organisation": organisation_id, "audience": audience_id},
    )


def test_auto_approved_sign_up_signs_in_and_links(client, make_provider, oidc):
    org_id = _open(ORG, auto=True)
    _open(OTHER, auto=True)  # open too, but not through this provider
    provider = make_provider(allowed_organisation_ids=[org_id])
    oidc.users.append(_newcomer())

    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/sso/rete/join"
    page = client.get("/sso/rete/join").get_data(as_text=True)
    assert "nuova@rete-milano.test" in page
    assert list(_options(page, "organisation")) == [str(org_id)]  # the provider's only

    response = _join(client, org_id, _audience_id())

    assert response.status_code == 302 and response.headers["Location"] == "/"
    user_id = signed_in_user_id(client)
    assert user_id is not None
    identity = db.session.scalar(select(OIDCIdentity).where(OIDCIdentity.subject == "n-1"))
    assert (identity.provider_id, identity.user_id) == (provider.id, user_id)
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user_id))
    assert membership.organisation_id == org_id
    request = db.session.scalar(select(RegistrationRequest))
    assert (request.status, request.source) == ("approved", "sso:rete")
    # Next time the linked identity signs in straight away.
    client.get("/")  # (still signed in; a new browser:)
    fresh = client.application.test_client()
    assert sign_in(fresh).headers["Location"] == "/"
    assert signed_in_user_id(fresh) == user_id


def test_sign_up_waiting_for_a_referent(client, make_provider, oidc):
    org_id = _open(ORG, auto=False)
    provider = make_provider(allowed_organisation_ids=[org_id])
    oidc.users.append(_newcomer())
    sign_in(client)

    response = _join(client, org_id, _audience_id())

    assert response.status_code == 200
    assert "inviata al referente" in response.get_data(as_text=True)
    assert signed_in_user_id(client) is None
    request = db.session.scalar(select(RegistrationRequest))
    assert (request.status, request.user_id) == ("pending", None)
    assert (
        db.session.scalars(
            select(OIDCIdentity).where(OIDCIdentity.provider_id == provider.id)
        ).all()
        == []
    )
    # The identity left the session: the form cannot be sent again.
    assert client.get("/sso/rete/join").status_code == 302


def test_organisation_claim_chooses_the_organisation(client, make_provider, oidc):
    org_id = _open(ORG, auto=True)
    other_id = _open(OTHER, auto=True)
    make_provider(
        allowed_organisation_ids=[org_id, other_id],
        claim_mapping={"organisation": "ente", "audience": "ruolo"},
    )
    oidc.users.append(_newcomer(ente=OTHER.lower(), ruolo="sanitario"))
    sign_in(client)

    page = client.get("/sso/rete/join").get_data(as_text=True)

    assert list(_options(page, "organisation")) == [str(other_id)]
    assert _options(page, "audience")[str(_audience_id("sanitario"))] is True


def test_organisation_refusing_the_address(client, make_provider, oidc):
    org = organisation_by_code(db.session, ORG)
    update_rule(db.session, org, enabled=True, domains=["altro.test"], auto_approve_domain=True)
    db.session.commit()
    make_provider(allowed_organisation_ids=[org.id])
    oidc.users.append(_newcomer())
    sign_in(client)

    response = _join(client, org.id, _audience_id())

    assert response.status_code == 400
    assert "non accetta iscrizioni" in response.get_data(as_text=True)
    assert signed_in_user_id(client) is None


def test_join_without_a_verified_identity(client, make_provider):
    make_provider()
    response = client.get("/sso/rete/join")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login")
