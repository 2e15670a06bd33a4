"""How often the public registration pages may be used (``lms.throttle`` counters).

Counted per client address (``register-address``), per typed e-mail address
(``register-email``: the same whether or not it has an account, so the refusal tells
nothing) and, on confirmation links, per address again (``register-confirm``). Limits
are per hour and come from the configuration when set (``LMS_REGISTRATION_MAX_*``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lms import throttle
from lms.accounts.throttling import account_key

FORM_ADDRESS, FORM_EMAIL, CONFIRM_ADDRESS = "register-address", "register-email", "register-confirm"
WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class RegistrationPolicy:
    per_address: int  # form submissions from one client address per hour
    per_email: int  # form submissions for one e-mail address per hour
    confirm_per_address: int  # confirmation attempts from one client address per hour

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RegistrationPolicy:
        return cls(
            per_address=int(config.get("LMS_REGISTRATION_MAX_PER_ADDRESS", 10)),
            per_email=int(config.get("LMS_REGISTRATION_MAX_PER_EMAIL", 3)),
            confirm_per_address=int(config.get("LMS_REGISTRATION_MAX_CONFIRM_PER_ADDRESS", 20)),
        )


def _retry(db: Session, scope: str, key: str, limit: int, now: dt.datetime) -> int | None:
    seen = throttle.recent(db, scope, key, WINDOW, now=now)
    if seen.count >= limit and seen.first is not None:
        return max(1, math.ceil((seen.first + WINDOW - now).total_seconds()))
    return None


def form_refusal(
    db: Session, email: str, remote_addr: str, policy: RegistrationPolicy, now: dt.datetime
) -> int | None:
    """Seconds to wait before this form may be sent again, or None."""
    address = throttle.address_key(remote_addr)
    return _retry(db, FORM_ADDRESS, address, policy.per_address, now) or _retry(
        db, FORM_EMAIL, account_key(email), policy.per_email, now
    )


def record_form(db: Session, email: str, remote_addr: str, now: dt.datetime) -> None:
    throttle.record(db, FORM_ADDRESS, throttle.address_key(remote_addr), now=now)
    throttle.record(db, FORM_EMAIL, account_key(email), now=now)


def confirm_refusal(
    db: Session, remote_addr: str, policy: RegistrationPolicy, now: dt.datetime
) -> int | None:
    address = throttle.address_key(remote_addr)
    return _retry(db, CONFIRM_ADDRESS, address, policy.confirm_per_address, now)


def record_confirm(db: Session, remote_addr: str, now: dt.datetime) -> None:
    throttle.record(db, CONFIRM_ADDRESS, throttle.address_key(remote_addr), now=now)
