"""Every route × every role answers as the access matrix declares."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from tests.conftest import slow_except
from tests.security.access_matrix import (
    FORMS,
    LOGIN,
    MATRIX,
    ROLES,
    MissingParameter,
    expect,
    merged,
    url_values,
)
from tests.security.conftest import (
    UNSAFE_METHODS,
    World,
    methods,
    outcome_of,
    routes,
)


def test_every_route_method_and_role_is_declared(app: Flask, world: World):
    """A new route fails here until its row is added to tests/security/access_matrix.py."""
    undeclared: dict[str, list[str]] = {}  # blueprint -> routes without a row
    unresolved: dict[str, list[str]] = {}  # URL parameter -> endpoints
    problems = []
    endpoints = set()
    for rule in routes(app):
        endpoints.add(rule.endpoint)
        row = MATRIX.get(rule.endpoint)
        try:
            url_values(rule.endpoint, set(rule.arguments), world)
        except MissingParameter as error:
            unresolved.setdefault(error.args[1], []).append(rule.endpoint)
        if row is None:
            blueprint = rule.endpoint.partition(".")[0]
            undeclared.setdefault(blueprint, []).append(
                f"{rule.endpoint:40} {','.join(methods(rule)):10} {rule.rule}"
            )
            continue
        for method in methods(rule):
            missing = [role for role in ROLES if role not in row.get(method, {})]
            if missing:
                problems.append(f"{rule.endpoint} {method}: no outcome for {missing}")
            if method in UNSAFE_METHODS and rule.endpoint not in FORMS:
                problems.append(f"{rule.endpoint} {method}: no entry in FORMS")
        for method in sorted(set(row) - set(methods(rule))):
            problems.append(f"{rule.endpoint}: declares {method}, which the route does not accept")
    problems += [
        f"{e}: declared, but there is no such route" for e in sorted(set(MATRIX) - endpoints)
    ]
    problems += [
        f"{e}: in FORMS, but there is no such route" for e in sorted(set(FORMS) - endpoints)
    ]

    report = []
    for blueprint, lines in sorted(undeclared.items()):
        report.append(f"blueprint {blueprint!r}: {len(lines)} route(s) with no row in the matrix")
        report += [f"    {line}" for line in lines]
    for name, users in sorted(unresolved.items()):
        report.append(
            f"URL parameter <{name}> has no resolver (PARAMS / ENDPOINT_PARAMS): used by "
            + ", ".join(users)
        )
    report += problems
    assert not report, (
        "the access matrix (tests/security/access_matrix.py) is incomplete:\n  "
        + "\n  ".join(report)
    )


def test_matrix_helpers_refuse_mistakes():
    with pytest.raises(ValueError, match="unknown roles"):
        expect(200, referent_c=200)
    with pytest.raises(ValueError, match="declared twice"):
        merged([{"x.y": {}}, {"x.y": {}}])
    assert expect(403, admin=200)["admin"] == 200 and expect(403)["anonymous"] == 403


@pytest.mark.parametrize("role", slow_except("admin", ROLES))
def test_access_matrix(app: Flask, world: World, role: str):
    mismatches, checked = [], 0
    for rule in routes(app):
        row = MATRIX.get(rule.endpoint, {})
        for method in methods(rule):
            expected = row.get(method, {}).get(role)
            if expected is None:
                continue  # reported by test_every_route_method_and_role_is_declared
            url = world.url(rule)
            data = {"csrf_token": world.csrf(role)} if method != "GET" else None
            got = world.request(role, method, url, data=data)
            checked += 1
            if got.outcome != expected:
                mismatches.append(
                    f"{method} {url} ({rule.endpoint}): expected {expected}, got {got}"
                )
    assert checked > 0
    assert not mismatches, f"as {role}:\n  " + "\n  ".join(mismatches)


def test_methods_a_route_does_not_accept_are_refused(app: Flask, world: World):
    """GET on a POST-only URL (and POST on a GET-only one) never reaches the view: 405,
    unless the URL also matches another route, which has rows of its own."""
    adapter = app.url_map.bind("localhost")
    refused, checked = [], 0
    for rule, url in world.reachable(app):
        for method in {"GET", "POST"} - set(methods(rule)):
            try:
                adapter.match(url.partition("?")[0], method=method)
            except MethodNotAllowed:
                got = world.request("admin", method, url)
                checked += 1
                if got.status != 405:
                    refused.append(f"{method} {url}: {got.status or got.error}")
            except HTTPException:
                continue  # another route answers (redirect to a slash, 404 ...)
            else:
                continue
    assert checked > 0
    assert not refused


def test_login_outcome_means_a_redirect_back_after_login(app: Flask, world: World):
    response = world.client("anonymous").get("/organisations/")
    assert outcome_of(response, "/organisations/") == LOGIN
    assert outcome_of(response, "/altro/") == 302
