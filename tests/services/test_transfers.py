"""Transfers between members: refused unless the share type allows them (off by default)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.errors import InvalidInput
from portal.models import Certificate, CertificateState, LedgerEntry, LedgerKind, MemberStatus
from portal.services import ledger, transfers

from ..share_fixtures import add_member, buy, render, share_type


@pytest.fixture
def pair(db, coop, staff, member):
    """Member 1 holds 25 supporter shares; member 2 holds none."""
    buy(db, member, "supporter", 25, coop, staff)
    return member, add_member(db, 2, "Receiver")


def move(db, pair, coop, staff, quantity=10, code="supporter"):
    giver, receiver = pair
    return transfers.transfer_shares(
        db,
        giver,
        receiver,
        share_type(db, code),
        quantity,
        decision_reference="Board 2026/20",
        actor=staff,
        settings=coop,
        render=render,
    )


def test_transfers_are_off_by_default(db, coop, staff, pair):
    assert transfers.transferable_types(db) == []
    with pytest.raises(InvalidInput, match="not transferable"):
        move(db, pair, coop, staff)
    assert db.scalar(select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.TRANSFER_OUT)) is None


def test_a_transfer_moves_shares_and_replaces_both_certificates(db, coop, staff, pair):
    supporter = share_type(db, "supporter")
    supporter.transferable = True
    giver, receiver = pair

    move(db, pair, coop, staff, quantity=10)

    assert ledger.holding(db, giver, supporter) == 15
    assert ledger.holding(db, receiver, supporter) == 10
    valid = {
        c.member_id: c.quantity
        for c in db.scalars(select(Certificate).where(Certificate.state == CertificateState.VALID))
    }
    assert valid == {giver.id: 15, receiver.id: 10}
    assert ledger.check_register(db).ok


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [(30, "at most 25"), (0, "at most 25")],
)
def test_a_transfer_cannot_exceed_the_holding(db, coop, staff, pair, quantity, problem):
    share_type(db, "supporter").transferable = True
    with pytest.raises(InvalidInput, match=problem):
        move(db, pair, coop, staff, quantity=quantity)


def test_a_transfer_needs_an_active_receiver_and_a_board_decision(db, coop, staff, pair):
    share_type(db, "supporter").transferable = True
    giver, receiver = pair
    with pytest.raises(InvalidInput, match="decision reference"):
        transfers.transfer_shares(
            db,
            giver,
            receiver,
            share_type(db, "supporter"),
            5,
            decision_reference="",
            actor=staff,
            settings=coop,
            render=render,
        )
    receiver.status = MemberStatus.LAPSED
    with pytest.raises(InvalidInput, match="not an active member"):
        move(db, pair, coop, staff, quantity=5)


def test_a_transfer_respects_the_receivers_holding_limit(db, coop, staff, pair):
    share_type(db, "supporter").transferable = True
    coop.max_holding_minor = 500  # €5
    with pytest.raises(InvalidInput, match="holding limit"):
        move(db, pair, coop, staff, quantity=10)
