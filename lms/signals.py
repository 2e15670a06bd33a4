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


def handled(signal: NamedSignal, **kwargs: Any) -> bool:
    """Send ``signal`` (as :func:`send`) and tell whether a receiver took charge (returned
    a true value): the sender does the work itself when no plugin does."""
    if not has_app_context():
        return False
    results = signal.send(current_app._get_current_object(), **kwargs)  # type: ignore[attr-defined]
    return any(value for _receiver, value in results)


#: sent by certificates with ``session``, ``user_id``, ``certificate_id``, ``title`` when a
#: certificate is issued for a completion (not for a re-issue), in the issuing transaction
certificate_issued = _signals.signal("certificate-issued")


@dataclass(frozen=True)
class Message:
    """A message to one person, from a scheduled reminder (not from a request).

    ``kind`` is one of the notifications' kinds (``certificate_expiring``,
    ``session_reminder``, ``digest``); ``key`` names the subject and the occasion so
    the message is recorded once; ``subject`` and ``body`` are the e-mail as written.
    """

    user: Any  # lms.accounts.models.User
    kind: str
    key: str
    subject: str
    body: str
    link: str = ""


#: sent by reminder runs with ``session`` and ``message`` (:class:`Message`) instead of
#: sending the e-mail themselves: a receiver that returns True has recorded it and sent it
#: (or not, if the person turned that kind off); with no such receiver the sender mails it.
#: Raising undoes what the receiver wrote, as a failed send does.
message_ready = _signals.signal("message-ready")
