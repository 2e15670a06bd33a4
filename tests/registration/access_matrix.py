"""Self-registration's rows for the access-control matrix (tests/security).

Joined at the end of ``tests/security/access_matrix.py``. The world's organisation A
takes registrations (``_open_a``) for the public form, and holds one pending request
(``_pending``) for the referents' decisions; a confirmation link (``_token``) names a
request still waiting for confirmation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.security.matrix_base import Form, Table, expect, signed_in

if TYPE_CHECKING:
    from tests.security.conftest import World

NEW_PASSWORD = "una-password-nuova-2026"
_MANAGERS = {"referent_a": 200, "admin": 200}
_MANAGERS_ACT = {"referent_a": 302, "admin": 302}

REGISTRATION: Table = {
    "registration.index": {"GET": expect(200)},
    # Anyone may register; an empty form is a bad request.
    "registration.form": {"GET": expect(200), "POST": expect(400)},
    # The link is the credential; an empty form shows the form again.
    "registration.confirm": {"GET": expect(200), "POST": expect(200)},
    # The organisation's rule: its referents and admins.
    "registration.rule": {
        "GET": signed_in(403, **_MANAGERS),
        "POST": signed_in(403, **_MANAGERS_ACT),
    },
    "registration.requests": {"GET": signed_in(403, **_MANAGERS)},
    "registration.approve": {"POST": signed_in(403, **_MANAGERS_ACT)},
    "registration.refuse": {"POST": signed_in(403, **_MANAGERS_ACT)},
}


def _open_a(world: World) -> int:
    from lms import db
    from lms.organisations.models import Organisation
    from lms.registration import services

    if "registration_open" not in world.extra:
        organisation = db.session.get(Organisation, world.org_a)
        assert organisation is not None
        services.update_rule(
            db.session, organisation, enabled=True, domains=[], auto_approve_domain=False
        )
        db.session.commit()
        world.extra["registration_open"] = True
    return world.org_a


def _request(world: World, status: str) -> Any:
    from lms import db
    from lms.organisations.services import audience_by_code
    from lms.registration.models import RegistrationRequest

    key = f"registration_{status}"
    if key not in world.extra:
        _open_a(world)
        request = RegistrationRequest(
            email=f"{status}.matrice@rete-milano.test",
            full_name="Persona Richiedente",
            organisation_id=world.org_a,
            audience_id=audience_by_code(db.session, "polizia_locale").id,
            status=status,
            source="form",
        )
        db.session.add(request)
        db.session.commit()
        world.extra[key] = request.id
    return db.session.get(RegistrationRequest, world.extra[key])


def _token(world: World) -> str:
    from lms.registration import services

    if "registration_token" not in world.extra:
        request = _request(world, "confirming")
        world.extra["registration_token"] = services.make_token(
            world.app.config["SECRET_KEY"], request
        )
    return str(world.extra["registration_token"])


REGISTRATION_PARAMS: dict[str, dict[str, Any]] = {
    "registration.form": {"org_id": _open_a},
    "registration.confirm": {"token": _token},
    "registration.approve": {"request_id": lambda w: _request(w, "pending").id},
    "registration.refuse": {"request_id": lambda w: _request(w, "pending").id},
}

REGISTRATION_FORMS: dict[str, Form] = {
    "registration.form": Form(
        "anonymous",
        lambda w: {
            "full_name": "Persona Forgiata",
            "email": "forgiata.registrazione@rete-milano.test",
            "unit": "0",
            "audience": str(_audience_id()),
            "privacy": "y",
        },
    ),
    "registration.confirm": Form(
        "anonymous", lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    ),
    "registration.rule": Form("referent_a", lambda w: {"enabled": "y"}),
    "registration.approve": Form("referent_a", lambda w: {}),
    "registration.refuse": Form("referent_a", lambda w: {"reason": "Non lavora qui."}),
}


def _audience_id() -> int:
    from lms import db
    from lms.organisations.services import audience_by_code

    return audience_by_code(db.session, "polizia_locale").id
