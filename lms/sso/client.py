"""Authlib's Flask client for one provider row, built from the database.

No registry held in process memory decides which providers exist: every request reads
the row, and the client (with the provider's discovery document and keys, fetched by
Authlib on first use) is reused only while the row is unchanged (keyed by id and
``updated_at``) and for at most :data:`METADATA_TTL` seconds, so that every host of a
deployment follows an edit or a key rotation at the provider.
"""

from __future__ import annotations

import os
import time
from typing import Any

from authlib.integrations.flask_client import FlaskOAuth2App
from authlib.integrations.flask_client.integration import FlaskIntegration
from flask import current_app

from lms.sso.models import OIDCProvider

DISCOVERY_PATH = "/.well-known/openid-configuration"
METADATA_TTL = 3600  # seconds a client (its discovery document and keys) is reused
HTTP_TIMEOUT = 10  # seconds for each request to the provider
_CACHE_KEY = "lms.sso.clients"
_CACHE_SIZE = 64


class ProviderMisconfigured(RuntimeError):
    """The provider's row or its discovery document cannot be used (the admin must act)."""


def resolve_secret(value: str) -> str:
    """The client secret, or the environment variable ``env:NAME`` names."""
    if value.startswith("env:"):
        name = value[4:].strip()
        secret = os.environ.get(name)
        if not name or secret is None:
            raise ProviderMisconfigured(f"client secret: environment variable {name!r} not set")
        return secret
    return value


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + DISCOVERY_PATH


def client_for(provider: OIDCProvider) -> FlaskOAuth2App:
    """The Authlib client of ``provider`` (state, nonce and PKCE S256 in the signed session)."""
    cache: dict[tuple[int, Any], tuple[float, FlaskOAuth2App]]
    cache = current_app.extensions.setdefault(_CACHE_KEY, {})
    key = (provider.id, provider.updated_at)
    now = time.monotonic()
    cached = cache.get(key)
    if cached is not None and now - cached[0] < METADATA_TTL:
        return cached[1]
    name = f"sso{provider.id}"
    client = FlaskOAuth2App(
        FlaskIntegration(name),
        name=name,
        client_id=provider.client_id,
        client_secret=resolve_secret(provider.client_secret),
        server_metadata_url=discovery_url(provider.issuer),
        client_kwargs={
            "scope": provider.scopes,
            "code_challenge_method": "S256",
            "default_timeout": HTTP_TIMEOUT,
        },
    )
    for stale in [k for k in cache if k[0] == provider.id or len(cache) >= _CACHE_SIZE]:
        cache.pop(stale, None)
    cache[key] = (now, client)
    return client


def metadata(provider: OIDCProvider, client: FlaskOAuth2App) -> dict[str, Any]:
    """The discovery document, checked: its issuer must be the one configured
    (OpenID Connect Discovery 1.0, section 4.3)."""
    data = client.load_server_metadata()
    if str(data.get("issuer", "")).rstrip("/") != provider.issuer.rstrip("/"):
        raise ProviderMisconfigured("discovery document: issuer differs from the configured one")
    return data
