"""The access-control matrix: for every route of the app, every method and every role,
the answer the platform must give. One table; ``test_access_matrix.py`` walks
``app.url_map`` and fails on any route, method or role not declared here.

Adding a plugin's routes
------------------------
1. Write a table like ``CORE`` below (``endpoint -> method -> role -> outcome``) and add
   it to ``TABLES``. ``expect(default, role=outcome, ...)`` fills every role with
   ``default`` except the ones named; ``signed_in(...)`` does the same with
   anonymous visitors sent to the login page.
2. If a URL has a parameter not in ``PARAMS`` (``course_id``, ``attempt_id`` ...), add a
   resolver: a function of the :class:`World` (the users of each role, organisation A
   and B) returning the value; it may create what it needs with ``lms.db.session``
   (it runs inside the test's transaction). Use ``ENDPOINT_PARAMS`` when the same name
   means different things on different routes (``token``).
3. For every route accepting POST, add a ``FORMS`` entry: the form a forged
   cross-site request would send, and the role for which that form, sent *with* a
   valid token, changes something. The CSRF test sends it without a token and
   checks nothing changes; its control sends it with one and checks it does.

Outcomes: an HTTP status (``200``, ``302``, ``403`` ...) or ``LOGIN`` (a redirect to the
login page with ``next`` set). POST requests carry a valid CSRF token and no other field:
they test who gets through, not the form's validation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.security.conftest import World

ROLES = (
    "anonymous",
    "operator",  # staff of organisation A
    "trainer",
    "referent_a",  # referent of organisation A (CDM-PL-NTDM)
    "referent_b",  # referent of organisation B (ASST-NIGUARDA)
    "coordinator",
    "admin",
)
LOGIN = "login"  # 302 to the login page, with next= the requested path

Outcome = int | str
Row = dict[str, dict[str, Outcome]]  # method -> role -> outcome
Table = dict[str, Row]  # endpoint -> row


def expect(default: Outcome, **by_role: Outcome) -> dict[str, Outcome]:
    unknown = set(by_role) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {ROLES}")
    return {role: by_role.get(role, default) for role in ROLES}


def signed_in(default: Outcome, **by_role: Outcome) -> dict[str, Outcome]:
    """Logged-in roles get ``default`` (unless named); anonymous visitors go to log in."""
    return expect(default, **{"anonymous": LOGIN, **by_role})


# --- Core ------------------------------------------------------------------------------

_MANAGERS_OF_A = {"referent_a": 200, "admin": 200}

CORE: Table = {
    "lms.home": {"GET": signed_in(200)},
    "lms.healthz": {"GET": expect(200)},
    "lms.set_language": {"POST": expect(302)},  # anyone; back to a local page
    # Logged-in users are sent home; an empty form is a bad request.
    "accounts.login": {"GET": expect(302, anonymous=200), "POST": expect(302, anonymous=400)},
    "accounts.logout": {"POST": expect(302)},
    "accounts.change_password": {"GET": signed_in(200), "POST": signed_in(200)},
    "accounts.reset_request": {"GET": expect(200), "POST": expect(200)},
    # The token is the credential: whoever holds the link may use it.
    "accounts.reset_password": {"GET": expect(200), "POST": expect(200)},
    "accounts.accept_invitation": {"GET": expect(200), "POST": expect(200)},
    # Referents see their own organisations; the coordinator and admins every one.
    "organisations.index": {
        "GET": signed_in(403, referent_a=200, referent_b=200, coordinator=200, admin=200)
    },
    # Organisation A's staff: its referents and admins only, never the coordinator.
    "organisations.detail": {
        "GET": signed_in(403, **_MANAGERS_OF_A),
        "POST": signed_in(403, **_MANAGERS_OF_A),
    },
    "organisations.remove_member": {"POST": signed_in(403, referent_a=302, admin=302)},
}

# Plugins add their tables here (e.g. COURSES, QUIZZES, CERTIFICATES); see the docstring.
TABLES: list[Table] = [CORE]


def merged(tables: list[Table] | None = None) -> Table:
    matrix: Table = {}
    for table in TABLES if tables is None else tables:
        for endpoint, row in table.items():
            if endpoint in matrix:
                raise ValueError(f"{endpoint} declared twice in the access matrix")
            matrix[endpoint] = row
    return matrix


MATRIX = merged()


# --- URL parameters ----------------------------------------------------------------------

Resolver = Callable[["World"], Any]

PARAMS: dict[str, Resolver] = {
    "org_id": lambda w: w.org_a,
    "user_id": lambda w: w.user_id("operator"),  # a member of organisation A
}
ENDPOINT_PARAMS: dict[str, dict[str, Resolver]] = {
    "accounts.reset_password": {"token": lambda w: w.reset_token},
    "accounts.accept_invitation": {"token": lambda w: w.invitation_token},
}


class MissingParameter(LookupError):
    pass


def url_values(endpoint: str, arguments: set[str], world: World) -> dict[str, Any]:
    """Values for a route's URL parameters, by name (``ENDPOINT_PARAMS`` first)."""
    values = {}
    for name in sorted(arguments):
        resolver = ENDPOINT_PARAMS.get(endpoint, {}).get(name) or PARAMS.get(name)
        if resolver is None:
            raise MissingParameter(
                f"{endpoint}: no value for URL parameter <{name}>; add a resolver to PARAMS "
                "or ENDPOINT_PARAMS in tests/security/access_matrix.py",
                name,
            )
        values[name] = resolver(world)
    return values


# --- Forms for the CSRF checks --------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    """What a forged request would send; ``role`` is one for which it changes state."""

    role: str
    data: Callable[[World], dict[str, Any]]


NEW_PASSWORD = "una-password-nuova-2026"

FORMS: dict[str, Form] = {
    "lms.set_language": Form("operator", lambda w: {"locale": "en", "next": "/"}),
    "accounts.login": Form(
        "anonymous", lambda w: {"email": w.email("operator"), "password": w.password}
    ),
    "accounts.logout": Form("operator", lambda w: {}),
    "accounts.change_password": Form(
        "operator",
        lambda w: {"current": w.password, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    ),
    "accounts.reset_request": Form("anonymous", lambda w: {"email": w.email("operator")}),
    "accounts.reset_password": Form(
        "anonymous", lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    ),
    "accounts.accept_invitation": Form(
        "anonymous", lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    ),
    "organisations.detail": Form(
        "referent_a",
        lambda w: {
            "full_name": "Persona Invitata",
            "email": "invitata.csrf@rete-milano.test",
            "audience": "polizia_locale",
        },
    ),
    "organisations.remove_member": Form("referent_a", lambda w: {}),
}
