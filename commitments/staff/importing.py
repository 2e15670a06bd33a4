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
from sqlalchemy import select
from sqlalchemy.orm import Session

from commitments.staff.files import RawRow, normalise_header
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


def plan_import(session: Session, organisation: Organisation, rows: list[RawRow]) -> ImportPlan:
    """Validate every row and decide its action; three queries whatever the size."""
    plan = ImportPlan()
    audiences = audience_lookup(session)
    audience_ids = {a.code: a.id for a in session.scalars(select(Audience))}
    checked: list[tuple[RawRow, tuple[str, str, str]]] = []
    first_row: dict[str, int] = {}
    for raw in rows:
        values, problems = _check_row(raw, audiences)
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
        if user_id is None:
            action = Action.NEW
        elif own is None:
            action = Action.ADD
        elif own.ended_at is not None:
            action = Action.REACTIVATE
        elif own.audience_id != audience_ids[code]:
            action = Action.AUDIENCE
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
    one UPDATE for re-activations and one for profile changes. Every change is
    audit-logged with ``actor`` (``membership.added`` and
    ``membership.audience_changed``), as one by one.
    """
    plan = plan_import(session, organisation, rows)
    if not plan.ok:
        raise ImportRefused(plan)
    joining = [row for row in plan.rows if row.action in _JOINING]
    changing = [row for row in plan.rows if row.action is Action.AUDIENCE]
    if not joining and not changing:
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
        session.flush()
    return ImportResult(plan, added.created)


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
        "rows": [[r.number, r.email, r.full_name, r.audience] for r in rows],
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
    return [RawRow(int(n), str(e), str(f), str(a)) for n, e, f, a in payload["rows"]]
