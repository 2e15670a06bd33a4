"""What a reader may see of an organisation's named staff: the whole of it, or the people
placed in some of its units (:class:`StaffScope`), and the subtrees that define it.

Kept apart from :mod:`lms.organisations.units` (which writes, and audits) so that the
policy, which the audit log itself consults, depends on reading only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from lms.organisations.models import Membership, OrganisationUnit


@dataclass(frozen=True)
class StaffScope:
    """Whose named data a reader may see in one organisation: everyone (``unit_ids`` is
    None) or the people placed in these units (a unit referent's units and their
    subtrees, or the unit an organisation referent chose to read)."""

    organisation_id: int
    unit_ids: frozenset[int] | None = None

    @property
    def whole_organisation(self) -> bool:
        return self.unit_ids is None

    def memberships(self) -> ColumnElement[bool]:
        """The condition on ``Membership`` that keeps the people of this scope."""
        in_organisation = Membership.organisation_id == self.organisation_id
        if self.unit_ids is None:
            return in_organisation
        return and_(in_organisation, Membership.unit_id.in_(sorted(self.unit_ids)))

    def narrowed_to(self, unit_ids: Iterable[int]) -> StaffScope:
        """This scope limited to ``unit_ids`` (never wider than it was)."""
        wanted = frozenset(unit_ids)
        return StaffScope(
            self.organisation_id, wanted if self.unit_ids is None else wanted & self.unit_ids
        )


def subtree_ids(session: Session, unit_ids: Iterable[int]) -> frozenset[int]:
    """The units given and every unit below them."""
    paths = list(
        session.scalars(
            select(OrganisationUnit.path).where(OrganisationUnit.id.in_(list(unit_ids)))
        )
    )
    if not paths:
        return frozenset()
    below = select(OrganisationUnit.id).where(
        or_(*[OrganisationUnit.path.startswith(path, autoescape=True) for path in paths])
    )
    return frozenset(session.scalars(below))
