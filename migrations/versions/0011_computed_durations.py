"""courses: durations computed from the content; declared durations optional

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

A module's duration is computed from its lesson by the ECM rule for e-learning
(courses/durations.py): 10 minutes per 6,000 characters, 2 minutes per table or image.
Declared minutes and hours become optional (the importer caps them at the computed
duration + 50 %); 0 stands for "none declared", so the columns stay NOT NULL: on SQLite,
changing that would rebuild the tables, and dropping the old courses_version or
courses_module cascades to the rows that reference them (progress, quizzes). Existing
modules are measured here from their stored lesson HTML, with a frozen copy of the rule
so that this revision never changes with the code. Only columns are added or dropped
(ALTER TABLE on both databases; SQLite 3.35 or later for the downgrade).
"""

from __future__ import annotations

import math
from fractions import Fraction
from html.parser import HTMLParser

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BLOCKS = {"p", "li", "dt", "dd", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "div", "br"}


class _Lesson(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.items = 0  # tables and images, 2 minutes each
        self.in_table = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.items += not self.in_table
            self.in_table += 1
        elif tag == "img":
            self.items += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.in_table:
            self.in_table -= 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.in_table:
            self.parts.append(data)


def _minutes(html: str) -> int:
    parser = _Lesson()
    parser.feed(html or "")
    parser.close()
    characters = len(" ".join("".join(parser.parts).split()))
    return math.ceil(Fraction(characters, 600) + 2 * parser.items)


def upgrade() -> None:
    for table in ("courses_module", "courses_version"):
        op.add_column(
            table, sa.Column("computed_minutes", sa.Integer(), server_default="0", nullable=False)
        )
    module = sa.table(
        "courses_module",
        sa.column("id", sa.Integer),
        sa.column("version_id", sa.Integer),
        sa.column("body_html", sa.Text),
        sa.column("computed_minutes", sa.Integer),
    )
    version = sa.table(
        "courses_version", sa.column("id", sa.Integer), sa.column("computed_minutes", sa.Integer)
    )
    bind = op.get_bind()
    for module_id, html in bind.execute(sa.select(module.c.id, module.c.body_html)).all():
        bind.execute(
            module.update().where(module.c.id == module_id).values(computed_minutes=_minutes(html))
        )
    total = (
        sa.select(sa.func.coalesce(sa.func.sum(module.c.computed_minutes), 0))
        .where(module.c.version_id == version.c.id)
        .scalar_subquery()
    )
    op.execute(version.update().values(computed_minutes=total))


def downgrade() -> None:
    module = sa.table(
        "courses_module",
        sa.column("estimated_minutes", sa.Integer),
        sa.column("computed_minutes", sa.Integer),
    )
    version = sa.table(
        "courses_version",
        sa.column("estimated_hours", sa.Numeric(6, 2)),
        sa.column("computed_minutes", sa.Integer),
    )
    # The older code requires a declaration: the computed value (at least 1 minute).
    at_least_one = sa.case((module.c.computed_minutes < 1, 1), else_=module.c.computed_minutes)
    op.execute(
        module.update()
        .where(module.c.estimated_minutes == 0)
        .values(estimated_minutes=at_least_one)
    )
    op.execute(
        version.update()
        .where(version.c.estimated_hours == 0)
        .values(estimated_hours=sa.cast(version.c.computed_minutes, sa.Numeric(6, 2)) / 60)
    )
    op.drop_column("courses_version", "computed_minutes")
    op.drop_column("courses_module", "computed_minutes")
