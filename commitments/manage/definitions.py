"""Defining commitments: from the admin form or from a YAML file for the whole network.

Both paths build a :class:`CommitmentData` of plain values and go through
:func:`save`, so a commitment in the database is always one that validates.
A YAML import is all-or-nothing: every problem is reported with its line.

YAML format (see ``commitments/defaults.yaml``)::

    defaults: {renewal_months: 36, target_percent: 80, deadline: 2026-11-22}
    commitments:
      - code: polizia-locale                 # identity across imports
        title: "Polizia Locale: ..."
        audiences: [polizia_locale]          # or [all]
        organisation_type: comune            # or organisation: CODE; neither = every organisation
        courses: [rete-antiviolenza-milano, polizia-locale-denuncia]   # all required
        choose: {count: 1, from: [a-course, another-course]}          # optional: N of a set
        hours: 8                             # optional: hours to gather (courses + sessions)
        credits: 10                          # optional: accredited credits to gather

``hours`` and ``credits`` (positive numbers, at most 1000, two decimals) may stand with
the courses or instead of them: hours come from completed courses' certified hours and
attended sessions, credits from completions within their accreditation's validity, each
counted while valid (``renewal_months``), as ``commitments.rules.status`` says.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from commitments.models import Commitment, CommitmentCourse
from courses.api import Course
from lms import audit, yamlsafe
from lms.errors import FormatError, FormatIssue, NotFound, ServiceError
from lms.organisations.models import Audience, Organisation, OrganisationType
from lms.text import TextError, single_line

DEFAULTS_FILE = Path(__file__).parent.parent / "defaults.yaml"
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
ENTRY_KEYS = {
    "code",
    "title",
    "description",
    "audiences",
    "organisation",
    "organisation_type",
    "courses",
    "choose",
    "renewal_months",
    "target_percent",
    "deadline",
    "active",
    "hours",
    "credits",
}
AMOUNT_KEYS = ("hours", "credits")
MAX_AMOUNT = Decimal(1000)


@dataclass
class CommitmentData:
    code: str
    title: str
    audience_ids: list[int]
    required_course_ids: list[int]
    target_percent: int
    deadline: dt.date
    description: str = ""
    organisation_id: int | None = None
    organisation_type: str | None = None
    optional_course_ids: list[int] = field(default_factory=list)
    choose_count: int = 0
    renewal_months: int | None = None
    active: bool = True
    required_hours: Decimal | None = None
    required_credits: Decimal | None = None


def check(data: CommitmentData) -> list[str]:
    """Problems with a definition, in Italian; empty when it can be saved."""
    problems = []
    if not CODE_RE.match(data.code or ""):
        problems.append(
            _("Il codice deve avere 3-60 caratteri: lettere minuscole, cifre e trattini.")
        )
    if not (data.title or "").strip() or len(data.title) > 200:
        problems.append(_("Il titolo è obbligatorio (al massimo 200 caratteri)."))
    else:
        try:
            single_line(data.title, what=_("Il titolo"))
        except TextError as error:
            problems.append(str(error))
    if not data.audience_ids:
        problems.append(_("Indica almeno un profilo professionale."))
    if data.organisation_id is not None and data.organisation_type is not None:
        problems.append(
            _("Indica un'organizzazione oppure un tipo di organizzazione, non entrambi.")
        )
    if data.organisation_type is not None and data.organisation_type not in set(OrganisationType):
        problems.append(_("Tipo di organizzazione sconosciuto: %(t)s", t=data.organisation_type))
    if not (
        data.required_course_ids
        or data.optional_course_ids
        or data.required_hours
        or data.required_credits
    ):
        problems.append(_("Indica almeno un corso, oppure le ore o i crediti da raggiungere."))
    for amount in (data.required_hours, data.required_credits):
        if amount is not None and not (0 < amount <= MAX_AMOUNT and _cents(amount)):
            problems.append(_("Ore e crediti vanno da 0,01 a 1000, con al più due decimali."))
    overlap = set(data.required_course_ids) & set(data.optional_course_ids)
    if overlap or len(set(data.required_course_ids)) != len(data.required_course_ids):
        problems.append(_("Ogni corso può comparire una sola volta."))
    if data.optional_course_ids and not 1 <= data.choose_count <= len(data.optional_course_ids):
        problems.append(
            _(
                "Il numero di corsi a scelta deve essere tra 1 e %(n)d.",
                n=len(data.optional_course_ids),
            )
        )
    if not data.optional_course_ids and data.choose_count:
        problems.append(_("Hai indicato corsi a scelta da completare ma nessun corso a scelta."))
    if data.renewal_months is not None and not 1 <= data.renewal_months <= 240:
        problems.append(_("La validità deve essere tra 1 e 240 mesi."))
    if not isinstance(data.target_percent, int) or not 1 <= data.target_percent <= 100:
        problems.append(_("L'obiettivo di copertura deve essere tra 1 e 100 %."))
    if not isinstance(data.deadline, dt.date):
        problems.append(_("La scadenza deve essere una data (AAAA-MM-GG)."))
    return problems


def _cents(amount: Decimal) -> bool:
    return amount == amount.quantize(Decimal("0.01"))


def _signature(commitment: Commitment) -> tuple:
    return (
        commitment.code,
        commitment.title,
        commitment.description,
        commitment.organisation_id,
        commitment.organisation_type,
        tuple(sorted(a.id for a in commitment.audiences)),
        tuple((c.course_id, c.required, c.position) for c in commitment.courses),
        commitment.choose_count,
        commitment.renewal_months,
        commitment.target_percent,
        commitment.deadline,
        commitment.active,
        commitment.required_hours,
        commitment.required_credits,
    )


def save(
    session: Session,
    data: CommitmentData,
    commitment: Commitment | None = None,
    *,
    actor: Any = None,
) -> bool:
    """Create or update; returns whether anything changed. Raises ``ServiceError``."""
    problems = check(data)
    clash = session.scalar(select(Commitment.id).where(Commitment.code == data.code))
    if clash is not None and (commitment is None or clash != commitment.id):
        problems.append(_("Esiste già un impegno con il codice %(code)s.", code=data.code))
    if problems:
        raise ServiceError(problems[0], details=problems)
    before = _signature(commitment) if commitment is not None else None
    if commitment is None:
        commitment = Commitment()
        session.add(commitment)
    commitment.code = data.code
    commitment.title = single_line(data.title)
    commitment.description = (data.description or "").strip()
    commitment.organisation_id = data.organisation_id
    commitment.organisation_type = data.organisation_type
    commitment.choose_count = data.choose_count if data.optional_course_ids else 0
    commitment.renewal_months = data.renewal_months
    commitment.required_hours = data.required_hours
    commitment.required_credits = data.required_credits
    commitment.target_percent = data.target_percent
    commitment.deadline = data.deadline
    commitment.active = data.active
    commitment.audiences = list(
        session.scalars(select(Audience).where(Audience.id.in_(data.audience_ids)))
    )
    wanted = [(cid, True) for cid in data.required_course_ids]
    wanted += [(cid, False) for cid in data.optional_course_ids]
    existing = {link.course_id: link for link in commitment.courses}
    links = []
    for position, (course_id, required) in enumerate(wanted):
        link = existing.get(course_id) or CommitmentCourse(course_id=course_id)
        link.position, link.required = position, required
        links.append(link)
    commitment.courses = links
    session.flush()
    changed = before != _signature(commitment)
    if changed:
        audit.record(
            session,
            "commitment.created" if before is None else "commitment.updated",
            actor=actor,
            organisation_id=commitment.organisation_id,
            object_type="commitment",
            object_id=commitment.code,
            details={
                "target_percent": commitment.target_percent,
                "deadline": commitment.deadline.isoformat(),
            },
        )
    return changed


def get(session: Session, commitment_id: int) -> Commitment:
    commitment = session.scalar(
        select(Commitment)
        .where(Commitment.id == commitment_id)
        .options(selectinload(Commitment.courses), selectinload(Commitment.audiences))
    )
    if commitment is None:
        raise NotFound(_("Impegno non trovato."))
    return commitment


def list_all(session: Session) -> list[Commitment]:
    return list(
        session.scalars(
            select(Commitment)
            .options(
                selectinload(Commitment.courses).selectinload(CommitmentCourse.course),
                selectinload(Commitment.audiences),
                selectinload(Commitment.organisation),
            )
            .order_by(Commitment.active.desc(), Commitment.title)
        )
    )


# --- YAML -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOutcome:
    code: str
    state: str  # "created" | "updated" | "unchanged" | "kept"


def _read(text: str, filename: str) -> yamlsafe.LocatedYaml:
    """The document with the line of each key and entry, within the limits of
    :mod:`lms.yamlsafe`; a repeated key is refused like any other problem of the file."""
    document, issues = yamlsafe.load_located(text, file=filename)
    if document is None or issues:
        raise FormatError(issues)
    return document


def _as_list(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


class _Lookup:
    """Codes and slugs resolved once for a whole file."""

    def __init__(self, session: Session) -> None:
        self.audiences = {a.code: a.id for a in session.scalars(select(Audience))}
        self.organisations = {o.code: o.id for o in session.scalars(select(Organisation))}
        self.courses = {c.slug: c.id for c in session.scalars(select(Course))}


def _entry_data(
    entry: Any, defaults: dict[str, Any], lookup: _Lookup, keyed: dict[str, str] | None = None
) -> tuple[CommitmentData | None, list[str]]:
    """The entry's data, or its problems; problems of one key (hours, credits) go to
    ``keyed`` instead, so that the file's error names that key's own line."""
    if not isinstance(entry, dict):
        return None, [_("ogni impegno deve essere una mappa chiave: valore")]
    values = {**defaults, **entry}
    problems = []
    keyed = {} if keyed is None else keyed
    amounts: dict[str, Decimal | None] = {}
    for key in AMOUNT_KEYS:
        amounts[key], problem = _amount(values.get(key), key)
        if problem:
            keyed[key] = problem
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        problems.append(_("chiavi sconosciute: %(keys)s", keys=", ".join(map(str, unknown))))
    audiences = _as_list(values.get("audiences"))
    audience_ids: list[int] = []
    if audiences == ["all"]:
        audience_ids = sorted(lookup.audiences.values())
    elif audiences is None:
        problems.append(_("«audiences» deve essere un elenco di codici di profilo"))
    else:
        for code in audiences:
            if code in lookup.audiences:
                audience_ids.append(lookup.audiences[code])
            else:
                problems.append(_("profilo sconosciuto: %(code)s", code=code))
    organisation_id = None
    if values.get("organisation") is not None:
        organisation_id = lookup.organisations.get(str(values["organisation"]))
        if organisation_id is None:
            problems.append(_("organizzazione sconosciuta: %(code)s", code=values["organisation"]))

    def course_ids(slugs: Any, key: str) -> list[int]:
        found = _as_list(slugs)
        if found is None:
            problems.append(_("«%(key)s» deve essere un elenco di corsi (slug)", key=key))
            return []
        ids = []
        for slug in found:
            if slug in lookup.courses:
                ids.append(lookup.courses[slug])
            else:
                problems.append(_("corso sconosciuto: %(slug)s", slug=slug))
        return ids

    required = course_ids(values.get("courses", []), "courses")
    choose = values.get("choose") or {}
    optional: list[int] = []
    choose_count = 0
    if choose:
        if not isinstance(choose, dict) or set(choose) - {"count", "from"}:
            problems.append(_("«choose» deve avere le chiavi «count» e «from»"))
        else:
            optional = course_ids(choose.get("from", []), "choose.from")
            choose_count = choose.get("count", 1)
            if not isinstance(choose_count, int) or isinstance(choose_count, bool):
                problems.append(_("«choose.count» deve essere un numero intero"))
                choose_count = 0
    deadline = values.get("deadline")
    if isinstance(deadline, str):
        try:
            deadline = dt.date.fromisoformat(deadline)
        except ValueError:
            problems.append(_("scadenza non valida: %(value)s", value=deadline))
    renewal = values.get("renewal_months")
    target = values.get("target_percent")
    for key, number in (("renewal_months", renewal), ("target_percent", target)):
        if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
            problems.append(_("«%(key)s» deve essere un numero intero", key=key))
    if problems or keyed:
        return None, problems
    data = CommitmentData(
        code=str(values.get("code") or ""),
        title=str(values.get("title") or ""),
        description=str(values.get("description") or ""),
        audience_ids=audience_ids,
        organisation_id=organisation_id,
        organisation_type=values.get("organisation_type"),
        required_course_ids=required,
        optional_course_ids=optional,
        choose_count=choose_count,
        renewal_months=renewal,
        target_percent=target if target is not None else 0,
        deadline=deadline,
        active=bool(values.get("active", True)),
        required_hours=amounts["hours"],
        required_credits=amounts["credits"],
    )
    return data, [p[0].lower() + p[1:] for p in check(data)]


def _amount(value: Any, key: str) -> tuple[Decimal | None, str | None]:
    """``hours: 8`` or ``credits: 4.5``: a positive number up to 1000, two decimals."""
    if value is None:
        return None, None
    problem = _(
        "«%(key)s» deve essere un numero maggiore di 0 e al più 1000, con al più due "
        "decimali (trovato: %(value)s)",
        key=key,
        value=value,
    )
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, problem
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None, problem
    if not amount.is_finite() or not 0 < amount <= MAX_AMOUNT or not _cents(amount):
        return None, problem
    return amount, None


def import_yaml(
    session: Session,
    text: str,
    *,
    filename: str = "commitments.yaml",
    update: bool = True,
    actor: Any = None,
) -> list[ImportOutcome]:
    """Create (and with ``update``, update) commitments by code; all or nothing."""
    located = _read(text, filename)
    document = located.data
    if not isinstance(document, dict) or not isinstance(document.get("commitments"), list):
        raise FormatError(
            [FormatIssue(filename, None, _("serve una chiave «commitments» con un elenco"))]
        )
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise FormatError([FormatIssue(filename, None, _("«defaults» deve essere una mappa"))])
    lookup = _Lookup(session)
    issues: list[FormatIssue] = []
    parsed: list[CommitmentData] = []
    seen: set[str] = set()
    for index, entry in enumerate(document["commitments"]):
        line = located.line("commitments", index)
        keyed: dict[str, str] = {}
        data, problems = _entry_data(entry, defaults, lookup, keyed)
        if data is not None and data.code in seen:
            problems.append(_("codice ripetuto nel file: %(code)s", code=data.code))
        if data is not None:
            seen.add(data.code)
        code = entry.get("code") if isinstance(entry, dict) else None
        prefix = f"{code}: " if code else ""
        issues += [FormatIssue(filename, line, prefix + p) for p in problems]
        for key, problem in keyed.items():
            where = ("commitments", index, key) if key in entry else ("defaults", key)
            issues.append(FormatIssue(filename, located.line(*where), prefix + problem))
        if data is not None and not problems:
            parsed.append(data)
    if issues:
        raise FormatError(issues)
    existing = {c.code: c for c in list_all(session)}
    outcomes = []
    with session.begin_nested():
        for data in parsed:
            current = existing.get(data.code)
            if current is not None and not update:
                outcomes.append(ImportOutcome(data.code, "kept"))
                continue
            changed = save(session, data, current, actor=actor)
            state = "created" if current is None else ("updated" if changed else "unchanged")
            outcomes.append(ImportOutcome(data.code, state))
    return outcomes


def load_defaults(session: Session) -> list[ImportOutcome]:
    """The network's default commitments; existing ones (maybe edited) are kept."""
    text = DEFAULTS_FILE.read_text(encoding="utf-8")
    return import_yaml(session, text, filename=DEFAULTS_FILE.name, update=False)
