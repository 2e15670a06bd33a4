"""Every live_sessions route × every role, and CSRF on every form, with the security
suite's world (one user per role, organisations A and B)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for

from tests.live_sessions.access_matrix import (
    LIVE_SESSIONS,
    LIVE_SESSIONS_FORMS,
    LIVE_SESSIONS_PARAMS,
)
from tests.security.access_matrix import PARAMS, ROLES
from tests.security.conftest import UNSAFE_METHODS, World, methods, routes, world  # noqa: F401


def _rules(app: Flask) -> list[Any]:
    return [r for r in routes(app) if r.endpoint.startswith("live_sessions.")]


def _url(app: Flask, world: World, rule: Any) -> str:  # noqa: F811
    resolvers = {**PARAMS, **LIVE_SESSIONS_PARAMS.get(rule.endpoint, {})}
    values = {name: resolvers[name](world) for name in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def test_every_route_is_declared(app: Flask):
    endpoints = set()
    for rule in _rules(app):
        endpoints.add(rule.endpoint)
        row = LIVE_SESSIONS.get(rule.endpoint)
        assert row is not None, f"{rule.endpoint}: no row"
        assert set(row) == set(methods(rule)), rule.endpoint
        for method in methods(rule):
            assert set(row[method]) == set(ROLES), f"{rule.endpoint} {method}"
            if method in UNSAFE_METHODS:
                assert rule.endpoint in LIVE_SESSIONS_FORMS, f"{rule.endpoint}: no form"
        known = set(PARAMS) | set(LIVE_SESSIONS_PARAMS.get(rule.endpoint, {}))
        assert set(rule.arguments) <= known, rule
    assert endpoints == set(LIVE_SESSIONS)


@pytest.mark.parametrize("role", ROLES)
def test_access(app: Flask, world: World, role: str):  # noqa: F811
    mismatches = []
    for rule in _rules(app):
        url = _url(app, world, rule)
        for method in methods(rule):
            expected = LIVE_SESSIONS[rule.endpoint][method][role]
            data = {"csrf_token": world.csrf(role)} if method != "GET" else None
            got = world.request(role, method, url, data=data)
            if got.outcome != expected:
                mismatches.append(f"{method} {url}: expected {expected}, got {got}")
    assert not mismatches, f"as {role}:\n  " + "\n  ".join(mismatches)


def test_forms_need_their_csrf_token(app: Flask, world: World):  # noqa: F811
    problems = []
    for rule in _rules(app):
        if "POST" not in methods(rule):
            continue
        form = LIVE_SESSIONS_FORMS[rule.endpoint]
        url = _url(app, world, rule)
        forged = world.request(form.role, "POST", url, data=form.data(world), track=True)
        if forged.status != 400 or forged.changes:
            problems.append(f"{url} without token: {forged} {forged.changes}")
        genuine = world.request(
            form.role,
            "POST",
            url,
            data={"csrf_token": world.csrf(form.role), **form.data(world)},
            track=True,
        )
        if form.changes_state and not genuine.changes:
            problems.append(f"{url} with token changed nothing ({genuine})")
    assert not problems, "\n  ".join(problems)
