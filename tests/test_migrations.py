"""Alembic owns the schema: upgrading from empty gives exactly the models' schema."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, inspect, text

from portal.db import make_engine
from portal.migrations import downgrade, schema_differences, upgrade


@pytest.fixture
def empty_engine(tmp_path):
    """An empty database of the kind under test (PostgreSQL: a schema of its own)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    url = "postgresql+psycopg://" + url.split("://", 1)[1]
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        conn.execute(text("CREATE SCHEMA migration_check"))
    engine = create_engine(url, connect_args={"options": "-csearch_path=migration_check"})
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA migration_check CASCADE"))
    admin.dispose()


def test_upgrade_from_empty_matches_the_models(empty_engine):
    upgrade(empty_engine)
    assert schema_differences(empty_engine) == []
    assert "alembic_version" in inspect(empty_engine).get_table_names()


def test_downgrade_to_base_and_upgrade_again(empty_engine):
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_engine)
    assert schema_differences(empty_engine) == []


def test_upgrading_a_database_with_members_keeps_their_rows(empty_engine):
    # A migration that copies the members table (a SQLite batch) fails, or cascades deletes,
    # once other tables point at members: upgrade a database that already holds some.
    upgrade(empty_engine, "0007")
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO members (id, number, name, address_line1, address_line2, town, "
                "postcode, country, status, admitted_on, news_opt_in) VALUES (1, 1, 'Ann', "
                "'1 Quay', '', 'Cork', '', 'Ireland', 'active', '2026-01-01', false)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO member_status_changes (member_id, at, status, note) "
                "VALUES (1, '2026-01-01 00:00:00', 'active', 'Admitted')"
            )
        )
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT name, name_on_verify FROM members")).all() == [
            ("Ann", False)
        ]
        assert conn.execute(text("SELECT count(*) FROM member_status_changes")).scalar() == 1
    assert schema_differences(empty_engine) == []
