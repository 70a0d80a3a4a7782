"""Ordering shares: the rules an order must keep, placing and cancelling it, finding it.

An order waits for its payment (``portal.services.shares.payments`` settles it, which
issues the shares); the limits are the share type's minimum, step and maximum and the
co-op's cap on one member's holding (``CoopSettings.max_holding_minor``).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, select, tuple_, union_all
from sqlalchemy.orm import Session, joinedload

from ... import coop
from ...db import lock_row
from ...errors import InvalidInput, InvalidState, NotAllowed
from ...models import (
    Application,
    ApplicationState,
    Member,
    MemberClass,
    MemberStatus,
    OrderState,
    ShareOrder,
    ShareType,
    User,
)
from ...money import format_money
from .. import audit, transitions
from ..inputs import DIGITS, read_id
from ..pagination import COUNT_LIMIT, KeyPage
from . import ledger

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read over the phone
REFERENCE_PART = 4  # characters in each half of a reference after its prefix


# A buy form's key: made when the form is shown, sent back with it (see place_order).
ORDER_KEY = re.compile(r"[A-Za-z0-9_-]{20,64}")


def new_order_key() -> str:
    """A fresh key for one buy form: unguessable, so a key names one form only."""
    return secrets.token_urlsafe(24)


def read_order_key(raw: str) -> str:
    """The key a buy form carried, or a refusal asking to check the order and send it again
    (a form from before keys, or a key tampered with)."""
    if not ORDER_KEY.fullmatch(raw or ""):
        raise InvalidInput("This form has expired: check your order and place it again.")
    return raw


def payment_reference(db: Session) -> str:
    """A short, unambiguous reference for a bank transfer, e.g. ``RVB-7KQ4-M2XD``.

    It starts with the co-op's prefix (``CoopSettings.reference_prefix``), so a co-op's
    transfers are told apart from others' on a shared statement.
    """
    prefix = coop.settings(db).reference_prefix
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
    key: str | None = None,
) -> ShareOrder:
    """Order shares; the member then pays by bank transfer quoting the reference.

    ``key`` is the buy form's own (:func:`new_order_key`): the form sent again (a double
    click, a reload, a retry after a lost answer) answers with the order it placed, never
    a second one; the database holds a key once per member. The same key for another
    order (the form changed after it was sent) is refused.
    """
    if member.status is MemberStatus.CEASED:
        raise InvalidState("A former member cannot buy shares.")
    if actor is not None and not actor.is_staff and member.user_id != actor.id:
        raise NotAllowed("You can only buy shares for yourself.")
    # One member's orders take turns: the same form sent twice at once finds the first
    # one's order, and the cap is checked against orders placed meanwhile.
    lock_row(db, member)
    if key is not None:
        placed = db.scalar(
            select(ShareOrder).where(ShareOrder.member_id == member.id, ShareOrder.order_key == key)
        )
        if placed is not None:
            if (placed.share_type_id, placed.quantity) == (share_type.id, quantity):
                return placed
            raise InvalidInput(
                f"This form placed order {placed.payment_reference} already. To order other "
                "shares as well, check the new order below and place it.",
                field="quantity",
            )
    check = check_order(db, member, share_type, quantity)
    if check.problems:
        raise InvalidInput(" ".join(check.problems), field="quantity")
    order = ShareOrder(
        member=member,
        share_type=share_type,
        quantity=quantity,
        amount_minor=check.amount_minor,
        currency=coop.settings(db).currency,
        payment_reference=payment_reference(db),
        order_key=key,
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


def joining_cost(db: Session, user: User | None, member_class: MemberClass) -> JoiningCost:
    """What ``user`` (None for a visitor) would pay to join the class.

    A membership share held, or waiting on an admission order, serves every class
    (rule 9.1); each class's first annual fee is paid on joining it (rule 8.1).
    """
    share_type = membership_share_type(db)
    held = on_order = 0
    if share_type is not None and user is not None:
        member = db.scalar(select(Member).where(Member.user_id == user.id))
        if member is not None:
            held = ledger.holding(db, member, share_type)
            on_order = quantity_ordered(db, member, share_type)
        else:
            waiting = waiting_admission_order(db, user)
            on_order = waiting.quantity if waiting is not None else 0
    needed = member_class.required_shares if share_type is not None else 0
    return JoiningCost(
        share_type=share_type,
        to_buy=max(0, needed - held - on_order),
        held=held,
        on_order=on_order,
        annual_fee_minor=member_class.annual_fee_minor,
    )


def membership_share_type(db: Session) -> ShareType | None:
    """The share that makes a member (it carries the vote): the first voting share type."""
    return db.scalar(
        select(ShareType).where(ShareType.voting.is_(True)).order_by(ShareType.position)
    )


def order_admission(db: Session, application: Application) -> ShareOrder | None:
    """The admission order of an approved applicant: the membership share and first fee.

    A person becomes a member when they have paid for one membership share and, where
    their class has one, its first annual fee (rule 8.1; ``MemberClass.required_shares``
    and ``MemberClass.annual_fee_minor``). None when the class asks for no share at all.
    """
    member_class = application.member_class
    share_type = membership_share_type(db)
    if share_type is None or member_class.required_shares <= 0:
        return None
    quantity = member_class.required_shares
    order = ShareOrder(
        application=application,
        share_type=share_type,
        quantity=quantity,
        fee_minor=member_class.annual_fee_minor,
        amount_minor=quantity * share_type.par_value_minor + member_class.annual_fee_minor,
        currency=coop.settings(db).currency,
        payment_reference=payment_reference(db),
    )
    db.add(order)
    db.flush()
    audit.record(
        db,
        actor=None,
        action="order.placed",
        target=order,
        summary=f"Admission of {application.user.name} ({member_class.name}): "
        f"{share_type.count(quantity)}"
        + (" and the first annual fee" if order.fee_minor else "")
        + f", reference {order.payment_reference}",
    )
    return order


def admission_order(db: Session, application: Application) -> ShareOrder | None:
    """The order whose payment will admit this applicant, while it waits for payment."""
    return db.scalar(
        select(ShareOrder)
        .options(joinedload(ShareOrder.share_type))
        .where(
            ShareOrder.application_id == application.id,
            ShareOrder.member_id.is_(None),
            ShareOrder.state == OrderState.PENDING_PAYMENT,
        )
    )


def waiting_admission_order(db: Session, user: User) -> ShareOrder | None:
    """The person's admission order waiting for payment, whichever class it came with.

    One membership share, however many classes (rule 9.1): a second class approved before
    the first is paid waits for the same order.
    """
    return db.scalar(
        select(ShareOrder)
        .join(ShareOrder.application)
        .where(
            Application.user_id == user.id,
            ShareOrder.member_id.is_(None),
            ShareOrder.state == OrderState.PENDING_PAYMENT,
        )
    )


def add_class_to_admission(db: Session, order: ShareOrder, application: Application) -> None:
    """A further class approved before the membership share is paid joins the waiting
    order: no second share (rule 9.1), but the class's first annual fee (rule 8.1)."""
    fee = application.member_class.annual_fee_minor
    if fee:
        order.fee_minor += fee
        order.amount_minor += fee
        audit.record(
            db,
            actor=None,
            action="order.changed",
            target=order,
            summary=f"Order {order.payment_reference}: the first annual fee of the "
            f"{application.member_class.name} class added ({format_money(fee, order.currency)})",
        )


