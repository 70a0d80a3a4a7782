"""Run Alembic against the app's engine (init-db, tests) and compare schema to models."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine

from alembic import command

from .config import ROOT
from .models import Base


def alembic_config(engine: Engine) -> tuple[Config, Any]:
    """An Alembic config pointing at our scripts, and a connection to run it on."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    connection = engine.connect()
    config.attributes["connection"] = connection
    return config, connection


def _run(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config, connection = alembic_config(engine)
    sqlite = engine.dialect.name == "sqlite"
    try:
        if sqlite:
            # SQLite rebuilds a table to alter it (a batch migration); with foreign keys on, it
            # refuses to drop a table that other rows point at. Its documented procedure
            # (lang_altertable.html, "other kinds of table schema changes"): keys off outside
            # the transaction, change, check every key, commit, keys on again.
            _foreign_keys(connection, on=False)
        with connection.begin():
            step(config, revision)
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left foreign keys broken: {broken[:5]}")
    finally:
        if sqlite:
            _foreign_keys(connection, on=True)
        connection.close()


def _foreign_keys(connection: Any, *, on: bool) -> None:
    """Turn SQLite's foreign keys on or off (only outside a transaction does it take effect)."""
    dbapi = connection.connection.dbapi_connection
    dbapi.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision``."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to ``revision``."""
    _run(engine, command.downgrade, revision)


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of our migrations (a newer release's is not)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has no schema yet."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_differences(engine: Engine) -> list[Any]:
    """What autogenerate would change to make the database match the models (ideally none)."""
    with engine.connect() as connection, warnings.catch_warnings():
        # The register search's expression indexes (migration 0025) are the migration's
        # alone: SQLite's reflection skips them, and so does the comparison.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _compared}
        )
        return compare_metadata(context, Base.metadata)


def _compared(obj: Any, name: str | None, kind: str, reflected: bool, _compare_to: Any) -> bool:
    """Whether autogenerate compares this object: not the expression indexes that only a
    migration makes (``EXPRESSION_INDEXES``)."""
    return not (kind == "index" and reflected and name in EXPRESSION_INDEXES)


# Indexes on expressions, made per database by migration 0025 and not in the models.
EXPRESSION_INDEXES = frozenset(
    {"ix_members_name_key", "ix_members_later_name_key", "ix_users_email_key"}
)
