"""The share ledger: append-only at the database, hash-chained, holdings derived from it."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from portal.db import database
from portal.errors import InvalidInput
from portal.models import LedgerEntry, LedgerKind, ShareType
from portal.services.shares import ledger

ON_POSTGRES = bool(os.environ.get("DATABASE_URL"))


@pytest.fixture
def register(db, make_member):
    """The preset's share types and two members to hold shares: each holds the membership
    share whose payment admitted them (rows 1 and 2 of the ledger)."""
    people = [make_member(name=f"Holder {n}").load(db) for n in (1, 2)]
    types = {t.code: t for t in db.scalars(select(ShareType))}
    return people, types


def move(db, kind, member, share_type, quantity):
    return ledger.append(
        db,
        kind=kind,
        member=member,
        share_type=share_type,
        quantity=quantity,
        currency="EUR",
        reference="test",
        actor=None,
    )


def test_holdings_are_derived_from_the_rows(db, register):
    (ann, bob), types = register
    assert ledger.holdings(db) == {  # the membership shares paid at admission
        (ann.id, types["membership"].id): 1,
        (bob.id, types["membership"].id): 1,
    }
    move(db, LedgerKind.ISSUE, ann, types["supporter"], 25)
    move(db, LedgerKind.REDEEM, ann, types["supporter"], 10)
    move(db, LedgerKind.ISSUE, bob, types["supporter"], 5)
    move(db, LedgerKind.CANCEL, bob, types["membership"], 1)
    assert ledger.holding(db, ann, types["supporter"]) == 15
    assert ledger.holding(db, bob, types["membership"]) == 0
    assert ledger.holdings(db) == {
        (ann.id, types["supporter"].id): 15,
        (ann.id, types["membership"].id): 1,
        (bob.id, types["supporter"].id): 5,
    }


def test_a_holding_cannot_go_below_zero(db, register):
    (ann, _), types = register
    move(db, LedgerKind.ISSUE, ann, types["supporter"], 5)
    with pytest.raises(InvalidInput, match="fewer than 10"):
        move(db, LedgerKind.REDEEM, ann, types["supporter"], 10)


def test_rows_are_numbered_and_chained(db, register):
    (ann, _), types = register
    admissions = list(db.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)))
    first = move(db, LedgerKind.ISSUE, ann, types["supporter"], 5)
    second = move(db, LedgerKind.ISSUE, ann, types["supporter"], 5)
    assert [row.seq for row in admissions] == [1, 2]
    assert (first.seq, second.seq) == (3, 4)
    assert admissions[0].prev_hash == ledger.GENESIS
    assert admissions[1].prev_hash == admissions[0].hash
    assert first.prev_hash == admissions[1].hash
    assert second.prev_hash == first.hash
    assert ledger.check_register(db).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE share_ledger SET quantity = 500",
        "DELETE FROM share_ledger",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_row(app, db, register, statement):
    (ann, _), types = register
    move(db, LedgerKind.ISSUE, ann, types["supporter"], 5)
    db.commit()
    with (
        database(app).engine.connect() as conn,
        pytest.raises(DatabaseError, match="cannot be changed"),
    ):
        conn.execute(text(statement))
    with database(app).session(write=False) as session:
        quantities = session.scalars(select(LedgerEntry.quantity).order_by(LedgerEntry.seq))
        assert list(quantities) == [1, 1, 5]  # the two membership shares, then ours


def tamper(app, statement):
    """Change a row behind the portal's back, as someone with database access could."""
    with database(app).engine.begin() as conn:
        if ON_POSTGRES:
            conn.execute(text("ALTER TABLE share_ledger DISABLE TRIGGER share_ledger_append_only"))
            conn.execute(text(statement))
            conn.execute(text("ALTER TABLE share_ledger ENABLE TRIGGER share_ledger_append_only"))
        else:
            conn.execute(text("DROP TRIGGER share_ledger_no_update"))
            conn.execute(text(statement))


def test_check_register_finds_a_row_tampered_in_the_database(app, db, register, runner):
    (ann, _), types = register
    for _ in range(3):
        move(db, LedgerKind.ISSUE, ann, types["supporter"], 5)
    db.commit()
    clean = runner.invoke(args=["check-register"])
    assert clean.exit_code == 0, clean.output
    assert "intact: 5 rows" in clean.output  # the two admissions' and ours
    tamper(app, "UPDATE share_ledger SET quantity = 50, amount_minor = 5000 WHERE seq = 4")
    found = runner.invoke(args=["check-register"])
    assert found.exit_code == 1
    assert "row 4: its content does not match its hash" in found.output


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["issue", "redeem", "cancel"]),
        st.integers(0, 1),
        st.sampled_from(["membership", "supporter"]),
        st.integers(1, 40),
    ),
    max_size=25,
)


@hyp_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_any_sequence_keeps_holdings_non_negative_and_the_chain_whole(db, register, operations):
    (ann, bob), types = register
    people = (ann, bob)
    savepoint = db.begin_nested()
    expected = dict(ledger.holdings(db))  # the membership shares paid at admission
    for kind, who, code, quantity in operations:
        key = (people[who].id, types[code].id)
        try:
            move(db, LedgerKind(kind), people[who], types[code], quantity)
        except InvalidInput:
            assert kind != "issue" and expected.get(key, 0) < quantity
            continue
        expected[key] = expected.get(key, 0) + (quantity if kind == "issue" else -quantity)
    assert all(v >= 0 for v in ledger.holdings(db).values())
    assert ledger.holdings(db) == {k: v for k, v in expected.items() if v}
    assert ledger.check_register(db).ok
    savepoint.rollback()
