"""Staff import in bulk statements (issue 21): the same rows, audit entries and results as
one by one, a number of statements that does not grow with the rows, and slices that a
job may apply twice (a resumed attempt) without harm."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from commitments.staff import importing as staff_import
from commitments.staff.files import RawRow
from commitments.staff.importing import Action
from lms import db
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.errors import ServiceError
from lms.organisations.models import Membership
from lms.organisations.services import (
    NewMember,
    add_members,
    end_membership,
    organisation_by_code,
)
from tests.commitments.helpers import ASST, PL, count_statements, org_id
from tests.conftest import membership


def new_rows(count: int, *, start: int = 0, prefix: str = "nuova") -> list[RawRow]:
    return [
        RawRow(n + 2, f"{prefix}{n}@bulk.test", f"Persona Nuova {n}", "polizia_locale")
        for n in range(start, start + count)
    ]


def entries(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def test_every_action_applied_with_its_audit_entry(ctx, make_user):
    referent = make_user(org=PL, referent=True, audience="amministrazione")
    former = make_user(org=PL, name="Ex Collega", email="ex@bulk.test")
    current = make_user(org=PL, name="Attuale", email="attuale@bulk.test")
    same = make_user(org=PL, name="Uguale", email="uguale@bulk.test")
    elsewhere = make_user(org=ASST, name="Altrove", email="altrove@bulk.test", audience="scuola")
    end_membership(db.session, org_id(PL), former.id)
    db.session.commit()
    former_row = membership(former, PL)  # loaded: must not stay stale after the bulk UPDATE
    current_row = membership(current, PL)
    before = {a: len(entries(a)) for a in ("membership.added", "membership.audience_changed")}
    organisation = organisation_by_code(db.session, PL)
    rows = [
        RawRow(2, "Nuova.Persona@Bulk.test", "Nuova Persona", "polizia_locale"),
        RawRow(3, "ex@bulk.test", "Ex Collega", "scuola"),
        RawRow(4, "attuale@bulk.test", "Attuale", "scuola"),
        RawRow(5, "altrove@bulk.test", "Altrove", "polizia_locale"),
        RawRow(6, "uguale@bulk.test", "Uguale", "polizia_locale"),
    ]
    result = staff_import.apply_import(db.session, organisation, rows, actor=referent)
    assert [r.action for r in result.plan.rows] == [
        Action.NEW,
        Action.REACTIVATE,
        Action.AUDIENCE,
        Action.ADD,
        Action.UNCHANGED,
    ]
    new = db.session.scalar(select(User).where(User.email == "nuova.persona@bulk.test"))
    assert new is not None and new.full_name == "Nuova Persona" and new.locale == "it"
    assert result.invited == [new] and result.invited_ids == [new.id]
    # Seen in the same session, before any commit.
    assert former_row.ended_at is None and former_row.audience.code == "scuola"
    assert current_row.audience.code == "scuola"
    db.session.commit()
    assert membership(former, PL).id == former_row.id  # the same row: history kept
    assert membership(elsewhere, PL).ended_at is None
    assert membership(elsewhere, ASST).ended_at is None
    assert membership(new, PL).audience.code == "polizia_locale"
    assert membership(same, PL).audience.code == "polizia_locale"

    added = entries("membership.added")[before["membership.added"] :]
    assert {
        (e.subject_id, e.object_type, e.object_id, e.actor_id, e.actor_role, e.organisation_id)
        for e in added
    } == {
        (user.id, "membership", str(membership(user, PL).id), referent.id, "referent", org_id(PL))
        for user in (new, former, elsewhere)
    }
    assert {e.subject_id: e.details for e in added} == {
        new.id: {"audience": "polizia_locale", "referent": False, "new_account": True},
        former.id: {"audience": "scuola", "referent": False, "new_account": False},
        elsewhere.id: {"audience": "polizia_locale", "referent": False, "new_account": False},
    }
    changed = entries("membership.audience_changed")[before["membership.audience_changed"] :]
    assert [(e.subject_id, e.object_id, e.actor_role, e.details) for e in changed] == [
        (
            current.id,
            str(current_row.id),
            "referent",
            {"audience": "scuola", "source": "staff_import"},
        )
    ]


def test_a_slice_applied_twice_changes_nothing_the_second_time(ctx, make_user):
    """A job commits slice by slice; a resumed attempt may apply a committed slice again."""
    referent = make_user(org=PL, referent=True, audience="amministrazione")
    organisation = organisation_by_code(db.session, PL)
    rows = new_rows(6)
    first = staff_import.apply_import(db.session, organisation, rows[:3], actor=referent)
    db.session.commit()
    assert len(first.invited_ids) == 3
    users = db.session.scalar(select(func.count(User.id)))
    members = db.session.scalar(select(func.count(Membership.id)))
    logged = db.session.scalar(select(func.count(AuditEntry.id)))

    again = staff_import.apply_import(db.session, organisation, rows[:3], actor=referent)
    db.session.commit()
    assert [r.action for r in again.plan.rows] == [Action.UNCHANGED] * 3
    assert again.invited == [] and again.invited_ids == []
    assert db.session.scalar(select(func.count(User.id))) == users
    assert db.session.scalar(select(func.count(Membership.id))) == members
    assert db.session.scalar(select(func.count(AuditEntry.id))) == logged

    rest = staff_import.apply_import(db.session, organisation, rows[3:], actor=referent)
    db.session.commit()
    assert len(rest.invited_ids) == 3
    whole = staff_import.plan_import(db.session, organisation, rows)
    assert whole.counts[Action.UNCHANGED] == 6 and whole.changes == 0


def test_a_refused_plan_writes_nothing(ctx):
    organisation = organisation_by_code(db.session, PL)
    rows = [*new_rows(2), RawRow(9, "non-una-email", "Tre", "scuola")]
    users = db.session.scalar(select(func.count(User.id)))
    try:
        staff_import.apply_import(db.session, organisation, rows)
    except staff_import.ImportRefused as refused:
        assert len(refused.plan.errors) == 1
    else:
        raise AssertionError("the import should have been refused")
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == users


def _statements(app, organisation, rows: list[RawRow]) -> int:
    with count_statements(app) as counter:
        result = staff_import.apply_import(db.session, organisation, rows)
    assert len(result.invited_ids) == len(rows)
    db.session.commit()
    return counter.count


def test_statements_do_not_grow_with_the_rows(app, ctx, make_user):
    """New accounts, memberships, re-activations and profile changes: the same number of
    statements for 50 rows as for 500 (each bulk INSERT is one statement up to SQLAlchemy's
    page of rows, far above 500)."""
    organisation = organisation_by_code(db.session, PL)
    db.session.scalar(select(func.count(User.id)))  # the session's first query, not counted
    small = _statements(app, organisation, new_rows(50, prefix="piccolo"))
    large = _statements(app, organisation, new_rows(500, prefix="grande"))
    assert small == large, (small, large)
    assert large <= 15

    # Reactivations and profile changes too: end 50 (then 500) and change another 50 (500).
    def mixed(prefix: str, count: int) -> int:
        ids = list(
            db.session.scalars(select(User.id).where(User.email.like(f"{prefix}%@bulk.test")))
        )
        for user_id in ids[: count // 2]:
            end_membership(db.session, organisation.id, user_id)
        db.session.commit()
        rows = [
            RawRow(n + 2, f"{prefix}{n}@bulk.test", f"Persona Nuova {n}", "scuola")
            for n in range(count)
        ]
        with count_statements(app) as counter:
            result = staff_import.apply_import(db.session, organisation, rows)
        counts = result.plan.counts
        assert counts[Action.REACTIVATE] == counts[Action.AUDIENCE] == count // 2
        db.session.commit()
        return counter.count

    assert mixed("piccolo", 50) == mixed("grande", 500)


def test_add_members_refuses_the_whole_batch_for_a_current_member_or_a_duplicate(ctx, make_user):
    current = make_user(org=PL, email="gia.qui@bulk.test")
    organisation = organisation_by_code(db.session, PL)
    users = db.session.scalar(select(func.count(User.id)))
    for people, message in (
        (
            [
                NewMember("nuova@bulk.test", "Nuova", "scuola"),
                NewMember(current.email, "Già Qui", "scuola"),
            ],
            "fa già parte di questa organizzazione",
        ),
        (
            [
                NewMember("doppia@bulk.test", "Doppia", "scuola"),
                NewMember("Doppia@Bulk.test", "Doppia", "scuola"),
            ],
            "doppia@bulk.test compare due volte",
        ),
        ([NewMember("altra@bulk.test", "Altra", "vigili")], "Pubblico sconosciuto: vigili"),
    ):
        with pytest.raises(ServiceError, match=message):
            add_members(db.session, organisation, people)
        db.session.rollback()
        assert db.session.scalar(select(func.count(User.id))) == users
