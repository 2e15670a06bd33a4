"""Signals between features, so that no plugin imports another's internals.

Signals are sent with ``sender=app`` (:func:`send`) and connected per app with
``sender=app`` in a plugin's ``init_app``.
Receivers run synchronously, inside the sender's database transaction: what they
write commits or rolls back with the event that caused it (for example, a
certificate is created in the same transaction as the course completion).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from blinker import NamedSignal, Namespace
from flask import current_app, has_app_context

_signals = Namespace()


@dataclass(frozen=True)
class CompletionEvent:
    """Something a person completed that may deserve a certificate.

    ``key`` names what is completed across versions (``course:<slug>``,
    ``commitment:<id>``, ``session:<id>``): a new completion with the same key
    is a renewal. ``completion_ref`` names this one completion
    (``course-completion:<id>``), so it is certified once.

    ``hours`` is ``None`` when what was completed prints no hours (a course whose
    evidence profile says so). ``accreditation`` names who recognises the hours as
    professional credits, as plain values (``body``, ``provider``, ``event``,
    ``credits``, ``valid_from``/``valid_until`` as ISO dates or ``None``): the
    receiver decides whether the completion falls within the period.
    ``tracked_seconds`` is the time tracked on the content (``None``: not tracked).
    """

    user_id: int
    kind: str  # "course" | "commitment" | "session"
    key: str
    completion_ref: str
    title: str
    version_label: str
    hours: float | None
    completed_at: dt.datetime
    renewal_months: int | None = None
    credits: str | None = None  # e.g. professional credits (CFP) for lawyers
    accreditation: dict[str, Any] | None = None
    tracked_seconds: int | None = None


def send(signal: NamedSignal, **kwargs: Any) -> None:
    """Send ``signal`` as the current app: receivers connect with ``sender=app`` in
    ``init_app``, so an app without a plugin never runs that plugin's receivers.
    Outside an app context no app's receivers apply, and nothing is sent."""
    if has_app_context():
        signal.send(current_app._get_current_object(), **kwargs)  # type: ignore[attr-defined]


#: sent by the app with ``session`` (SQLAlchemy session) and ``event`` (CompletionEvent)
completion_recorded = _signals.signal("completion-recorded")
