"""The world of the security tests: one user per role, organisations A and B, tokens,
and requests that leave no trace (each inside a savepoint rolled back afterwards).

Passwords are hashed once per session (scrypt costs ~0.15 s a hash); each role logs in
once per test through the real login form, and every request then runs in a new
client carrying that role's session cookie, so a request that logs out or changes a
password does not disturb the next one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import inspect, text
from werkzeug.routing import Rule

from lms import db
from lms.accounts import services
from lms.accounts.models import Role, User
from lms.organisations.services import add_member, organisation_by_code
from tests.conftest import CSRF_RE, PASSWORD, Outbox, _current_connection, login
from tests.security.access_matrix import LOGIN, MissingParameter, Outcome, url_values

ORG_A, ORG_B = "CDM-PL-NTDM", "ASST-NIGUARDA"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@functools.cache
def password_hash() -> str:
    return services.hash_password(PASSWORD)


# Rate-limit counters move on public look-ups (certificate verification by QR link)
# by design; they are shared throttling state, not data a request may not change.
UNTRACKED_TABLES = {"lms_audit_entry", "lms_throttle_event"}


def routes(app: Flask) -> list[Rule]:
    """Every URL rule of the app but static files, in a stable order."""
    rules = [r for r in app.url_map.iter_rules() if not r.endpoint.endswith("static")]
    return sorted(rules, key=lambda r: (r.endpoint, r.rule))


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - IGNORED_METHODS)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Whatever the block writes (through requests or directly) is undone after it."""
    connection = _current_connection[-1]
    db.session.remove()
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        db.session.remove()
        if savepoint.is_active:
            savepoint.rollback()


@dataclass
class Snapshot:
    tables: dict[str, list[str]]
    mail: list[str]
    signed_in: bool | None

    def differences(self, other: Snapshot) -> list[str]:
        changed = [
            f"table {name}" for name in self.tables if self.tables[name] != other.tables.get(name)
        ]
        if self.mail != other.mail:
            changed.append(f"e-mails sent: {len(other.mail) - len(self.mail)}")
        if self.signed_in != other.signed_in:
            changed.append(f"signed in: {self.signed_in} -> {other.signed_in}")
        return changed


@dataclass
class Result:
    """One isolated request: its response, or the exception it raised, and what changed."""

    response: Any = None
    outcome: Outcome | None = None
    error: str | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code

    def __str__(self) -> str:
        return self.error or str(self.outcome)


