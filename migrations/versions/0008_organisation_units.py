"""lms_org_unit: organisations' units in a tree; memberships placed in a unit

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Existing memberships keep ``unit_id`` NULL: the person belongs to the organisation as a
whole, as before, and every existing referent stays a referent of the whole
organisation. Nothing is lost or moved.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_org_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_lms_org_unit_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["lms_organisation.id"],
            name=op.f("fk_lms_org_unit_organisation_id_lms_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["lms_org_unit.id"],
            name=op.f("fk_lms_org_unit_parent_id_lms_org_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_org_unit")),
    )
    op.create_index(
        op.f("ix_lms_org_unit_organisation_id"), "lms_org_unit", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_lms_org_unit_parent_id"), "lms_org_unit", ["parent_id"], unique=False)
    op.create_index(op.f("ix_lms_org_unit_path"), "lms_org_unit", ["path"], unique=False)
    with op.batch_alter_table("lms_membership", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_lms_membership_unit_id"), ["unit_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_lms_membership_unit_id_lms_org_unit"),
            "lms_org_unit",
            ["unit_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("lms_membership", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_lms_membership_unit_id_lms_org_unit"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_lms_membership_unit_id"))
        batch_op.drop_column("unit_id")
    op.drop_index(op.f("ix_lms_org_unit_path"), table_name="lms_org_unit")
    op.drop_index(op.f("ix_lms_org_unit_parent_id"), table_name="lms_org_unit")
    op.drop_index(op.f("ix_lms_org_unit_organisation_id"), table_name="lms_org_unit")
    op.drop_table("lms_org_unit")
