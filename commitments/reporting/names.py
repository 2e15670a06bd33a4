"""Name keys: each person's name as the staff matrix sorts and searches it.

The matrix sorts names by ``str.casefold`` (then id) in Python; SQL's ``lower`` folds
differently (SQLite: ASCII only), so the folded name is stored per person
(``commitments_name_key``) and compared byte-wise (``COLLATE "C"`` on PostgreSQL), as
Python compares code points. The keys are written in the transaction that creates or
renames a person, before it commits (or before a read of the standings in it), by
hooks on the sessions of every app: a key depends on the person's row alone, and users
are also created outside any app (tests, scripts). Users written with bulk statements
are caught too; rows written around the session are not, and the matrix then takes
the exact path (``reporting.matrix.sql_page`` returns None) until a rebuild.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.orm import Session

from commitments.models import NameKey
from lms.accounts.models import User

PENDING_KEY = "commitments_names_pending"
CHUNK = 2_000
_USER_TABLE = {User.__table__}  # a set: an ORM statement's table is an annotated copy


def name_key(full_name: str) -> str:
    """How the staff matrix sorts and searches names, in Python and (stored) in SQL."""
    return full_name.casefold()


def _insert(session: Session, people: list[Any]) -> None:
    rows = [{"user_id": i, "name_key": name_key(n)} for i, n in people]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(NameKey), rows[start : start + CHUNK])


def sync(session: Session, user_ids: Collection[int] | None = None) -> None:
    """Rewrite the name keys of these people (None: everyone's)."""
    stmt = select(User.id, User.full_name)
    if user_ids is None:
        session.execute(delete(NameKey))
    else:
        ids = sorted(user_ids)
        session.execute(delete(NameKey).where(NameKey.user_id.in_(ids)))
        stmt = stmt.where(User.id.in_(ids))
    _insert(session, list(session.execute(stmt)))


def add_missing(session: Session) -> None:
    """Keys for the people who have none (users inserted in bulk)."""
    has_key = select(NameKey.user_id).where(NameKey.user_id == User.id).exists()
    _insert(session, list(session.execute(select(User.id, User.full_name).where(~has_key))))


def _pending(session: Session) -> dict[str, Any]:
    return session.info.setdefault(PENDING_KEY, {"ids": set(), "missing": False, "all": False})


def note_flush(session: Session, _context: Any) -> None:
    """after_flush: people created or renamed."""
    ids: set[int] = set()
    for instance in session.new:
        if isinstance(instance, User):
            ids.add(instance.id)
    for instance in session.dirty:
        if isinstance(instance, User) and inspect(instance).attrs.full_name.history.has_changes():
            ids.add(instance.id)
    if ids:
        _pending(session)["ids"].update(ids)


def note_bulk(state: Any) -> None:
    """do_orm_execute: users inserted in bulk need keys; names updated in bulk new ones."""
    if not (state.is_insert or state.is_update):
        return
    if getattr(state.statement, "table", None) not in _USER_TABLE:
        return
    if state.is_insert:
        _pending(state.session)["missing"] = True
    elif "full_name" in str(state.statement) or any(
        "full_name" in row for row in _parameter_rows(state.parameters)
    ):
        _pending(state.session)["all"] = True


def _parameter_rows(parameters: Any) -> Iterable[Any]:
    return parameters if isinstance(parameters, list) else [parameters or {}]


def write_pending(session: Session) -> None:
    """Write the keys this transaction's changes call for (before commit or a read)."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # before_commit runs before commit's own flush: note its changes
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    if pending["all"]:
        sync(session)
        return
    if pending["missing"]:
        add_missing(session)
    if pending["ids"]:
        sync(session, pending["ids"])


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING_KEY, None)


def install(session_class: type[Session]) -> None:
    """Hooks on ``session_class`` (the base class of every app's sessions), once."""
    if event.contains(session_class, "after_flush", note_flush):
        return
    event.listen(session_class, "after_flush", note_flush)
    event.listen(session_class, "do_orm_execute", note_bulk)
    event.listen(session_class, "before_commit", write_pending)
    event.listen(session_class, "after_rollback", _forget)
