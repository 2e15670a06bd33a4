"""A course's accreditation: who recognises its hours as credits, under which codes.

Declared in ``course.md`` (docs/course-format.md, "Accreditamento"):

    accreditation:
      body: ECM            # ECM, CNF (or the local Ordine), CNOAS, altro
      provider: "Provider 1234 – ..."
      event: "1234-567890"
      credits: 4.5
      valid_from: 2027-01-01
      valid_until: 2027-12-31

Certificates print it, the participants' report is made for it, and the ECM rule of
3 questions per credit (courses.evidence) counts its credits. Stored with the version as
declared (JSON with ISO dates), read back through :func:`accreditation_of`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _

from lms.errors import FormatIssue

if TYPE_CHECKING:
    from courses.models import CourseVersion
    from lms.yamlsafe import LocatedYaml

BODIES = {"ECM": "ECM", "CNF": "CNF", "CNOAS": "CNOAS", "altro": "altro"}
KEYS = ("body", "provider", "event", "credits", "valid_from", "valid_until")
MAX_TEXT = 200


@dataclass(frozen=True)
class Accreditation:
    body: str
    provider: str
    event: str
    credits: Decimal
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "body": self.body,
            "provider": self.provider,
            "event": self.event,
            "credits": str(self.credits),
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Accreditation:
        def day(value: str | None) -> dt.date | None:
            return dt.date.fromisoformat(value) if value else None

        return cls(
            body=data["body"],
            provider=data["provider"],
            event=data["event"],
            credits=Decimal(data["credits"]),
            valid_from=day(data.get("valid_from")),
            valid_until=day(data.get("valid_until")),
        )

    def covers(self, day: dt.date) -> bool:
        """Whether a completion on ``day`` falls within the accredited period."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


def accreditation_of(version: CourseVersion) -> Accreditation | None:
    return Accreditation.from_dict(version.accreditation) if version.accreditation else None


def parse_accreditation(
    doc: LocatedYaml, file: str, issues: list[FormatIssue]
) -> Accreditation | None:
    """The ``accreditation`` mapping of a course header, or ``None`` (problems in ``issues``)."""
    raw = doc.data.get("accreditation")
    if raw is None:
        return None
    key = "accreditation"
    if not isinstance(raw, dict):
        issues.append(
            FormatIssue(
                file, doc.line(key), _("'accreditation' deve essere un elenco di chiavi: valori")
            )
        )
        return None
    before = len(issues)

    def problem(field: str, message: str) -> None:
        issues.append(FormatIssue(file, doc.line(key, field), message))

    for field in raw:
        if field not in KEYS:
            problem(
                field,
                _(
                    "chiave sconosciuta in 'accreditation': %(key)s (ammesse: %(known)s)",
                    key=field,
                    known=", ".join(KEYS),
                ),
            )
    body = raw.get("body")
    if body not in BODIES:
        problem("body", _("'body' ammette: %(bodies)s", bodies=", ".join(BODIES)))
    texts = {}
    for field in ("provider", "event"):
        value = raw.get(field)
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            problem(field, _("manca '%(key)s' in 'accreditation'", key=field))
        elif len(str(value)) > MAX_TEXT or "\n" in str(value):
            problem(
                field,
                _(
                    "'%(key)s' deve stare su una riga (al massimo %(n)d caratteri)",
                    key=field,
                    n=MAX_TEXT,
                ),
            )
        else:
            texts[field] = str(value).strip()
    credits: Decimal | None = None
    try:
        value = raw.get("credits")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        credits = Decimal(str(value))
        if not credits.is_finite() or not 0 < credits <= 100:
            raise InvalidOperation
        credits = credits.quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        credits = None
        problem("credits", _("'credits' deve essere un numero maggiore di 0 (al massimo 100)"))
    days: dict[str, dt.date | None] = {}
    for field in ("valid_from", "valid_until"):
        value = raw.get(field)
        if value is None:
            days[field] = None
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            days[field] = value
        else:
            problem(field, _("'%(key)s' deve essere una data AAAA-MM-GG", key=field))
    if (
        days.get("valid_from")
        and days.get("valid_until")
        and days["valid_from"] > days["valid_until"]
    ):
        problem("valid_until", _("'valid_until' viene prima di 'valid_from'"))
    if len(issues) > before or credits is None:
        return None
    return Accreditation(
        body=str(body),
        provider=texts["provider"],
        event=texts["event"],
        credits=credits,
        valid_from=days.get("valid_from"),
        valid_until=days.get("valid_until"),
    )
