"""Every rule of the platform, every URL argument, hostile values, every role: never a 5xx.

For each rule and each of its arguments, the argument takes each value of ``VALUES``
while the others keep the valid values of the access matrix (so that the lookup under
test is the one reached); every method the rule accepts among GET and POST (with a valid
CSRF token) is sent. The values of ``EVERY_ROLE`` that reach a view go to every role; a
URL that routing already refuses (no rule matches: the ``id`` converter refuses 0, signs
and values beyond ``MAX_ID``) never reaches a view, so it goes, like the other values, to
one role only, a different one each time.
Run it on PostgreSQL too (``tools/run-tests``): its 32-bit ``INTEGER`` and its refusal of
NUL in text are failures SQLite does not show.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect, Rule

from lms.urls import MAX_ID
from tests.security.access_matrix import ROLES, MissingParameter, url_values
from tests.security.conftest import World, methods

# Path segments as a client would send them (already percent-encoded).
VALUES = {
    "unknown id": "987654",
    "id 1": "1",  # exists in most tables: someone else's, or not under the other arguments
    "id 2": "2",
    "zero": "0",
    "negative": "-1",
    "largest id": str(MAX_ID),  # passes the converter: the database must answer "none"
    "largest id + 1": str(MAX_ID + 1),  # beyond PostgreSQL's INTEGER
    "2**63": str(2**63),  # beyond SQLite's INTEGER
    "2**64": str(2**64),
    "5000 digits": "9" * 5000,  # beyond Python's int() digit limit
    "Arabic-Indic digits": quote("١٢"),
    "non-ASCII slug": quote("città-é"),
    "emoji": "%F0%9F%98%80",
    "unknown slug": "non-esiste",
    "NUL byte": "a%00b",  # PostgreSQL refuses NUL in text: it must not reach a query
}
# Sent as every role when they reach a view; the other values (variants of these for the
# view: one more unknown string, a number beyond the bounds) as one role, a different one
# each time.
EVERY_ROLE = {"unknown id", "id 1", "largest id", "5000 digits", "non-ASCII slug", "unknown slug"}
ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
WALKED_METHODS = {"GET", "POST"}


def platform_rules(app: Flask) -> list[Rule]:
    """The rules of the platform's own blueprints (static files included), with arguments."""
    ours = app.extensions["lms"].blueprint_names
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.arguments and (r.endpoint == "static" or r.endpoint.partition(".")[0] in ours)
    ]
    return sorted(rules, key=lambda r: (r.endpoint, r.rule))


def valid_values(rule: Rule, world: World) -> dict[str, str]:
    """The access matrix's values for the rule's arguments, as URL segments."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        try:
            values.update(url_values(rule.endpoint, {name}, world))
        except MissingParameter:
            values[name] = "lms.css"  # static files: any name will do
    return {
        name: quote(str(value), safe="/" if name in ("path", "filename") else "")
        for name, value in values.items()
    }


def build(rule: Rule, segments: dict[str, str]) -> str:
    return ARGUMENT.sub(lambda m: segments[m.group(1)], rule.rule)


def reaches_a_view(app: Flask, url: str, method: str) -> bool:
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(url.partition("?")[0], method=method)
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return False
    except HTTPException:
        return True
    return True


@pytest.mark.slow  # every route with every hostile value
def test_no_url_value_makes_the_platform_fail(app: Flask, world: World):
    rules = platform_rules(app)
    failures, sent, combinations = [], 0, 0
    rotation = iter(range(1_000_000))
    for rule in rules:
        valid = valid_values(rule, world)
        rule_methods = sorted(set(methods(rule)) & WALKED_METHODS)
        assert rule_methods, f"{rule.rule} accepts neither GET nor POST"
        for name in sorted(rule.arguments):
            for label, value in VALUES.items():
                url = build(rule, {**valid, name: value})
                for method in rule_methods:
                    combinations += 1
                    if label in EVERY_ROLE and reaches_a_view(app, url, method):
                        roles: tuple[str, ...] = ROLES
                    else:
                        roles = (ROLES[next(rotation) % len(ROLES)],)
                    for role in roles:
                        data = {"csrf_token": world.csrf(role)} if method == "POST" else None
                        got = world.request(role, method, url, data=data)
                        sent += 1
                        if got.error or got.status >= 500:
                            failures.append(
                                f"{method} {url[:90]} ({rule.endpoint}, <{name}> {label}) "
                                f"as {role}: {got.error or got.status}"
                            )
    assert len(rules) > 50 and sent > combinations
    assert not failures, f"{len(failures)} of {sent} requests failed:\n  " + "\n  ".join(failures)


def test_control_characters_in_url_values_never_reach_a_view(world: World):
    """A reset token is read without the database: the view refuses a bad link (400).
    With a NUL byte it must not get that far (PostgreSQL refuses NUL in text): 404."""
    client = world.client("anonymous")
    assert client.get("/account/reset/not-a-token").status_code == 400
    for value in ("not%00a-token", "not%0Aa-token", "not%7Fa-token", "not%C2%85a-token"):
        assert client.get(f"/account/reset/{value}").status_code == 404, value


def test_quiz_statistics_ignore_an_organisation_that_is_no_id(world: World):
    from tests.security.access_matrix import PARAMS

    slug = PARAMS["slug"](world)
    for value in ("99999999999999999999", str(2**63), "²", "-1", "0", "12a"):
        response = world.client("trainer").get(f"/quizzes/stats/{slug}/?organisation={value}")
        assert response.status_code == 200, value


def test_a_nul_in_the_query_string_is_a_bad_request(app: Flask, world: World):
    """Searches and filters read the query string; PostgreSQL refuses NUL in text."""
    ours = app.extensions["lms"].blueprint_names
    failures, checked = [], 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.partition(".")[0] not in ours or rule.endpoint.endswith("static"):
            continue
        if "GET" not in methods(rule):
            continue
        url = build(rule, valid_values(rule, world))
        got = world.request("admin", "GET", f"{url}?q=a%00b&sort=x&organisation=a%00b")
        checked += 1
        if got.status != 400:
            failures.append(f"GET {url}: {got.error or got.status}")
    assert checked > 50 and not failures, "\n  ".join(failures)
