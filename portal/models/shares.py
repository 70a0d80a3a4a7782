"""Shares: share types, and the share ledger (the legal register of shares).

The ledger is append-only: the database refuses UPDATE and DELETE on its rows (triggers
in migration 0003), and each row carries the hash of the one before it. Holdings,
capital and "the register as of date D" are derived from it; two derived tables are kept
beside it for speed, written in the same transaction as each row by ``ledger.append`` (the
one writer) and checked against the ledger by ``check-register``: ``holdings`` (each
member's shares of each type now) and ``ledger_days`` (the net change of each share type
on each day in the co-op's zone, for the capital chart).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, enum_column, utcnow
from .membership import Application, Member
from .states import Labelled, State, transitions


class LedgerKind(Labelled):
    ISSUE = "issue", "Issued"
    REDEEM = "redeem", "Redeemed"
    TRANSFER_IN = "transfer_in", "Transferred in"
    TRANSFER_OUT = "transfer_out", "Transferred out"
    CANCEL = "cancel", "Cancelled"


# The sign of each kind of row in a holding.
LEDGER_SIGN = {
    LedgerKind.ISSUE: 1,
    LedgerKind.TRANSFER_IN: 1,
    LedgerKind.REDEEM: -1,
    LedgerKind.TRANSFER_OUT: -1,
    LedgerKind.CANCEL: -1,
}


class ShareType(Base):
    """A kind of share: its par value, whether it votes, and how it may be held."""

    __tablename__ = "share_types"
    __table_args__ = (
        CheckConstraint("par_value_minor > 0", name="par_value_positive"),
        CheckConstraint("min_quantity >= 1 AND step >= 1", name="quantities_positive"),
        CheckConstraint(
            "max_quantity IS NULL OR max_quantity >= min_quantity", name="max_above_min"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(500), default="")
    par_value_minor: Mapped[int] = mapped_column(default=100)
    voting: Mapped[bool] = mapped_column(default=False)  # membership shares carry the vote
    min_quantity: Mapped[int] = mapped_column(default=1)
    step: Mapped[int] = mapped_column(default=1)
    max_quantity: Mapped[int | None] = mapped_column()
    transferable: Mapped[bool] = mapped_column(default=False)
    withdrawable: Mapped[bool] = mapped_column(default=False)
    cancelled_on_ceasing: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    @property
    def plural(self) -> str:
        """The type's name for many shares: "Supporter shares"."""
        return f"{self.name}s"

    def count(self, quantity: int) -> str:
        """A number of these shares in words: "1 membership share", "25 supporter shares"."""
        return f"{quantity} {self.name.lower()}{'' if quantity == 1 else 's'}"


