"""Transfers between members: refused unless the share type allows them (off by default)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.errors import InvalidInput
from portal.models import Certificate, CertificateState, LedgerEntry, LedgerKind, MemberStatus
from portal.services.membership import leaving
from portal.services.shares import ledger, transfers
from portal.services.shares.share_types import find_type

from ..factories import fake_certificate


@pytest.fixture
def pair(db, make_member):
    """A giver holding 25 supporter shares, and a receiver holding none."""
    giver = make_member(name="Giver", shares={"supporter": 25})
    receiver = make_member(name="Receiver")
    return giver.load(db), receiver.load(db)


def move(db, pair, staff, quantity=10, code="supporter", decision_reference="Board 2026/20"):
    giver, receiver = pair
    return transfers.transfer_shares(
        db,
        giver,
        receiver,
        find_type(db, code),
        quantity,
        decision_reference=decision_reference,
        actor=staff,
        render=fake_certificate,
    )


def test_transfers_are_off_by_default(db, reviewer, pair):
    assert transfers.transferable_types(db) == []
    with pytest.raises(InvalidInput, match="not transferable"):
        move(db, pair, reviewer)
    assert db.scalar(select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.TRANSFER_OUT)) is None


def test_a_transfer_moves_shares_and_replaces_both_certificates(db, reviewer, pair, share_terms):
    supporter = share_terms("supporter", transferable=True)
    giver, receiver = pair

    move(db, pair, reviewer, quantity=10)

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
def test_a_transfer_cannot_exceed_the_holding(db, reviewer, pair, quantity, problem, share_terms):
    share_terms("supporter", transferable=True)
    with pytest.raises(InvalidInput, match=problem):
        move(db, pair, reviewer, quantity=quantity)


def test_a_transfer_needs_an_active_receiver_and_a_board_decision(db, reviewer, pair, share_terms):
    share_terms("supporter", transferable=True)
    _giver, receiver = pair
    with pytest.raises(InvalidInput, match="decision reference"):
        move(db, pair, reviewer, quantity=5, decision_reference="")
    leaving.set_status(db, receiver, MemberStatus.LAPSED, "Fee unpaid", actor=reviewer)
    with pytest.raises(InvalidInput, match="not an active member"):
        move(db, pair, reviewer, quantity=5)


def test_a_transfer_respects_the_receivers_holding_limit(db, coop, reviewer, pair, share_terms):
    share_terms("supporter", transferable=True)
    coop.max_holding_minor = 500  # €5
    with pytest.raises(InvalidInput, match="holding limit"):
        move(db, pair, reviewer, quantity=10)
