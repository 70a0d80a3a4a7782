"""Reading a member's shares: holdings, capital, orders and certificates."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import Certificate, Member, ShareOrder, ShareType, User
from . import ledger, share_register


@dataclass(frozen=True)
class Holding:
    share_type: ShareType
    quantity: int

    @property
    def value_minor(self) -> int:
        return self.quantity * self.share_type.par_value_minor


@dataclass(frozen=True)
class ShareSummary:
    holdings: list[Holding]
    orders: list[ShareOrder]
    certificates: list[Certificate]

    @property
    def capital_minor(self) -> int:
        return sum(h.value_minor for h in self.holdings)


def summary(db: Session, member: Member) -> ShareSummary:
    """What the member holds now, what they ordered, and their certificates."""
    types = list(db.scalars(select(ShareType).order_by(ShareType.position)))
    held = [Holding(t, ledger.holding(db, member, t)) for t in types]
    orders = db.scalars(
        select(ShareOrder)
        .options(joinedload(ShareOrder.share_type))
        .where(ShareOrder.member_id == member.id)
        .order_by(ShareOrder.created_at.desc())
    ).all()
    certificates = db.scalars(
        select(Certificate)
        .options(joinedload(Certificate.share_type))
        .where(Certificate.member_id == member.id)
        .order_by(Certificate.number.desc())
    ).all()
    return ShareSummary([h for h in held if h.quantity], list(orders), list(certificates))


def holding_history(db: Session, member: Member, *, tz: str) -> share_register.CapitalHistory:
    """The member's capital at the end of each month (or day), from their first share."""
    today = share_register.today(tz)
    return share_register.capital_history(
        db, share_register.RegisterFilter(today, tz), member=member
    )


def certificate_for(db: Session, number: int, user: User) -> Certificate | None:
    """The certificate with this number if ``user`` owns it or is staff; None otherwise."""
    certificate = db.scalar(
        select(Certificate)
        .options(joinedload(Certificate.member))
        .where(Certificate.number == number)
    )
    if certificate is None:
        return None
    if user.is_staff or certificate.member.user_id == user.id:
        return certificate
    return None


def certificate_by_code(db: Session, code: str) -> Certificate | None:
    """The certificate a verification code names, if any."""
    return db.scalar(
        select(Certificate)
        .options(joinedload(Certificate.member), joinedload(Certificate.share_type))
        .where(Certificate.code == code)
    )


def display_name(member: Member) -> str:
    """The holder's name for public pages: in full if the member allowed it, else initials."""
    if member.name_on_verify:
        return member.name
    return " ".join(f"{part[0]}." for part in member.name.split() if part)


def share_types(db: Session) -> list[ShareType]:
    """Every share type, in display order."""
    return list(db.scalars(select(ShareType).order_by(ShareType.position)))


def buyable_types(db: Session, member: Member) -> list[ShareType]:
    """Share types the member can still order: not those already held to their maximum."""
    return [
        t
        for t in share_types(db)
        if t.max_quantity is None or ledger.holding(db, member, t) < t.max_quantity
    ]


def find_type(db: Session, code: str) -> ShareType | None:
    """The share type with this code, if any."""
    return db.scalar(select(ShareType).where(ShareType.code == code))


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
    from ..models import OrderState

    return list(
        db.scalars(
            select(ShareOrder)
            .options(joinedload(ShareOrder.member), joinedload(ShareOrder.share_type))
            .where(ShareOrder.state == OrderState.PENDING_PAYMENT)
            .order_by(ShareOrder.created_at)
        )
    )