def release_admission_order(db: Session, application: Application, *, actor: User) -> None:
    """The application closed unpaid: its part of the waiting admission order goes.

    Its class's fee comes off the order; the order itself passes to the person's other
    approved application waiting for the share, or is cancelled when there is none.
    """
    order = waiting_admission_order(db, application.user)
    if order is None:
        return
    heirs = list(
        db.scalars(
            select(Application)
            .where(
                Application.user_id == application.user_id,
                Application.id != application.id,
                Application.state == ApplicationState.AWAITING_SHARE,
            )
            .order_by(Application.id)
        )
    )
    if not heirs:
        transitions.move(
            db,
            order,
            OrderState.CANCELLED,
            actor=actor,
            doing="cancelled",
            summary=f"Order {order.payment_reference} cancelled: the application closed",
        )
        return
    fee = min(application.member_class.annual_fee_minor, order.fee_minor)
    order.fee_minor -= fee
    order.amount_minor -= fee
    if order.application_id == application.id:
        order.application = heirs[0]
    audit.record(
        db,
        actor=actor,
        action="order.changed",
        target=order,
        summary=f"Order {order.payment_reference} now admits to the "
        f"{', '.join(h.member_class.name for h in heirs)} class"
        + (f", {format_money(fee, order.currency)} less" if fee else ""),
    )


