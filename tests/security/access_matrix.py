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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.security.conftest import World

from tests.security.matrix_base import (  # noqa: E402  (re-exported for plugins)
    LOGIN,
    ROLES,
    Form,
    Outcome,
    Resolver,
    Row,
    Table,
    expect,
    signed_in,
)

__all__ = ["LOGIN", "ROLES", "Form", "Outcome", "Resolver", "Row", "Table", "expect", "signed_in"]


# --- Core ------------------------------------------------------------------------------

_MANAGERS_OF_A = {"referent_a": 200, "admin": 200}

CORE: Table = {
    "lms.home": {"GET": expect(200)},  # the dashboard, or the public page for visitors
    "lms.healthz": {"GET": expect(200)},
    # Background jobs: a person's own (others' do not exist for them); admins see all.
    "jobs.job_list": {"GET": signed_in(200)},
    "jobs.job_page": {"GET": signed_in(404, operator=200, admin=200)},
    "jobs.job_status": {"GET": signed_in(404, operator=200, admin=200)},
    "jobs.job_download": {"GET": signed_in(404)},  # no file: nothing to download
    "jobs.job_retry": {"POST": signed_in(403, admin=302)},
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
    # GET: the confirmation page; POST removes.
    "organisations.remove_member": {
        "GET": signed_in(403, referent_a=200, admin=200),
        "POST": signed_in(403, referent_a=302, admin=302),
    },
    "organisations.reactivate_member": {"POST": signed_in(403, referent_a=302, admin=302)},
    "organisations.resend_invitation": {"POST": signed_in(403, referent_a=302, admin=302)},
}

CORE.update(
    {
        "lms.privacy": {"GET": expect(200)},
        "accounts.my_data": {"GET": signed_in(200), "POST": signed_in(302)},  # saved
        "accounts.my_data_download": {"GET": signed_in(200)},
    }
)

_ADMIN_ONLY = signed_in(403, admin=200)
ADMIN: Table = {
    "admin.users": {"GET": _ADMIN_ONLY},
    "admin.user": {"GET": _ADMIN_ONLY},
    "admin.user_data": {"GET": _ADMIN_ONLY},
    "admin.change_role": {"POST": signed_in(403, admin=400)},  # no role chosen
    "admin.erase": {"POST": signed_in(403, admin=400)},  # no confirmation: refused
    "admin.audit_log": {"GET": signed_in(403, coordinator=200, admin=200)},
    "admin.organisation_audit": {"GET": signed_in(403, **_MANAGERS_OF_A)},
    "admin.privacy_notice": {"GET": _ADMIN_ONLY, "POST": _ADMIN_ONLY},
    # Empty POSTs: the creation forms answer with their errors (200); the controller's
    # details are all optional, so an empty form is saved (302).
    "admin.new_user": {"GET": _ADMIN_ONLY, "POST": _ADMIN_ONLY},
    "admin.organisations": {"GET": _ADMIN_ONLY},
    "admin.new_organisation": {"GET": _ADMIN_ONLY, "POST": _ADMIN_ONLY},
    "admin.edit_organisation": {"GET": _ADMIN_ONLY, "POST": _ADMIN_ONLY},
    "admin.privacy_controller": {"GET": _ADMIN_ONLY, "POST": signed_in(403, admin=302)},
}

