"""Personal data held by the quizzes plugin: attempts (kept, anonymous, on erasure)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.plugins import PrivacyProvider
from quizzes.models import Attempt


def export(session: Session, user_id: int) -> dict[str, Any]:
    attempts = session.scalars(
        select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.started_at)
    )
    return {
        "attempts": [
            {
                "course_id": a.course_id,
                "module": a.module_slug,
                "number": a.number,
                "status": a.status,
                "percent": None if a.percent is None else float(a.percent),
                "passed": a.passed,
                "started_at": a.started_at.isoformat(),
                "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
                "answers": a.result["per_question"] if a.result else None,
            }
            for a in attempts
        ]
    }


def erase(session: Session, user_id: int) -> None:
    """Attempts stay for the quiz statistics; the account they point to is anonymous."""


PROVIDER = PrivacyProvider(tables=frozenset({"quizzes_attempt"}), export=export, erase=erase)
