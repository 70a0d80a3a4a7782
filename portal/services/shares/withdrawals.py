"""Withdrawing shares: the member asks, the board decides, the co-op repays at par.

Only share types the rules make withdrawable (supporter shares) can be withdrawn; the
membership share is never repaid, only cancelled when membership ends. The ``redeem``
row goes into the ledger when the repayment is recorded, in the same transaction as the
new certificate for what remains, so the register never shows shares repaid but held.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ... import coop, mail
from ...db import lock_row
from ...errors import InvalidInput, InvalidState, NotAllowed
from ...models import (
    OPEN_WITHDRAWAL_STATES,
    Certificate,
    LedgerKind,
    Member,
    ShareType,
    User,
    Withdrawal,
    WithdrawalState,
)
from ...money import format_money
from .. import audit, transitions
from . import ledger
from .certificates import CertificateRenderer, replace_certificates
from .payments import Payment, method_named


def pending_quantity(db: Session, member: Member, share_type: ShareType) -> int:
    """Shares of this type already named in the member's open withdrawals."""
    return (
        db.scalar(
            select(func.coalesce(func.sum(Withdrawal.quantity), 0)).where(
                Withdrawal.member_id == member.id,
                Withdrawal.share_type_id == share_type.id,
                Withdrawal.state.in_(OPEN_WITHDRAWAL_STATES),
            )
        )
        or 0
    )


def withdrawable_quantity(db: Session, member: Member, share_type: ShareType) -> int:
    """How many shares of this type the member could still ask to withdraw: none when no
    request would keep the rules of :func:`check_withdrawal` (fewer than one step left, or
    every step leaving some but fewer than the minimum), so nothing is offered in vain."""
    if not share_type.withdrawable:
        return 0
    return withdrawable_of(
        share_type,
        held=ledger.holding(db, member, share_type),
        pending=pending_quantity(db, member, share_type),
    )


def withdrawable_of(share_type: ShareType, *, held: int, pending: int) -> int:
    """:func:`withdrawable_quantity` from what is held and already named in open
    withdrawals, for a caller that has both at hand."""
    if not share_type.withdrawable:
        return 0
    available = max(0, held - pending)
    one_step_leaves = available - share_type.step
    if available < share_type.step or (
        0 < one_step_leaves < share_type.min_quantity and available % share_type.step
    ):
        return 0
    return available


def check_withdrawal(
    db: Session, member: Member, share_type: ShareType, quantity: int
) -> list[str]:
    """Every rule a withdrawal of ``quantity`` would break, in words (empty when none)."""
    if not share_type.withdrawable:
        return [f"{share_type.plural} cannot be withdrawn under the rules."]
    problems = []
    available = withdrawable_quantity(db, member, share_type)
    if quantity < 1:
        problems.append("Withdraw at least one share.")
    elif quantity > available:
        problems.append(f"You can withdraw at most {share_type.count(available)}.")
    if quantity % share_type.step:
        problems.append(f"{share_type.plural} are withdrawn in multiples of {share_type.step}.")
    remaining = (
        ledger.holding(db, member, share_type) - pending_quantity(db, member, share_type) - quantity
    )
    if 0 < remaining < share_type.min_quantity:
        problems.append(
            f"Keep at least {share_type.count(share_type.min_quantity)}, or withdraw them all."
        )
    return problems


def request_withdrawal(
    db: Session,
    member: Member,
    share_type: ShareType,
    quantity: int,
    *,
    reason: str,
    actor: User,
) -> Withdrawal:
    """The member (or staff for them) asks to withdraw shares; the board decides."""
    if not actor.is_staff and member.user_id != actor.id:
        raise NotAllowed("You can only withdraw your own shares.")
    problems = check_withdrawal(db, member, share_type, quantity)
    if problems:
        raise InvalidInput(" ".join(problems), field="quantity")
    withdrawal = Withdrawal(
        member=member,
        share_type=share_type,
        quantity=quantity,
        amount_minor=quantity * share_type.par_value_minor,
        currency=coop.settings(db).currency,
        reason=reason.strip()[:500],
        requested_by_id=actor.id,
    )
    db.add(withdrawal)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="withdrawal.requested",
        target=withdrawal,
        summary=f"Member no. {member.number} asks to withdraw {quantity} × {share_type.name}",
    )
    return withdrawal


def cancel_withdrawal(db: Session, withdrawal: Withdrawal, *, actor: User) -> Withdrawal:
    """The member takes back a request the board has not decided yet (or staff do)."""
    if not actor.is_staff and withdrawal.member.user_id != actor.id:
        raise NotAllowed("This is not your withdrawal.")
    transitions.move(
        db,
        withdrawal,
        WithdrawalState.CANCELLED,
        actor=actor,
        doing="cancelled",
        stamp="decided_at",
        summary=f"Withdrawal {withdrawal.id} cancelled",
    )
    db.flush()
    return withdrawal


def approve_withdrawal(
    db: Session, withdrawal: Withdrawal, *, decision_reference: str, actor: User
) -> Withdrawal:
    """Staff record the board's approval; the repayment is recorded next."""
    _require_staff(actor)
    transitions.require(withdrawal.state, WithdrawalState.APPROVED, doing="approved")
    decision_reference = decision_reference.strip()
    if not decision_reference:
        raise InvalidInput(
            "Give the board's decision reference (for example, its minute number).",
            field="decision_reference",
        )
    withdrawal.decided_by_id = actor.id
    withdrawal.decision_reference = decision_reference[:120]
    transitions.move(
        db,
        withdrawal,
        WithdrawalState.APPROVED,
        actor=actor,
        doing="approved",
        stamp="decided_at",
        summary=f"Withdrawal {withdrawal.id} approved by the board ({decision_reference})",
    )
    db.flush()
    return withdrawal


