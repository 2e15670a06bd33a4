"""Staff import by a referent: validate every row, preview, then apply all or nothing.

The file is read by ``commitments.staff_files``. :func:`plan_import` checks
each row (e-mail, name, profile, duplicates, formula-like values) and decides
what applying it would do, in a constant number of queries; :func:`apply_import`
plans again (the database may have changed since the preview) and, only when no
row has an error, creates or updates the memberships in bulk statements
(``lms.organisations.services.add_members``, one UPDATE for profile changes): their
number does not grow with the rows. It never commits and never sends mail: the
caller commits, then invites the new accounts (``invited``, ``invited_ids``) with
``lms.accounts.mailing.send_invitation``. Importing the same file twice changes
nothing the second time, and so does applying a slice of it twice (a job applies
a large file slice by slice, committing between them).

Between preview and confirmation the rows travel in the confirmation form,
signed (itsdangerous) and bound to the organisation and the referent, so that
nothing is kept on the server and any worker can apply them.
"""

from __future__ import annotations

import enum
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commitments.staff.files import RawRow, normalise_header
from lms import audit
from lms.accounts.models import User
from lms.accounts.services import normalise_email
from lms.errors import ServiceError
from lms.organisations.models import Audience, Membership, Organisation
from lms.organisations.services import (
    AudienceChange,
    NewMember,
    add_members,
    change_audiences,
)
from lms.text import TextError, flatten, single_line

FORMULA_PREFIXES = ("=", "+", "-", "@")
MAX_NAME = 200
MAX_EMAIL = 254
SIGNING_SALT = "commitments.staff-import"
SIGNED_MAX_AGE = 3600


class Action(enum.StrEnum):
    NEW = "new"  # new account, invited
    ADD = "add"  # existing account joins the organisation
    REACTIVATE = "reactivate"  # former member comes back (history kept)
    AUDIENCE = "audience"  # current member, profile changes
    UNIT = "unit"  # current member, same profile, another unit
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class PlannedRow:
    number: int
    email: str
    full_name: str
    audience_code: str
    action: Action
    member_elsewhere: bool = False
    user_id: int | None = None  # the existing account, if any
    membership_id: int | None = None  # the existing membership in this organisation
    unit_id: int | None = None  # where the file places the person (None: no unit given)
    moves_unit: bool = False  # the file places the person in a unit other than today's


@dataclass(frozen=True)
class RowError:
    number: int | None
    message: str

    def __str__(self) -> str:
        if self.number is None:
            return self.message
        return _("Riga %(n)d: %(message)s", n=self.number, message=self.message)


@dataclass
class ImportPlan:
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict[Action, int]:
        found = Counter(row.action for row in self.rows)
        return {action: found.get(action, 0) for action in Action}

    @property
    def changes(self) -> int:
        return sum(n for action, n in self.counts.items() if action is not Action.UNCHANGED)


class ImportRefused(ServiceError):
    def __init__(self, plan: ImportPlan) -> None:
        super().__init__(
            _("Importazione annullata: %(n)d errori, nessuna modifica.", n=len(plan.errors))
        )
        self.plan = plan


@dataclass
class ImportResult:
    plan: ImportPlan
    invited: list[User]  # new accounts, in the file's order: to invite after commit

    @property
    def invited_ids(self) -> list[int]:
        return [user.id for user in self.invited]


def _shown(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value)


def audience_lookup(session: Session) -> dict[str, str]:
    """Profile code, Italian or English name (loosely written) -> code."""
    lookup = {}
    for audience in session.scalars(select(Audience)):
        for label in (audience.code, audience.name_it, audience.name_en):
            lookup[normalise_header(label)] = audience.code
    return lookup


def _check_row(
    raw: RawRow, audiences: dict[str, str]
) -> tuple[tuple[str, str, str] | None, list[str]]:
    problems = []
    email_raw = raw.email.strip()
    try:
        name = single_line(raw.full_name, what=_("il nome"))
    except TextError as error:
        problems.append(str(error))
        name = flatten(raw.full_name)  # for the checks below
    audience_raw = raw.audience.strip()
    for value in (email_raw, name, audience_raw):
        if value.startswith(FORMULA_PREFIXES):
            problems.append(
                _(
                    "«%(value)s» inizia con =, +, - o @: sembra una formula e non è accettato.",
                    value=_shown(value),
                )
            )
    email = ""
    if not email_raw:
        problems.append(_("manca l'indirizzo e-mail."))
    elif len(email_raw) > MAX_EMAIL:
        problems.append(_("indirizzo e-mail troppo lungo."))
    elif not email_raw.startswith(FORMULA_PREFIXES):
        try:
            email = normalise_email(email_raw)
        except ServiceError:
            problems.append(_("indirizzo e-mail non valido: «%(value)s».", value=_shown(email_raw)))
    if not name:
        problems.append(_("manca il nome e cognome."))
    elif len(name) > MAX_NAME:
        problems.append(_("nome troppo lungo (al massimo %(n)d caratteri).", n=MAX_NAME))
    elif _has_control(name):
        problems.append(_("il nome contiene caratteri non ammessi."))
    code = audiences.get(normalise_header(audience_raw)) if audience_raw else None
    if not audience_raw:
        problems.append(_("manca il profilo."))
    elif code is None and not audience_raw.startswith(FORMULA_PREFIXES):
        problems.append(
            _(
                "profilo sconosciuto: «%(value)s» (usa un codice o un nome del foglio "
                "«Profili» del modello).",
                value=_shown(audience_raw),
            )
        )
    if problems or code is None:
        return None, problems
    return (email, name, code), []


