"""How money reaches the co-op and leaves it: payment methods, and settling an order.

Each way of paying is a :class:`PaymentMethod`: what the member is told to do, and
whether staff record the payment by hand. Bank transfer recorded by staff is the real
default. A card or direct-debit provider added later is one more method whose webhook view calls
:func:`settle_order` (with the provider's reference, as the system actor): the shares
are issued by the same path, once, however the money came.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ... import coop, mail
from ...db import lock_row
from ...errors import InvalidInput, InvalidState
from ...models import Application, Certificate, CoopSettings, OrderState, ShareOrder, User
from ...money import format_money
from .. import transitions
from ..counters import peek_next
from ..inputs import read_date, read_money
from ..register.members import MEMBER_NUMBER, admit_applicant, awaiting_share, member_for_user
from . import ledger
from .certificates import (
    CERTIFICATE_COUNTER,
    CertificateRenderer,
    certificate_of_order,
    issue_shares,
)

# The largest single payment staff can record: the co-op's cap on a holding is lower.
MAX_PAYMENT_MINOR = 10**11


@dataclass(frozen=True)
class PaymentInstructions:
    """What a member must do to pay: a sentence and the details to copy."""

    summary: str
    details: list[tuple[str, str]]
    note: str = ""


@dataclass(frozen=True)
class PaymentMethod:
    """One way of paying; ``recorded_by_staff`` means staff enter it from a statement."""

    code: str
    label: str
    recorded_by_staff: bool = True

    def instructions(self, order: ShareOrder, settings: CoopSettings) -> PaymentInstructions:
        """What the member is told on the order page."""
        return PaymentInstructions(
            summary=f"Pay {self.label.lower()} to the co-op, quoting the reference.",
            details=[("Reference", order.payment_reference)],
        )


@dataclass(frozen=True)
class BankTransfer(PaymentMethod):
    """A transfer to the co-op's account quoting the order's reference (the default).

    The account is written in the co-op's payment form (``CoopSettings.payment_form``):
    IBAN and BIC, Canadian institution, transit and account numbers, or a US routing and
    account number.
    """

    def instructions(self, order: ShareOrder, settings: CoopSettings) -> PaymentInstructions:
        account = [
            (label, getattr(settings, name) or "ask the co-op")
            for name, label in settings.payment_form.bank_fields
        ]
        bank = [("Bank", settings.bank_name)] if settings.bank_name else []
        return PaymentInstructions(
            summary="Send the amount by bank transfer to:",
            details=[
                ("Account name", settings.bank_account_name or settings.legal_name),
                *bank,
                *account,
                ("Reference", order.payment_reference),
            ],
            note="Quote the reference exactly, so we can match your payment. "
            "Your certificate is issued when staff record it.",
        )


# The methods staff can record today, in the order the form offers them. A provider with
# its own checkout adds an entry here with recorded_by_staff=False.
METHODS: dict[str, PaymentMethod] = {
    method.code: method
    for method in (
        BankTransfer("bank_transfer", "Bank transfer"),
        PaymentMethod("sepa_direct_debit", "Direct debit"),  # any country's scheme
        PaymentMethod("card", "Card (terminal)"),
        PaymentMethod("cash", "Cash"),
    )
}
DEFAULT_METHOD = "bank_transfer"


def staff_recorded_methods() -> list[PaymentMethod]:
    """Methods staff enter by hand, for the record-payment and repayment forms."""
    return [m for m in METHODS.values() if m.recorded_by_staff]


def method_named(code: str) -> PaymentMethod:
    """The payment method with this code, or a clear error."""
    method = METHODS.get(code)
    if method is None:
        raise InvalidInput("Choose how the payment was made.", field="method")
    return method


def instructions_for(order: ShareOrder, settings: CoopSettings) -> PaymentInstructions:
    """How the member pays this order (by the default method: orders do not choose yet)."""
    return METHODS[DEFAULT_METHOD].instructions(order, settings)


@dataclass(frozen=True)
class AdmissionDue:
    """An approved applicant's admission order and how to pay it."""

    order: ShareOrder
    instructions: PaymentInstructions

    @property
    def application(self) -> Application:
        assert self.order.application is not None
        return self.order.application


