"""Sign-in and reset throttling: progressive delays, never a lock.

Who is counted, in the database (``lms.throttle``) so that every worker agrees:

* ``login-pair`` (account, address): the first ``free_failures`` are free, then each
  attempt waits 2^(n - free) seconds after the last failure, up to ``max_delay``;
* ``login-account`` (all addresses) and ``login-address`` (all accounts): above their
  thresholds the same doubling delay applies, against distributed guessing and against
  spraying one password over many accounts;
* ``login-device``: a browser that once signed in to the account holds a signed device
  cookie (OWASP's "device cookie" pattern); for that account it is counted on its own
  and is exempt from the three counters above, so the right person still gets in from
  an office address an attacker shares, or while guesses come from everywhere.

A delayed attempt is refused before the password is checked. Nothing is ever locked:
delays are capped, and the reset link always works (completing it clears the account's
counters). The policy and its numbers: ``docs/limits.md``, "Sign-in and password reset".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from lms import throttle
from lms.accounts.emails import normalise_email
from lms.errors import ServiceError

PAIR, ACCOUNT, ADDRESS, DEVICE = "login-pair", "login-account", "login-address", "login-device"
RESET_ACCOUNT, RESET_ADDRESS = "reset-account", "reset-address"
RESET_WINDOW = dt.timedelta(hours=1)

DEVICE_COOKIE = "lms_device"
DEVICE_SALT = "lms.device-cookie"
MAX_DEVICE_ENTRIES = 5  # accounts remembered by one browser (a shared office PC)


@dataclass(frozen=True)
class LoginPolicy:
    free_failures: int  # per (account, address) pair, or per device cookie
    account_threshold: int  # failures from all addresses before the account is slowed
    address_threshold: int  # failures on all accounts before the address is slowed
    window: dt.timedelta
    max_delay: int  # seconds
    device_days: int
    reset_per_account: int  # per RESET_WINDOW
    reset_per_address: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LoginPolicy:
        return cls(
            free_failures=int(config["LMS_LOGIN_FREE_FAILURES"]),
            account_threshold=int(config["LMS_LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
            address_threshold=int(config["LMS_LOGIN_MAX_FAILURES_PER_ADDRESS"]),
            window=dt.timedelta(minutes=int(config["LMS_LOGIN_WINDOW_MINUTES"])),
            max_delay=int(config["LMS_LOGIN_MAX_DELAY_SECONDS"]),
            device_days=int(config["LMS_DEVICE_COOKIE_DAYS"]),
            reset_per_account=int(config["LMS_RESET_MAX_PER_ACCOUNT"]),
            reset_per_address=int(config["LMS_RESET_MAX_PER_ADDRESS"]),
        )


def account_key(email: str) -> str:
    """The account as counted: the normalised address, so that spellings of one
    address share a counter; what is not an address counts as typed (lower-cased)."""
    try:
        return normalise_email(email)
    except ServiceError:
        return email.strip().lower()


def _pair(account: str, address: str) -> str:
    return f"{account}\n{address}"


def _wait(
    db: Session, scope: str, key: str, free: int, policy: LoginPolicy, now: dt.datetime
) -> int:
    """Seconds still to wait before the next attempt counted under (scope, key)."""
    seen = throttle.recent(db, scope, key, policy.window, now=now)
    if seen.count < free or seen.last is None:
        return 0
    delay = min(2 ** min(seen.count - free, 32), policy.max_delay)
    remaining = (seen.last + dt.timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(remaining))


def login_wait(
    db: Session,
    account: str,
    address: str,
    device: str | None,
    policy: LoginPolicy,
    now: dt.datetime,
) -> int:
    """Seconds before this attempt may be checked (0: check it now)."""
    if device is not None:
        return _wait(db, DEVICE, device, policy.free_failures, policy, now)
    return max(
        _wait(db, PAIR, _pair(account, address), policy.free_failures, policy, now),
        _wait(db, ACCOUNT, account, policy.account_threshold, policy, now),
        _wait(db, ADDRESS, address, policy.address_threshold, policy, now),
    )


def record_login_failure(
    db: Session, account: str, address: str, device: str | None, now: dt.datetime
) -> None:
    if device is not None:
        throttle.record(db, DEVICE, device, now=now)
        return
    throttle.record(db, PAIR, _pair(account, address), now=now)
    throttle.record(db, ACCOUNT, account, now=now)
    throttle.record(db, ADDRESS, address, now=now)


def forget_login_failures(
    db: Session, account: str, address: str, device: str | None, *, whole_account: bool = False
) -> None:
    """After a success: this pair's and this device's failures go. The account-wide
    counter stays (a sign-in must not reset a distributed guesser's delay), unless the
    person proved control of the mailbox (``whole_account``: a reset or invitation link)."""
    throttle.clear(db, PAIR, _pair(account, address))
    if device is not None:
        throttle.clear(db, DEVICE, device)
    if whole_account:
        throttle.clear(db, ACCOUNT, account)


# --- Password-reset requests ------------------------------------------------------------


@dataclass(frozen=True)
class ResetRefusal:
    per_address: bool  # False: too many for this account (known or not, alike)
    retry_after: int  # seconds


def reset_refusal(
    db: Session, account: str, address: str, policy: LoginPolicy, now: dt.datetime
) -> ResetRefusal | None:
    for scope, key, limit in (
        (RESET_ADDRESS, address, policy.reset_per_address),
        (RESET_ACCOUNT, account, policy.reset_per_account),
    ):
        seen = throttle.recent(db, scope, key, RESET_WINDOW, now=now)
        if seen.count >= limit and seen.first is not None:
            retry = math.ceil((seen.first + RESET_WINDOW - now).total_seconds())
            return ResetRefusal(scope == RESET_ADDRESS, max(1, retry))
    return None


def record_reset_request(db: Session, account: str, address: str, now: dt.datetime) -> None:
    throttle.record(db, RESET_ACCOUNT, account, now=now)
    throttle.record(db, RESET_ADDRESS, address, now=now)


# --- The device cookie ------------------------------------------------------------------
# A signed list of [account digest, nonce, issued (Unix seconds)], newest first. The
# digest keeps the addresses that used a shared PC out of the cookie; the nonce names
# the device in ``login-device``. Issue times come from the platform's clock.


def _account_digest(account: str) -> str:
    return hashlib.sha256(account.encode("utf-8")).hexdigest()[:24]


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=DEVICE_SALT)


def read_devices(
    secret_key: str, raw: str | None, policy: LoginPolicy, now: dt.datetime
) -> list[list[Any]]:
    """The valid, unexpired entries of a device cookie (none if absent or forged)."""
    if not raw:
        return []
    try:
        entries = _serializer(secret_key).loads(raw)
    except BadSignature:
        return []
    oldest = (now - dt.timedelta(days=policy.device_days)).timestamp()
    if not isinstance(entries, list):
        return []
    return [
        entry
        for entry in entries
        if isinstance(entry, list)
        and len(entry) == 3
        and isinstance(entry[0], str)
        and isinstance(entry[1], str)
        and isinstance(entry[2], int)
        and entry[2] >= oldest
    ]


def device_for(entries: list[list[Any]], account: str) -> str | None:
    """The device nonce this browser holds for the account, if it holds one."""
    digest = _account_digest(account)
    return next((nonce for acc, nonce, _issued in entries if acc == digest), None)


def remember_device(
    secret_key: str, entries: list[list[Any]], account: str, now: dt.datetime
) -> str:
    """The cookie value after a sign-in: this account first, with its nonce kept (or new)."""
    digest = _account_digest(account)
    nonce = device_for(entries, account) or secrets.token_urlsafe(16)
    others = [entry for entry in entries if entry[0] != digest]
    kept = [[digest, nonce, int(now.timestamp())], *others][:MAX_DEVICE_ENTRIES]
    return _serializer(secret_key).dumps(kept)


__all__ = [
    "DEVICE_COOKIE",
    "LoginPolicy",
    "ResetRefusal",
    "account_key",
    "device_for",
    "forget_login_failures",
    "login_wait",
    "read_devices",
    "record_login_failure",
    "record_reset_request",
    "remember_device",
    "reset_refusal",
]
