"""The migrated schema and the models agree, on whichever database runs the suite."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

from lms.db import Base
from lms.migrate import VERSION_TABLE, current_heads


def test_autogenerate_finds_no_difference(app: Flask):
    engine = app.extensions["lms"].engine
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "version_table": VERSION_TABLE,
                "compare_type": True,
                "target_metadata": Base.metadata,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_schema_is_at_head_with_own_version_table(app: Flask):
    from alembic.script import ScriptDirectory

    from lms.migrate import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config(app)).get_heads())
    assert current_heads(app) == heads
    tables = set(inspect(app.extensions["lms"].engine).get_table_names())
    assert VERSION_TABLE in tables and "alembic_version" not in tables
    assert {"lms_user", "lms_organisation", "lms_membership", "lms_audience"} <= tables


def test_one_history_with_a_branch_per_plugin(app: Flask):
    """The contract (``lms.plugins``): every revision sits in ``migrations/versions``,
    and each loaded plugin's revisions start under a branch label of its name."""
    from pathlib import Path

    from alembic.script import ScriptDirectory

    from lms.migrate import MIGRATIONS_DIR, alembic_config

    revisions = list(ScriptDirectory.from_config(alembic_config(app)).walk_revisions())
    assert {Path(r.path).parent for r in revisions} == {MIGRATIONS_DIR / "versions"}
    labels = {label for r in revisions for label in r.branch_labels}
    assert {plugin.name for plugin in app.extensions["lms"].plugins} <= labels


def test_database_constraints_hold_without_python(app: Flask):
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from lms import db

    insert = text(
        "INSERT INTO lms_user (email, full_name, locale, active, session_token, "
        "created_at) VALUES (:email, 'X', :locale, :active, 't', :now)"
    )
    from lms import clock

    now = clock.now().replace(tzinfo=None)
    cases = [
        {"email": "UPPER@rete-milano.test", "locale": "it"},  # not lower-cased
        {"email": "x@rete-milano.test", "locale": "fr"},  # unsupported locale
    ]
    for values in cases:
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(insert, {**values, "active": True, "now": now})
    db.session.execute(
        insert, {"email": "dup@rete-milano.test", "locale": "it", "active": True, "now": now}
    )
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            insert, {"email": "dup@rete-milano.test", "locale": "it", "active": True, "now": now}
        )
