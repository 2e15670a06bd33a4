"""Personal data held by the commitments plugin: the stored standings and validity
periods, derived from the courses plugin's enrolments and completions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commitments.models import Commitment, StandingRow, ValidityPeriod
from lms.plugins import PrivacyProvider


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def export(session: Session, user_id: int) -> dict[str, Any]:
    codes = dict(session.execute(select(Commitment.id, Commitment.code)).all())
    standings = session.scalars(select(StandingRow).where(StandingRow.user_id == user_id))
    periods = session.scalars(
        select(ValidityPeriod)
        .where(ValidityPeriod.user_id == user_id)
        .order_by(ValidityPeriod.commitment_id, ValidityPeriod.valid_from)
    )
    return {
        "commitment_standings": [
            {
                "commitment": codes.get(s.commitment_id),
                "requirements_met": s.satisfied,
                "valid_until": _iso(s.valid_until),
                "progress": s.progress,
            }
            for s in standings
        ],
        "commitment_validity_periods": [
            {
                "commitment": codes.get(p.commitment_id),
                "from": _iso(p.valid_from),
                "until": _iso(p.valid_until),
            }
            for p in periods
        ],
    }


def erase(_session: Session, _user_id: int) -> None:
    """Nothing to remove: erasure keeps the (pseudonymised) person's completions so that
    the organisation's coverage stays true, and these rows only restate them."""


PROVIDER = PrivacyProvider(
    tables=frozenset(
        {
            "commitments_standing",
            "commitments_validity",
            "commitments_course_state",
            "commitments_name_key",
        }
    ),
    export=export,
    erase=erase,
)
