"""Our verifier on hostile input: bounded before parsing, never a crash (issue 20, item 3)."""

from __future__ import annotations

import json

import pytest

from certificates import badge_verification, openbadges
from certificates.badge_verification import MAX_INPUT_CHARS, Outcome
from lms import db
from tests.certificates.openbadges.conftest import public_keys

pytestmark = pytest.mark.usefixtures("services")


@pytest.mark.parametrize(
    "value",
    [
        "e" * (MAX_INPUT_CHARS + 1),
        "{" + " " * MAX_INPUT_CHARS + "}",
        ("x" * (MAX_INPUT_CHARS + 1)).encode(),
        {"padding": "x" * MAX_INPUT_CHARS},
    ],
)
def test_oversized_input_is_refused_unread(value):
    assert badge_verification.verify(value, {}).outcome is Outcome.TOO_LARGE


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not a token",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.e30.",  # alg none
        "[" * 50_000 + "]" * 50_000,
        "{" + '"a":' * 1 + "[" * 50_000,
        '{"proof": 1}',
        "[1, 2]",
        b"\xff\xfe",
        {"@context": [], "proof": {"type": "DataIntegrityProof"}},
    ],
)
def test_garbage_is_malformed(value):
    result = badge_verification.verify(value, public_keys())
    assert result.outcome is Outcome.MALFORMED, result


def test_a_credential_naming_an_unknown_context_is_malformed(issued):
    badge = openbadges.badge_for(db.session, issued())
    credential = openbadges.credential_json(badge)
    credential["@context"].append("https://attacker.example/context.json")
    result = badge_verification.verify(credential, public_keys())
    assert result.outcome is Outcome.MALFORMED
    assert "JSON-LD" in result.reason


def test_a_jwt_with_extra_headers_is_refused(issued):
    import base64

    badge = openbadges.badge_for(db.session, issued())
    head, body, sig = badge.jwt.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    header["jku"] = "https://attacker.example/keys"
    new_head = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    assert badge_verification.verify(f"{new_head}.{body}.{sig}", public_keys()).outcome is (
        Outcome.MALFORMED
    )
