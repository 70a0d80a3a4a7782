"""Buying shares: orders, recording payments, and issuing numbered certificates.

Recording a payment is one transaction: the order is marked paid, ``issue`` rows go into
the ledger, the next certificate number is taken from its counter row, the certificate's
PDF is rendered once and stored with its SHA-256, and the audit event is written; the
"certificate ready" mail goes after commit. Recording the same payment again issues
nothing more.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import lock_row
from ..errors import InvalidInput, InvalidState, NotAllowed
from ..models import (
    Certificate,
    CoopSettings,
    LedgerKind,
    Member,
    MemberClass,
    MemberStatus,
    OrderState,
    ShareOrder,
    ShareType,
    User,
    utcnow,
)
from . import audit, ledger
from .certificates import CertificateRenderer, issue_certificate

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read over the phone


def payment_reference(prefix: str = "RVB") -> str:
    """A short, unambiguous reference for a bank transfer, e.g. ``RVB-7KQ4-M2XD``."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"


def capital_held(db: Session, member: Member) -> int:
    """The member's capital in shares (minor units), from the ledger."""
    return ledger.capital(db, member)


def capital_ordered(db: Session, member: Member) -> int:
    """The amount of the member's orders still waiting for payment."""
    return (
        db.scalar(
            select(func.coalesce(func.sum(ShareOrder.amount_minor), 0)).where(
                ShareOrder.member_id == member.id,
                ShareOrder.state == OrderState.PENDING_PAYMENT,
            )
        )
        or 0
    )


@dataclass(frozen=True)
class OrderCheck:
    """The amount an order would cost and the rules it breaks (empty when none)."""

    amount_minor: int
    problems: list[str]


def check_order(
    db: Session, member: Member, share_type: ShareType, quantity: int, settings: CoopSettings
) -> OrderCheck:
    """Check min / step / max and the per-member cap (DESIGN.md §2); says every problem."""
    problems = []
    if quantity < share_type.min_quantity:
        problems.append(f"Buy at least {share_type.count(share_type.min_quantity)}.")
    if (quantity - share_type.min_quantity) % share_type.step:
        problems.append(f"{share_type.plural} are sold in multiples of {share_type.step}.")
    held = ledger.holding(db, member, share_type)
    if share_type.max_quantity is not None and held + quantity > share_type.max_quantity:
        problems.append(f"A member may hold at most {share_type.count(share_type.max_quantity)}.")
    amount = quantity * share_type.par_value_minor
    if capital_held(db, member) + capital_ordered(db, member) + amount > settings.max_holding_minor:
        problems.append("This would take your holding over the co-op's limit per member.")
    return OrderCheck(amount_minor=amount, problems=problems)


def place_order(
    db: Session,
    member: Member,
    share_type: ShareType,
    quantity: int,
    *,
    actor: User | None,
    settings: CoopSettings,
) -> ShareOrder:
    """Order shares; the member then pays by bank transfer quoting the reference."""
    if member.status is MemberStatus.CEASED:
        raise InvalidState("A former member cannot buy shares.")
    if actor is not None and not actor.is_staff and member.user_id != actor.id:
        raise NotAllowed("You can only buy shares for yourself.")
    check = check_order(db, member, share_type, quantity, settings)
    if check.problems:
        raise InvalidInput(" ".join(check.problems), field="quantity")
    order = ShareOrder(
        member=member,
        share_type=share_type,
        quantity=quantity,
        amount_minor=check.amount_minor,
        currency=settings.currency,
        payment_reference=payment_reference(),
    )
    db.add(order)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="order.placed",
        target=order,
        summary=f"{quantity} × {share_type.name} for member no. {member.number}, "
        f"reference {order.payment_reference}",
    )
    return order


def order_required_shares(
    db: Session, member: Member, member_class: MemberClass, *, settings: CoopSettings
) -> ShareOrder | None:
    """Order the membership shares a class requires, unless held or already ordered."""
    share_type = db.scalar(
        select(ShareType).where(ShareType.voting.is_(True)).order_by(ShareType.position)
    )
    if share_type is None or member_class.required_shares <= 0:
        return None
    held = ledger.holding(db, member, share_type)
    ordered = (
        db.scalar(
            select(func.coalesce(func.sum(ShareOrder.quantity), 0)).where(
                ShareOrder.member_id == member.id,
                ShareOrder.share_type_id == share_type.id,
                ShareOrder.state == OrderState.PENDING_PAYMENT,
            )
        )
        or 0
    )
    missing = member_class.required_shares - held - ordered
    if missing <= 0:
        return None
    return place_order(db, member, share_type, missing, actor=None, settings=settings)


