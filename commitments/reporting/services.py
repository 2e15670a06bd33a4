"""The referent's pages as reports: plain values in, dataclasses out, no request.

A view parses the request into the values below, calls one function and renders
what it returns. The choice between the stored standings (fast) and the exact
evaluation, the second evaluation for the shown commitment's people and the
per-course cells of the shown page all happen here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commitments import standing
from commitments.models import Commitment
from commitments.reporting import coverage, exports, matrix, pdf, trend
from commitments.rules.status import Moment, Status
from courses.api import CourseCompletion, Enrolment, tracked_seconds
from lms import audit
from lms.accounts.models import User
from lms.errors import NotFound
from lms.organisations.models import Audience, Membership, Organisation
from lms.organisations.services import get_organisation


@dataclass(frozen=True)
class MatrixArgs:
    """The staff matrix's filters as the request gave them (unchecked strings)."""

    q: str = ""
    audience: str = ""  # an audience code
    status: str = ""
    sort: str | None = None
    descending: bool = False
    page: int = 1


@dataclass
class DashboardReport:
    """One organisation's commitments, and the staff matrix of the one shown.

    ``report`` is None when no commitment applies to the organisation; ``page``,
    ``query`` and ``trend`` are then empty too.
    """

    organisation: Organisation
    moment: Moment
    expiring_days: int
    reports: list[coverage.CommitmentReport]
    report: coverage.CommitmentReport | None = None
    titles: dict[int, str] = field(default_factory=dict)
    audience_names: dict[int, str] = field(default_factory=dict)
    query: matrix.MatrixQuery | None = None
    page: matrix.MatrixPage | None = None
    trend: list[trend.TrendPoint] = field(default_factory=list)
    # People in scope enrolled in none of the shown commitment's courses, whatever their
    # status says (a late person who never enrolled counts as late in the tiles).
    never_enrolled: int = 0


@dataclass
class PersonReport:
    """One member of an organisation against each commitment that concerns them."""

    organisation: Organisation
    membership: Membership
    moment: Moment
    reports: list[coverage.CommitmentReport]  # one row each: this person's
    titles: dict[int, str]
    history: list[CourseCompletion]  # newest first, courses of the commitments only
    tracked: dict[int, int] = field(default_factory=dict)  # course id -> seconds tracked


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    filename: str
    mimetype: str


def evaluate_organisation(
    session: Session, org_id: int, moment: Moment, expiring_days: int, **kwargs: Any
) -> coverage.Evaluation:
    """``unit_ids`` (a keyword): only the people placed in those units."""
    return coverage.evaluate(session, [org_id], moment, expiring_days=expiring_days, **kwargs)


def audiences_by_id(session: Session) -> dict[int, Audience]:
    return {a.id: a for a in session.scalars(select(Audience))}


def dashboard_report(
    session: Session,
    org_id: int,
    moment: Moment,
    *,
    commitment_id: int | None,
    args: MatrixArgs,
    locale: str,
    expiring_days: int,
    page_size: int,
    unit_ids: Collection[int] | None = None,
) -> DashboardReport:
    """The dashboard of ``org_id`` at ``moment``, showing ``commitment_id`` (else the
    first with staff in scope) filtered, sorted and paged by ``args``; of the people
    placed in ``unit_ids`` only, when given."""
    organisation = get_organisation(session, org_id)
    fast = standing.usable(session, moment)
    evaluation = evaluate_organisation(
        session,
        org_id,
        moment,
        expiring_days,
        depth="counts" if fast else "cells",
        unit_ids=unit_ids,
    )
    reports = evaluation.relevant(org_id)
    audiences = audiences_by_id(session)
    result = DashboardReport(organisation, moment, expiring_days, reports)
    if not reports:
        return result
    report = next((r for r in reports if r.commitment.id == commitment_id), None)
    report = report or next((r for r in reports if r.in_scope), reports[0])
    query = matrix_query(args, report, {a.code: a.id for a in audiences.values()})
    names = {a_id: a.name(locale) for a_id, a in audiences.items()}
    commitment = report.commitment
    page = None
    if fast:  # the counts were grouped in SQL; the page is read sorted and sliced there
        page = matrix.sql_page(
            session, commitment, org_id, moment, expiring_days, query, names, page_size, unit_ids
        )
    if page is None:
        if fast:  # a name key missing: everyone's status from the standings, sorted here
            people = evaluate_organisation(
                session,
                org_id,
                moment,
                expiring_days,
                depth="people",
                commitments=[commitment],
                unit_ids=unit_ids,
            )
            report = people.for_organisation(org_id)[0]
        if query.sort.startswith("course-"):  # sorting by a course needs everyone's cells
            coverage.fill_cells(session, report.rows, commitment, moment, expiring_days)
        page = matrix.page_of(report, query, names, page_size)
    if fast and not commitment.amounts:  # states stored with the standings
        coverage.fill_stored_cells(session, page.rows, commitment, moment, expiring_days)
    else:
        coverage.fill_cells(session, page.rows, commitment, moment, expiring_days)
    series = trend.coverage_trend(
        session, org_id, [commitment], moment, expiring_days=expiring_days, unit_ids=unit_ids
    )[commitment.id]
    result.report, result.titles, result.audience_names = report, evaluation.course_titles, names
    result.query, result.page, result.trend = query, page, series
    result.never_enrolled = _never_enrolled(session, org_id, commitment, moment, unit_ids)
    return result


