"""Every row that points at an organisation, found from the metadata, and how to point
it at another one (:mod:`lms.organisations.merging`).

The core's and the plugins' tables alike: every single-column foreign key to
``lms_organisation.id``. Where a unique constraint (or index, or primary key) would let
a moved row repeat one of the target's, the foreign key's declared ``ondelete`` says
what the table's owner accepts losing: CASCADE rows are dropped (the target's stands),
SET NULL rows are detached, RESTRICT refuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    Column,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from lms.db import Base
from lms.errors import ServiceError

ORGANISATION_KEY = "lms_organisation.id"
UNIT_KEY = "lms_org_unit.id"


class Handling:
    DROP = "drop"  # colliding rows deleted: their foreign key cascades on delete
    DETACH = "detach"  # colliding rows lose the organisation: SET NULL on delete
    REFUSE = "refuse"  # RESTRICT: the merge cannot decide for the table's owner


@dataclass(frozen=True)
class Reference:
    """A column pointing at organisations, with what its table's unique sets need."""

    table: Table
    column: Column[Any]
    ondelete: str
    unique_sets: tuple[tuple[Column[Any], ...], ...]  # the other columns of each set
    unit_column: Column[Any] | None  # a column pointing at units, if the table has one

    @property
    def handling(self) -> str:
        if self.ondelete == "CASCADE":
            return Handling.DROP
        if self.ondelete == "SET NULL" and self.column.nullable:
            return Handling.DETACH
        return Handling.REFUSE


def organisation_references(tables: Iterable[Table] | None = None) -> list[Reference]:
    """Every single-column foreign key to ``lms_organisation.id`` in the metadata."""
    found = []
    for table in tables if tables is not None else Base.metadata.sorted_tables:
        units = [fk.parent for fk in table.foreign_keys if fk.target_fullname == UNIT_KEY]
        for fk in table.foreign_keys:
            if fk.target_fullname != ORGANISATION_KEY:
                continue
            if len(fk.constraint.elements) != 1:  # type: ignore[union-attr]
                raise ServiceError(
                    _("La tabella %(table)s ha una chiave composta verso gli enti.", table=table)
                )
            column = fk.parent
            sets = [list(c.columns) for c in table.constraints if _unique(c)] + [
                list(i.columns) for i in table.indexes if i.unique
            ]
            found.append(
                Reference(
                    table=table,
                    column=column,
                    ondelete=(fk.ondelete or "NO ACTION").upper(),
                    unique_sets=tuple(
                        tuple(c for c in cols if c is not column)
                        for cols in sets
                        if any(c is column for c in cols)
                    ),
                    unit_column=units[0] if len(units) == 1 else None,
                )
            )
    return found


def _unique(constraint: Any) -> bool:
    return isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)


def collisions(ref: Reference, others: tuple[Column[Any], ...], absorbed: int, target: int) -> Any:
    """The condition on ``ref.table`` of the absorbed's rows that, moved, would repeat a
    row of the target's in this unique set (NULLs never collide)."""
    twin = ref.table.alias("twin")
    same = [twin.c[ref.column.name] == target] + [twin.c[o.name] == o for o in others]
    return (ref.column == absorbed) & exists(select(1).select_from(twin).where(*same))


def repoint(
    session: Session, references: Iterable[Reference], absorbed: int, target: int, unit: int
) -> tuple[int, dict[str, int]]:
    """Point the rows of ``references`` at ``absorbed`` to ``target`` (those without a
    unit to ``unit``), after resolving unique collisions by each key's ``handling``.
    Returns the colliding rows dropped or detached, and the rows moved per table."""
    dropped = 0
    moved: dict[str, int] = {}
    for ref in references:
        for others in ref.unique_sets:
            colliding = collisions(ref, others, absorbed, target)
            if ref.handling == Handling.DROP:
                result = session.execute(delete(ref.table).where(colliding))
            elif ref.handling == Handling.DETACH:
                result = session.execute(
                    update(ref.table).where(colliding).values({ref.column.name: None})
                )
            else:  # the plan refused already; a row that appeared since refuses now
                if session.scalar(select(func.count()).select_from(ref.table).where(colliding)):
                    raise ServiceError(
                        _(
                            "Righe della tabella %(table)s coincidono con quelle dell'ente di "
                            "destinazione: risolvi prima a mano.",
                            table=ref.table.name,
                        )
                    )
                continue
            dropped += result.rowcount or 0  # type: ignore[attr-defined]
        values: dict[str, Any] = {ref.column.name: target}
        if ref.unit_column is not None:  # rows about the organisation as a whole
            values[ref.unit_column.name] = func.coalesce(ref.unit_column, unit)
        result = session.execute(update(ref.table).where(ref.column == absorbed).values(values))
        if result.rowcount:  # type: ignore[attr-defined]
            moved[ref.table.name] = result.rowcount  # type: ignore[attr-defined]
    return dropped, moved
