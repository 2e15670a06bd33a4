"""Forged POSTs are refused and change nothing; GET never changes anything."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import slow_except
from tests.security.access_matrix import FORMS, ROLES
from tests.security.conftest import UNSAFE_METHODS, World, methods


def test_state_changing_requests_without_a_valid_csrf_token_are_refused(app: Flask, world: World):
    """Each forged form is sent, without a token and with another session's, by the role
    for which it would work (see the control below) and by an anonymous visitor."""
    failures, checked = [], 0
    for rule, url in world.reachable(app):
        form = FORMS.get(rule.endpoint)
        for method in set(methods(rule)) & UNSAFE_METHODS:
            for role in sorted({form.role if form else "admin", "anonymous"}):
                other = "coordinator" if role != "coordinator" else "trainer"
                for variant, token in (("no token", None), ("another session's token", other)):
                    data = form.data(world) if form else {}  # fresh: uploads are streams
                    sent = {**data, **({"csrf_token": world.csrf(token)} if token else {})}
                    got = world.request(role, method, url, data=sent, track=True)
                    checked += 1
                    if got.status != 400 or got.changes:
                        failures.append(
                            f"{method} {url} as {role} with {variant}: "
                            f"{got.status or got.error}, changed {got.changes}"
                        )
    assert checked >= 2 * len(FORMS)
    assert not failures, "\n  ".join(["forged requests got through:", *failures])


@pytest.mark.slow  # every form posted
def test_the_same_requests_with_a_valid_token_do_change_state(app: Flask, world: World):
    """The control: each forged form above would have had an effect if accepted."""
    inert = []
    for rule, url in world.reachable(app):
        form = FORMS.get(rule.endpoint)
        if form is None or not form.changes_state or "POST" not in methods(rule):
            continue
        data = {**form.data(world), "csrf_token": world.csrf(form.role)}
        got = world.request(form.role, "POST", url, data=data, track=True)
        if not got.changes:
            inert.append(f"POST {url} as {form.role}: {got.status or got.error}, nothing changed")
    assert not inert, "\n".join(inert)


@pytest.mark.parametrize("role", slow_except("admin", ROLES))
def test_get_changes_nothing(app: Flask, world: World, role: str):
    failures, checked = [], 0
    for rule, url in world.reachable(app):
        if "GET" not in methods(rule):
            continue
        got = world.request(role, "GET", url, track=True)
        checked += 1
        if got.error or got.changes:
            failures.append(f"GET {url} ({got.status or got.error}) changed {got.changes}")
    assert checked > 0
    assert not failures, f"as {role}:\n  " + "\n  ".join(failures)