class LedgerEntry(Base):
    """One row of the share register. Never changed or deleted: corrections are new rows."""

    __tablename__ = "share_ledger"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="unit_price_positive"),
        # A holding as of a day: its rows by member and type, in time (migration 0024).
        Index("ix_share_ledger_member_type_at", "member_id", "share_type_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)  # gapless, from a counter row
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[LedgerKind] = mapped_column(enum_column(LedgerKind, "ledger_kind"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    share_type_id: Mapped[int] = mapped_column(ForeignKey("share_types.id"))
    quantity: Mapped[int] = mapped_column()
    unit_price_minor: Mapped[int] = mapped_column()
    amount_minor: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(120), default="")  # order, decision…
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    member: Mapped[Member] = relationship()
    share_type: Mapped[ShareType] = relationship()

    @property
    def signed_quantity(self) -> int:
        return LEDGER_SIGN[self.kind] * self.quantity


class Holding(Base):
    """A member's shares of one type now: the sum of the ledger's signed rows, kept in step
    with it by ``ledger.append``. A row stays (at 0) once the member has held the type."""

    __tablename__ = "holdings"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    share_type_id: Mapped[int] = mapped_column(ForeignKey("share_types.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(default=0)


class LedgerDay(Base):
    """What a day in the co-op's zone did to a share type: the net number of its shares
    issued (less those taken off), of its holders, and of members holding any share (a
    member who came to hold shares, or stopped, counted on the type of the row that did it).
    Summed up to a day they give the register's totals and chart that day: a few thousand
    rows for years of ledger."""

    __tablename__ = "ledger_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    share_type_id: Mapped[int] = mapped_column(ForeignKey("share_types.id"), primary_key=True)
    net_quantity: Mapped[int] = mapped_column(default=0)
    net_holders: Mapped[int] = mapped_column(default=0)
    net_members: Mapped[int] = mapped_column(default=0)


class ClassDay(Base):
    """What a day in the co-op's zone did to a member class's holdings of a share type: the
    net number of shares held by the class's members, of its holders, and of its members
    holding any share (counted on the member's lowest share type with ledger rows). A
    member's holdings count from the day their membership of the class begins until the
    day it ends, as ``in_class_on`` reads it. Summed up to a day they give the class's
    register totals and chart that day."""

    __tablename__ = "class_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"), primary_key=True)
    share_type_id: Mapped[int] = mapped_column(ForeignKey("share_types.id"), primary_key=True)
    net_quantity: Mapped[int] = mapped_column(default=0)
    net_holders: Mapped[int] = mapped_column(default=0)
    net_members: Mapped[int] = mapped_column(default=0)


class OrderState(State):
    PENDING_PAYMENT = "pending_payment", "Awaiting payment", "warning"
    PAID = "paid", "Paid", "info"
    ISSUED = "issued", "Issued", "success"
    CANCELLED = "cancelled", "Cancelled", "neutral"


transitions(
    OrderState,
    "order",
    {
        OrderState.PENDING_PAYMENT: (OrderState.PAID, OrderState.CANCELLED),
        OrderState.PAID: (OrderState.ISSUED,),
    },
)


class CertificateState(State):
    VALID = "valid", "Valid", "success"
    CANCELLED = "cancelled", "Cancelled", "danger"
    SUPERSEDED = "superseded", "Superseded", "warning"


transitions(
    CertificateState,
    "certificate",
    {CertificateState.VALID: (CertificateState.CANCELLED, CertificateState.SUPERSEDED)},
)


class ShareOrder(Base):
    """An order for shares, paid by bank transfer against its payment reference.

    A member's order names the member. An applicant's admission order names the
    application instead: the membership share (and the class's first annual fee, in
    ``fee_minor``) whose payment admits them (rule 8.1); the member is set when it is paid.
    """

    __tablename__ = "share_orders"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("fee_minor >= 0", name="fee_not_negative"),
        CheckConstraint(
            "member_id IS NOT NULL OR application_id IS NOT NULL", name="member_or_application"
        ),
        # Staff page through orders in a state, oldest first (services.shares.orders).
        Index("ix_share_orders_state_created", "state", "created_at", "id"),
        Index("ix_share_orders_created", "created_at", "id"),  # the same, in any state
        # A buy form sent twice places one order: its key is the member's once.
        Index("uq_share_orders_member_order_key", "member_id", "order_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    share_type_id: Mapped[int] = mapped_column(ForeignKey("share_types.id"))
    quantity: Mapped[int] = mapped_column()
    fee_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    amount_minor: Mapped[int] = mapped_column()  # the shares at par, plus any fee
    currency: Mapped[str] = mapped_column(String(3))
    payment_reference: Mapped[str] = mapped_column(String(20), unique=True)
    # The buy form's own key (services.shares.orders.place_order); none on admission orders.
    order_key: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[OrderState] = mapped_column(
        enum_column(OrderState, "order_state"), default=OrderState.PENDING_PAYMENT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_amount_minor: Mapped[int | None] = mapped_column()
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_method: Mapped[str | None] = mapped_column(String(30))
    bank_reference: Mapped[str | None] = mapped_column(String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    member: Mapped[Member | None] = relationship()
    application: Mapped[Application | None] = relationship(back_populates="orders")
    share_type: Mapped[ShareType] = relationship()

    @property
    def awaits_payment(self) -> bool:
        return self.state is OrderState.PENDING_PAYMENT

    @property
    def can_cancel(self) -> bool:
        """A member's unpaid order; an admission order ends with its application instead."""
        return self.application_id is None and self.state.can_become(OrderState.CANCELLED)

    @property
    def admits(self) -> bool:
        """Paying it admits the applicant: an admission order not yet paid."""
        return self.member_id is None and self.application_id is not None

    @property
    def owner_user_id(self) -> int | None:
        """The account whose order it is: the member's, or the applicant's."""
        if self.member is not None:
            return self.member.user_id
        return self.application.user_id if self.application is not None else None

    @property
    def payer_name(self) -> str:
        """Who pays: the member as on the register, or the applicant."""
        if self.member is not None:
            return self.member.name
        return self.application.user.name if self.application is not None else ""

    @property
    def shares_minor(self) -> int:
        """The shares' part of the amount (at par): the amount less any fee."""
        return self.amount_minor - self.fee_minor


class Certificate(Base):
    """A numbered share certificate; its PDF is rendered once, at issue, and kept."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)  # gapless, from a counter row
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    share_type_id: Mapped[int] = mapped_column(ForeignKey("share_types.id"))
    quantity: Mapped[int] = mapped_column()
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # ≥128 random bits
    state: Mapped[CertificateState] = mapped_column(
        enum_column(CertificateState, "certificate_state"), default=CertificateState.VALID
    )
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("share_orders.id"), index=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))

    member: Mapped[Member] = relationship()
    share_type: Mapped[ShareType] = relationship()
    replaced_by: Mapped[Certificate | None] = relationship(remote_side=[id])

    @property
    def is_valid(self) -> bool:
        """It still represents shares held."""
        return self.state is CertificateState.VALID

    @property
    def is_superseded(self) -> bool:
        """Replaced by a certificate for the holding as it changed."""
        return self.state is CertificateState.SUPERSEDED


class WithdrawalState(State):
    REQUESTED = "requested", "With the board", "warning"
    APPROVED = "approved", "Approved, repayment due", "info"
    REPAID = "repaid", "Repaid", "success"
    REJECTED = "rejected", "Refused", "danger"
    CANCELLED = "cancelled", "Cancelled", "neutral"


transitions(
    WithdrawalState,
    "withdrawal",
    {
        WithdrawalState.REQUESTED: (
            WithdrawalState.APPROVED,
            WithdrawalState.REJECTED,
            WithdrawalState.CANCELLED,
        ),
        WithdrawalState.APPROVED: (WithdrawalState.REPAID,),
    },
)

# A withdrawal still holding back the shares it names (they cannot be withdrawn twice).
OPEN_WITHDRAWAL_STATES = tuple(s for s in WithdrawalState if not s.is_final)


class Withdrawal(Base):
    """A member's request to withdraw shares: the board decides, then the co-op repays at par.

    ``requested → approved → repaid``, or ``rejected`` / ``cancelled``. The ``redeem`` row
    goes into the ledger only when the repayment is recorded.
    """

    __tablename__ = "share_withdrawals"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    share_type_id: Mapped[int] = mapped_column(ForeignKey("share_types.id"))
    quantity: Mapped[int] = mapped_column()
    amount_minor: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(500), default="")  # the member's, optional
    state: Mapped[WithdrawalState] = mapped_column(
        enum_column(WithdrawalState, "withdrawal_state"), default=WithdrawalState.REQUESTED
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_reference: Mapped[str] = mapped_column(String(120), default="")  # board minute
    decision_note: Mapped[str] = mapped_column(String(500), default="")  # reason if rejected
    repaid_on: Mapped[date | None] = mapped_column(Date)
    repayment_method: Mapped[str | None] = mapped_column(String(30))
    repayment_reference: Mapped[str | None] = mapped_column(String(120))
    repaid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    member: Mapped[Member] = relationship()
    share_type: Mapped[ShareType] = relationship()

    @property
    def can_cancel(self) -> bool:
        """The member may still take the request back (the board has not decided)."""
        return self.state.can_become(WithdrawalState.CANCELLED)

    @property
    def awaits_decision(self) -> bool:
        return self.state is WithdrawalState.REQUESTED

    @property
    def can_repay(self) -> bool:
        return self.state.can_become(WithdrawalState.REPAID)


class Transfer(Base):
    """Shares moved from one member to another, where the share type allows it.

    Recorded by staff once the board has approved it: ``transfer_out`` and ``transfer_in``
    rows in the ledger, and new certificates for both holdings.
    """

    __tablename__ = "share_transfers"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("from_member_id <> to_member_id", name="different_members"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    to_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    share_type_id: Mapped[int] = mapped_column(ForeignKey("share_types.id"))
    quantity: Mapped[int] = mapped_column()
    decision_reference: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    from_member: Mapped[Member] = relationship(foreign_keys=[from_member_id])
    to_member: Mapped[Member] = relationship(foreign_keys=[to_member_id])
    share_type: Mapped[ShareType] = relationship()
