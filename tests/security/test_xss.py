"""Every user-writable field that is rendered, fed the XSS corpus, renders inertly.

Fields today: a person's full name (typed by a referent or admin when inviting: shown
on the organisation page, in flash messages, on the person's home page and in the
header) and what comes back from forms and URLs (login e-mail, invitation fields,
``next=``, any query string, reflected by the language switch). Organisation names
are not editable in the platform (they come from the protocol's registry).
"""

from __future__ import annotations

import html

import pytest
from flask import Flask

from lms import db
from lms.accounts import services
from lms.organisations.services import add_member, organisation_by_code
from tests.conftest import CSRF_RE
from tests.security.conftest import ORG_A, World
from tests.security.xss_corpus import MARKER, PAYLOADS, inert_problems


def _check(page: str, payload: str, where: str, *, shown: bool = True) -> list[str]:
    """``payload`` is one payload, or several joined by spaces (checked one by one)."""
    parts = [p for p in PAYLOADS if p in payload] or [payload]
    problems = [f"{where}: {p}" for p in inert_problems(page, parts)]
    if shown and " ".join(payload.split()) not in html.unescape(page):
        problems.append(f"{where}: payload not shown as text")
    return problems


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n  " + "\n  ".join(problems[:60])


def test_corpus_is_large_varied_and_fits_the_fields():
    assert len(PAYLOADS) >= 30 and len(set(PAYLOADS)) == len(PAYLOADS)
    assert all(MARKER in p and len(" ".join(p.split())) <= 200 for p in PAYLOADS)
    families = ("<script", " on", "javascript:", "<svg", "<iframe", "style", "data:", "](")
    assert all(any(f in p.lower() for p in PAYLOADS) for f in families)
    assert inert_problems(f"<p>{PAYLOADS[0]}</p>")  # the check does see a raw payload
    assert not inert_problems(f"<p>{html.escape(PAYLOADS[0])}</p>")


@pytest.mark.slow  # the whole corpus as names
def test_names_typed_by_a_referent_render_inertly_on_the_organisation_page(
    app: Flask, world: World
):
    client = world.client("referent_a")
    page_url = f"/organisations/{world.org_a}/"
    token = world.csrf("referent_a")
    problems = []
    for number, payload in enumerate(PAYLOADS):
        response = client.post(
            page_url,
            data={
                "csrf_token": token,
                "full_name": payload,
                "email": f"xss{number}@sicurezza.test",
                "audience": "polizia_locale",
            },
        )
        assert response.status_code == 302, (payload, response.status_code)
    page = client.get(page_url).get_data(as_text=True)
    for number, payload in enumerate(PAYLOADS):
        problems += _check(page, payload, f"#{number} organisation page")

    # Removing each one flashes the name back.
    for number, payload in enumerate(PAYLOADS):
        user = services.get_user_by_email(db.session, f"xss{number}@sicurezza.test")
        client.post(f"{page_url}members/{user.id}/remove", data={"csrf_token": token})
        flashed = client.get(page_url).get_data(as_text=True)
        problems += _check(flashed, payload, f"#{number} removal message")
    assert not problems, _report(problems)


@pytest.mark.slow  # the whole corpus through every page
def test_names_render_inertly_for_the_person_and_for_an_admin(app: Flask, world: World):
    """The person's own pages (set-password message, home, header) and the admin's
    message when adding an existing person to a second organisation.

    Payloads go two to a name: each person costs a password hash (scrypt), and a
    payload rendered raw is found whatever sits next to it.
    """
    names = [" ".join(PAYLOADS[i : i + 2]) for i in range(0, len(PAYLOADS), 2)]
    tokens = {}
    for number, name in enumerate(names):
        email = f"xss{number}@sicurezza.test"
        user = services.create_user(db.session, email, name)
        add_member(
            db.session,
            organisation_by_code(db.session, ORG_A),
            email=email,
            full_name=name,
            audience_code="polizia_locale",
        )
        tokens[number] = services.make_token(app.config["SECRET_KEY"], services.INVITE_SALT, user)
    db.session.commit()
    db.session.remove()

    problems = []
    admin, admin_token = world.client("admin"), world.csrf("admin")
    org_b_page = f"/organisations/{world.org_b}/"
    for number, name in enumerate(names):
        person = app.test_client()
        link = f"/account/invitation/{tokens[number]}"
        form = person.get(link).get_data(as_text=True)
        problems += _check(form, name, f"#{number} invitation page", shown=False)
        done = person.post(
            link,
            data={
                "csrf_token": CSRF_RE.search(form).group(1),
                "password": "xss-password-2026",
                "confirm": "xss-password-2026",
            },
        )
        assert done.status_code == 302, (name, done.status_code)
        problems += _check(person.get("/").get_data(as_text=True), name, f"#{number} home")

        added = admin.post(
            org_b_page,
            data={
                "csrf_token": admin_token,
                "full_name": "ignorato",
                "email": f"xss{number}@sicurezza.test",
                "audience": "triage_asst",
            },
        )
        assert added.status_code == 302
        problems += _check(
            admin.get(org_b_page).get_data(as_text=True), name, f"#{number} admin message"
        )
    assert not problems, _report(problems)


def test_reflected_input_renders_inertly(app: Flask, world: World):
    referent, referent_token = world.client("referent_a"), world.csrf("referent_a")
    anonymous, anonymous_token = world.client("anonymous"), world.csrf("anonymous")
    page_url = f"/organisations/{world.org_a}/"
    problems = []
    for number, payload in enumerate(PAYLOADS):
        pages = {
            "login ?next=": anonymous.get("/account/login", query_string={"next": payload}),
            "any query string (language form)": anonymous.get(
                "/account/login",
                environ_overrides={"QUERY_STRING": payload.encode().decode("latin-1")},
            ),
        }
        pages["login e-mail"] = anonymous.post(
            "/account/login",
            data={"csrf_token": anonymous_token, "email": payload, "password": ""},
        )
        pages["invitation e-mail"] = referent.post(
            page_url,
            data={
                "csrf_token": referent_token,
                "full_name": "Nome Valido",
                "email": payload,
                "audience": "polizia_locale",
            },
        )
        pages["invitation name, form refused"] = referent.post(
            page_url,
            data={"csrf_token": referent_token, "full_name": payload, "email": ""},
        )
        for where, response in pages.items():
            assert response.status_code in (200, 400), (where, response.status_code)
            page = response.get_data(as_text=True)
            problems += _check(page, payload, f"#{number} {where}", shown=False)
    assert not problems, _report(problems)
