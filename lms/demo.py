"""Demo staff: a few dozen fictitious people in two organisations, so that the referents'
dashboards, charts and exports of ``lms demo`` show something.

The names are invented (marked "(demo)"); the addresses are in the reserved ``.test``
domain. Each person gets a *scenario* (see :data:`SCENARIOS`) that the plugins' own
demo modules play out (``commitments/demo.py``: enrolments, progress, quizzes,
questionnaires and certificates). Memberships are dated back so that the coverage trend
has staff in scope in the past months.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms import clock
from lms.accounts.models import User
from lms.organisations.services import add_member, organisation_by_code

DOMAIN = "rete-milano.test"

#: The story of each person, in the order assigned within an organisation.
SCENARIOS = (
    "not_enrolled",
    "not_started",
    "in_progress",
    "complete",
    "expiring",
    "expired",
)

FIRST_NAMES = (
    "Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro", "Sara", "Davide",
    "Martina", "Matteo", "Elena", "Andrea", "Valentina", "Simone", "Federica", "Stefano",
    "Silvia", "Paolo", "Laura", "Roberto", "Alessia", "Giorgio", "Ilaria", "Fabio",
    "Beatrice", "Nicola", "Anna", "Riccardo", "Paola", "Lorenzo", "Marta", "Emanuele",
    "Roberta", "Daniele", "Serena", "Massimo", "Claudia", "Gabriele", "Monica", "Tommaso",
)  # fmt: skip
LAST_NAMES = (
    "Colombo", "Ferrari", "Rossi", "Russo", "Bianchi", "Romano", "Galli", "Conti",
    "Fontana", "Ricci", "Villa", "Marino", "Greco", "Bruno", "Moretti", "Barbieri",
    "Lombardi", "Mariani", "Rinaldi", "Longo", "Caruso", "Sala", "Cattaneo", "Brambilla",
    "Pellegrini", "Vitale", "Riva", "Fumagalli", "Ferri", "Mauri", "Bassi", "Rizzi",
    "Monti", "Gatti", "Testa", "Costa", "Mancini", "Orlando", "De Luca", "Sironi",
)  # fmt: skip


@dataclass(frozen=True)
class StaffPlan:
    """How many people of each scenario an organisation's demo staff has."""

    org_code: str
    audience: str
    tag: str  # in the e-mail addresses: giulia.colombo.pl@...
    counts: tuple[tuple[str, int], ...]

    @property
    def size(self) -> int:
        return sum(n for _s, n in self.counts)


PLANS = (
    StaffPlan(
        "CDM-PL-NTDM",
        "polizia_locale",
        "pl",
        (
            ("not_enrolled", 4),
            ("not_started", 5),
            ("in_progress", 7),
            ("complete", 17),
            ("expiring", 3),
            ("expired", 4),
        ),
    ),
    StaffPlan(
        "ASST-NIGUARDA",
        "triage_asst",
        "asst",
        (
            ("not_enrolled", 3),
            ("not_started", 3),
            ("in_progress", 5),
            ("complete", 10),
            ("expiring", 2),
            ("expired", 2),
        ),
    ),
)

#: Memberships start this long before today: older than the oldest demo completion.
MEMBER_SINCE = dt.timedelta(days=4 * 365)


@dataclass(frozen=True)
class DemoPerson:
    email: str
    full_name: str
    org_code: str
    audience: str
    scenario: str
    index: int  # position within its scenario, to spread dates


def staff(plan: StaffPlan) -> list[DemoPerson]:
    """The plan's people, always the same names in the same order."""
    people: list[DemoPerson] = []
    offset = 0 if plan.tag == "pl" else 17  # the two organisations share no names
    number = 0
    for scenario, count in plan.counts:
        for index in range(count):
            first = FIRST_NAMES[(number + offset) % len(FIRST_NAMES)]
            last = LAST_NAMES[(number * 7 + offset) % len(LAST_NAMES)]
            local = f"{first}.{last}".lower().replace(" ", "")
            people.append(
                DemoPerson(
                    email=f"{local}.{plan.tag}@{DOMAIN}",
                    full_name=f"{first} {last} (demo)",
                    org_code=plan.org_code,
                    audience=plan.audience,
                    scenario=scenario,
                    index=index,
                )
            )
            number += 1
    return people


def all_staff() -> list[DemoPerson]:
    return [person for plan in PLANS for person in staff(plan)]