def cancel_order(db: Session, order: ShareOrder, *, actor: User) -> ShareOrder:
    """Cancel an unpaid order (the member's own, or by staff)."""
    if not actor.is_staff and order.owner_user_id != actor.id:
        raise NotAllowed("This is not your order.")
    if not order.can_cancel and order.application_id is not None:
        raise InvalidState("This order pays for your membership: withdraw the application instead.")
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
        .options(
            joinedload(ShareOrder.member),
            joinedload(ShareOrder.share_type),
            joinedload(ShareOrder.application),
        )
        .where(ShareOrder.id == order_id)
    )
    if order is None or not (user.is_staff or order.owner_user_id == user.id):
        return None
    return order


def pending_orders(db: Session) -> list[ShareOrder]:
    """Orders waiting for their payment to be recorded, oldest first."""
    return list(
        db.scalars(
            select(ShareOrder)
            .options(
                joinedload(ShareOrder.member),
                joinedload(ShareOrder.share_type),
                joinedload(ShareOrder.application).joinedload(Application.user),
                joinedload(ShareOrder.application).joinedload(Application.member_class),
            )
            .where(ShareOrder.state == OrderState.PENDING_PAYMENT)
            .order_by(ShareOrder.created_at)
        )
    )


def search_orders(
    db: Session,
    *,
    text: str = "",
    state: OrderState | None = OrderState.PENDING_PAYMENT,
    member_id: int | None = None,
    after: int | None = None,
    before: int | None = None,
    per_page: int = 20,
) -> KeyPage:
    """Orders by payment reference, member number or name, in a state (None: any), of one
    member if ``member_id`` is given, oldest first; ``after`` / ``before`` name the order a
    page starts after or ends before.

    Staff match a bank statement by the reference the payer quoted (with or without its
    dashes, in any case) or by the payer's name: the member's, or the applicant's whose
    admission order it is.
    """
    query = select(ShareOrder)
    if state is not None:
        query = query.where(ShareOrder.state == state)
    if member_id is not None:  # one member's orders (the "all orders" of their page)
        query = query.where(ShareOrder.member_id == member_id)
    matching = _text_matches(text)
    if matching is not None:
        query = query.where(matching)
    page = _keyset_page(db, query, after=after, before=before, per_page=per_page)
    if page.previous_before is None and page.next_after is None:
        return page  # all there is: no need to count
    # Counted up to a bound: past it, "more than" is all staff need, and a count of every
    # order of a big co-op would cost a scan of them all on each page.
    bounded = query.with_only_columns(ShareOrder.id).limit(COUNT_LIMIT + 1).subquery()
    total = db.scalar(select(func.count()).select_from(bounded)) or 0
    return dataclasses.replace(page, total=total)


# A reference as typed from a bank statement: RVB-7KQ4-M2XD, rvb 7kq4 m2xd, RVB7KQ4M2XD; its
# prefix is the co-op's (CoopSettings.reference_prefix: two to six letters or digits).
WHOLE_REFERENCE = re.compile(r"([A-Z0-9]{2,6})[-\s]?([A-Z0-9]{4})[-\s]?([A-Z0-9]{4})")


def _whole_reference(needle: str) -> tuple[str, bool] | None:
    """The reference ``needle`` spells out whole, and whether it can be nothing else (its
    halves set apart by a dash or space, or holding a digit: no name looks like that)."""
    match = WHOLE_REFERENCE.fullmatch(needle.upper())
    if match is None:
        return None
    prefix, first, second = match.groups()
    if not set(first + second) <= set(REFERENCE_ALPHABET):
        return None
    certain = len(needle) > len(prefix) + 8 or any(c.isdigit() for c in first + second)
    return f"{prefix}-{first}-{second}", certain


