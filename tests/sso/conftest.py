"""The loopback OpenID Connect provider, one per test session, and a provider row."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from lms import db
from lms.sso.models import OIDCProvider
from tests.sso.provider import CLIENT_ID, CLIENT_SECRET, LoopbackProvider, serve

SLUG = "rete"


@pytest.fixture(scope="session")
def oidc() -> Iterator[LoopbackProvider]:
    provider = LoopbackProvider(users=[])
    _url, stop = serve(provider)
    yield provider
    stop()


@pytest.fixture(autouse=True)
def _fresh_provider(oidc: LoopbackProvider) -> Iterator[None]:
    yield
    oidc.users.clear()
    oidc.current = None
    oidc.tamper.clear()
    oidc.codes.clear()
    oidc.tokens.clear()
    oidc.token_requests.clear()
    oidc.authorize_requests.clear()
    oidc.ended_sessions.clear()


@pytest.fixture
def make_provider(app: Flask, oidc: LoopbackProvider) -> Callable[..., OIDCProvider]:
    def factory(**values: Any) -> OIDCProvider:
        row = OIDCProvider(
            slug=values.pop("slug", SLUG),
            display_name=values.pop("display_name", "Directory della rete"),
            issuer=values.pop("issuer", oidc.issuer),
            client_id=values.pop("client_id", CLIENT_ID),
            client_secret=values.pop("client_secret", CLIENT_SECRET),
            scopes=values.pop("scopes", "openid email profile"),
            enabled=values.pop("enabled", True),
            allowed_organisation_ids=values.pop("allowed_organisation_ids", []),
            claim_mapping=values.pop("claim_mapping", {}),
        )
        assert not values, values
        db.session.add(row)
        db.session.commit()
        return row

    return factory


def to_provider(client: FlaskClient, slug: str = SLUG, **query: str) -> str:
    """Start the login: the platform's redirect to the provider's authorization URL."""
    response = client.get(f"/sso/{slug}/login", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def consent(authorize_url: str) -> str:
    """Over real HTTP: the provider consents and sends back to the callback (its URL)."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def local(url: str) -> str:
    """The platform's callback URL as the test client asks it (path and query)."""
    parts = urlsplit(url)
    assert parts.hostname == "localhost", url
    return f"{parts.path}?{parts.query}"


def sign_in(client: FlaskClient, slug: str = SLUG, **query: str) -> Any:
    """The whole round trip; the platform's answer to the callback."""
    return client.get(local(consent(to_provider(client, slug, **query))))


def signed_in_user_id(client: FlaskClient) -> int | None:
    with client.session_transaction() as session:
        value = session.get("_user_id")
    return int(value.partition(":")[0]) if value else None
