"""The surveys rows of the access-control matrix (tests/security/access_matrix.py).

The world: a course of the trainer's whose modules the operator has all completed, so
the operator (and only the operator) may answer its questionnaire; its results are for
the course's authors (the trainer), the coordinator and admins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.security.matrix_base import Form, Table, signed_in

if TYPE_CHECKING:
    from tests.security.conftest import World

_RESULTS = {"trainer": 200, "coordinator": 200, "admin": 200}

SURVEYS: Table = {
    "surveys.index": {"GET": signed_in(200)},
    # Only an enrolled learner who finished the modules; an empty form is shown again.
    "surveys.answer": {"GET": signed_in(403, operator=200), "POST": signed_in(403, operator=200)},
    "surveys.course_results": {"GET": signed_in(403, **_RESULTS)},
    "surveys.course_results_csv": {"GET": signed_in(403, **_RESULTS)},
}


def _course_id(world: World) -> int:
    """The trainer's course, finished by the operator, made once per world."""
    if "surveys" not in world.extra:
        from courses import authoring
        from courses.api import complete_module
        from courses.enrolment import enrol
        from courses.models import EnrolmentSource
        from lms import db
        from lms.accounts.models import User
        from tests.conftest import service_context
        from tests.courses.helpers import course_files

        trainer = db.session.get(User, world.user_id("trainer"))
        operator = db.session.get(User, world.user_id("operator"))
        assert trainer is not None and operator is not None
        with service_context(world.app):
            files = course_files("corso-questionario")
            version = authoring.import_files(db.session, files, user=trainer, publish=True).version
            enrol(db.session, operator, version, source=EnrolmentSource.SELF)
            for module in version.modules:
                complete_module(db.session, operator, version, module.slug)
        db.session.commit()
        world.extra["surveys"] = version.course_id
    return world.extra["surveys"]


SURVEYS_PARAMS: dict[str, dict[str, Any]] = {
    endpoint: {"course_id": _course_id} for endpoint in SURVEYS if endpoint != "surveys.index"
}
SURVEYS_FORMS: dict[str, Form] = {
    "surveys.answer": Form(
        "operator",
        lambda w: {
            "q_rilevanza": "4",
            "q_qualita": "4",
            "q_utilita": "5",
            "q_indipendenza": "5",
            "q_commento": "Utile.",
        },
    ),
}
