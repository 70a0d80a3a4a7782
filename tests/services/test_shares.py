"""Orders, payments and certificates: the rules, called directly."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.errors import InvalidInput, InvalidState
from portal.models import (
    AuditEvent,
    Certificate,
    CertificateState,
    LedgerEntry,
    LedgerKind,
    OrderState,
    ShareOrder,
)
from portal.services.membership import leaving
from portal.services.shares import holdings, ledger, orders
from portal.services.shares.share_types import find_type

from ..factories import audit_trail, waiting_orders


@pytest.fixture
def member(db, make_member):
    """An artist member, admitted when their membership share was paid: they hold it, on
    certificate no. 1 (one row of the share ledger), and have no order waiting."""
    return make_member(name="Holder").load(db)


def count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def order(db, member, code, quantity):
    return orders.place_order(db, member, find_type(db, code), quantity, actor=None)


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [
        (3, "at least 5"),
        (12, "multiples of 5"),
    ],
)
def test_supporter_shares_come_in_fives(db, member, quantity, problem):
    with pytest.raises(InvalidInput, match=problem):
        order(db, member, "supporter", quantity)


def test_the_holding_cap_is_enforced_by_the_service(db, coop, member):
    coop.max_holding_minor = 5000  # €50, of which €1 is the membership share held
    order(db, member, "supporter", 25)
    with pytest.raises(InvalidInput, match="limit per member"):
        order(db, member, "supporter", 25)


def test_only_one_membership_share(db, member):
    assert ledger.holding(db, member, find_type(db, "membership")) == 1  # paid to be admitted
    assert waiting_orders(db, member) == []
    with pytest.raises(InvalidInput, match="at most 1"):
        order(db, member, "membership", 1)


def test_a_second_membership_share_ordered_past_the_check_is_refused_at_payment(db, member, pay):
    """Two orders placed at once could each pass the check alone: payment checks again."""
    membership = find_type(db, "membership")
    slipped = ShareOrder(  # as a request racing the admission could have placed it
        member=member,
        share_type=membership,
        quantity=1,
        amount_minor=membership.par_value_minor,
        currency="EUR",
        payment_reference=orders.payment_reference(db),
    )
    db.add(slipped)
    db.flush()
    with pytest.raises(InvalidState, match="would hold more than 1 membership share"):
        pay(slipped)
    assert slipped.state is OrderState.PENDING_PAYMENT
    assert ledger.holding(db, member, membership) == 1


def test_a_payment_issues_shares_and_a_numbered_certificate(db, member, pay):
    placed = order(db, member, "supporter", 25)
    assert placed.payment_reference.startswith("RVB-")
    certificate = pay(placed)
    assert placed.state is OrderState.ISSUED
    # No. 1 went with the membership share, when the member was admitted.
    assert certificate.number == 2 and certificate.quantity == 25
    assert len(certificate.code) >= 32
    assert certificate.pdf == b"%PDF-1.7 certificate 2"
    assert ledger.holding(db, member, find_type(db, "supporter")) == 25
    assert audit_trail(db, placed) == ["order.placed", "order.paid", "order.issued"]


def test_recording_the_same_payment_twice_issues_once(db, member, pay):
    placed = order(db, member, "supporter", 10)
    rows, certificates = count(db, LedgerEntry), count(db, Certificate)  # the admission's
    first = pay(placed)
    again = pay(placed)
    assert again.id == first.id
    assert count(db, LedgerEntry) == rows + 1
    assert count(db, Certificate) == certificates + 1
    with pytest.raises(InvalidState, match="already paid"):
        pay(placed, reference="ANOTHER-TRANSFER")


def test_a_mismatched_amount_is_refused_with_the_difference(db, member, pay):
    placed = order(db, member, "supporter", 10)
    with pytest.raises(InvalidInput, match=r"^The order is for €10; the payment is €2\.50 less\.$"):
        pay(placed, amount=placed.amount_minor - 250)
    assert placed.state is OrderState.PENDING_PAYMENT


def test_the_audit_log_names_the_payment_in_its_currency(db, member, pay):
    placed = order(db, member, "supporter", 10)
    pay(placed)
    summary = db.scalar(
        select(AuditEvent.summary).where(
            AuditEvent.action == "order.paid", AuditEvent.object_id == str(placed.id)
        )
    )
    assert summary == f"Payment of €10 recorded for {placed.payment_reference}"


def test_certificate_numbers_follow_each_other(db, member, pay):
    numbers = [pay(order(db, member, "supporter", 5)).number for _ in range(3)]
    assert numbers == [2, 3, 4]  # no. 1: the membership share, paid at admission


def test_an_unpaid_order_can_be_cancelled_but_not_a_paid_one(db, member, reviewer, pay):
    placed = order(db, member, "supporter", 5)
    orders.cancel_order(db, placed, actor=reviewer)
    assert placed.state is OrderState.CANCELLED
    with pytest.raises(InvalidState, match=r"This order is cancelled; it cannot be paid\."):
        pay(placed)
    paid = order(db, member, "supporter", 5)
    pay(paid)
    with pytest.raises(InvalidState, match=r"This order is issued; it cannot be cancelled\."):
        orders.cancel_order(db, paid, actor=reviewer)


def test_ceasing_cancels_the_membership_share_without_repayment(db, member, reviewer, buy):
    certificate = db.scalar(  # issued when the membership share was paid, admitting them
        select(Certificate).where(Certificate.member_id == member.id)
    )
    assert (certificate.share_type.code, certificate.quantity) == ("membership", 1)
    supporter = buy(member, "supporter", 5)
    leaving.cease_member(db, member, actor=reviewer, note="Resigned")
    assert ledger.holding(db, member, find_type(db, "membership")) == 0
    assert ledger.holding(db, member, find_type(db, "supporter")) == 5  # repaid separately
    last = db.scalar(select(LedgerEntry).order_by(LedgerEntry.seq.desc()))
    assert last.kind is LedgerKind.CANCEL and last.reference == "Membership ceased"
    assert certificate.state is CertificateState.CANCELLED
    assert supporter.state is CertificateState.VALID
    assert ledger.check_register(db).ok


def test_an_order_loaded_with_its_share_type_can_be_paid(db, member, pay):
    # FOR UPDATE cannot apply to an eager outer join (PostgreSQL): the lock must not use one.
    order(db, member, "supporter", 10)
    db.expire_all()
    supporter = [
        o for o in holdings.summary(db, member).orders.items if o.share_type.code == "supporter"
    ]
    assert pay(supporter[0]).quantity == 10