# --- Courses and quizzes -------------------------------------------------------------------
# The course "corso-matrice" is owned by the trainer; the operator is enrolled and has an
# open quiz attempt; nobody else is enrolled.
_OWNERS = {"trainer": 200, "admin": 200}
COURSES: Table = {
    "courses.catalogue": {"GET": signed_in(200)},
    "courses.course": {"GET": signed_in(200)},
    # The public path's pages: the matrix's course is not public, so not there for anyone
    # (tests/courses/test_public.py reads a public one).
    "courses.public_course": {"GET": expect(404)},
    "courses.public_module": {"GET": expect(404)},
    "courses.enrol": {"POST": signed_in(302)},
    "courses.unenrol": {"POST": signed_in(302)},
    "courses.renew": {"POST": signed_in(302)},  # refused with a message: nothing to renew
    "courses.module": {"GET": signed_in(302, operator=200)},  # others must enrol first
    # Without the module page's token (courses.study) the operator's heartbeat is refused.
    "courses.module_seen": {"POST": signed_in(403, operator=400)},
    "courses.module_complete": {"POST": signed_in(302)},  # quiz module: explained, redirected
    "courses.asset": {"GET": signed_in(200)},
    "courses.enrol_staff": {
        "GET": signed_in(403, **_MANAGERS_OF_A),
        "POST": signed_in(403, **_MANAGERS_OF_A),
    },
    "courses.author_index": {"GET": signed_in(403, **_OWNERS)},
    "courses.author_upload": {"POST": signed_in(403, trainer=302, admin=302)},
    # With no fields the course form answers with its errors.
    "courses.author_new": {"GET": signed_in(403, **_OWNERS), "POST": signed_in(403, **_OWNERS)},
    "courses.author_course": {"GET": signed_in(403, **_OWNERS)},
    "courses.author_start_draft": {"POST": signed_in(403, trainer=302, admin=302)},
    "courses.author_meta": {"POST": signed_in(403, trainer=302, admin=302)},
    "courses.author_module": {"GET": signed_in(403, **_OWNERS), "POST": signed_in(403, **_OWNERS)},
    "courses.author_module_new": {"POST": signed_in(403, trainer=302, admin=302)},
    "courses.author_module_move": {"POST": signed_in(403, trainer=302, admin=302)},
    "courses.author_module_delete": {"POST": signed_in(403, trainer=302, admin=302)},
    "courses.author_publish": {
        "GET": signed_in(403, **_OWNERS),  # the confirmation, with the diff
        "POST": signed_in(403, trainer=302, admin=302),
    },
    "courses.author_source": {"GET": signed_in(403, **_OWNERS), "POST": signed_in(403, **_OWNERS)},
    "courses.author_help": {"GET": signed_in(403, **_OWNERS)},
    # Only owners (the trainer) and admins manage co-authors; an unknown e-mail is explained.
    "courses.author_coauthor_add": {"POST": signed_in(403, trainer=302, admin=302)},
    "courses.author_coauthor_remove": {"POST": signed_in(403, trainer=302, admin=302)},
    "courses.author_quiz": {
        "GET": signed_in(403, **_OWNERS),
        "POST": signed_in(403, trainer=302, admin=302),
    },
    "courses.author_question": {
        "GET": signed_in(403, **_OWNERS),
        "POST": signed_in(403, **_OWNERS),
    },
    "courses.author_question_delete": {"POST": signed_in(403, trainer=302, admin=302)},
    "courses.author_archive": {"POST": signed_in(403, trainer=302, admin=302)},
    "courses.author_diff": {"GET": signed_in(403, **_OWNERS)},
    "courses.author_export": {"GET": signed_in(403, **_OWNERS)},
    "courses.author_preview": {"POST": signed_in(403, **_OWNERS)},
    "courses.author_asset": {"GET": signed_in(403, **_OWNERS)},
}
QUIZZES: Table = {
    "quizzes.quiz": {"GET": signed_in(302, operator=200)},
    "quizzes.start": {"POST": signed_in(302)},
    # Someone else's attempt does not exist, as far as they can tell.
    "quizzes.attempt": {"GET": signed_in(404, operator=200), "POST": signed_in(404, operator=302)},
    "quizzes.result": {"GET": signed_in(404, operator=302)},  # still open: back to the form
    "quizzes.stats_index": {"GET": signed_in(403, **_OWNERS)},
    "quizzes.stats": {"GET": signed_in(403, **_OWNERS)},
    "quizzes.stats_csv": {"GET": signed_in(403, **_OWNERS)},
}

# --- Certificates ----------------------------------------------------------------------
# The operator holds one certificate; its code is public knowledge (printed, QR).
CERTIFICATES: Table = {
    "certificates.mine": {"GET": signed_in(200)},
    "certificates.download": {"GET": signed_in(404, operator=200, admin=200)},  # own; admins all
    "certificates.verify": {"GET": expect(200), "POST": expect(200)},  # empty form: re-shown
    "certificates.verify_code": {"GET": expect(200)},
    "certificates.status_json": {"GET": expect(200)},
    "certificates.verify_upload": {"POST": expect(400)},  # no file
    "certificates.public_key": {"GET": expect(200)},
    "certificates.keys_json": {"GET": expect(200)},
    "certificates.organisation": {"GET": signed_in(403, **_MANAGERS_OF_A)},
    # A worker prepares the archive: the request redirects to the job's page.
    "certificates.organisation_zip": {"POST": signed_in(403, referent_a=302, admin=302)},
    "certificates.admin_index": {"GET": _ADMIN_ONLY},
    "certificates.admin_detail": {"GET": _ADMIN_ONLY, "POST": _ADMIN_ONLY},  # no reason given
    "certificates.admin_reissue": {"POST": signed_in(403, admin=302)},
    # The participants' report: the course's authors (the trainer owns it) and admins.
    "certificates.participants_index": {"GET": signed_in(403, **_OWNERS)},
    "certificates.participants_report": {"GET": signed_in(403, **_OWNERS)},
}

