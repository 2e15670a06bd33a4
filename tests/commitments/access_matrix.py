"""The commitments plugin's rows for the access-control matrix (tests/security).

To plug them in, in ``tests/security/access_matrix.py``::

    from tests.commitments.access_matrix import COMMITMENTS, COMMITMENTS_FORMS, COMMITMENTS_PARAMS

    TABLES = [..., COMMITMENTS]          # before MATRIX = merged()
    PARAMS.update(COMMITMENTS_PARAMS)
    FORMS.update(COMMITMENTS_FORMS)

Organisation A's staff (operator, referent_a, invitee) have the ``polizia_locale``
profile: the commitment made by :func:`_commitment` covers them, so "enrol all"
has something to do.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from tests.security.matrix_base import Form, Table, signed_in

if TYPE_CHECKING:
    from tests.security.conftest import World

_MANAGERS_OF_A = {"referent_a": 200, "admin": 200}
_NETWORK = {"coordinator": 200, "admin": 200}


def _managers(status: int = 200) -> dict[str, Any]:
    return signed_in(403, referent_a=status, admin=status)


COMMITMENTS: Table = {
    # Referents of one organisation are sent to its dashboard; network roles see a list.
    "commitments.index": {
        "GET": signed_in(403, referent_a=302, referent_b=302, coordinator=200, admin=200)
    },
    # Named staff of organisation A: its referents and admins, never the coordinator.
    "commitments.dashboard": {"GET": _managers()},
    "commitments.person": {"GET": _managers()},
    "commitments.export_csv": {"GET": _managers()},
    "commitments.export_xlsx": {"GET": _managers()},
    "commitments.summary_pdf": {"GET": _managers()},
    "commitments.staff_template_csv": {"GET": _managers()},
    "commitments.staff_template_xlsx": {"GET": _managers()},
    # No file: the form is shown again with its error.
    "commitments.staff_import_page": {"GET": _managers(), "POST": _managers()},
    # No payload: back to the upload page with a message.
    "commitments.staff_import_apply": {"POST": _managers(302)},
    # GET is the confirmation page; POST enrols and goes back to the dashboard.
    "commitments.enrol_all": {"GET": _managers(), "POST": _managers(302)},
    # Aggregated, anonymous: the coordinator and admins.
    "commitments.network_view": {"GET": signed_in(403, **_NETWORK)},
    "commitments.network_csv": {"GET": signed_in(403, **_NETWORK)},
    "commitments.network_pdf": {"GET": signed_in(403, **_NETWORK)},
    # Defining commitments; an empty POST fails validation and shows the form again.
    "commitments.manage": {"GET": signed_in(403, **_NETWORK), "POST": signed_in(403, **_NETWORK)},
    "commitments.new_commitment": {
        "GET": signed_in(403, **_NETWORK),
        "POST": signed_in(403, **_NETWORK),
    },
    "commitments.edit_commitment": {
        "GET": signed_in(403, **_NETWORK),
        "POST": signed_in(403, **_NETWORK),
    },
}


def _commitment(world: World) -> dict[str, Any]:
    """Two published courses and a commitment on them for Polizia Locale staff."""
    if "commitment" not in world.extra:
        import datetime as dt

        from commitments.manage import definitions
        from courses import authoring
        from lms import db
        from lms.organisations.services import audience_by_code
        from tests.conftest import service_context
        from tests.courses.helpers import course_files

        with service_context(world.app):  # importing asks the app for its fenced blocks
            versions = [
                authoring.import_files(
                    db.session, course_files(slug=slug, title=slug), user=None, publish=True
                ).version
                for slug in ("impegno-matrice-rete", "impegno-matrice-pl")
            ]
        data = definitions.CommitmentData(
            code="impegno-matrice",
            title="Impegno della matrice",
            audience_ids=[audience_by_code(db.session, "polizia_locale").id],
            required_course_ids=[v.course_id for v in versions],
            target_percent=80,
            deadline=dt.date(2030, 1, 1),
        )
        definitions.save(db.session, data)
        db.session.commit()
        from sqlalchemy import select

        from commitments.models import Commitment

        commitment_id = db.session.scalar(
            select(Commitment.id).where(Commitment.code == "impegno-matrice")
        )
        world.extra["commitment"] = {
            "id": commitment_id,
            "course_ids": [v.course_id for v in versions],
            "audience_id": data.audience_ids[0],
        }
    return world.extra["commitment"]


COMMITMENTS_PARAMS = {"commitment_id": lambda w: _commitment(w)["id"]}


def _signed_rows(world: World) -> dict[str, Any]:
    from commitments.staff.files import RawRow
    from commitments.staff.importing import sign_rows

    rows = [RawRow(2, "importata.csrf@rete-milano.test", "Persona Importata", "polizia_locale")]
    token = sign_rows(
        world.app.config["SECRET_KEY"], world.org_a, world.user_id("referent_a"), rows
    )
    return {"payload": token}


def _staff_file(world: World) -> dict[str, Any]:
    data = b"email;nome;cognome;profilo\r\nanteprima@rete-milano.test;A;B;polizia_locale\r\n"
    return {"file": (io.BytesIO(data), "personale.csv")}


def _definition(world: World, title: str) -> dict[str, Any]:
    found = _commitment(world)
    return {
        "code": "impegno-matrice" if title != "Nuovo impegno" else "impegno-nuovo",
        "title": title,
        "organisation": "",
        "organisation_type": "",
        "audiences": [str(found["audience_id"])],
        "required_courses": [str(cid) for cid in found["course_ids"]],
        "target_percent": "75",
        "deadline": "2030-06-30",
        "active": "y",
    }


def _yaml_file(world: World) -> dict[str, Any]:
    _commitment(world)
    text = (
        "commitments:\n"
        "  - code: impegno-yaml\n"
        "    title: Impegno da YAML\n"
        "    audiences: [scuola]\n"
        "    courses: [impegno-matrice-rete]\n"
        "    target_percent: 70\n"
        "    deadline: 2030-01-01\n"
    )
    return {"file": (io.BytesIO(text.encode()), "impegni.yaml")}


def _enrol_all(world: World) -> dict[str, Any]:
    _commitment(world)
    return {}


COMMITMENTS_FORMS: dict[str, Form] = {
    # The preview writes nothing (the confirmation does).
    "commitments.staff_import_page": Form("referent_a", _staff_file, changes_state=False),
    "commitments.staff_import_apply": Form("referent_a", _signed_rows),
    "commitments.enrol_all": Form("referent_a", _enrol_all),
    "commitments.manage": Form("coordinator", _yaml_file),
    "commitments.new_commitment": Form("coordinator", lambda w: _definition(w, "Nuovo impegno")),
    "commitments.edit_commitment": Form("coordinator", lambda w: _definition(w, "Titolo nuovo")),
}
