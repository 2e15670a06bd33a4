"""A small standards-compliant OpenID Connect provider, built on Authlib's server side,
served on the loopback for the tests (and the lead's browser journey).

Authorization code flow with PKCE (S256 required), ID tokens signed RS256 with the key
published at ``/jwks``, a discovery document, ``/userinfo`` and RP-initiated logout at
``/end_session``. There is no login form: the provider consents at once for its
``current`` user (or the one ``login_hint`` names).

    url, stop = start_provider([{"sub": "u1", "email": "a@x.test", "email_verified": True}])
    ...
    stop()

To change what it answers (a wrong nonce, a bad signature...) build a
:class:`LoopbackProvider` and serve it with :func:`serve`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, redirect, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "lms-test"
CLIENT_SECRET = "lms-test-secret"
_KEY_PARAMETERS = {"kid": "loopback-1", "use": "sig", "alg": "RS256"}
STANDARD_CLAIMS = ("email", "email_verified", "name", "given_name", "family_name")


@dataclass
class _User:
    claims: dict[str, Any]

    def get_user_id(self) -> str:
        return str(self.claims["sub"])


@dataclass
class _Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_prefixes: tuple[str, ...]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return any(redirect_uri.startswith(p) for p in self.redirect_prefixes)

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: _User
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return ""

    def get_amr(self) -> list[str]:
        return []


@dataclass
class LoopbackProvider:
    """The provider's state: users, issued codes and tokens, what it was asked, and the
    faults a test may switch on."""

    users: list[dict[str, Any]]
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    redirect_prefixes: tuple[str, ...] = ("http://localhost/", "http://127.0.0.1")
    current: str | None = None  # the user who consents (sub); default: the first
    #: faults: "nonce" (a value to put instead of the client's), "bad_signature"
    tamper: dict[str, Any] = field(default_factory=dict)
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, _KEY_PARAMETERS, True))
    codes: dict[str, _Code] = field(default_factory=dict)
    tokens: dict[str, tuple[_User, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    ended_sessions: list[dict[str, str]] = field(default_factory=list)

    def user(self, sub: str | None = None) -> _User:
        wanted = sub or self.current
        for claims in self.users:
            if wanted is None or str(claims["sub"]) == wanted:
                return _User(claims)
        raise LookupError(wanted)

    def discovery(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "end_session_endpoint": f"{base}/end_session",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", *STANDARD_CLAIMS],
        }

    def user_info(self, user: _User, scope: str) -> UserInfo:
        info = UserInfo(sub=user.get_user_id())
        scopes = scope.split()
        for name, value in user.claims.items():
            if name == "sub":
                continue
            if name in ("email", "email_verified") and "email" not in scopes:
                continue
            if name in ("name", "given_name", "family_name") and "profile" not in scopes:
                continue
            info[name] = value
        return info


def build_app(provider: LoopbackProvider) -> Flask:
    app = Flask("tests.sso.provider")
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": 3600}

    class Grant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, req: Any) -> None:
            data = req.payload.data
            provider.codes[code] = _Code(
                code=code,
                client_id=req.client.get_client_id(),
                redirect_uri=req.payload.redirect_uri,
                scope=req.scope,
                user=req.user,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=int(time.time()),
            )

        def query_authorization_code(self, code: str, client: Any) -> _Code | None:
            item = provider.codes.get(code)
            if item is not None and item.client_id == client.get_client_id():
                return item
            return None

        def delete_authorization_code(self, authorization_code: _Code) -> None:
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: _Code) -> _User:
            return authorization_code.user

    class OpenID(OpenIDCode):
        def exists_nonce(self, nonce: str, req: Any) -> bool:
            return any(c.nonce == nonce for c in provider.codes.values())

        def resolve_client_private_key(self, client: Any) -> Any:
            return provider.key

        def get_client_claims(self, client: Any) -> dict[str, Any]:
            return {"iss": provider.issuer, "aud": [client.get_client_id()]}

        def get_encode_header(self, client: Any) -> dict[str, Any]:
            return {"alg": "RS256", "kid": provider.key.kid}

        def get_authorization_code_claims(self, authorization_code: Any) -> dict[str, Any]:
            claims = super().get_authorization_code_claims(authorization_code)
            if "nonce" in provider.tamper:
                claims["nonce"] = provider.tamper["nonce"]
            return claims

        def generate_user_info(self, user: _User, scope: str) -> UserInfo:
            return provider.user_info(user, scope)

    client = _Client(provider.client_id, provider.client_secret, provider.redirect_prefixes)

    def save_token(token: dict[str, Any], req: Any) -> None:
        provider.tokens[token["access_token"]] = (req.user, token.get("scope", ""))

    server = AuthorizationServer(
        app,
        query_client=lambda cid: client if cid == client.client_id else None,
        save_token=save_token,
    )
    server.register_grant(Grant, [OpenID(require_nonce=True), CodeChallenge(required=True)])

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(provider.discovery())

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(KeySet([provider.key]).as_dict(private=False))

    @app.get("/authorize")
    def authorize() -> Any:
        provider.authorize_requests.append(request.args.to_dict())
        # PKCE is this provider's rule for every client (RFC 9700 2.1.1).
        if request.args.get("code_challenge_method") != "S256":
            return jsonify(error="invalid_request", error_description="PKCE S256 required"), 400
        user = provider.user(request.args.get("login_hint"))
        try:
            grant = server.get_consent_grant(end_user=user)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        return server.create_authorization_response(grant=grant, grant_user=user)

    @app.post("/token")
    def token() -> Any:
        provider.token_requests.append(request.form.to_dict())
        response = server.create_token_response()
        if provider.tamper.get("bad_signature") and response.status_code == 200:
            body = json.loads(response.get_data())
            head, payload, signature = body["id_token"].split(".")
            flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
            body["id_token"] = ".".join((head, payload, flipped))
            response.set_data(json.dumps(body))
        return response

    @app.get("/userinfo")
    def userinfo() -> Any:
        auth = request.headers.get("Authorization", "")
        held = provider.tokens.get(auth.removeprefix("Bearer ").strip())
        if not auth.startswith("Bearer ") or held is None:
            return jsonify(error="invalid_token"), 401
        user, scope = held
        return jsonify(dict(provider.user_info(user, scope)))

    @app.get("/end_session")
    def end_session() -> Any:
        args = request.args.to_dict()
        provider.ended_sessions.append(args)
        target = args.get("post_logout_redirect_uri")
        if target and client.check_redirect_uri(target):
            state = args.get("state")
            return redirect(target + ("?" + urlencode({"state": state}) if state else ""))
        return "signed out"

    return app


def serve(provider: LoopbackProvider) -> tuple[str, Callable[[], None]]:
    """Serve ``provider`` on a free loopback port: its issuer URL and a stop function."""
    app = build_app(provider)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="oidc-provider", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return provider.issuer, stop


def start_provider(
    users: Iterable[dict[str, Any]], **options: Any
) -> tuple[str, Callable[[], None]]:
    """A provider for ``users`` (claims dicts, each with ``sub``) on the loopback."""
    return serve(LoopbackProvider(users=list(users), **options))