# Plugins add their tables here (e.g. COURSES, QUIZZES, CERTIFICATES); see the docstring.
# Plugins that keep their rows beside their own tests join at the end of this module.
TABLES: list[Table] = [CORE, ADMIN, COURSES, QUIZZES, CERTIFICATES]


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


def _study_token(world: World) -> str:
    """The token the operator's page of the course's first module carries."""
    from courses.catalogue import find_module, published_version
    from courses.study import page_token
    from lms import db
    from tests.conftest import service_context

    _course(world)
    with service_context(world.app):  # the evidence profile is the app's setting
        version = published_version(db.session, "corso-matrice")
        module = find_module(version, "triage")
        secret = world.app.config["SECRET_KEY"]
        return page_token(secret, world.user_id("operator"), version, module, 1)


def _course(world: World) -> dict[str, Any]:
    """The trainer's published course with a quiz and an image, made once per world."""
    if "course" not in world.extra:
        from courses import authoring
        from courses.enrolment import enrol
        from courses.models import EnrolmentSource
        from lms import db
        from lms.accounts.models import User
        from quizzes import attempts
        from tests.conftest import service_context
        from tests.quizzes.helpers import quiz_course_files

        files = quiz_course_files()
        files["01-triage.md"] = files["01-triage.md"].replace(
            b"Lezione sul triage.", b"Lezione sul triage. ![Schema](images/schema.png)"
        )
        files["02-extra.md"] = b"---\ntitle: Extra\nestimated_minutes: 1\n---\nTesto.\n"
        files["03-verifica.md"] = files["01-triage.md"].replace(
            b"title: Triage", b"title: Verifica"
        )
        files["course.md"] = files["course.md"].replace(b"corso-quiz", b"corso-matrice")
        files["images/schema.png"] = b"\x89PNG\r\n\x1a\nmatrice"
        trainer = db.session.get(User, world.user_id("trainer"))
        with service_context(world.app):  # importing asks the app for its fenced blocks
            version = authoring.import_files(db.session, files, user=trainer, publish=True).version
            operator = db.session.get(User, world.user_id("operator"))
            enrol(db.session, operator, version, source=EnrolmentSource.SELF)
            attempt = attempts.start_attempt(db.session, operator, version, version.modules[0])
        world.extra["course"] = {
            "slug": "corso-matrice",
            "version_id": version.id,
            "attempt_id": attempt.id,
        }
        db.session.commit()
    return world.extra["course"]


def _certificate(world: World) -> dict[str, Any]:
    """A certificate of the operator's, issued as a course completion would issue it."""
    if "certificate" not in world.extra:
        import datetime as dt

        from sqlalchemy import select

        from certificates.models import Certificate
        from lms import db
        from lms.signals import CompletionEvent, completion_recorded

        with world.app.app_context():
            completion_recorded.send(
                world.app,
                session=db.session,
                event=CompletionEvent(
                    user_id=world.user_id("operator"),
                    kind="course",
                    key="course:matrice",
                    completion_ref="course-completion:matrice",
                    title="Corso della matrice",
                    version_label="1",
                    hours=2.0,
                    completed_at=dt.datetime.now(dt.UTC),
                    renewal_months=36,
                ),
            )
            db.session.commit()
            cert = db.session.scalar(
                select(Certificate).where(Certificate.completion_ref == "course-completion:matrice")
            )
            world.extra["certificate"] = {"id": cert.id, "code": cert.code}
    return world.extra["certificate"]


def _job(world: World) -> int:
    """A finished job the operator asked for (without a file to download)."""
    if "job" not in world.extra:
        from lms import db
        from lms.jobs import Job

        with world.app.app_context():
            job = Job(
                kind="lms.mail",
                owner_id=world.user_id("operator"),
                status="done",
                params={},
                checkpoint={},
                result={},
                locale="it",
            )
            db.session.add(job)
            db.session.commit()
            world.extra["job"] = job.id
    return int(world.extra["job"])


