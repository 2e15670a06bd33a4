"""Vocabulary of the access-control matrix, shared by the security suite and by plugins
that keep their rows beside their own tests (no plugin imports here: no cycles)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.security.conftest import World

ROLES = (
    "anonymous",
    "operator",  # staff of organisation A
    "trainer",
    "referent_a",  # referent of organisation A (CDM-PL-NTDM)
    "referent_b",  # referent of organisation B (ASST-NIGUARDA)
    "coordinator",
    "admin",
)
LOGIN = "login"  # 302 to the login page, with next= the requested path

Outcome = int | str
Row = dict[str, dict[str, Outcome]]  # method -> role -> outcome
Table = dict[str, Row]  # endpoint -> row


def expect(default: Outcome, **by_role: Outcome) -> dict[str, Outcome]:
    unknown = set(by_role) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {ROLES}")
    return {role: by_role.get(role, default) for role in ROLES}


def signed_in(default: Outcome, **by_role: Outcome) -> dict[str, Outcome]:
    """Logged-in roles get ``default`` (unless named); anonymous visitors go to log in."""
    return expect(default, **{"anonymous": LOGIN, **by_role})


Resolver = Callable[["World"], Any]


@dataclass(frozen=True)
class Form:
    """What a forged request would send; ``role`` is one for which it changes state."""

    role: str
    data: Callable[[World], dict[str, Any]]
    # False for POSTs that never change state (e.g. a live preview), or only in
    # circumstances the matrix world does not set up (covered by the feature's tests).
    changes_state: bool = True
