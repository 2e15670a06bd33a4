"""Nothing about who has an account leaks through the registration form: the answer to
an address with an account and to one without is the same page, in the same time."""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import CSRF_RE, Outbox, csrf_token
from tests.registration.helpers import audience, open_rule, org

ROUNDS = 10


def _without_csrf(body: bytes) -> bytes:
    return re.sub(CSRF_RE.pattern.encode(), b'name="csrf_token" value=""', body)


def _post(client: FlaskClient, url: str, email: str) -> tuple[float, bytes, int]:
    """One form, timed from the request to the answer (what a prober can measure);
    the work after the answer then runs, untimed, as the server runs it on close."""
    data = {
        "csrf_token": csrf_token(client, url),
        "full_name": "Persona Sonda",
        "email": email,
        "unit": "0",
        "audience": str(audience().id),
        "privacy": "y",
    }
    start = time.perf_counter()
    response = client.post(url, data=data)
    body = response.get_data()
    elapsed = time.perf_counter() - start
    response.close()
    return elapsed, body, response.status_code


@pytest.fixture
def generous_limits(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "LMS_REGISTRATION_MAX_PER_ADDRESS", 1000)
    monkeypatch.setitem(app.config, "LMS_REGISTRATION_MAX_PER_EMAIL", 1000)


def test_same_answer_and_timing_for_known_and_unknown_addresses(
    client: FlaskClient, outbox: Outbox, make_user: Any, generous_limits: None
) -> None:
    open_rule()
    known = make_user(email="registrata@gmail.com")
    url = f"/register/{org().id}"
    _post(client, url, "riscaldamento@gmail.com")  # first-use costs out of the measure

    known_times, unknown_times = [], []
    known_bodies, unknown_bodies = set(), set()
    for i in range(ROUNDS):  # interleaved, so that drift on the machine hits both alike
        elapsed, body, status = _post(client, url, known.email)
        assert status == 200
        known_times.append(elapsed)
        known_bodies.add(_without_csrf(body))
        elapsed, body, status = _post(client, url, f"nuova{i}@gmail.com")
        assert status == 200
        unknown_times.append(elapsed)
        unknown_bodies.add(_without_csrf(body))

    assert len(known_bodies) == 1 and known_bodies == unknown_bodies
    # Each address did get its own e-mail after the answer: a reminder, or a link.
    recipients = [m["To"] for m in outbox.messages()]
    assert recipients.count(known.email) == ROUNDS
    assert len(outbox.links("http://lms.test/register/confirm/")) == ROUNDS + 1

    known_median = statistics.median(known_times)
    unknown_median = statistics.median(unknown_times)
    # Generous: the same code path runs for both, so only machine noise separates them
    # (a look-up, an insert or an e-mail in the answer's path would show as a gap of
    # the same order as the answer itself).
    bound = 0.5 * max(known_median, unknown_median) + 0.02
    assert abs(known_median - unknown_median) < bound, (known_median, unknown_median)
