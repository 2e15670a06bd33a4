"""Loaded by every Python process of ``tools/run-tests-clock-ahead`` (through PYTHONPATH).

Debian 12's libfaketime (0.9.10) breaks ``clock_nanosleep(CLOCK_MONOTONIC,
TIMER_ABSTIME)`` when the monotonic clock is left alone, which is how the suite runs
(a faked monotonic clock hangs every timed wait instead): ``time.sleep`` then fails
with EINVAL. Timed lock waits go through the C library untouched and still work, so
sleeps wait on a lock that nobody releases. Nothing else is changed.
"""

import threading
import time

_never_released = threading.Lock()
_never_released.acquire()


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    if seconds:
        _never_released.acquire(timeout=seconds)


time.sleep = _sleep
