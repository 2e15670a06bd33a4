"""The coordinator's view of the whole network: aggregated and anonymised.

Built from :func:`commitments.reporting.coverage.evaluate` with ``with_names=False``, so
no name or e-mail address is ever read. Every count from 1 to :data:`MIN_COUNT` - 1 is
shown as ``"<5"`` (0 is shown: it singles nobody out), and a coverage percentage is
withheld when the people in scope are fewer than that or the people covered are 1 to 4
(it would give the small count away). Sorting treats withheld values as equal, so the
order does not leak them either.
"""

from __future__ import annotations

import codecs
import io
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from commitments.reporting.coverage import CommitmentReport, evaluate
from commitments.reporting.labels import percent
from commitments.rules.status import Moment, Status
from lms.exports import csv_writer, safe_cell
from lms.organisations.models import Organisation, OrganisationType

MIN_COUNT = 5
SMALL = "<5"
SORTS = ("name", "coverage", "in_scope", "gap")


def withheld(n: int) -> bool:
    """Counts of 1 to 4 people are withheld; 0 is said ("13 people, none trained" tells
    the network something and singles nobody out, as "<5" would not)."""
    return 0 < n < MIN_COUNT


def masked(n: int) -> str:
    return SMALL if withheld(n) else str(n)


@dataclass(frozen=True)
class NetworkRow:
    """One organisation and one commitment, with only what may be shown."""

    organisation_id: int
    organisation_name: str
    organisation_type: str
    commitment_title: str
    target_percent: int
    deadline_iso: str
    in_scope: str
    valid: str
    expiring: str
    coverage: str  # "62,5 %" or "n.d."
    target_met: bool | None  # None when withheld
    # Sort keys (withheld values collapse to -1 so that they tie).
    in_scope_key: int
    coverage_key: float
    gap_key: float


@dataclass(frozen=True)
class NetworkGroup:
    organisation_type: str
    rows: list[NetworkRow]
    in_scope: str
    valid: str
    coverage: str
    organisations_without_staff: int


def _row(organisation: Organisation, report: CommitmentReport) -> NetworkRow:
    small = report.in_scope < MIN_COUNT or withheld(report.valid)
    coverage = report.coverage_percent
    return NetworkRow(
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        organisation_type=organisation.type,
        commitment_title=report.commitment.title,
        target_percent=report.commitment.target_percent,
        deadline_iso=report.commitment.deadline.isoformat(),
        in_scope=masked(report.in_scope),
        valid=masked(report.valid),
        expiring=masked(report.counts[Status.EXPIRING]),
        coverage=_("n.d.") if small or coverage is None else percent(coverage),
        target_met=None if small else report.target_met,
        in_scope_key=-1 if withheld(report.in_scope) else report.in_scope,
        coverage_key=-1.0 if small or coverage is None else coverage,
        gap_key=-1.0 if small or coverage is None else coverage - report.commitment.target_percent,
    )


def _sort(rows: list[NetworkRow], sort: str, descending: bool) -> list[NetworkRow]:
    by_name = sorted(rows, key=lambda r: (r.organisation_name.lower(), r.commitment_title))
    if sort == "name":
        return list(reversed(by_name)) if descending else by_name
    key = {
        "coverage": lambda r: r.coverage_key,
        "in_scope": lambda r: r.in_scope_key,
        "gap": lambda r: r.gap_key,
    }[sort]
    return sorted(by_name, key=key, reverse=descending)


def network_overview(
    session: Session,
    moment: Moment,
    *,
    sort: str = "name",
    descending: bool = False,
    expiring_days: int = 90,
) -> list[NetworkGroup]:
    """Every organisation's coverage against its commitments, grouped by type."""
    evaluation = evaluate(
        session, None, moment, expiring_days=expiring_days, with_names=False, depth="counts"
    )
    rows_by_type: dict[str, list[NetworkRow]] = defaultdict(list)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    without_staff: dict[str, int] = defaultdict(int)
    for org_id, organisation in evaluation.organisations.items():
        reports = [r for r in evaluation.for_organisation(org_id) if r.in_scope]
        if not reports:
            without_staff[organisation.type] += 1
            continue
        for report in reports:
            rows_by_type[organisation.type].append(_row(organisation, report))
            totals[organisation.type][0] += report.in_scope
            totals[organisation.type][1] += report.valid
    groups = []
    present = set(rows_by_type) | set(without_staff)
    types = [t.value for t in OrganisationType if t.value in present]
    for org_type in types:
        in_scope, valid = totals[org_type]
        small = in_scope < MIN_COUNT or withheld(valid)
        groups.append(
            NetworkGroup(
                organisation_type=org_type,
                rows=_sort(rows_by_type.get(org_type, []), sort, descending),
                in_scope=masked(in_scope),
                valid=masked(valid),
                coverage=_("n.d.") if small or not in_scope else percent(100 * valid / in_scope),
                organisations_without_staff=without_staff.get(org_type, 0),
            )
        )
    return groups


def network_csv(groups: list[NetworkGroup], type_label, on_iso: str) -> bytes:  # noqa: ANN001
    """One table, its header first (the date of the situation, ``on_iso``, is in the
    file's name)."""
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Tipo di organizzazione"),
            _("Organizzazione"),
            _("Impegno"),
            _("Persone nel perimetro"),
            _("Con formazione valida"),
            _("In scadenza"),
            _("Copertura"),
            _("Obiettivo %"),
            _("Termine"),
            _("Obiettivo raggiunto"),
        ]
    )
    for group in groups:
        for row in group.rows:
            writer.writerow(
                [
                    safe_cell(str(type_label(group.organisation_type))),
                    safe_cell(row.organisation_name),
                    safe_cell(row.commitment_title),
                    row.in_scope,
                    row.valid,
                    row.expiring,
                    row.coverage,
                    row.target_percent,
                    row.deadline_iso,
                    _("n.d.")
                    if row.target_met is None
                    else (_("sì") if row.target_met else _("no")),
                ]
            )
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
