"""Ordering shares: the rules an order must keep, placing and cancelling it, finding it.

An order waits for its payment (``portal.services.shares.payments`` settles it, which
issues the shares); the limits are the share type's minimum, step and maximum and the
co-op's cap on one member's holding (``CoopSettings.max_holding_minor``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ... import coop
from ...errors import InvalidInput, InvalidState, NotAllowed
from ...models import (
    Member,
    MemberClass,
    MemberStatus,
    OrderState,
    ShareOrder,
    ShareType,
    User,
)
from .. import audit, transitions
from . import ledger

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read over the phone


def payment_reference(prefix: str = "RVB") -> str:
    """A short, unambiguous reference for a bank transfer, e.g. ``RVB-7KQ4-M2XD``."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"


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


def quantity_ordered(db: Session, member: Member, share_type: ShareType) -> int:
    """Shares of this type on the member's orders still waiting for payment."""
    return (
        db.scalar(
            select(func.coalesce(func.sum(ShareOrder.quantity), 0)).where(
                ShareOrder.member_id == member.id,
                ShareOrder.share_type_id == share_type.id,
                ShareOrder.state == OrderState.PENDING_PAYMENT,
            )
        )
        or 0
    )


def check_order(db: Session, member: Member, share_type: ShareType, quantity: int) -> OrderCheck:
    """Check min / step / max and the per-member cap (DESIGN.md §2); says every problem.

    The cap is ``CoopSettings.max_holding_minor``, counting orders not yet paid.
    """
    problems = []
    if quantity < share_type.min_quantity:
        problems.append(f"Buy at least {share_type.count(share_type.min_quantity)}.")
    if (quantity - share_type.min_quantity) % share_type.step:
        problems.append(f"{share_type.plural} are sold in multiples of {share_type.step}.")
    # Orders not yet paid count: paid, they would all be held (the membership share is one).
    held = ledger.holding(db, member, share_type) + quantity_ordered(db, member, share_type)
    if share_type.max_quantity is not None and held + quantity > share_type.max_quantity:
        problems.append(
            f"A member may hold at most {share_type.count(share_type.max_quantity)}"
            + (", counting the orders waiting for payment." if held else ".")
        )
    amount = quantity * share_type.par_value_minor
    cap = coop.settings(db).max_holding_minor
    if ledger.capital(db, member) + capital_ordered(db, member) + amount > cap:
        problems.append("This would take your holding over the co-op's limit per member.")
    return OrderCheck(amount_minor=amount, problems=problems)


def place_order(
    db: Session,
    member: Member,
    share_type: ShareType,
    quantity: int,
    *,
    actor: User | None,
) -> ShareOrder:
    """Order shares; the member then pays by bank transfer quoting the reference."""
    if member.status is MemberStatus.CEASED:
        raise InvalidState("A former member cannot buy shares.")
    if actor is not None and not actor.is_staff and member.user_id != actor.id:
        raise NotAllowed("You can only buy shares for yourself.")
    check = check_order(db, member, share_type, quantity)
    if check.problems:
        raise InvalidInput(" ".join(check.problems), field="quantity")
    order = ShareOrder(
        member=member,
        share_type=share_type,
        quantity=quantity,
        amount_minor=check.amount_minor,
        currency=coop.settings(db).currency,
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


@dataclass(frozen=True)
class JoiningCost:
    """What joining a class costs one person: the membership shares they still need (those
    they hold or have on order count: one share serves every class that asks for one),
    and the class's annual fee."""

    share_type: ShareType | None  # the membership share
    to_buy: int
    held: int
    on_order: int
    annual_fee_minor: int

    @property
    def once_minor(self) -> int:
        """The amount paid once, for the membership shares still needed."""
        return self.to_buy * self.share_type.par_value_minor if self.share_type else 0


def _membership_share(db: Session) -> ShareType | None:
    return db.scalar(
        select(ShareType).where(ShareType.voting.is_(True)).order_by(ShareType.position)
    )


def joining_cost(db: Session, member: Member | None, member_class: MemberClass) -> JoiningCost:
    """What ``member`` (None for someone not on the register) would pay to join the class."""
    share_type = _membership_share(db)
    held = on_order = 0
    if share_type is not None and member is not None:
        held = ledger.holding(db, member, share_type)
        on_order = quantity_ordered(db, member, share_type)
    needed = member_class.required_shares if share_type is not None else 0
    return JoiningCost(
        share_type=share_type,
        to_buy=max(0, needed - held - on_order),
        held=held,
        on_order=on_order,
        annual_fee_minor=member_class.annual_fee_minor,
    )


def order_required_shares(
    db: Session, member: Member, member_class: MemberClass
) -> ShareOrder | None:
    """Order the membership shares a class requires, unless held or already ordered."""
    cost = joining_cost(db, member, member_class)
    if cost.share_type is None or cost.to_buy <= 0:
        return None
    return place_order(db, member, cost.share_type, cost.to_buy, actor=None)


def cancel_order(db: Session, order: ShareOrder, *, actor: User) -> ShareOrder:
    """Cancel an unpaid order (the member's own, or by staff)."""
    if not actor.is_staff and order.member.user_id != actor.id:
        raise NotAllowed("This is not your order.")
    transitions.move(
        db,
        order,
        OrderState.CANCELLED,
        actor=actor,
        doing="cancelled",
        summary=f"Order {order.payment_reference} cancelled",
    )
    db.flush()
    return order


def order_for(db: Session, order_id: int, user: User) -> ShareOrder | None:
    """The order if ``user`` placed it (their member's) or is staff; None otherwise."""
    order = db.scalar(
        select(ShareOrder)
        .options(joinedload(ShareOrder.member), joinedload(ShareOrder.share_type))
        .where(ShareOrder.id == order_id)
    )
    if order is None or not (user.is_staff or order.member.user_id == user.id):
        return None
    return order


def pending_orders(db: Session) -> list[ShareOrder]:
    """Orders waiting for their payment to be recorded, oldest first."""
    return list(
        db.scalars(
            select(ShareOrder)
            .options(joinedload(ShareOrder.member), joinedload(ShareOrder.share_type))
            .where(ShareOrder.state == OrderState.PENDING_PAYMENT)
            .order_by(ShareOrder.created_at)
        )
    )