def reject_withdrawal(db: Session, withdrawal: Withdrawal, *, note: str, actor: User) -> Withdrawal:
    """Staff record the board's refusal, with the reason the member will read."""
    _require_staff(actor)
    transitions.require(withdrawal.state, WithdrawalState.REJECTED, doing="refused")
    note = note.strip()
    if not note:
        raise InvalidInput("Say why the board refused, for the member.", field="note")
    withdrawal.decided_by_id = actor.id
    withdrawal.decision_note = note[:500]
    transitions.move(
        db,
        withdrawal,
        WithdrawalState.REJECTED,
        actor=actor,
        doing="refused",
        stamp="decided_at",
        summary=f"Withdrawal {withdrawal.id} refused",
    )
    if withdrawal.member.user is not None:
        mail.queue(
            db,
            "withdrawal_rejected",
            to=withdrawal.member.user.email,
            withdrawal=withdrawal,
            member=withdrawal.member,
        )
    db.flush()
    return withdrawal


def record_repayment(
    db: Session,
    withdrawal: Withdrawal,
    payment: Payment,
    *,
    actor: User,
    render: CertificateRenderer,
) -> Certificate | None:
    """Record the repayment: ``redeem`` rows, and a new certificate for what remains.

    Recording the same repayment again (same reference) changes nothing; a different
    amount is refused with the difference. Returns the new certificate, or None when
    the member holds no shares of the type any more.
    """
    _require_staff(actor)
    method_named(payment.method)
    lock_row(db, withdrawal)  # a repayment recorded twice at once redeems once
    if withdrawal.state is WithdrawalState.REPAID:
        if withdrawal.repayment_reference == payment.reference:
            return None
        raise InvalidState(
            f"This withdrawal was already repaid (reference {withdrawal.repayment_reference})."
        )
    transitions.require(withdrawal.state, WithdrawalState.REPAID, doing="repaid")
    asked_on = coop.clock(db).day_of(withdrawal.requested_at)
    if payment.paid_on < asked_on:
        raise InvalidInput(
            f"The repayment cannot come before the request ({asked_on:%-d %B %Y}).",
            field="paid_on",
        )
    repayment = format_money(withdrawal.amount_minor, withdrawal.currency)
    payment.require_amount(
        withdrawal.amount_minor, f"The repayment is {repayment} at par", withdrawal.currency
    )
    withdrawal.repaid_on = payment.paid_on
    withdrawal.repayment_method = payment.method
    withdrawal.repayment_reference = payment.reference
    withdrawal.repaid_by_id = actor.id
    ledger.append(
        db,
        kind=LedgerKind.REDEEM,
        member=withdrawal.member,
        share_type=withdrawal.share_type,
        quantity=withdrawal.quantity,
        currency=withdrawal.currency,
        reference=f"Withdrawal {withdrawal.id}, {withdrawal.decision_reference}",
        actor=actor,
    )
    transitions.move(
        db,
        withdrawal,
        WithdrawalState.REPAID,
        actor=actor,
        doing="repaid",
        summary=f"Repaid {repayment} to member no. "
        f"{withdrawal.member.number} for {withdrawal.quantity} × {withdrawal.share_type.name}",
    )
    certificate = replace_certificates(
        db,
        withdrawal.member,
        withdrawal.share_type,
        actor=actor,
        render=render,
        notify=False,  # the repayment mail names the new certificate
    )
    if withdrawal.member.user is not None:
        mail.queue(
            db,
            "withdrawal_repaid",
            to=withdrawal.member.user.email,
            withdrawal=withdrawal,
            member=withdrawal.member,
            certificate=certificate,
        )
    db.flush()
    return certificate


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise NotAllowed("Only staff record the board's decisions and repayments.")


def open_withdrawals(db: Session) -> list[Withdrawal]:
    """Withdrawals waiting for the board's decision or for repayment, oldest first."""
    return list(
        db.scalars(
            select(Withdrawal)
            .options(joinedload(Withdrawal.member), joinedload(Withdrawal.share_type))
            .where(Withdrawal.state.in_(OPEN_WITHDRAWAL_STATES))
            .order_by(Withdrawal.requested_at)
        )
    )


def withdrawals_of(db: Session, member: Member) -> list[Withdrawal]:
    """Every withdrawal the member asked for, newest first."""
    return list(
        db.scalars(
            select(Withdrawal)
            .options(joinedload(Withdrawal.share_type))
            .where(Withdrawal.member_id == member.id)
            .order_by(Withdrawal.requested_at.desc())
        )
    )


def withdrawal_for(db: Session, withdrawal_id: int, user: User) -> Withdrawal | None:
    """The withdrawal if ``user`` asked for it (their member's) or is staff; None otherwise."""
    withdrawal = db.scalar(
        select(Withdrawal)
        .options(joinedload(Withdrawal.member), joinedload(Withdrawal.share_type))
        .where(Withdrawal.id == withdrawal_id)
    )
    if withdrawal is None or not (user.is_staff or withdrawal.member.user_id == user.id):
        return None
    return withdrawal
