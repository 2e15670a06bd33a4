"""Rows of the access-control matrix (tests/security) for the unit pages and the
admin's merge of organisations; joined at the end of ``tests/security/access_matrix.py``.

The matrix's roles hold no unit referent: tests/organisations_units/test_unit_pages.py
covers them (their subtree only, 404 elsewhere, 403 on their own unit's changes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.security.matrix_base import Form, Resolver, Table, signed_in

if TYPE_CHECKING:
    from tests.security.conftest import World

_MANAGERS_OF_A = {"referent_a": 200, "admin": 200}
_CHANGED = {"referent_a": 302, "admin": 302}

UNITS: Table = {
    # Organisation A's tree: its referents and admins (unit referents: their subtree).
    "organisations.units": {"GET": signed_in(403, **_MANAGERS_OF_A)},
    # Empty POSTs: the forms answer with their errors.
    "organisations.new_unit": {
        "GET": signed_in(403, **_MANAGERS_OF_A),
        "POST": signed_in(403, **_MANAGERS_OF_A),
    },
    "organisations.rename_unit_page": {
        "GET": signed_in(403, **_MANAGERS_OF_A),
        "POST": signed_in(403, **_MANAGERS_OF_A),
    },
    "organisations.move_unit_page": {
        "GET": signed_in(403, **_MANAGERS_OF_A),
        "POST": signed_in(403, **_MANAGERS_OF_A),
    },
    # GET is the confirmation; POST closes the (empty) unit.
    "organisations.close_unit_page": {
        "GET": signed_in(403, **_MANAGERS_OF_A),
        "POST": signed_in(403, **_CHANGED),
    },
    "organisations.place_people": {
        "GET": signed_in(403, **_MANAGERS_OF_A),
        "POST": signed_in(403, **_MANAGERS_OF_A),
    },
    # Merging organisations: admins only. POST merges B into A (rolled back after).
    "admin.merge_organisation": {"GET": signed_in(403, admin=200)},
    "admin.merge_confirm": {"GET": signed_in(403, admin=200), "POST": signed_in(403, admin=302)},
}


def _units(world: World) -> dict[str, int]:
    """Two units of organisation A, nobody in them: "Unità matrice" and "Unità ospite"."""
    if "units" not in world.extra:
        from lms import db
        from lms.organisations.models import Organisation
        from lms.organisations.units import create_unit

        with world.app.app_context():
            organisation = db.session.get(Organisation, world.org_a)
            unit = create_unit(db.session, organisation, "Unità matrice")
            host = create_unit(db.session, organisation, "Unità ospite")
            db.session.commit()
            world.extra["units"] = {"unit": unit.id, "host": host.id}
    return world.extra["units"]


_UNIT: dict[str, Resolver] = {"unit_id": lambda w: _units(w)["unit"]}
UNITS_PARAMS: dict[str, dict[str, Resolver]] = {
    "organisations.rename_unit_page": _UNIT,
    "organisations.move_unit_page": _UNIT,
    "organisations.close_unit_page": _UNIT,
    "admin.merge_confirm": {"absorbed_id": lambda w: w.org_b},
}


def _placement(world: World) -> dict[str, Any]:
    return {"person": str(world.user_id("operator")), "unit": str(_units(world)["unit"])}


UNITS_FORMS: dict[str, Form] = {
    "organisations.new_unit": Form(
        "referent_a", lambda w: {"name": "Unità forgiata", "parent": ""}
    ),
    "organisations.rename_unit_page": Form("referent_a", lambda w: {"name": "Unità rinominata"}),
    "organisations.move_unit_page": Form(
        "referent_a", lambda w: {"parent": str(_units(w)["host"])}
    ),
    "organisations.close_unit_page": Form("referent_a", lambda w: {}),
    "organisations.place_people": Form("referent_a", _placement),
    "admin.merge_confirm": Form("admin", lambda w: {}),
}
