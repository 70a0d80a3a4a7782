"""Alembic environment: migrate the portal's database, from the CLI or the test suite."""

from __future__ import annotations

from logging.config import fileConfig

from sqlalchemy.engine import Connection

from alembic import context
from portal.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # given by portal.migrations (init-db, tests)
        run_migrations(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    from portal import create_app
    from portal.db import database

    app = create_app()
    with database(app).engine.begin() as connection:
        run_migrations(connection)


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_online()