def admission_dues(db: Session, user: User) -> list[AdmissionDue]:
    """What ``user`` must pay to become a member: their waiting admission orders.

    Reads the settings' payment details (``instructions_for``). The orders are found from
    the user's applications (``applications.user_id``, then ``share_orders.application_id``):
    a person has a few. Whether each still waits is checked on those few rows, not in SQL:
    a condition on the state (or on no member yet) lets SQLite walk the index of every
    order in that state (or of every admission order) instead.
    """
    settings = coop.settings(db)
    orders = db.scalars(
        select(ShareOrder)
        .join(ShareOrder.application)
        .options(
            joinedload(ShareOrder.share_type),
            joinedload(ShareOrder.application).joinedload(Application.member_class),
        )
        .where(Application.user_id == user.id)
        .order_by(ShareOrder.created_at, ShareOrder.id)
    )
    return [
        AdmissionDue(order, instructions_for(order, settings))
        for order in orders
        if order.member_id is None and order.state is OrderState.PENDING_PAYMENT
    ]


@dataclass(frozen=True)
class Payment:
    """Money received (or paid out): how much, when, how, and the bank's reference."""

    amount_minor: int
    paid_on: date
    method: str
    reference: str

    def require_amount(self, owed_minor: int, owed: str, currency: str) -> None:
        """Refuse a payment that is not exactly what is owed, saying by how much it differs.

        ``owed`` says what is owed, in words: "The order is for €25".
        """
        if self.amount_minor != owed_minor:
            difference = self.amount_minor - owed_minor
            raise InvalidInput(
                f"{owed}; the payment is {format_money(abs(difference), currency)} "
                f"{'more' if difference > 0 else 'less'}.",
                field="amount",
            )


def read_payment(form: dict[str, str], *, today: date) -> Payment:
    """A :class:`Payment` from a staff form, or a clear error naming the bad field.

    ``today`` is the co-op's date (``coop.today()``): money cannot have moved after it.
    """
    late = "Enter the date the money moved (not in the future)."
    try:
        paid_on = read_date(form.get("paid_on", ""), "Date paid", field="paid_on")
    except InvalidInput:
        raise InvalidInput(late, field="paid_on") from None
    if paid_on > today:
        raise InvalidInput(late, field="paid_on")
    method = method_named(form.get("method", "")).code
    try:
        amount = read_money(form.get("amount", ""), "Amount", high_minor=MAX_PAYMENT_MINOR)
    except InvalidInput:
        raise InvalidInput("Enter the amount, like 25 or 25.00.", field="amount") from None
    return Payment(
        amount_minor=amount,
        paid_on=paid_on,
        method=method,
        reference=form.get("bank_reference", "").strip()[:120],
    )


def settle_order(
    db: Session,
    order: ShareOrder,
    payment: Payment,
    *,
    actor: User,
    render: CertificateRenderer,
) -> Certificate:
    """Settle an order with a payment received: its shares and certificate, issued once.

    The one way an order is paid, whoever records it. Recording the same payment again
    (same order, same reference) returns the certificate already issued; a different
    amount is refused with the difference.
    """
    method_named(payment.method)
    # Two requests recording one payment at once must take turns, or both see the order
    # unpaid and both issue.
    lock_row(db, order)
    if order.state is OrderState.ISSUED:
        if order.bank_reference == payment.reference:
            return _certificate_of(db, order)
        raise InvalidState(
            f"Order {order.payment_reference} was already paid "
            f"(bank reference {order.bank_reference})."
        )
    _check_settlement(db, order, payment)
    admitting = order.admits
    order.paid_amount_minor = payment.amount_minor
    order.paid_on = payment.paid_on
    order.payment_method = payment.method
    order.bank_reference = payment.reference
    order.recorded_by_id = actor.id
    transitions.move(
        db,
        order,
        OrderState.PAID,
        actor=actor,
        doing="paid",
        stamp="paid_at",
        summary=f"Payment of {format_money(payment.amount_minor, order.currency)} recorded for "
        f"{order.payment_reference}",
    )
    if admitting:  # the membership share is paid: the applicant becomes a member (rule 8.1)
        order.member = admit_applicant(
            db, order.application, actor=actor, note="Membership share paid"
        )
        for other in awaiting_share(db, order.application.user):  # further classes approved
            admit_applicant(db, other, actor=actor, note="Membership share paid")
    certificate = issue_shares(
        db,
        order.member,
        order.share_type,
        order.quantity,
        actor=actor,
        render=render,
        reference=order.payment_reference,
        order=order,
        notify=not admitting,  # the welcome names the certificate
    )
    transitions.move(
        db,
        order,
        OrderState.ISSUED,
        actor=actor,
        doing="issued",
        summary=f"Order {order.payment_reference}: certificate no. {certificate.number}",
    )
    if admitting and order.member.user is not None:
        mail.queue(
            db,
            "member_admitted",
            to=order.member.user.email,
            member=order.member,
            application=order.application,
            certificate=certificate,
        )
    db.flush()
    return certificate


