"""Withdrawing supporter shares: the board decides, the co-op repays, certificates follow."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.errors import InvalidInput, InvalidState, NotAllowed
from portal.models import (
    AuditEvent,
    Certificate,
    CertificateState,
    LedgerEntry,
    LedgerKind,
    User,
    WithdrawalState,
)
from portal.services.shares import ledger, withdrawals
from portal.services.shares.payments import Payment
from portal.services.shares.share_types import find_type

from ..factories import fake_certificate, today_iso


@pytest.fixture
def holder(db, make_member, buy):
    """Lena: 1 membership share, and 25 supporter shares on two certificates (10 and 15)."""
    lena = make_member(
        name="Lena Listener", email="lena@example.org", shares={"membership": 1, "supporter": 10}
    )
    buy(lena, "supporter", 15)
    return lena.load(db)


@pytest.fixture
def holder_user(db, holder):
    return db.get(User, holder.user_id)


def repayment(withdrawal, reference="OUT-1", amount=None):
    return Payment(
        amount_minor=withdrawal.amount_minor if amount is None else amount,
        paid_on=date.fromisoformat(today_iso()),
        method="bank_transfer",
        reference=reference,
    )


def ask(db, holder, actor, quantity=10):
    return withdrawals.request_withdrawal(
        db, holder, find_type(db, "supporter"), quantity, reason="Moving abroad", actor=actor
    )


def repay(db, withdrawal, staff, **payment):
    return withdrawals.record_repayment(
        db, withdrawal, repayment(withdrawal, **payment), actor=staff, render=fake_certificate
    )


def holder_certificates(db, holder):
    return list(db.scalars(select(Certificate).where(Certificate.member_id == holder.id)))


def test_a_withdrawal_is_requested_approved_and_repaid(db, reviewer, holder, holder_user):
    supporter = find_type(db, "supporter")
    withdrawal = ask(db, holder, holder_user)
    assert withdrawal.state is WithdrawalState.REQUESTED
    assert withdrawal.amount_minor == 1000
    # Nothing leaves the register until the repayment is recorded.
    assert ledger.holding(db, holder, supporter) == 25
    withdrawals.approve_withdrawal(
        db, withdrawal, decision_reference="Board 2026/14", actor=reviewer
    )
    assert withdrawal.state is WithdrawalState.APPROVED
    assert ledger.holding(db, holder, supporter) == 25

    new = repay(db, withdrawal, reviewer)

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
    summary = db.scalar(select(AuditEvent.summary).where(AuditEvent.action == "withdrawal.repaid"))
    assert summary.startswith("Repaid €10 to member no. ")


def test_withdrawing_everything_cancels_the_certificates(db, reviewer, holder, holder_user):
    withdrawal = ask(db, holder, holder_user, quantity=25)
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B-1", actor=reviewer)
    assert repay(db, withdrawal, reviewer) is None
    supporter = find_type(db, "supporter")
    states = {c.state for c in holder_certificates(db, holder) if c.share_type_id == supporter.id}
    assert states == {CertificateState.CANCELLED}
    # The membership share and its certificate are untouched.
    assert ledger.holding(db, holder, find_type(db, "membership")) == 1


def test_recording_the_same_repayment_twice_redeems_once(db, reviewer, holder, holder_user):
    withdrawal = ask(db, holder, holder_user)
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B-1", actor=reviewer)
    for _ in range(3):
        repay(db, withdrawal, reviewer)
    redeems = db.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == LedgerKind.REDEEM)
    )
    assert redeems == 1
    with pytest.raises(InvalidState, match="already repaid"):
        repay(db, withdrawal, reviewer, reference="OUT-2")


def test_a_repayment_of_the_wrong_amount_is_refused_with_the_difference(
    db, reviewer, holder, holder_user
):
    withdrawal = ask(db, holder, holder_user)
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B-1", actor=reviewer)
    with pytest.raises(
        InvalidInput, match=r"^The repayment is €10 at par; the payment is €2\.50 less\.$"
    ):
        repay(db, withdrawal, reviewer, amount=750)


def test_a_repayment_dated_before_the_request_is_refused(db, reviewer, holder, holder_user):
    withdrawal = ask(db, holder, holder_user)
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B-1", actor=reviewer)
    early = dataclasses.replace(repayment(withdrawal), paid_on=date(2020, 1, 1))
    with pytest.raises(InvalidInput, match=r"^The repayment cannot come before the request"):
        withdrawals.record_repayment(db, withdrawal, early, actor=reviewer, render=fake_certificate)
    assert withdrawal.repaid_on is None


def test_repayment_needs_the_boards_approval_first(db, reviewer, holder, holder_user):
    withdrawal = ask(db, holder, holder_user)
    with pytest.raises(
        InvalidState, match=r"This withdrawal is with the board; it cannot be repaid\."
    ):
        repay(db, withdrawal, reviewer)
    with pytest.raises(InvalidInput, match="decision reference"):
        withdrawals.approve_withdrawal(db, withdrawal, decision_reference="  ", actor=reviewer)


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [
        (0, "at least one"),
        (30, "at most 25"),
        (7, "multiples of 5"),
    ],
)
def test_a_withdrawal_keeps_to_the_rules(db, holder, holder_user, quantity, problem):
    with pytest.raises(InvalidInput, match=problem):
        ask(db, holder, holder_user, quantity=quantity)


def test_shares_in_an_open_request_cannot_be_asked_for_twice(db, holder, holder_user):
    ask(db, holder, holder_user, quantity=20)
    assert withdrawals.withdrawable_quantity(db, holder, find_type(db, "supporter")) == 5
    with pytest.raises(InvalidInput, match="at most 5"):
        ask(db, holder, holder_user, quantity=10)


def test_the_membership_share_cannot_be_withdrawn(db, holder, holder_user):
    with pytest.raises(InvalidInput, match="cannot be withdrawn"):
        withdrawals.request_withdrawal(
            db, holder, find_type(db, "membership"), 1, reason="", actor=holder_user
        )


def test_only_the_holder_or_staff_may_ask_and_only_staff_decide(
    db, reviewer, holder, holder_user, make_user
):
    stranger = make_user(name="Stranger", email="x@example.org")
    with pytest.raises(NotAllowed):
        ask(db, holder, stranger)
    withdrawal = ask(db, holder, holder_user)
    with pytest.raises(NotAllowed):
        withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B", actor=holder_user)
    with pytest.raises(NotAllowed):
        withdrawals.cancel_withdrawal(db, withdrawal, actor=stranger)


def test_a_refusal_gives_the_member_the_reason(db, reviewer, holder, holder_user, outbox):
    withdrawal = ask(db, holder, holder_user)
    with pytest.raises(InvalidInput, match="why"):
        withdrawals.reject_withdrawal(db, withdrawal, note="", actor=reviewer)
    withdrawals.reject_withdrawal(db, withdrawal, note="Capital is short this year", actor=reviewer)
    assert withdrawal.state is WithdrawalState.REJECTED
    # Refused shares can be asked for again.
    assert withdrawals.withdrawable_quantity(db, holder, find_type(db, "supporter")) == 25
    db.commit()
    (message,) = [m for m in outbox() if "withdraw" in m.subject]
    assert message.to == "lena@example.org" and "Capital is short this year" in message.text


def test_a_member_cancels_an_undecided_request_only(db, reviewer, holder, holder_user):
    withdrawal = ask(db, holder, holder_user)
    withdrawals.cancel_withdrawal(db, withdrawal, actor=holder_user)
    assert withdrawal.state is WithdrawalState.CANCELLED
    second = ask(db, holder, holder_user)
    withdrawals.approve_withdrawal(db, second, decision_reference="B-2", actor=reviewer)
    with pytest.raises(InvalidState, match="This withdrawal is approved, repayment due; it"):
        withdrawals.cancel_withdrawal(db, second, actor=holder_user)


def test_each_step_is_audited(db, reviewer, holder, holder_user):
    withdrawal = ask(db, holder, holder_user)
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B-1", actor=reviewer)
    repay(db, withdrawal, reviewer)
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {
        "withdrawal.requested",
        "withdrawal.approved",
        "withdrawal.repaid",
        "certificate.superseded",
    } <= actions