@dataclass
class World:
    app: Flask
    outbox: Outbox
    ids: dict[str, int]
    emails: dict[str, str]
    org_a: int
    org_b: int
    reset_token: str
    invitation_token: str
    password: str = PASSWORD
    extra: dict[str, Any] = field(default_factory=dict)  # objects made by plugin resolvers
    _cookies: dict[str, str] = field(default_factory=dict)
    _csrf: dict[str, str] = field(default_factory=dict)
    _tables: list[str] = field(default_factory=list)

    def user_id(self, role: str) -> int:
        return self.ids[role]

    def email(self, role: str) -> str:
        return self.emails[role]

    # --- sessions ---------------------------------------------------------------

    def sign_in(self, role: str) -> None:
        """Log ``role`` in once through the login form; remember its session cookie."""
        if role in self._cookies:
            return
        client = self.app.test_client()
        if role != "anonymous":
            response = login(client, self.email(role))
            assert response.status_code == 302, f"{role} could not log in"
        page = "/account/login" if role == "anonymous" else "/account/password"
        match = CSRF_RE.search(client.get(page).get_data(as_text=True))
        assert match, f"no CSRF token for {role} on {page}"
        cookie = client.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        assert cookie is not None
        self._cookies[role], self._csrf[role] = cookie.value, match.group(1)

    def client(self, role: str, **kwargs: Any) -> FlaskClient:
        """A new client carrying ``role``'s session."""
        self.sign_in(role)
        client = self.app.test_client(**kwargs)
        client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self._cookies[role])
        return client

    def csrf(self, role: str) -> str:
        self.sign_in(role)
        return self._csrf[role]

    # --- requests ---------------------------------------------------------------

    def url(self, rule: Rule) -> str:
        values = url_values(rule.endpoint, set(rule.arguments), self)
        with self.app.test_request_context():
            return url_for(rule.endpoint, **values)

    def request(
        self,
        role: str,
        method: str,
        url: str,
        *,
        data: dict[str, Any] | None = None,
        track: bool = False,
        **kwargs: Any,
    ) -> Result:
        """Send one request as ``role`` in a new client; undo whatever it writes.

        With ``track``, compare the database, the e-mails sent and the client's signed-in
        state before and after. An exception (the test app propagates them) becomes the
        result's ``error``, so that one broken route does not hide the others.
        """
        client = self.client(role)
        with rolled_back():
            before = self.snapshot(client) if track else None
            try:
                response = client.open(url, method=method, data=data, **kwargs)
                response.get_data()
                response.close()
            except Exception as error:  # a crash is a finding, reported with the others
                message = (str(error).splitlines() or [""])[0][:200]
                return Result(error=f"raised {type(error).__name__}: {message}")
            changes = before.differences(self.snapshot(client)) if before else []
        return Result(response, outcome_of(response, url), changes=changes)

    def reachable(self, app: Flask) -> Iterator[tuple[Rule, str]]:
        """Every route whose URL parameters can be filled, with its URL.

        Routes whose parameters have no resolver yet are reported by
        ``test_every_route_method_and_role_is_declared`` and skipped here.
        """
        for rule in routes(app):
            try:
                url = self.url(rule)
            except MissingParameter:
                continue
            yield rule, url

    def snapshot(self, client: FlaskClient | None = None) -> Snapshot:
        """Every row of every table, the e-mails sent, and whether ``client`` is signed in."""
        connection = _current_connection[-1]
        if not self._tables:
            # The audit log records reads of personal data (exports) as an access log
            # would: those entries are the point, not a change of the application's state.
            self._tables = sorted(
                n for n in inspect(connection).get_table_names() if n not in UNTRACKED_TABLES
            )
        tables = {
            name: sorted(
                repr(tuple(row)) for row in connection.execute(text(f'SELECT * FROM "{name}"'))
            )
            for name in self._tables
        }
        mail = sorted(p.name for p in self.outbox.directory.glob("*.eml"))
        signed_in = None
        if client is not None:
            with rolled_back():
                signed_in = client.get("/account/password").status_code == 200
        return Snapshot(tables, mail, signed_in)


def outcome_of(response: Any, path: str) -> Outcome:
    """The status, or ``LOGIN`` for a redirect to the login page that comes back here."""
    if response.status_code == 302:
        location = urlsplit(response.headers["Location"])
        if location.path == "/account/login" and parse_qs(location.query).get("next") == [path]:
            return LOGIN
    return response.status_code


@pytest.fixture
def world(app: Flask, outbox: Outbox) -> World:
    people = {
        "operator": ("Operatore Uno", (), ORG_A, "polizia_locale", False),
        "trainer": ("Formatrice Uno", (Role.TRAINER,), None, None, False),
        "referent_a": ("Referente A", (), ORG_A, "polizia_locale", True),
        "referent_b": ("Referente B", (), ORG_B, "triage_asst", True),
        "coordinator": ("Coordinatrice Uno", (Role.COORDINATOR,), None, None, False),
        "admin": ("Amministratrice Uno", (Role.ADMIN,), None, None, False),
        "invitee": ("Invitata Uno", (), ORG_A, "polizia_locale", False),
    }
    ids, emails = {}, {}
    for role, (name, roles, org, audience, referent) in people.items():
        email = f"{role.replace('_', '.')}@sicurezza.test"
        user = services.create_user(db.session, email, name, roles=roles)
        if role != "invitee":  # the invitee has not chosen a password yet
            user.password_hash = password_hash()
        if org:
            add_member(
                db.session,
                organisation_by_code(db.session, org),
                email=email,
                full_name=name,
                audience_code=audience,
                is_referent=referent,
            )
        ids[role], emails[role] = user.id, email
    db.session.commit()
    secret = app.config["SECRET_KEY"]
    operator = db.session.get(User, ids["operator"])
    invitee = db.session.get(User, ids["invitee"])
    result = World(
        app=app,
        outbox=outbox,
        ids=ids,
        emails=emails,
        org_a=organisation_by_code(db.session, ORG_A).id,
        org_b=organisation_by_code(db.session, ORG_B).id,
        reset_token=services.make_token(secret, services.RESET_SALT, operator),
        invitation_token=services.make_token(secret, services.INVITE_SALT, invitee),
    )
    db.session.remove()
    return result
