"""Alembic environment: run through ``lms db ...`` / ``lms init-db``.

The engine comes from the LMS app (``config.attributes["engine"]``); when the
``alembic`` command is used directly, the app is built from the environment.
"""

from __future__ import annotations

from alembic import context

from lms.db import Base
from lms.migrate import VERSION_TABLE

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line
    from lms import create_app

    engine = create_app().extensions["lms"].engine


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    # Tables of a host application sharing the database are not ours to manage.
    if type_ == "table" and reflected and compare_to is None:
        return bool(name and name.startswith("lms_") and name != VERSION_TABLE)
    return True


def run_migrations() -> None:
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `lms db upgrade`")
run_migrations()