AMBIGUOUS = -1


def unit_lookup(session: Session, organisation_id: int) -> dict[str, int]:
    """A unit's path ("Ospedale Uno / Pronto soccorso") or, where no other open unit has
    it, its own name, loosely written -> id; a name two units share -> ``AMBIGUOUS``."""
    from lms.organisations.units import units_of

    found = units_of(session, organisation_id, open_only=True)
    names = {unit.id: unit.name for unit in found}
    lookup: dict[str, int] = {}
    for unit in found:
        ids = [int(part) for part in unit.path.strip("/").split("/") if part]
        lookup[normalise_header(" ".join(names.get(i, "") for i in ids))] = unit.id
    for unit in found:
        key = normalise_header(unit.name)
        if lookup.get(key, unit.id) != unit.id:
            lookup[key] = AMBIGUOUS
        else:
            lookup.setdefault(key, unit.id)
    return lookup


def _unit_of(raw: RawRow, units: dict[str, int] | None) -> tuple[int | None, str | None]:
    """The unit a row names, or the problem with it (None, None: no unit given)."""
    value = raw.unit.strip()
    if not value or units is None:
        return None, None
    if value.startswith(FORMULA_PREFIXES):
        return None, _(
            "«%(value)s» inizia con =, +, - o @: sembra una formula e non è accettato.",
            value=_shown(value),
        )
    found = units.get(normalise_header(value.replace("/", " ")))
    if found is None:
        return None, _(
            "unità sconosciuta: «%(value)s» (usa il nome o il percorso di un'unità aperta, "
            "per esempio «Ospedale / Reparto»).",
            value=_shown(value),
        )
    if found == AMBIGUOUS:
        return None, _(
            "più unità si chiamano «%(value)s»: indica il percorso (per esempio "
            "«Ospedale / Reparto»).",
            value=_shown(value),
        )
    return found, None


def plan_import(session: Session, organisation: Organisation, rows: list[RawRow]) -> ImportPlan:
    """Validate every row and decide its action; three queries whatever the size (four
    when the file names units)."""
    plan = ImportPlan()
    audiences = audience_lookup(session)
    audience_ids = {a.code: a.id for a in session.scalars(select(Audience))}
    units = unit_lookup(session, organisation.id) if any(r.unit.strip() for r in rows) else None
    checked: list[tuple[RawRow, tuple[str, str, str]]] = []
    unit_ids: dict[int, int | None] = {}  # row number -> unit named
    first_row: dict[str, int] = {}
    for raw in rows:
        values, problems = _check_row(raw, audiences)
        unit_ids[raw.number], unit_problem = _unit_of(raw, units)
        if unit_problem:
            problems.append(unit_problem)
        if values is not None and values[0] in first_row:
            problems.append(
                _(
                    "l'indirizzo %(email)s compare già alla riga %(row)d.",
                    email=values[0],
                    row=first_row[values[0]],
                )
            )
        plan.errors += [RowError(raw.number, p) for p in problems]
        if values is not None and not problems:
            first_row[values[0]] = raw.number
            checked.append((raw, values))
    emails = [values[0] for _raw, values in checked]
    users = (
        {u.email: u.id for u in session.scalars(select(User).where(User.email.in_(emails)))}
        if emails
        else {}
    )
    memberships: dict[int, list[Membership]] = {}
    if users:
        for m in session.scalars(select(Membership).where(Membership.user_id.in_(users.values()))):
            memberships.setdefault(m.user_id, []).append(m)
    for raw, (email, name, code) in checked:
        user_id = users.get(email)
        own = None
        elsewhere = False
        for m in memberships.get(user_id, []) if user_id else []:
            if m.organisation_id == organisation.id:
                own = m
            elif m.ended_at is None:
                elsewhere = True
        unit_id = unit_ids.get(raw.number)
        moves = unit_id is not None and (own is None or own.unit_id != unit_id)
        if user_id is None:
            action = Action.NEW
        elif own is None:
            action = Action.ADD
        elif own.ended_at is not None:
            action = Action.REACTIVATE
        elif own.audience_id != audience_ids[code]:
            action = Action.AUDIENCE
        elif moves:
            action = Action.UNIT
        else:
            action = Action.UNCHANGED
        plan.rows.append(
            PlannedRow(
                raw.number,
                email,
                name,
                code,
                action,
                elsewhere,
                user_id=user_id,
                membership_id=own.id if own is not None else None,
                unit_id=unit_id,
                moves_unit=moves,
            )
        )
    return plan