def load_staff(session: Session) -> Iterable[str]:
    """Create the demo staff once (accounts without a password: they never sign in)."""
    people = all_staff()
    existing = set(
        session.scalars(select(User.email).where(User.email.in_([p.email for p in people])))
    )
    created = 0
    with clock.frozen(clock.now() - MEMBER_SINCE):
        for person in people:
            if person.email in existing:
                continue
            add_member(
                session,
                organisation_by_code(session, person.org_code),
                email=person.email,
                full_name=person.full_name,
                audience_code=person.audience,
            )
            created += 1
    sizes = ", ".join(f"{plan.org_code} {plan.size}" for plan in PLANS)
    return [f"Personale dimostrativo ({sizes}): {created} persone nuove."]


#: Units of the demo (issue 18): an ASST's department, where its demo triage staff work,
#: and two schools under the Ufficio Scolastico. Names marked as demo: no real structure.
DEMO_UNITS = (
    ("ASST-NIGUARDA", "Pronto soccorso (demo)"),
    ("ASST-NIGUARDA", "Ostetricia e ginecologia (demo)"),
    ("UST-MI", "Istituto comprensivo Demo 1"),
    ("UST-MI", "Istituto comprensivo Demo 2"),
)
#: Where the organisations' demo staff work.
STAFF_UNITS = {"ASST-NIGUARDA": "Pronto soccorso (demo)"}
#: Referents of one unit: e-mail, name, organisation, profile, unit.
UNIT_REFERENTS = (
    (
        f"referente.ps@{DOMAIN}",
        "Referente Pronto Soccorso Demo",
        "ASST-NIGUARDA",
        "triage_asst",
        "Pronto soccorso (demo)",
    ),
    (
        f"dirigente.scuola1@{DOMAIN}",
        "Dirigente Scolastica Demo",
        "UST-MI",
        "scuola",
        "Istituto comprensivo Demo 1",
    ),
)


def load_units(session: Session, password: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Create the demo units, place the demo staff and the unit referents (idempotent).

    Returns lines to print and the unit referents' accounts (e-mail, role, organisation)
    for the list of demo accounts."""
    from lms.accounts.services import create_user, get_user_by_email
    from lms.organisations.models import Membership, OrganisationUnit
    from lms.organisations.units import create_unit

    found: dict[tuple[str, str], OrganisationUnit] = {}
    created = 0
    for org_code, name in DEMO_UNITS:
        organisation = organisation_by_code(session, org_code)
        unit = session.scalar(
            select(OrganisationUnit).where(
                OrganisationUnit.organisation_id == organisation.id,
                OrganisationUnit.name == name,
            )
        )
        if unit is None:
            unit = create_unit(session, organisation, name)
            created += 1
        found[org_code, name] = unit
    for person in all_staff():
        unit_name = STAFF_UNITS.get(person.org_code)
        if unit_name is None:
            continue
        membership = session.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(User.email == person.email)
        )
        if membership is not None and membership.unit_id is None:
            membership.unit_id = found[person.org_code, unit_name].id
    accounts = []
    for email, name, org_code, audience, unit_name in UNIT_REFERENTS:
        if get_user_by_email(session, email) is None:
            create_user(session, email, name, password=password)
            membership, _created = add_member(
                session,
                organisation_by_code(session, org_code),
                email=email,
                full_name=name,
                audience_code=audience,
            )
            membership.unit_id = found[org_code, unit_name].id
            membership.is_referent = True
        accounts.append((email, f"referente di {unit_name}", org_code))
    lines = [f"Unità dimostrative: {created} nuove."]
    lines += _open_registration(session)
    return lines, accounts


#: Self-registration open in the demo: the school staff of the Ufficio Scolastico, with
#: addresses of this domain, ask to join and the school's referent approves.
REGISTRATION_DEMO = ("UST-MI", "scuole-demo.test")


def _open_registration(session: Session) -> list[str]:
    from lms.registration.rules import rule_of, update_rule

    org_code, domain = REGISTRATION_DEMO
    organisation = organisation_by_code(session, org_code)
    if rule_of(session, organisation.id) is None:
        update_rule(
            session, organisation, enabled=True, domains=[domain], auto_approve_domain=False
        )
    return [
        f"Registrazione autonoma aperta per {organisation.name} (indirizzi @{domain}, "
        "approvazione del referente)."
    ]