PARAMS: dict[str, Resolver] = {
    "job_id": _job,
    "cert_id": lambda w: _certificate(w)["id"],
    "code": lambda w: _certificate(w)["code"],
    "org_id": lambda w: w.org_a,
    "user_id": lambda w: w.user_id("operator"),  # a member of organisation A
    "slug": lambda w: _course(w)["slug"],
    "module_slug": lambda w: (_course(w), "triage")[1],
    "version_id": lambda w: _course(w)["version_id"],
    "path": lambda w: "images/schema.png",
    "direction": lambda w: "up",
    "attempt_id": lambda w: _course(w)["attempt_id"],
    "fmt": lambda w: "json",
}
ENDPOINT_PARAMS: dict[str, dict[str, Resolver]] = {
    # A module without quiz (completed by hand) and a quiz nobody has started yet.
    "courses.module_complete": {"module_slug": lambda w: (_course(w), "extra")[1]},
    "courses.author_question": {"question_id": lambda w: "nuova"},
    "courses.author_coauthor_remove": {"user_id": lambda w: _other_trainer(w, coauthor=True)},
    # A question of the quiz of module "verifica" (tests/quizzes/helpers.py).
    "courses.author_question_delete": {
        "module_slug": lambda w: (_course(w), "verifica")[1],
        "question_id": lambda w: "codice",
    },
    "quizzes.start": {"module_slug": lambda w: (_course(w), "verifica")[1]},
    "accounts.reset_password": {"token": lambda w: w.reset_token},
    "accounts.accept_invitation": {"token": lambda w: w.invitation_token},
    "certificates.participants_report": {"fmt": lambda w: "csv"},
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


def _draft(world: World, wanted: bool) -> dict[str, Any]:
    from courses import authoring
    from lms import db
    from tests.conftest import service_context

    course = authoring.get_course(db.session, _course(world)["slug"])
    draft = authoring.get_draft(db.session, course.id)
    if wanted and draft is None:
        with service_context(world.app):  # saving asks the app for its fenced blocks
            draft = authoring.edit_draft(db.session, course, None)
            draft_files = authoring.draft_files(db.session, course, None)
            draft_files["02-extra.md"] += b"\nUna modifica.\n"
            authoring.save_files(db.session, course, draft_files, None)
    elif not wanted and draft is not None:
        db.session.delete(draft)
    db.session.commit()
    return {}


def _with_draft(world: World) -> dict[str, Any]:
    return _draft(world, True)


def _without_draft(world: World) -> dict[str, Any]:
    return _draft(world, False)


def _zipped_course() -> Any:
    import io
    import zipfile

    from tests.courses.helpers import course_files

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in course_files(slug="corso-caricato").items():
            archive.writestr(name, content)
    buffer.seek(0)
    return buffer


NEW_PASSWORD = "una-password-nuova-2026"
_NEW_COURSE = """---
slug: nuovo-corso-csrf
title: Corso nuovo
summary: Prova.
audiences: [all]
---
Intro.
"""

_NEW_COURSE_FIELDS = {
    "slug": "nuovo-corso-csrf",
    "title": "Corso nuovo",
    "summary": "Prova.",
    "audiences": ["all"],
    "objectives": "Un obiettivo",
    "self_enrolment": "y",
}


def _other_trainer(world: World, *, coauthor: bool) -> int:
    """A second trainer, co-author of the matrix course or not as the form needs."""
    from courses import authoring
    from lms import db
    from lms.accounts.models import Role
    from lms.accounts.services import create_user, get_user_by_email

    email = "coautrice-matrice@rete-milano.test"
    user = get_user_by_email(db.session, email) or create_user(
        db.session, email, "Coautrice Matrice", password=None, roles=(Role.TRAINER,)
    )
    course = authoring.get_course(db.session, _course(world)["slug"])
    present = any(c.user_id == user.id for c in course.coauthors)
    if coauthor and not present:
        authoring.add_coauthor(db.session, course, email, actor=None)
    elif not coauthor and present:
        authoring.remove_coauthor(db.session, course, user.id, actor=None)
    db.session.commit()
    return user.id


FORMS: dict[str, Form] = {
    # Only a failed job goes back to the queue; tests/core/test_jobs.py covers it.
    "jobs.job_retry": Form("admin", lambda w: {}, changes_state=False),
    "certificates.organisation_zip": Form("referent_a", lambda w: {}),
    "lms.set_language": Form("operator", lambda w: {"locale": "en", "next": "/"}),
    "accounts.login": Form(
        "anonymous", lambda w: {"email": w.email("operator"), "password": w.password}
    ),
    "accounts.logout": Form("operator", lambda w: {}),
    "accounts.my_data": Form("operator", lambda w: {"professional_id": "RSSMRA80A01F205X"}),
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
    # The operator is not asleep: refused with a message, nothing changes.
    "organisations.reactivate_member": Form("referent_a", lambda w: {}, changes_state=False),
    # The operator accepted the invitation long ago: refused with a message.
    "organisations.resend_invitation": Form("referent_a", lambda w: {}, changes_state=False),
    "admin.change_role": Form("admin", lambda w: {"role": "trainer", "action": "grant"}),
    "admin.erase": Form("admin", lambda w: {"confirm_email": w.email("operator")}),
    "admin.privacy_notice": Form("admin", lambda w: {"text": "## Nuova informativa"}),
    "admin.new_user": Form(
        "admin", lambda w: {"full_name": "Persona Forgiata", "email": "forgiata@rete-milano.test"}
    ),
    "admin.new_organisation": Form(
        "admin", lambda w: {"name": "Ente forgiato", "code": "FORGIATO", "type": "altro"}
    ),
    "admin.edit_organisation": Form(
        "admin", lambda w: {"name": "Ente rinominato", "type": "altro"}
    ),
    "admin.privacy_controller": Form("admin", lambda w: {"controller_name": "Titolare forgiato"}),
    "courses.enrol": Form("trainer", lambda w: {}),
    "courses.unenrol": Form("operator", lambda w: {}),
    "courses.renew": Form("operator", lambda w: {}, changes_state=False),
    "courses.module_seen": Form("operator", lambda w: {"token": _study_token(w)}),
    "courses.module_complete": Form("operator", lambda w: {}),
    "courses.enrol_staff": Form(
        "referent_a", lambda w: {"course": "corso-matrice", "member": str(w.user_id("referent_a"))}
    ),
    "courses.author_upload": Form("trainer", lambda w: {"archive": (_zipped_course(), "c.zip")}),
    "courses.author_new": Form("trainer", lambda w: _NEW_COURSE_FIELDS),
    "courses.author_start_draft": Form("trainer", lambda w: _without_draft(w)),
    "courses.author_meta": Form(
        "trainer", lambda w: {**_NEW_COURSE_FIELDS, "slug": "", "title": "Corso: rinominato"}
    ),
    "courses.author_source": Form(
        "trainer", lambda w: {"source": _NEW_COURSE.replace("nuovo-corso-csrf", "corso-matrice")}
    ),
    "courses.author_coauthor_add": Form(
        "trainer",
        lambda w: (
            _other_trainer(w, coauthor=False),
            {"email": "coautrice-matrice@rete-milano.test"},
        )[1],
    ),
    "courses.author_coauthor_remove": Form(
        "trainer", lambda w: (_other_trainer(w, coauthor=True), {})[1]
    ),
    "courses.author_quiz": Form("trainer", lambda w: {"pass_mark": "60"}),
    "courses.author_question": Form(
        "trainer",
        lambda w: {
            "qid": "forgiata",
            "type": "true_false",
            "text": "Vero?",
            "answer": "true",
            "save": "S",
        },
    ),
    "courses.author_question_delete": Form("trainer", lambda w: {}),
    "courses.author_module": Form(
        "trainer", lambda w: {"title": "Nuovo titolo", "estimated_minutes": "1", "body": "x"}
    ),
    "courses.author_module_new": Form("trainer", lambda w: {"slug": "nuovo", "title": "Nuovo"}),
    "courses.author_module_move": Form("trainer", lambda w: {}),
    "courses.author_module_delete": Form("trainer", lambda w: {}),
    "courses.author_publish": Form("trainer", lambda w: _with_draft(w)),
    "courses.author_archive": Form("trainer", lambda w: {}),
    "courses.author_preview": Form("trainer", lambda w: {}, changes_state=False),
    "quizzes.start": Form("operator", lambda w: {}),
    "quizzes.attempt": Form("operator", lambda w: {}),
    # Look-ups: they change nothing but the rate-limit counters.
    "certificates.verify": Form(
        "anonymous", lambda w: {"code": _certificate(w)["code"]}, changes_state=False
    ),
    "certificates.verify_upload": Form("anonymous", lambda w: {}, changes_state=False),
    "certificates.admin_detail": Form("admin", lambda w: {"reason": "Prova di revoca"}),
    "certificates.admin_reissue": Form("admin", lambda w: {}),
}


def _join(table: Table, params: dict[str, dict[str, Resolver]], forms: dict[str, Form]) -> None:
    """Add a plugin's rows, URL parameters and forms kept in its own test package."""
    TABLES.append(table)
    MATRIX.update(merged([MATRIX, table]))
    for endpoint, resolvers in params.items():
        ENDPOINT_PARAMS.setdefault(endpoint, {}).update(resolvers)
    FORMS.update(forms)


# Imported last: these modules use Form, Table and signed_in from this one.
from tests.commitments.access_matrix import (  # noqa: E402
    COMMITMENTS,
    COMMITMENTS_FORMS,
    COMMITMENTS_PARAMS,
)
from tests.live_sessions.access_matrix import (  # noqa: E402
    LIVE_SESSIONS,
    LIVE_SESSIONS_FORMS,
    LIVE_SESSIONS_PARAMS,
)
from tests.notifications.access_matrix import (  # noqa: E402
    NOTIFICATIONS,
    NOTIFICATIONS_FORMS,
    NOTIFICATIONS_PARAMS,
)
from tests.surveys.access_matrix import SURVEYS, SURVEYS_FORMS, SURVEYS_PARAMS  # noqa: E402

_join(LIVE_SESSIONS, LIVE_SESSIONS_PARAMS, LIVE_SESSIONS_FORMS)
_join(SURVEYS, SURVEYS_PARAMS, SURVEYS_FORMS)
_join(NOTIFICATIONS, NOTIFICATIONS_PARAMS, NOTIFICATIONS_FORMS)
PARAMS.update(COMMITMENTS_PARAMS)
_join(COMMITMENTS, {}, COMMITMENTS_FORMS)
from tests.registration.access_matrix import (  # noqa: E402
    REGISTRATION,
    REGISTRATION_FORMS,
    REGISTRATION_PARAMS,
)

_join(REGISTRATION, REGISTRATION_PARAMS, REGISTRATION_FORMS)

from tests.sso.access_matrix import SSO, SSO_FORMS, SSO_PARAMS  # noqa: E402

_join(SSO, SSO_PARAMS, SSO_FORMS)

from tests.organisations_units.access_matrix import UNITS, UNITS_FORMS, UNITS_PARAMS  # noqa: E402

_join(UNITS, UNITS_PARAMS, UNITS_FORMS)

# Europass-ready export (issue 20): the holder's own certificate (the operator's), admins any.
EUROPASS: Table = {"certificates.europass_export": {"GET": signed_in(404, operator=200, admin=200)}}
_join(EUROPASS, {}, {})

# --- Certificates as Open Badges 3.0 (issue 20) ------------------------------------------
# The issuer's documents and each credential's page are public (the code is printed on the
# certificate). The holder's wallet page and downloads: the operator's own certificate,
# 404 for everyone else (admins too: a credential is the holder's to take).


def _open_badge_certificate(world: World) -> int:
    """The operator's certificate with its credential already made (by the holder's POST
    in real life), so that the downloads have something to send."""
    cert = _certificate(world)
    if "open_badge" not in world.extra:
        from certificates import openbadges
        from certificates.models import Certificate
        from lms import db

        with world.app.test_request_context():
            openbadges.badge_for(db.session, db.session.get(Certificate, cert["id"]))
            db.session.commit()
        world.extra["open_badge"] = True
    return int(cert["id"])


OPEN_BADGES: Table = {
    "certificates.did_document": {"GET": expect(200)},
    "certificates.issuer_profile": {"GET": expect(200)},
    "certificates.revocation_list": {"GET": expect(200)},
    "certificates.credential": {"GET": expect(200)},  # the page, credential made or not
    # POST without a DID: the credential for the e-mail's hash, then the wallet page.
    "certificates.credential_wallet": {
        "GET": signed_in(404, operator=200),
        "POST": signed_in(404, operator=302),
    },
    "certificates.credential_download": {"GET": signed_in(404, operator=200)},
    "certificates.achievement": {"GET": expect(200)},  # the matrix certificate's course
}
_join(
    OPEN_BADGES,
    {
        "certificates.credential_download": {"cert_id": _open_badge_certificate},
        "certificates.achievement": {
            "key": lambda w: (_certificate(w), "course:matrice")[1],
            "version": lambda w: "1",
        },
    },
    # A new DID each time: a credential made for it is the change the control looks for.
    {"certificates.credential_wallet": Form("operator", lambda w: {"did": _new_did()})},
)


def _new_did() -> str:
    import secrets

    return "did:example:matrice-" + secrets.token_hex(4)
