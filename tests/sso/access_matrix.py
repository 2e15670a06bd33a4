"""Single sign-on's rows for the access-control matrix (tests/security/access_matrix.py).

The provider the matrix's world uses is a loopback one (tests/sso/provider.py), started
once per test process when a row first needs it: the login page then really redirects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.security.matrix_base import Form, Resolver, Table, expect, signed_in

if TYPE_CHECKING:
    from tests.security.conftest import World

_ADMIN_ONLY = signed_in(403, admin=200)
_LOOPBACK: list[str] = []  # the issuer of the process's loopback provider, once started


def _issuer() -> str:
    if not _LOOPBACK:
        from tests.sso.provider import LoopbackProvider, serve

        issuer, _stop = serve(LoopbackProvider(users=[]))  # a daemon thread: ends with us
        _LOOPBACK.append(issuer)
    return _LOOPBACK[0]


def _provider(world: World) -> dict[str, Any]:
    if "sso_provider" not in world.extra:
        from lms import db
        from lms.sso.models import OIDCProvider
        from tests.sso.provider import CLIENT_ID, CLIENT_SECRET

        with world.app.app_context():
            row = OIDCProvider(
                slug="matrice",
                display_name="Fornitore della matrice",
                issuer=_issuer(),
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                allowed_organisation_ids=[world.org_a],
                claim_mapping={},
            )
            db.session.add(row)
            db.session.commit()
            world.extra["sso_provider"] = {"id": row.id, "slug": row.slug}
    return world.extra["sso_provider"]


def _form(world: World, slug: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "display_name": "Directory di prova",
        "issuer": "https://idp.example.org",
        "client_id": "lms",
        "client_secret": "env:LMS_SSO_SECRET",
        "scopes": "openid email profile",
        "enabled": "y",
    }


SSO: Table = {
    # Anonymous visitors go to the provider; signed-in people are sent home.
    "sso.login": {"GET": expect(302)},
    # No state of a login under way in the session: refused.
    "sso.callback": {"GET": expect(400)},
    # No identity verified by the provider in the session: back to the login page.
    "sso.join": {"GET": expect(302), "POST": expect(302)},
    "sso.admin_providers": {"GET": _ADMIN_ONLY},
    # An empty form is refused and shown again.
    "sso.admin_provider_new": {"GET": _ADMIN_ONLY, "POST": signed_in(403, admin=400)},
    # Fields not sent keep their stored values: saved.
    "sso.admin_provider_edit": {"GET": _ADMIN_ONLY, "POST": signed_in(403, admin=302)},
    "sso.admin_provider_disable": {"POST": signed_in(403, admin=302)},
}

_SLUG: dict[str, Resolver] = {"slug": lambda w: _provider(w)["slug"]}
_ID: dict[str, Resolver] = {"provider_id": lambda w: _provider(w)["id"]}
SSO_PARAMS: dict[str, dict[str, Resolver]] = {
    "sso.login": _SLUG,
    "sso.callback": _SLUG,
    "sso.join": _SLUG,
    "sso.admin_provider_edit": _ID,
    "sso.admin_provider_disable": _ID,
}
SSO_FORMS: dict[str, Form] = {
    # Changes something only for a person the provider has just verified (tests/sso).
    "sso.join": Form("anonymous", lambda w: {}, changes_state=False),
    "sso.admin_provider_new": Form("admin", lambda w: _form(w, "nuovo")),
    "sso.admin_provider_edit": Form("admin", lambda w: _form(w, _provider(w)["slug"])),
    "sso.admin_provider_disable": Form("admin", lambda w: {}),
}
