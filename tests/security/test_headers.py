"""Security headers on every page, for every role, error pages included."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import make_test_app, slow_except
from tests.security.access_matrix import ROLES
from tests.security.conftest import World, methods

SAFE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin"}
HSTS_MIN_AGE = 180 * 24 * 3600


def directives(header: str) -> dict[str, list[str]]:
    found = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            found.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return found


def header_problems(response: Any, *, hsts: bool, signed_in: bool) -> list[str]:
    headers, problems = response.headers, []
    csp = directives(headers.get("Content-Security-Policy", ""))
    scripts = csp.get("script-src", csp.get("default-src"))
    if scripts is None:
        problems.append("CSP without script-src or default-src")
    elif {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(scripts):
        problems.append(f"CSP script-src too broad: {scripts}")
    if csp.get("frame-ancestors") not in (["'none'"], ["'self'"]):
        problems.append(f"CSP frame-ancestors: {csp.get('frame-ancestors')}")
    if csp.get("object-src") != ["'none'"]:
        problems.append(f"CSP object-src: {csp.get('object-src')}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if headers.get("Referrer-Policy") not in SAFE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy: {headers.get('Referrer-Policy')}")
    sts = headers.get("Strict-Transport-Security")
    if hsts:
        age = directives(sts.replace("=", " ")).get("max-age", ["0"]) if sts else ["0"]
        if not sts or int(age[0]) < HSTS_MIN_AGE:
            problems.append(f"Strict-Transport-Security: {sts}")
    elif sts:
        problems.append("HSTS sent without LMS_SECURE_COOKIES (plain HTTP)")
    cache = headers.get("Cache-Control", "")
    # A document the same for everyone (keys, DID document, status list) may say "public"
    # also when a signed-in person fetches it, if it sets no cookie (a "Vary: Cookie"
    # keeps shared caches from handing one person's copy to another anyway).
    shared = "public" in cache and "Set-Cookie" not in headers
    if signed_in and "no-store" not in cache and not shared:
        problems.append("signed-in page cacheable (no Cache-Control: no-store)")
    return problems


def _walk_get_pages(app: Flask, world: World, role: str, *, hsts: bool, **kw: Any) -> list[str]:
    failures = []
    for rule, url in world.reachable(app):
        if "GET" not in methods(rule):
            continue
        got = world.request(role, "GET", url, **kw)
        if got.error:
            failures.append(f"GET {url}: {got.error}")
            continue
        for problem in header_problems(got.response, hsts=hsts, signed_in=role != "anonymous"):
            failures.append(f"GET {url} ({got.status}): {problem}")
    return failures


@pytest.mark.parametrize("role", slow_except("admin", ROLES))
def test_every_page_has_the_security_headers(app: Flask, world: World, role: str):
    failures = _walk_get_pages(app, world, role, hsts=False)
    assert not failures, f"as {role}:\n  " + "\n  ".join(failures)


def test_error_pages_and_assets_have_the_security_headers(app: Flask, world: World):
    client = world.client("operator")
    responses = {
        "404": client.get("/non-esiste"),
        "405": client.get("/account/logout"),
        "400 (CSRF)": client.post("/account/logout"),
        "403": client.get(f"/organisations/{world.org_a}/"),
    }
    for name, response in responses.items():
        assert response.status_code == int(name[:3]), name
        assert header_problems(response, hsts=False, signed_in=True) == [], name
    with world.client("anonymous").get("/assets/css/lms.css") as css:
        assert css.status_code == 200
        assert css.headers["X-Content-Type-Options"] == "nosniff"


def test_header_check_catches_weak_headers():
    class Weak:
        headers = {
            "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'",
            "Strict-Transport-Security": "max-age=60",
        }

    problems = header_problems(Weak(), hsts=True, signed_in=True)
    assert len(problems) == 7, problems


@pytest.mark.parametrize("role", slow_except("anonymous", ["anonymous", "admin"]))
def test_hsts_on_every_page_behind_https(app: Flask, world: World, tmp_path: Path, role: str):
    secure = make_test_app(tmp_path, app.config["LMS_DATABASE_URL"], LMS_SECURE_COOKIES=True)
    try:
        assert secure.config["SESSION_COOKIE_SECURE"] is True
        over_https = dataclasses.replace(world, app=secure, _cookies={}, _csrf={})
        failures = _walk_get_pages(
            secure, over_https, role, hsts=True, base_url="https://localhost"
        )
    finally:
        secure.extensions["lms"].engine.dispose()
    assert not failures, f"as {role} over HTTPS:\n  " + "\n  ".join(failures)
