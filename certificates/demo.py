"""Demo certificates for the demo operator, so that a newcomer sees and verifies them at once.

``lms demo`` gives the operator of the demo accounts (``operatrice@rete-milano.test``,
"Operatrice CAV Demo") three certificates: one valid, one expiring soon (within
``LMS_CERT_EXPIRING_DAYS``) and one revoked, with its reason. They go through the real
issuing service (``issuing.issue`` and ``issuing.revoke``: numbered, signed with the
installation's key, audited) from completion events dated relative to ``clock.now()``.

The events are the demo's own, not course completions: this plugin's demo runs before
the courses plugin imports the starter courses, and a real completion needs the whole
course played (enrolment, study time, quizzes, questionnaire), which the commitments demo
does for the demo staff. Their ``completion_ref`` (``demo-certificate:...``) makes a second
``lms demo`` find them instead of issuing them again; their key (``demo:...``) names no
course, so no course page or report takes them for one of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from certificates import issuing
from certificates.config import expiring_days, issuer_settings
from certificates.models import Certificate
from lms import clock
from lms.accounts.models import User
from lms.dates import add_months
from lms.signals import CompletionEvent

OPERATOR_EMAIL = "operatrice@rete-milano.test"
ADMIN_EMAIL = "admin@rete-milano.test"
REVOKED_REASON = (
    "Attestato dimostrativo revocato: emesso per un'edizione del corso che non si è tenuta."
)


@dataclass(frozen=True)
class DemoCertificate:
    name: str  # valid | expiring | revoked
    title: str
    hours: float
    renewal_months: int


CERTIFICATES = (
    DemoCertificate(
        "valid", "La rete antiviolenza di Milano: ruoli e percorsi (dimostrativo)", 7.5, 36
    ),
    DemoCertificate(
        "expiring", "Accoglienza delle donne nei centri antiviolenza (dimostrativo)", 4, 24
    ),
    DemoCertificate("revoked", "Valutazione del rischio (dimostrativo)", 6, 36),
)


def completed_at(name: str, renewal_months: int, now: dt.datetime, warn_days: int) -> dt.datetime:
    """When each demo completion happened, relative to ``now``: the valid one a month ago,
    the expiring one so that it expires within ``warn_days`` (at most in 20 days), the
    revoked one two months ago."""
    if name == "expiring":
        days_left = max(1, min(20, warn_days - 1))
        return add_months(now + dt.timedelta(days=days_left), -renewal_months)
    return now - dt.timedelta(days=30 if name == "valid" else 60)


def _user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def load_demo(session: Session) -> Iterable[str]:
    operator = _user(session, OPERATOR_EMAIL)
    if operator is None:
        return [f"Attestati dimostrativi: nessun account {OPERATOR_EMAIL}."]
    admin = _user(session, ADMIN_EMAIL)
    settings = issuer_settings(current_app)
    now, warn_days = clock.now(), expiring_days()
    issued = []
    for demo in CERTIFICATES:
        ref = f"demo-certificate:{demo.name}"
        existing = session.scalar(
            select(Certificate).where(Certificate.completion_ref == ref, Certificate.reissue == 0)
        )
        if existing is not None:
            continue
        done = completed_at(demo.name, demo.renewal_months, now, warn_days)
        event = CompletionEvent(
            user_id=operator.id,
            kind="course",
            key=f"demo:{demo.name}",
            completion_ref=ref,
            title=demo.title,
            version_label="2026.1",
            hours=demo.hours,
            completed_at=done,
            renewal_months=demo.renewal_months,
        )
        with clock.frozen(done):
            cert = issuing.issue(session, event, settings, now=done)
        if demo.name == "revoked":
            with clock.frozen(done + dt.timedelta(days=3)):
                issuing.revoke(session, cert, REVOKED_REASON, actor=admin)
        issued.append(demo.name)
    return [
        f"Attestati dimostrativi di {OPERATOR_EMAIL}: valido, in scadenza, revocato "
        f"({len(issued)} nuovi)."
    ]
