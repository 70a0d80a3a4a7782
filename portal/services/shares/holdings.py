"""Reading a member's shares: holdings, capital, orders and certificates."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ...coop import clock
from ...models import Certificate, Member, ShareOrder, ShareType, User
from . import ledger, share_register
from .share_types import list_share_types


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
    held = [Holding(t, ledger.holding(db, member, t)) for t in list_share_types(db)]
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


def holding_history(db: Session, member: Member) -> share_register.CapitalHistory:
    """The member's capital at the end of each month (or day), from their first share."""
    co_op_clock = clock(db)
    return share_register.capital_history(
        db, share_register.RegisterFilter(co_op_clock.today(), co_op_clock), member=member
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
