"""Fixtures for the Open Badges tests: certificates issued as completions issue them,
services called inside an application context that keeps the test's session."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask import Flask

from certificates import did, keys, status_list
from certificates.models import Certificate
from lms import clock, db
from tests.certificates.openbadges.second_verifier import SecondVerifier
from tests.conftest import service_context

SCHEMA = json.loads((Path(__file__).parent / "ob3_credential_schema.json").read_text("utf-8"))


@pytest.fixture
def services(app: Flask) -> Iterator[None]:
    with service_context(app):
        yield


@pytest.fixture
def issued(make_user: Any, complete: Callable[..., Certificate]) -> Callable[..., Certificate]:
    """A certificate for a new holder (``email``, ``name`` and event overrides)."""

    def issue(
        email: str | None = None, name: str = "Anna Bianchi", **overrides: Any
    ) -> Certificate:
        return complete(make_user(email=email, name=name), **overrides)

    return issue


def schema_errors(credential: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(credential)]


def second_verifier() -> SecondVerifier:
    """The second verifier, given only what the platform publishes: its DID document."""
    return SecondVerifier(json.loads(json.dumps(did.document(db.session))), now=clock.now())


def published_status_list() -> dict[str, Any]:
    """The status list as served (through JSON, as a client receives it)."""
    return json.loads(json.dumps(status_list.credential(db.session)))


def public_keys() -> dict[str, Any]:
    return keys.public_keys(db.session)