def apply_import(
    session: Session,
    organisation: Organisation,
    rows: list[RawRow],
    *,
    actor: User | None = None,
) -> ImportResult:
    """Plan again and apply every row, or nothing (raises ``ImportRefused``).

    A constant number of statements whatever the number of rows (issue 21): the plan's
    lookups, then one INSERT each for new accounts, new memberships and audit entries,
    one UPDATE for re-activations and one for profile changes, and, when the file names
    units, one UPDATE per unit named and one INSERT of their audit entries. Every change
    is audit-logged with ``actor`` (``membership.added``,
    ``membership.audience_changed``, ``organisations.member_placed``), as one by one.
    """
    plan = plan_import(session, organisation, rows)
    if not plan.ok:
        raise ImportRefused(plan)
    joining = [row for row in plan.rows if row.action in _JOINING]
    changing = [row for row in plan.rows if row.action is Action.AUDIENCE]
    moving = [row for row in plan.rows if row.moves_unit]
    if not joining and not changing and not moving:
        return ImportResult(plan, [])
    with session.begin_nested():
        added = add_members(
            session,
            organisation,
            [NewMember(row.email, row.full_name, row.audience_code) for row in joining],
            actor=actor,
        )
        change_audiences(
            session,
            organisation,
            [_audience_change(row) for row in changing],
            actor=actor,
            source="staff_import",
        )
        _place(session, organisation, moving, actor)
        session.flush()
    return ImportResult(plan, added.created)


def _place(
    session: Session, organisation: Organisation, rows: list[PlannedRow], actor: User | None
) -> None:
    """Put each row's person in the unit the file names: one UPDATE per unit."""
    if not rows:
        return
    by_unit: dict[int, list[str]] = {}
    for row in rows:
        assert row.unit_id is not None  # moves_unit implies a unit
        by_unit.setdefault(row.unit_id, []).append(row.email)
    for unit_id, emails in by_unit.items():
        session.execute(
            update(Membership)
            .where(
                Membership.organisation_id == organisation.id,
                Membership.user_id.in_(select(User.id).where(User.email.in_(emails))),
            )
            .values(unit_id=unit_id)
            .execution_options(synchronize_session=False)
        )
    session.expire_all()  # memberships loaded before the UPDATE show the new units
    # The new accounts' ids did not exist when planning: one look-up for the log.
    emails = [row.email for row in rows]
    found = session.execute(select(User.email, User.id).where(User.email.in_(emails)))
    user_ids = {email: user_id for email, user_id in found}
    audit.record_many(
        session,
        "organisations.member_placed",
        (
            audit.Item(
                object_id=user_ids.get(row.email),
                subject_id=user_ids.get(row.email),
                details={"to_unit_id": row.unit_id, "source": "staff_import"},
            )
            for row in rows
        ),
        actor=actor,
        organisation_id=organisation.id,
        object_type="user",
    )


_JOINING = (Action.NEW, Action.ADD, Action.REACTIVATE)


def _audience_change(row: PlannedRow) -> AudienceChange:
    assert row.membership_id is not None and row.user_id is not None  # planned: a member
    return AudienceChange(row.membership_id, row.user_id, row.audience_code)


# --- Carrying the rows from preview to confirmation -----------------------------------


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SIGNING_SALT)


def sign_rows(secret_key: str, organisation_id: int, user_id: int, rows: list[RawRow]) -> str:
    payload = {
        "org": organisation_id,
        "by": user_id,
        "rows": [[r.number, r.email, r.full_name, r.audience, r.unit] for r in rows],
    }
    return _serializer(secret_key).dumps(payload)


def read_signed_rows(
    secret_key: str,
    token: str,
    organisation_id: int,
    user_id: int,
    *,
    max_age: int = SIGNED_MAX_AGE,
) -> list[RawRow]:
    try:
        payload = _serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise ServiceError(_("L'anteprima è scaduta: carica di nuovo il file.")) from error
    except BadSignature as error:
        raise ServiceError(_("Dati dell'anteprima non validi: carica di nuovo il file.")) from error
    if payload.get("org") != organisation_id or payload.get("by") != user_id:
        raise ServiceError(_("Dati dell'anteprima non validi: carica di nuovo il file."))
    return [row_from_list(values) for values in payload["rows"]]


def row_from_list(values: list[object]) -> RawRow:
    """A row as signed or queued (number, e-mail, name, profile[, unit])."""
    number, email, full_name, audience, *rest = values
    unit = str(rest[0]) if rest else ""
    return RawRow(int(str(number)), str(email), str(full_name), str(audience), unit)