def _never_enrolled(
    session: Session,
    org_id: int,
    commitment: Commitment,
    moment: Moment,
    unit_ids: Collection[int] | None = None,
) -> int:
    """In-scope people with no enrolment, at the moment, in any of the commitment's courses."""
    if not commitment.audience_ids:
        return 0
    enrolled = (
        select(Enrolment.user_id)
        .where(
            Enrolment.user_id == Membership.user_id,
            Enrolment.course_id.in_(commitment.course_ids),
            Enrolment.enrolled_at <= moment.at,
        )
        .exists()
    )
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                *coverage.member_filter([org_id], moment.at, unit_ids),
                Membership.audience_id.in_(commitment.audience_ids),
                ~enrolled,
            )
        )
        or 0
    )


def matrix_query(
    args: MatrixArgs, report: coverage.CommitmentReport, audience_ids: dict[str, int]
) -> matrix.MatrixQuery:
    """``args`` checked against the shown commitment; anything unknown is ignored."""
    try:
        status = Status(args.status) if args.status else None
    except ValueError:
        status = None
    return matrix.MatrixQuery(
        q=args.q,
        audience_id=audience_ids.get(args.audience),
        status=status,
        sort=matrix.parse_sort(args.sort, report.commitment.course_ids),
        descending=args.descending,
        page=args.page,
    )


def person_report(
    session: Session,
    org_id: int,
    user_id: int,
    moment: Moment,
    *,
    expiring_days: int,
    unit_ids: Collection[int] | None = None,
) -> PersonReport:
    """Raises NotFound for anyone who never belonged to ``org_id`` (or to ``unit_ids``,
    when given): a referent learns nothing, not even whether the account exists."""
    organisation = get_organisation(session, org_id)
    membership = session.scalar(
        select(Membership).where(
            Membership.organisation_id == org_id, Membership.user_id == user_id
        )
    )
    if membership is None or (unit_ids is not None and membership.unit_id not in unit_ids):
        raise NotFound(_("Persona non trovata in questa organizzazione."))
    evaluation = evaluate_organisation(session, org_id, moment, expiring_days, user_id=user_id)
    applicable = evaluation.for_organisation(org_id)
    course_ids = {cid for r in applicable for cid in r.commitment.course_ids}
    history = (
        list(
            session.scalars(
                select(CourseCompletion)
                .where(
                    CourseCompletion.user_id == user_id, CourseCompletion.course_id.in_(course_ids)
                )
                .order_by(CourseCompletion.completed_at.desc())
            )
        )
        if course_ids
        else []
    )
    return PersonReport(
        organisation,
        membership,
        moment,
        [r for r in applicable if r.rows],
        evaluation.course_titles,
        history,
        _tracked(session, user_id, history, course_ids),
    )


def _tracked(
    session: Session, user_id: int, history: list[CourseCompletion], course_ids: set[int]
) -> dict[int, int]:
    """Time actually tracked per course: the cycle under way while it is open (enrolled,
    not complete), else what the latest completion recorded when it completed."""
    tracked = {}
    for completion in reversed(history):  # oldest first: the latest one stays
        tracked[completion.course_id] = completion.tracked_seconds
    done = {(c.course_id, c.cycle) for c in history}
    if course_ids:
        for enrolment in session.scalars(
            select(Enrolment).where(
                Enrolment.user_id == user_id,
                Enrolment.course_id.in_(course_ids),
                Enrolment.ended_at.is_(None),
            )
        ):
            if (enrolment.course_id, enrolment.cycle) not in done:
                tracked[enrolment.course_id] = tracked_seconds(
                    session, user_id, enrolment.course_id, enrolment.cycle
                )
    return tracked


def matrix_file(
    session: Session,
    org_id: int,
    moment: Moment,
    kind: Literal["csv", "xlsx"],
    *,
    actor: User,
    locale: str,
    expiring_days: int,
    unit_ids: Collection[int] | None = None,
) -> ExportFile:
    """The staff matrix as a file. Named staff leave the platform: an access-log entry
    is recorded, which the caller commits."""
    organisation = get_organisation(session, org_id)
    evaluation = evaluate_organisation(session, org_id, moment, expiring_days, unit_ids=unit_ids)
    audit.record(
        session,
        "commitments.matrix_exported",
        actor=actor,
        organisation_id=org_id,
        object_type="organisation",
        object_id=org_id,
        details={
            "format": kind,
            "on": moment.on.isoformat(),
            **({} if unit_ids is None else {"units": sorted(unit_ids)}),
        },
    )
    audiences = audiences_by_id(session)
    if kind == "csv":
        data = exports.matrix_csv(organisation, evaluation, audiences, locale)
        mimetype = "text/csv; charset=utf-8"
    else:
        data = exports.matrix_xlsx(organisation, evaluation, audiences, locale)
        mimetype = exports.XLSX
    return ExportFile(data, exports.export_filename(organisation, moment.on, kind), mimetype)


def summary_file(
    session: Session,
    org_id: int,
    moment: Moment,
    *,
    instance_path: str,
    expiring_days: int,
    unit_ids: Collection[int] | None = None,
) -> ExportFile:
    """The one-page PDF: counts, validity and trend; no names, no per-course cells."""
    organisation = get_organisation(session, org_id)
    evaluation = evaluate_organisation(
        session,
        org_id,
        moment,
        expiring_days,
        depth="people",
        with_names=False,
        unit_ids=unit_ids,
    )
    reports = evaluation.relevant(org_id)
    series = trend.coverage_trend(
        session,
        org_id,
        [r.commitment for r in reports],
        moment,
        expiring_days=expiring_days,
        unit_ids=unit_ids,
    )
    data = pdf.summary_pdf(
        instance_path, organisation.name, reports, series, moment.on, expiring_days
    )
    filename = exports.export_filename(organisation, moment.on, "pdf")
    return ExportFile(data, filename, "application/pdf")
