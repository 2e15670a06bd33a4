"""The participants' report of an accredited course, for the accrediting body.

Every completion of the course, whoever completed it and whether or not a certificate
came of it: the person (name, e-mail, professional identifier where given, current
organisations), the time tracked, the result (date, version, evidence profile met, with
completions made before profiles marked "legacy"), the accreditation of the version
completed and whether the completion fell within its period, and the certificate's
verification code. A course's authors and admins download it as CSV or XLSX; both
come from the same rows, and every text cell is made safe against formula injection.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from certificates import codes
from certificates.accreditation import hours_minutes
from certificates.models import Certificate
from courses.api import (
    LEGACY,
    Course,
    CourseCompletion,
    CourseVersion,
    accreditation_of,
    authored_courses,
    can_author,
    get_course,
)
from lms.accounts.models import User
from lms.clock import LOCAL_ZONE
from lms.errors import Forbidden
from lms.exports import csv_writer, safe_cell
from lms.organisations.models import Membership, Organisation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_DATE_FORMAT = "DD/MM/YYYY"


@dataclass(frozen=True)
class Participant:
    """One completion as the report lists it."""

    name: str
    email: str
    professional_id: str
    organisations: str
    tracked_seconds: int
    completed_on: dt.date
    version: str
    evidence: str
    body: str
    event: str
    credits: Decimal | None  # earned: the completion fell within the accredited period
    in_period: bool | None  # None: the version completed was not accredited
    certificate_code: str

    @property
    def tracked(self) -> str:
        hours, minutes = hours_minutes(self.tracked_seconds)
        return f"{hours}:{minutes:02d}"


@dataclass(frozen=True)
class ReportCourse:
    """A course on the reports page: its latest title and its accreditation, if any."""

    course: Course
    title: str
    accredited: bool


def course_for_report(session: Session, slug: str, user: User) -> Course:
    """The course, if ``user`` authors it (admins: any); NotFound, Forbidden otherwise."""
    course = get_course(session, slug)
    if not can_author(user, course):
        raise Forbidden(_("Solo chi cura il corso può scaricarne il registro dei partecipanti."))
    return course


def report_courses(session: Session, user: User) -> list[ReportCourse]:
    """The courses ``user`` authors, accredited ones first (by any of their versions)."""
    courses = authored_courses(session, user)
    versions: dict[int, list[CourseVersion]] = defaultdict(list)
    if courses:
        stmt = (
            select(CourseVersion)
            .where(CourseVersion.course_id.in_([c.id for c in courses]))
            .order_by(CourseVersion.number)
        )
        for version in session.scalars(stmt):
            versions[version.course_id].append(version)
    found = [
        ReportCourse(
            course=course,
            title=versions[course.id][-1].title if versions[course.id] else course.slug,
            accredited=any(accreditation_of(v) is not None for v in versions[course.id]),
        )
        for course in courses
    ]
    return sorted(found, key=lambda c: (not c.accredited, c.title.lower()))


def course_title(session: Session, course: Course) -> str:
    """The title of the course's latest version."""
    title = session.scalar(
        select(CourseVersion.title)
        .where(CourseVersion.course_id == course.id)
        .order_by(CourseVersion.number.desc())
        .limit(1)
    )
    return title or course.slug


def participants(session: Session, course: Course) -> list[Participant]:
    """Every completion of ``course``, oldest first."""
    stmt = (
        select(CourseCompletion, User)
        .join(User, User.id == CourseCompletion.user_id)
        .where(CourseCompletion.course_id == course.id)
        .order_by(CourseCompletion.completed_at, CourseCompletion.id)
        .options(selectinload(CourseCompletion.version))
    )
    rows = session.execute(stmt).all()
    completers = select(CourseCompletion.user_id).where(CourseCompletion.course_id == course.id)
    organisations: dict[int, list[str]] = defaultdict(list)
    for user_id, name in session.execute(
        select(Membership.user_id, Organisation.name)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id.in_(completers), Membership.ended_at.is_(None))
        .order_by(Organisation.name)
    ):
        organisations[user_id].append(name)
    certificates: dict[str, Certificate] = {}
    for cert in session.scalars(
        select(Certificate)
        .where(Certificate.key == f"course:{course.slug}", Certificate.revoked_at.is_(None))
        .order_by(Certificate.reissue)
    ):
        certificates[cert.completion_ref] = cert  # the latest re-issue wins
    report = []
    for completion, user in rows:
        day = completion.completed_at.astimezone(LOCAL_ZONE).date()
        accreditation = accreditation_of(completion.version)
        in_period = accreditation.covers(day) if accreditation else None
        cert = certificates.get(f"course-completion:{completion.id}")
        report.append(
            Participant(
                name=user.full_name,
                email=user.email,
                professional_id=user.professional_id or "",
                organisations=", ".join(organisations[user.id]),
                tracked_seconds=completion.tracked_seconds,
                completed_on=day,
                version=completion.version.label or str(completion.version.number),
                evidence=completion.evidence,
                body=accreditation.body if accreditation else "",
                event=accreditation.event if accreditation else "",
                credits=accreditation.credits if accreditation and in_period else None,
                in_period=in_period,
                certificate_code=codes.grouped(cert.code) if cert else "",
            )
        )
    return report


def header() -> list[str]:
    return [
        _("Nome e cognome"),
        _("E-mail"),
        _("Codice fiscale o n. di iscrizione all'albo/ordine"),
        _("Organizzazione"),
        _("Ore registrate (h:mm)"),
        _("Esito"),
        _("Completato il"),
        _("Versione"),
        _("Profilo di evidenza"),
        _("Ente accreditante"),
        _("Codice evento"),
        _("Crediti"),
        _("Nel periodo di accreditamento"),
        _("Codice dell'attestato"),
    ]


def _values(row: Participant) -> list[object]:
    """A row's cells: dates as dates and credits as numbers (the writers format them)."""
    evidence = (
        _("legacy (completato prima dei profili di evidenza)")
        if row.evidence == LEGACY
        else row.evidence
    )
    in_period = "" if row.in_period is None else (_("sì") if row.in_period else _("no"))
    return [
        row.name,
        row.email,
        row.professional_id,
        row.organisations,
        row.tracked,
        _("completato"),
        row.completed_on,
        row.version,
        evidence,
        row.body,
        row.event,
        row.credits,
        in_period,
        row.certificate_code,
    ]


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def report_csv(rows: Sequence[Participant]) -> bytes:
    """UTF-8 with BOM and semicolons (what Excel in Italian opens directly), ISO dates."""
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header())
    for row in rows:
        writer.writerow([_csv_cell(value) for value in _values(row)])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def report_xlsx(rows: Sequence[Participant], title: str) -> bytes:
    """One sheet: text always as text (never a formula or link), real dates, credits as
    numbers."""
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    date = workbook.add_format({"num_format": XLSX_DATE_FORMAT})
    sheet = workbook.add_worksheet(_("Partecipanti")[:31])
    sheet.set_column(0, 3, 28)
    sheet.set_column(4, 13, 16)
    sheet.freeze_panes(2, 1)
    sheet.write_string(0, 0, str(safe_cell(title)), bold)
    for column, text in enumerate(header()):
        sheet.write_string(1, column, text, bold)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(_values(row)):
            if value is None or value == "":
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(number, column, value, date)
            elif isinstance(value, Decimal):
                sheet.write_number(number, column, float(value))
            else:
                sheet.write_string(number, column, str(safe_cell(value)))
    workbook.close()
    return out.getvalue()


def filename(course: Course, on: dt.date, extension: str) -> str:
    return f"partecipanti-{course.slug}-{on.isoformat()}.{extension}"
