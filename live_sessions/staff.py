"""What a referent sees: their staff's registrations, attendance and hours."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from live_sessions.attendance import hours_attended
from live_sessions.models import Attendance, AttendanceStatus, LiveSession, Registration
from live_sessions.registration import ACTIVE
from live_sessions.rosters import STATUS_LABELS_CSV
from live_sessions.scheduling import local
from lms import clock
from lms.accounts.models import User
from lms.organisations.models import Membership


@dataclass(frozen=True)
class StaffLine:
    user: User
    live: LiveSession
    registration: Registration
    attendance: Attendance | None

    @property
    def hours(self) -> Decimal:
        return hours_attended(self.live, self.attendance)

    def as_csv_row(self) -> list[object]:
        a = self.attendance
        return [
            self.user.full_name,
            self.user.email,
            self.live.title,
            local(self.live.starts_at, self.live.time_zone).strftime("%Y-%m-%d %H:%M"),
            STATUS_LABELS_CSV.get(self.registration.status, self.registration.status),
            STATUS_LABELS_CSV.get(a.status, "") if a else "",
            a.minutes if a and a.minutes else "",
            str(self.hours),
            self.live.credits if a and a.status == AttendanceStatus.PRESENT else "",
        ]


@dataclass
class PersonTotal:
    user: User
    attended: int = 0
    hours: Decimal = Decimal(0)
    credits: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OrganisationReport:
    upcoming: list[StaffLine]
    past: list[StaffLine]
    totals: list[PersonTotal]

    def __iter__(self):  # noqa: ANN204 - every line, for exports
        return iter(self.past + self.upcoming)


def organisation_report(
    session: Session,
    organisation_id: int,
    *,
    include_past: bool = True,
    now: dt.datetime | None = None,
) -> OrganisationReport:
    """Registrations (not cancelled) of the organisation's current staff, with attendance."""
    now = now or clock.now()
    members = select(Membership.user_id).where(
        Membership.organisation_id == organisation_id, Membership.ended_at.is_(None)
    )
    registrations = session.scalars(
        select(Registration)
        .join(LiveSession, LiveSession.id == Registration.session_id)
        .where(Registration.user_id.in_(members), Registration.status.in_(ACTIVE))
        .options(joinedload(Registration.live_session), joinedload(Registration.user))
        .order_by(LiveSession.starts_at.desc(), Registration.id)
    ).all()
    marks = {
        (a.session_id, a.user_id): a
        for a in session.scalars(
            select(Attendance).where(
                Attendance.user_id.in_(members),
                Attendance.session_id.in_(sorted({r.session_id for r in registrations})),
            )
        )
    }
    upcoming: list[StaffLine] = []
    past: list[StaffLine] = []
    totals: dict[int, PersonTotal] = {}
    for r in registrations:
        line = StaffLine(r.user, r.live_session, r, marks.get((r.session_id, r.user_id)))
        if r.live_session.ends_at > now and not r.live_session.is_cancelled:
            upcoming.insert(0, line)  # soonest first
            continue
        if not include_past:
            continue
        past.append(line)
        if line.attendance and line.attendance.status != AttendanceStatus.ABSENT:
            total = totals.setdefault(r.user_id, PersonTotal(r.user))
            total.attended += 1
            total.hours += line.hours
            if line.attendance.status == AttendanceStatus.PRESENT and r.live_session.credits:
                total.credits.append(r.live_session.credits)
    ordered = sorted(totals.values(), key=lambda t: t.user.full_name)
    return OrganisationReport(upcoming, past, ordered)
