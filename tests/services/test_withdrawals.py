"""Withdrawing supporter shares: the board decides, the co-op repays, certificates follow."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.errors import InvalidInput, InvalidState, NotAllowed
from portal.models import (
    AuditEvent,
    CertificateState,
    LedgerEntry,
    LedgerKind,
    Role,
    WithdrawalState,
)
from portal.services import accounts, ledger, withdrawals
from portal.services.payments import Payment

from ..share_fixtures import add_member, buy, render, share_type


@pytest.fixture
def holder_user(db):
    return accounts.create_user(
        db,
        name="Lena Listener",
        email="lena@example.org",
        password="correct-horse-battery-staple-42",
        role=Role.MEMBER,
        verified=True,
    )


@pytest.fixture
def holder(db, coop, staff, holder_user):
    """A member with 1 membership share and 25 supporter shares on two certificates."""
    member = add_member(db, 7, "Lena Listener", user=holder_user)
    buy(db, member, "membership", 1, coop, staff)
    buy(db, member, "supporter", 10, coop, staff)
    buy(db, member, "supporter", 15, coop, staff)
    return member


def repayment(withdrawal, reference="OUT-1", amount=None):
    return Payment(
        amount_minor=withdrawal.amount_minor if amount is None else amount,
        paid_on=date(2026, 11, 20),
        method="bank_transfer",
        reference=reference,
    )


def ask(db, holder, holder_user, coop, quantity=10):
    return withdrawals.request_withdrawal(
        db,
        holder,
        share_type(db, "supporter"),
        quantity,
        reason="Moving abroad",
        actor=holder_user,
        settings=coop,
    )


def test_a_withdrawal_is_requested_approved_and_repaid(db, coop, staff, holder, holder_user):
    supporter = share_type(db, "supporter")
    withdrawal = ask(db, holder, holder_user, coop)
    assert withdrawal.state is WithdrawalState.REQUESTED
    assert withdrawal.amount_minor == 1000
    # Nothing leaves the register until the repayment is recorded.
    assert ledger.holding(db, holder, supporter) == 25
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference="Board 2026/14", actor=staff)
    assert withdrawal.state is WithdrawalState.APPROVED
    assert ledger.holding(db, holder, supporter) == 25

    new = withdrawals.record_repayment(
        db, withdrawal, repayment(withdrawal), actor=staff, settings=coop, render=render
    )

    assert withdrawal.state is WithdrawalState.REPAID
    assert ledger.holding(db, holder, supporter) == 15
    redeem = db.scalar(select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.REDEEM))
    assert redeem.quantity == 10 and redeem.amount_minor == 1000
    assert "Board 2026/14" in redeem.reference
    # One new certificate for the 15 kept supersedes both old ones.
    assert new.quantity == 15 and new.state is CertificateState.VALID
    old = [c for c in holder_certificates(db, holder) if c.share_type_id == supporter.id]
    assert sorted((c.quantity, c.state) for c in old if c.id != new.id) == [
        (10, CertificateState.SUPERSEDED),
        (15, CertificateState.SUPERSEDED),
    ]
    assert all(c.replaced_by_id == new.id for c in old if c.id != new.id)
    assert ledger.check_register(db).ok


def holder_certificates(db, holder):
    from portal.models import Certificate

    return list(db.scalars(select(Certificate).where(Certificate.member_id == holder.id)))


def test_withdrawing_everything_cancels_the_certificates(db, coop, staff, holder, holder_user):
    withdrawal = ask(db, holder, holder_user, coop, quantity=25)
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B-1", actor=staff)
    assert (
        withdrawals.record_repayment(
            db, withdrawal, repayment(withdrawal), actor=staff, settings=coop, render=render
        )
        is None
    )
    supporter = share_type(db, "supporter")
    states = {c.state for c in holder_certificates(db, holder) if c.share_type_id == supporter.id}
    assert states == {CertificateState.CANCELLED}
    # The membership share and its certificate are untouched.
    assert ledger.holding(db, holder, share_type(db, "membership")) == 1


def test_recording_the_same_repayment_twice_redeems_once(db, coop, staff, holder, holder_user):
    withdrawal = ask(db, holder, holder_user, coop)
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B-1", actor=staff)
    for _ in range(3):
        withdrawals.record_repayment(
            db, withdrawal, repayment(withdrawal), actor=staff, settings=coop, render=render
        )
    redeems = db.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == LedgerKind.REDEEM)
    )
    assert redeems == 1
    with pytest.raises(InvalidState, match="already repaid"):
        withdrawals.record_repayment(
            db,
            withdrawal,
            repayment(withdrawal, reference="OUT-2"),
            actor=staff,
            settings=coop,
            render=render,
        )


def test_a_repayment_of_the_wrong_amount_is_refused_with_the_difference(
    db, coop, staff, holder, holder_user
):
    withdrawal = ask(db, holder, holder_user, coop)
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B-1", actor=staff)
    with pytest.raises(InvalidInput, match=r"2\.50 less"):
        withdrawals.record_repayment(
            db,
            withdrawal,
            repayment(withdrawal, amount=750),
            actor=staff,
            settings=coop,
            render=render,
        )


def test_repayment_needs_the_boards_approval_first(db, coop, staff, holder, holder_user):
    withdrawal = ask(db, holder, holder_user, coop)
    with pytest.raises(InvalidState, match="requested"):
        withdrawals.record_repayment(
            db, withdrawal, repayment(withdrawal), actor=staff, settings=coop, render=render
        )
    with pytest.raises(InvalidInput, match="decision reference"):
        withdrawals.approve_withdrawal(db, withdrawal, decision_reference="  ", actor=staff)


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [
        (0, "at least one"),
        (30, "at most 25"),
        (7, "multiples of 5"),
    ],
)
def test_a_withdrawal_keeps_to_the_rules(db, coop, holder, holder_user, quantity, problem):
    with pytest.raises(InvalidInput, match=problem):
        ask(db, holder, holder_user, coop, quantity=quantity)


def test_shares_in_an_open_request_cannot_be_asked_for_twice(db, coop, holder, holder_user):
    ask(db, holder, holder_user, coop, quantity=20)
    assert withdrawals.withdrawable_quantity(db, holder, share_type(db, "supporter")) == 5
    with pytest.raises(InvalidInput, match="at most 5"):
        ask(db, holder, holder_user, coop, quantity=10)


def test_the_membership_share_cannot_be_withdrawn(db, coop, holder, holder_user):
    with pytest.raises(InvalidInput, match="cannot be withdrawn"):
        withdrawals.request_withdrawal(
            db,
            holder,
            share_type(db, "membership"),
            1,
            reason="",
            actor=holder_user,
            settings=coop,
        )


def test_only_the_holder_or_staff_may_ask_and_only_staff_decide(
    db, coop, staff, holder, holder_user
):
    stranger = accounts.create_user(
        db,
        name="Stranger",
        email="x@example.org",
        password="correct-horse-battery-staple-42",
        role=Role.MEMBER,
        verified=True,
    )
    with pytest.raises(NotAllowed):
        ask(db, holder, stranger, coop)
    withdrawal = ask(db, holder, holder_user, coop)
    with pytest.raises(NotAllowed):
        withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B", actor=holder_user)
    with pytest.raises(NotAllowed):
        withdrawals.cancel_withdrawal(db, withdrawal, actor=stranger)


def test_a_refusal_gives_the_member_the_reason(db, coop, staff, holder, holder_user, outbox):
    withdrawal = ask(db, holder, holder_user, coop)
    with pytest.raises(InvalidInput, match="why"):
        withdrawals.reject_withdrawal(db, withdrawal, note="", actor=staff)
    withdrawals.reject_withdrawal(db, withdrawal, note="Capital is short this year", actor=staff)
    assert withdrawal.state is WithdrawalState.REJECTED
    # Refused shares can be asked for again.
    assert withdrawals.withdrawable_quantity(db, holder, share_type(db, "supporter")) == 25
    db.commit()
    (message,) = [m for m in outbox() if "withdraw" in m.subject]
    assert message.to == "lena@example.org" and "Capital is short this year" in message.text


def test_a_member_cancels_an_undecided_request_only(db, coop, staff, holder, holder_user):
    withdrawal = ask(db, holder, holder_user, coop)
    withdrawals.cancel_withdrawal(db, withdrawal, actor=holder_user)
    assert withdrawal.state is WithdrawalState.CANCELLED
    second = ask(db, holder, holder_user, coop)
    withdrawals.approve_withdrawal(db, second, decision_reference="B-2", actor=staff)
    with pytest.raises(InvalidState):
        withdrawals.cancel_withdrawal(db, second, actor=holder_user)


def test_each_step_is_audited(db, coop, staff, holder, holder_user):
    withdrawal = ask(db, holder, holder_user, coop)
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B-1", actor=staff)
    withdrawals.record_repayment(
        db, withdrawal, repayment(withdrawal), actor=staff, settings=coop, render=render
    )
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {
        "withdrawal.requested",
        "withdrawal.approved",
        "withdrawal.repaid",
        "certificate.superseded",
    } <= actions
