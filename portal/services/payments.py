"""How money reaches the co-op and leaves it: payment methods, and settling an order.

Each way of paying is a :class:`PaymentMethod`: what the member is told to do, and
whether staff record the payment by hand. Bank transfer recorded by staff is the real
default. A card or SEPA provider added later is one more method whose webhook view calls
:func:`settle_order` (with the provider's reference, as the system actor): the shares
are issued by the same path, once, however the money came.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ..errors import InvalidInput
from ..models import Certificate, CoopSettings, ShareOrder, User
from . import shares
from .certificates import CertificateRenderer


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
    """A transfer to the co-op's account quoting the order's reference (the default)."""

    def instructions(self, order: ShareOrder, settings: CoopSettings) -> PaymentInstructions:
        return PaymentInstructions(
            summary="Send the amount by bank transfer to:",
            details=[
                ("Account name", settings.bank_account_name or settings.legal_name),
                ("IBAN", settings.bank_iban or "ask the co-op"),
                ("BIC", settings.bank_bic or "—"),
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
        PaymentMethod("sepa_direct_debit", "SEPA direct debit"),
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
class Payment:
    """Money received (or paid out): how much, when, how, and the bank's reference."""

    amount_minor: int
    paid_on: date
    method: str
    reference: str


def parse_amount(raw: str) -> int:
    """An amount typed by staff ("25", "25.00", "1,025.50") in minor units."""
    text = (raw or "").strip().replace(",", "")
    whole, _, cents = text.partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        raise InvalidInput("Enter the amount, like 25 or 25.00.", field="amount")
    return int(whole) * 100 + int((cents + "00")[:2])


def read_payment(form: dict[str, str], *, today: date) -> Payment:
    """A :class:`Payment` from a staff form, or a clear error naming the bad field."""
    try:
        paid_on = date.fromisoformat(form.get("paid_on", ""))
    except ValueError:
        paid_on = None
    if paid_on is None or paid_on > today:
        raise InvalidInput("Enter the date the money moved (not in the future).", field="paid_on")
    method = method_named(form.get("method", "")).code
    return Payment(
        amount_minor=parse_amount(form.get("amount", "")),
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
    settings: CoopSettings,
    render: CertificateRenderer,
) -> Certificate:
    """Settle an order with a payment received: the shares and certificate, issued once."""
    method_named(payment.method)
    return shares.record_payment(
        db,
        order,
        amount_minor=payment.amount_minor,
        paid_on=payment.paid_on,
        method=payment.method,
        bank_reference=payment.reference,
        actor=actor,
        settings=settings,
        render=render,
    )