def _check_settlement(db: Session, order: ShareOrder, payment: Payment) -> None:
    """Refuse a payment that cannot settle the order, as :func:`settle_order` would."""
    method_named(payment.method)
    transitions.require(order.state, OrderState.PAID, doing="paid")
    placed_on = coop.clock(db).day_of(order.created_at)
    if payment.paid_on < placed_on:
        raise InvalidInput(
            f"The money cannot have moved before the order was placed ({placed_on:%-d %B %Y}).",
            field="paid_on",
        )
    payment.require_amount(
        order.amount_minor,
        f"The order is for {format_money(order.amount_minor, order.currency)}",
        order.currency,
    )
    share_type = order.share_type
    if (
        not order.admits
        and share_type.max_quantity is not None
        and ledger.holding(db, order.member, share_type) + order.quantity > share_type.max_quantity
    ):  # two orders placed at once could each have passed the check alone
        raise InvalidState(
            f"Member no. {order.member.number} would hold more than "
            f"{share_type.count(share_type.max_quantity)}: cancel this order instead."
        )


@dataclass(frozen=True)
class SettlementPreview:
    """What recording a payment will do, worked out without writing anything.

    The numbers are the next ones the counters would give: another payment recorded in
    the meantime takes them first, and the confirmation then says the numbers given.
    """

    order: ShareOrder
    payment: Payment
    holder_name: str
    member_number: int
    certificate_number: int
    admits_new_member: bool  # a new member number; else the member (or a class) exists
    classes: list[str]  # the classes the payment admits to (none for a member's order)

    @property
    def method_label(self) -> str:
        return METHODS[self.payment.method].label

    @property
    def summary(self) -> str:
        """One sentence: "Issues certificate no. 19 to Ada Okafor for 10 supporter shares"."""
        shares = self.order.share_type.count(self.order.quantity)
        if self.admits_new_member:
            return (
                f"Admits {self.holder_name} as member no. {self.member_number} and issues "
                f"certificate no. {self.certificate_number} for {shares}."
            )
        return (
            f"Issues certificate no. {self.certificate_number} to {self.holder_name} "
            f"(member no. {self.member_number}) for {shares}."
        )


def preview_settlement(db: Session, order: ShareOrder, payment: Payment) -> SettlementPreview:
    """What :func:`settle_order` would do with this payment; refused as it would refuse.

    Writes nothing and takes no number: the counters are only read.
    """
    if order.state is OrderState.ISSUED:
        raise InvalidState(
            f"Order {order.payment_reference} was already paid: "
            f"certificate no. {_certificate_of(db, order).number}."
        )
    _check_settlement(db, order, payment)
    member = order.member
    classes: list[str] = []
    if order.admits:
        applications = [order.application, *awaiting_share(db, order.application.user)]
        classes = list(dict.fromkeys(a.member_class.name for a in applications))
        member = member_for_user(db, order.application.user)
    return SettlementPreview(
        order=order,
        payment=payment,
        holder_name=member.name if member is not None else order.payer_name,
        member_number=member.number if member is not None else peek_next(db, MEMBER_NUMBER),
        certificate_number=peek_next(db, CERTIFICATE_COUNTER),
        admits_new_member=member is None,
        classes=classes,
    )


def _certificate_of(db: Session, order: ShareOrder) -> Certificate:
    certificate = certificate_of_order(db, order)
    if certificate is None:
        raise InvalidState("This order is issued but has no certificate; run check-register.")
    return certificate