def _text_matches(text: str) -> Any:
    """The condition an order's reference, member number or payer's name meets; None for
    no text. Every word of a name must appear in it ("okafor a" finds Ada Okafor).

    The orders matching are found by lookups of their own, not a test tried on every
    order: a whole reference by its unique index, a number by the members', a name by the
    members (and applicants) bearing it; a piece of a reference scans the references' index.
    """
    needle = text.strip().lower()[:120]
    if not needle:
        return None
    whole = _whole_reference(needle)
    if whole is not None and whole[1]:
        return ShareOrder.payment_reference == whole[0]
    found: list[Select[Any]] = []
    if whole is not None:  # "RVBBHSNXBNX" may be a reference, or a name
        found.append(select(ShareOrder.id).where(ShareOrder.payment_reference == whole[0]))
    compact = re.sub(r"[^A-Z0-9]", "", needle.upper())
    # A half of a reference, or both (M2XD, 7KQ4 M2XD), in the references' alphabet: a
    # shorter piece is in most references, "12" is a member's number, "okafor" a name.
    if len(compact) in (REFERENCE_PART, 2 * REFERENCE_PART) and set(compact) <= set(
        REFERENCE_ALPHABET
    ):
        found.append(select(ShareOrder.id).where(_reference_contains(compact)))
    number = needle.removeprefix("#")
    if DIGITS.fullmatch(number):  # a number past any member's matches none
        members = select(Member.id).where(Member.number == (read_id(number) or 0))
        found.append(select(ShareOrder.id).where(ShareOrder.member_id.in_(members)))
    elif not any(c.isdigit() for c in needle):  # names hold no digits
        words = needle.split()
        members = select(Member.id).where(*(_contains(Member.name, w) for w in words))
        applicants = (
            select(Application.id)
            .join(User, Application.user_id == User.id)
            .where(*(_contains(User.name, w) for w in words))
        )
        found.append(select(ShareOrder.id).where(ShareOrder.member_id.in_(members)))
        found.append(select(ShareOrder.id).where(ShareOrder.application_id.in_(applicants)))
    if not found:
        return ShareOrder.id.is_(None)
    return ShareOrder.id.in_(union_all(*found) if len(found) > 1 else found[0])


def _reference_contains(compact: str) -> Any:
    """The reference holds ``compact``, a half or both halves typed without the dash: a
    scan of the references' own index, not of the orders."""
    if len(compact) > REFERENCE_PART:
        compact = f"{compact[:REFERENCE_PART]}-{compact[REFERENCE_PART:]}"
    return ShareOrder.payment_reference.contains(compact)


def _contains(column: Any, word: str) -> Any:
    return func.lower(column).contains(word, autoescape=True)


def _key() -> Any:
    """What orders are paged by: when placed, then the id (orders placed at one instant)."""
    return tuple_(ShareOrder.created_at, ShareOrder.id)


def _keyset_page(
    db: Session,
    query: Select[Any],
    *,
    after: int | None,
    before: int | None,
    per_page: int,
) -> KeyPage:
    """The page of ``query`` after the order ``after`` (or before ``before``), by key.

    A cursor naming no order, or one past the end, gives the first page.
    """
    backwards = before is not None
    cursor = db.execute(
        select(ShareOrder.created_at, ShareOrder.id).where(
            ShareOrder.id == (before if backwards else after)
        )
    ).first()
    if cursor is None:
        page = query
    else:
        page = query.where(_key() < tuple(cursor) if backwards else _key() > tuple(cursor))
    items = _fetch(db, page, per_page + 1, backwards=backwards and cursor is not None)
    if not items:
        if cursor is None:
            return KeyPage(items=[], total=0, previous_before=None, next_after=None)
        return _keyset_page(db, query, after=None, before=None, per_page=per_page)
    more = len(items) > per_page
    items = items[:per_page]
    if backwards and cursor is not None:
        items.reverse()
        has_previous = more
        has_next = True  # the cursor's order, at least
    else:
        has_previous = cursor is not None and _any(
            db, query.where(_key() < (items[0].created_at, items[0].id))
        )
        has_next = more
    return KeyPage(
        items=items,
        total=len(items),  # search_orders counts them all when there are other pages
        previous_before=items[0].id if has_previous else None,
        next_after=items[-1].id if has_next else None,
    )


def _fetch(db: Session, query: Select[Any], limit: int, *, backwards: bool) -> list[ShareOrder]:
    """Up to ``limit`` orders of ``query`` by key (newest first when ``backwards``), with
    what their cards show."""
    key = (ShareOrder.created_at.desc(), ShareOrder.id.desc()) if backwards else _key().clauses
    return list(
        db.scalars(
            query.options(
                joinedload(ShareOrder.member),
                joinedload(ShareOrder.share_type),
                joinedload(ShareOrder.application).joinedload(Application.user),
                joinedload(ShareOrder.application).joinedload(Application.member_class),
            )
            .order_by(*key)
            .limit(limit)
        ).unique()
    )


def _any(db: Session, query: Select[Any]) -> bool:
    """Whether ``query`` finds anything."""
    return bool(db.scalar(select(exists(query.with_only_columns(ShareOrder.id)))))