def cancel_order(db: Session, order: ShareOrder, *, actor: User) -> ShareOrder:
    """Cancel an unpaid order (the member's own, or by staff)."""
    if not actor.is_staff and order.member.user_id != actor.id:
        raise NotAllowed("This is not your order.")
    if order.state is not OrderState.PENDING_PAYMENT:
        raise InvalidState(
            f"This order is {order.state.value.replace('_', ' ')}; "
            "only an unpaid order can be cancelled."
        )
    order.state = OrderState.CANCELLED
    audit.record(
        db,
        actor=actor,
        action="order.cancelled",
        target=order,
        summary=f"Order {order.payment_reference} cancelled",
    )
    db.flush()
    return order


def record_payment(
    db: Session,
    order: ShareOrder,
    *,
    amount_minor: int,
    paid_on: date,
    method: str,
    bank_reference: str,
    actor: User,
    settings: CoopSettings,
    render: CertificateRenderer,
) -> Certificate:
    """Record the payment of an order and issue its shares and certificate, once.

    Called through ``payments.settle_order``, which checks the payment method.

    Recording the same payment again (same order, same bank reference) returns the
    certificate already issued; a different amount is refused with the difference.
    """
    # Two requests recording one payment at once must take turns, or both see the order
    # unpaid and both issue.
    lock_row(db, order)
    bank_reference = bank_reference.strip()[:120]
    if order.state is OrderState.ISSUED:
        if order.bank_reference == bank_reference:
            return _certificate_of(db, order)
        raise InvalidState(
            f"Order {order.payment_reference} was already paid "
            f"(bank reference {order.bank_reference})."
        )
    if order.state is not OrderState.PENDING_PAYMENT:
        raise InvalidState(f"This order is {order.state.value.replace('_', ' ')}.")
    if amount_minor != order.amount_minor:
        difference = amount_minor - order.amount_minor
        raise InvalidInput(
            f"The order is for {order.amount_minor / 100:.2f}; the payment is "
            f"{abs(difference) / 100:.2f} {'more' if difference > 0 else 'less'}.",
            field="amount",
        )
    order.state = OrderState.PAID
    order.paid_at = utcnow()
    order.paid_amount_minor = amount_minor
    order.paid_on = paid_on
    order.payment_method = method
    order.bank_reference = bank_reference
    order.recorded_by_id = actor.id
    audit.record(
        db,
        actor=actor,
        action="order.paid",
        target=order,
        summary=f"Payment of {amount_minor / 100:.2f} recorded for {order.payment_reference}",
    )
    certificate = issue_shares(
        db,
        order.member,
        order.share_type,
        order.quantity,
        actor=actor,
        settings=settings,
        render=render,
        reference=order.payment_reference,
        order=order,
    )
    order.state = OrderState.ISSUED
    db.flush()
    return certificate


def _certificate_of(db: Session, order: ShareOrder) -> Certificate:
    certificate = db.scalar(select(Certificate).where(Certificate.order_id == order.id))
    if certificate is None:
        raise InvalidState("This order is issued but has no certificate; run check-register.")
    return certificate


def issue_shares(
    db: Session,
    member: Member,
    share_type: ShareType,
    quantity: int,
    *,
    actor: User | None,
    settings: CoopSettings,
    render: CertificateRenderer,
    reference: str,
    order: ShareOrder | None = None,
) -> Certificate:
    """Put shares on the register and issue the numbered certificate for them."""
    ledger.append(
        db,
        kind=LedgerKind.ISSUE,
        member=member,
        share_type=share_type,
        quantity=quantity,
        currency=settings.currency,
        reference=reference,
        actor=actor,
    )
    return issue_certificate(
        db, member, share_type, quantity, actor=actor, settings=settings, render=render, order=order
    )
