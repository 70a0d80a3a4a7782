"""Reading a member's shares: holdings, capital, orders and certificates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, joinedload, undefer

from ...coop import clock
from ...models import (
    LEDGER_SIGN,
    OPEN_WITHDRAWAL_STATES,
    Certificate,
    LedgerEntry,
    Member,
    ShareOrder,
    ShareType,
    User,
    Withdrawal,
)
from ..pagination import Page, paginate
from . import share_register
from .withdrawals import withdrawable_of


@dataclass(frozen=True)
class Holding:
    share_type: ShareType
    quantity: int

    @property
    def value_minor(self) -> int:
        return self.quantity * self.share_type.par_value_minor


# How many of each kind a member's page lists before it links to them all.
RECENT = 10


@dataclass(frozen=True)
class Recent:
    """The newest few of a member's orders (or certificates, withdrawals), and how many."""

    items: list[Any]
    total: int

    @property
    def more(self) -> bool:
        return self.total > len(self.items)


@dataclass(frozen=True)
class ShareSummary:
    """A member's own shares page: holdings, and the newest of their orders, certificates
    and withdrawals (each bounded, with its count), and their open withdrawals."""

    holdings: list[Holding]
    orders: Recent
    certificates: Recent
    withdrawals: Recent
    open_withdrawals: list[Withdrawal]

    @property
    def capital_minor(self) -> int:
        return sum(h.value_minor for h in self.holdings)

    @property
    def can_withdraw(self) -> bool:
        """Whether some holding leaves shares to ask to withdraw, past open requests."""
        return any(
            withdrawable_of(h.share_type, held=h.quantity, pending=self._pending(h.share_type))
            for h in self.holdings
        )

    def _pending(self, share_type: ShareType) -> int:
        return sum(w.quantity for w in self.open_withdrawals if w.share_type_id == share_type.id)


def held_by(db: Session, member: Member) -> list[Holding]:
    """What the member holds now, by share type in display order (types they hold none of
    left out): one grouped query over the member's ledger rows."""
    signed = case(
        *(
            (LedgerEntry.kind == kind, LedgerEntry.quantity * sign)
            for kind, sign in LEDGER_SIGN.items()
        ),
        else_=0,
    )
    quantity = func.sum(signed)
    rows = db.execute(
        select(ShareType, quantity)
        .join(LedgerEntry, LedgerEntry.share_type_id == ShareType.id)
        .where(LedgerEntry.member_id == member.id)
        .group_by(ShareType.id)
        .having(quantity != 0)
        .order_by(ShareType.position)
    ).all()
    return [Holding(share_type, held) for share_type, held in rows]


def summary(db: Session, member: Member, *, limit: int | None = None) -> ShareSummary:
    """What the member holds now, and the newest ``limit`` (``RECENT``) of their orders,
    certificates and withdrawals (the rest are on their own pages), and their open
    withdrawals."""
    limit = limit or RECENT
    withdrawals = _recent(db, _member_withdrawals(member), limit)
    if withdrawals.more:  # some are not listed: ask for the open ones
        open_withdrawals = list(
            db.scalars(
                select(Withdrawal).where(
                    Withdrawal.member_id == member.id,
                    Withdrawal.state.in_(OPEN_WITHDRAWAL_STATES),
                )
            )
        )
    else:
        open_withdrawals = [w for w in withdrawals.items if w.state in OPEN_WITHDRAWAL_STATES]
    return ShareSummary(
        held_by(db, member),
        orders=_recent(db, _member_orders(member), limit),
        certificates=_recent(db, _member_certificates(member), limit),
        withdrawals=withdrawals,
        open_withdrawals=open_withdrawals,
    )


@dataclass(frozen=True)
class MemberRecord:
    """What staff look up first about a member: what they hold, and the newest of their
    orders, certificates and withdrawals (each bounded, with its count)."""

    holdings: list[Holding]
    orders: Recent
    certificates: Recent
    withdrawals: Recent

    @property
    def capital_minor(self) -> int:
        return sum(h.value_minor for h in self.holdings)


def _member_orders(member: Member) -> Select[Any]:
    return (
        select(ShareOrder)
        .options(joinedload(ShareOrder.share_type))
        .where(ShareOrder.member_id == member.id)
        .order_by(ShareOrder.created_at.desc(), ShareOrder.id.desc())
    )


def _member_certificates(member: Member) -> Select[Any]:
    return (
        select(Certificate)
        .options(joinedload(Certificate.share_type), joinedload(Certificate.replaced_by))
        .where(Certificate.member_id == member.id)
        .order_by(Certificate.number.desc())
    )


def _member_withdrawals(member: Member) -> Select[Any]:
    return (
        select(Withdrawal)
        .options(joinedload(Withdrawal.share_type))
        .where(Withdrawal.member_id == member.id)
        .order_by(Withdrawal.requested_at.desc(), Withdrawal.id.desc())
    )


def _recent(db: Session, query: Select[Any], limit: int) -> Recent:
    items = list(db.scalars(query.limit(limit)).unique())
    if len(items) < limit:
        return Recent(items, len(items))
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return Recent(items, total or 0)


def member_record(db: Session, member: Member, *, limit: int = RECENT) -> MemberRecord:
    """The member's holdings and their newest orders, certificates and withdrawals."""
    return MemberRecord(
        holdings=held_by(db, member),
        orders=_recent(db, _member_orders(member), limit),
        certificates=_recent(db, _member_certificates(member), limit),
        withdrawals=_recent(db, _member_withdrawals(member), limit),
    )


def member_certificates(db: Session, member: Member, *, page: int, per_page: int = 25) -> Page:
    """Every certificate issued to the member, newest first, a page at a time."""
    return paginate(db, _member_certificates(member), page=page, per_page=per_page)


def member_orders(db: Session, member: Member, *, page: int, per_page: int = 25) -> Page:
    """Every order the member placed, newest first, a page at a time."""
    return paginate(db, _member_orders(member), page=page, per_page=per_page)


def member_withdrawals(db: Session, member: Member, *, page: int, per_page: int = 25) -> Page:
    """Every withdrawal the member asked for, newest first, a page at a time."""
    return paginate(db, _member_withdrawals(member), page=page, per_page=per_page)


def holding_history(db: Session, member: Member) -> share_register.CapitalHistory:
    """The member's capital at the end of each month (or day), from their first share."""
    co_op_clock = clock(db)
    return share_register.capital_history(
        db, share_register.RegisterFilter(co_op_clock.today(), co_op_clock), member=member
    )


def certificate_for(db: Session, number: int, user: User) -> Certificate | None:
    """The certificate with this number, its PDF loaded with it, if ``user`` owns it or is
    staff; None otherwise. One query: who may read it is part of the question."""
    statement = (
        select(Certificate).options(undefer(Certificate.pdf)).where(Certificate.number == number)
    )
    if not user.is_staff:
        statement = statement.join(Member, Member.id == Certificate.member_id).where(
            Member.user_id == user.id
        )
    return db.scalar(statement)


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
