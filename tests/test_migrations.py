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


def _insert(conn, table, **values):
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), values)


def _old_style_member(conn, n, *, order_state):
    """Member ``n`` as the old flow admitted them at approval: on the register, in the
    artist class, the application approved, and the membership share ordered in
    ``order_state``. Their user, member and application ids are all ``n``."""
    at = "2026-03-01 10:00:00"
    _insert(
        conn,
        "users",
        id=n,
        email=f"person{n}@example.org",
        name=f"Person {n}",
        password_hash="x",
        role="member",
        session_version=1,
        created_at=at,
    )
    _insert(
        conn,
        "members",
        id=n,
        number=n,
        user_id=n,
        name=f"Person {n}",
        address_line1="1 Quay",
        address_line2="",
        town="Cork",
        postcode="",
        country="Ireland",
        status="active",
        admitted_on="2026-03-01",
        primary_class_id=1,
        news_opt_in=False,
    )
    _insert(conn, "class_memberships", member_id=n, class_id=1, admitted_on="2026-03-01")
    _insert(conn, "member_status_changes", member_id=n, at=at, status="active", note="Admitted")
    _insert(
        conn,
        "applications",
        id=n,
        user_id=n,
        class_id=1,
        state="approved",
        answers="[]",
        address_line1="1 Quay",
        address_line2="",
        town="Cork",
        postcode="",
        country="Ireland",
        created_at=at,
        submitted_at=at,
        decided_at=at,
        member_id=n,
    )
    _insert(
        conn,
        "share_orders",
        id=n,
        member_id=n,
        share_type_id=1,
        quantity=1,
        amount_minor=100,
        currency="EUR",
        payment_reference=f"RVB-OLD{n}",
        state=order_state,
        created_at=at,
    )


def test_0009_turns_a_member_whose_membership_share_was_never_paid_back_into_an_applicant(
    empty_engine,
):
    upgrade(empty_engine, "0008")
    with empty_engine.begin() as conn:
        _insert(
            conn,
            "member_classes",
            id=1,
            code="artist",
            name="Artist",
            summary="",
            description="",
            admission_rule="staff_review",
            required_shares=1,
            annual_fee_minor=0,
            board_seats=0,
            voting_weight=1,
            position=1,
            open_for_applications=True,
        )
        _insert(
            conn,
            "share_types",
            id=1,
            code="membership",
            name="Membership share",
            description="",
            par_value_minor=100,
            voting=True,
            min_quantity=1,
            step=1,
            max_quantity=1,
            transferable=False,
            withdrawable=False,
            cancelled_on_ceasing=True,
            position=1,
        )
        _old_style_member(conn, 1, order_state="pending_payment")  # never paid: not a member
        _old_style_member(conn, 2, order_state="issued")  # paid: a member, as before
        _insert(conn, "counters", name="member_number", value=2)
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT id, number FROM members")).all() == [(2, 2)]
        assert conn.execute(
            text("SELECT id, state, member_id FROM applications ORDER BY id")
        ).all() == [(1, "awaiting_share", None), (2, "approved", 2)]
        # The same order now admits the applicant when paid: it names the application.
        assert conn.execute(
            text(
                "SELECT id, member_id, application_id, state, fee_minor, amount_minor "
                "FROM share_orders ORDER BY id"
            )
        ).all() == [(1, None, 1, "pending_payment", 0, 100), (2, 2, None, "issued", 0, 100)]
        for table in ("class_memberships", "member_status_changes"):
            assert conn.execute(text(f"SELECT member_id FROM {table}")).scalars().all() == [2]
        # Numbers are never reused: the next member is no. 3, whoever pays first.
        assert (
            conn.execute(text("SELECT value FROM counters WHERE name = 'member_number'")).scalar()
            == 2
        )
    assert schema_differences(empty_engine) == []
    # The old schema has no place for an applicant waiting to pay: downgrading refuses.
    with pytest.raises(RuntimeError, match="waiting to pay their membership share"):
        downgrade(empty_engine, "0008")
    assert schema_differences(empty_engine) == []
