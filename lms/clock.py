"""The platform's one clock: every service and model default asks it for the time.

Time is an input. Tests set the clock (``frozen``/``set_now``) instead of
passing dates around, so that code paths deep in a service (an audit entry, a
model default) see the same instant as the test; nothing else in the tree may
read the wall clock (``tests/core/test_clock.py`` looks). ``.ci/run`` also runs
the suite under libfaketime two years ahead, so a date written into a test that
only holds until some day fails the day it is written.

The override is for tests and one-off commands only: a served platform reads
the real time, and several workers or hosts agree through the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Europe/Rome")

_fixed: dt.datetime | None = None


def now() -> dt.datetime:
    """The current instant, timezone-aware in UTC."""
    fixed = _fixed
    return fixed if fixed is not None else dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in Milan (the date a person reads on the wall)."""
    return now().astimezone(LOCAL_ZONE).date()


def set_now(instant: dt.datetime | None) -> None:
    """Fix the clock at ``instant`` (aware), or give it back to the wall with ``None``."""
    global _fixed
    if instant is not None and instant.utcoffset() is None:
        raise ValueError("the clock takes timezone-aware instants")
    _fixed = instant.astimezone(dt.UTC) if instant is not None else None


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move a fixed clock forward (a frozen test that lets time pass)."""
    if _fixed is None:
        raise RuntimeError("advance() needs a fixed clock: call set_now() first")
    set_now(_fixed + delta)
    return now()


@contextmanager
def frozen(instant: dt.datetime) -> Iterator[dt.datetime]:
    """Fix the clock for the duration of a block, then restore what was there."""
    previous = _fixed
    set_now(instant)
    try:
        yield now()
    finally:
        set_now(previous)
