"""Orders, payments and certificates: the rules, called directly."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.errors import InvalidInput, InvalidState
from portal.models import (
    Certificate,
    LedgerEntry,
    OrderState,
)
from portal.services import ledger, shares

from ..share_fixtures import pay, share_type


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [
        (3, "at least 5"),
        (12, "multiples of 5"),
    ],
)
def test_supporter_shares_come_in_fives(db, coop, member, quantity, problem):
    with pytest.raises(InvalidInput, match=problem):
        shares.place_order(
            db, member, share_type(db, "supporter"), quantity, actor=None, settings=coop
        )


def test_the_holding_cap_is_enforced_by_the_service(db, coop, member):
    coop.max_holding_minor = 5000  # €50
    shares.place_order(db, member, share_type(db, "supporter"), 25, actor=None, settings=coop)
    with pytest.raises(InvalidInput, match="limit per member"):
        shares.place_order(db, member, share_type(db, "supporter"), 30, actor=None, settings=coop)


def test_only_one_membership_share(db, coop, member, staff):
    order = shares.place_order(
        db, member, share_type(db, "membership"), 1, actor=None, settings=coop
    )
    pay(db, order, coop, staff)
    with pytest.raises(InvalidInput, match="at most 1"):
        shares.place_order(db, member, share_type(db, "membership"), 1, actor=None, settings=coop)


def test_a_payment_issues_shares_and_a_numbered_certificate(db, coop, member, staff):
    order = shares.place_order(
        db, member, share_type(db, "supporter"), 25, actor=None, settings=coop
    )
    assert order.payment_reference.startswith("RVB-")
    certificate = pay(db, order, coop, staff)
    assert order.state is OrderState.ISSUED
    assert certificate.number == 1 and certificate.quantity == 25
    assert len(certificate.code) >= 32
    assert certificate.pdf.startswith(b"certificate 1")
    assert ledger.holding(db, member, share_type(db, "supporter")) == 25


def test_recording_the_same_payment_twice_issues_once(db, coop, member, staff):
    order = shares.place_order(
        db, member, share_type(db, "supporter"), 10, actor=None, settings=coop
    )
    first = pay(db, order, coop, staff)
    again = pay(db, order, coop, staff)
    assert again.id == first.id
    assert db.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    assert db.scalar(select(func.count()).select_from(Certificate)) == 1
    with pytest.raises(InvalidState, match="already paid"):
        pay(db, order, coop, staff, reference="ANOTHER-TRANSFER")


def test_a_mismatched_amount_is_refused_with_the_difference(db, coop, member, staff):
    order = shares.place_order(
        db, member, share_type(db, "supporter"), 10, actor=None, settings=coop
    )
    with pytest.raises(InvalidInput, match=r"2\.50 less"):
        pay(db, order, coop, staff, amount=order.amount_minor - 250)
    assert order.state is OrderState.PENDING_PAYMENT


def test_certificate_numbers_follow_each_other(db, coop, member, staff):
    numbers = []
    for _ in range(3):
        order = shares.place_order(
            db, member, share_type(db, "supporter"), 5, actor=None, settings=coop
        )
        numbers.append(pay(db, order, coop, staff).number)
    assert numbers == [1, 2, 3]


def test_an_unpaid_order_can_be_cancelled_but_not_a_paid_one(db, coop, member, staff):
    order = shares.place_order(
        db, member, share_type(db, "supporter"), 5, actor=None, settings=coop
    )
    shares.cancel_order(db, order, actor=staff)
    assert order.state is OrderState.CANCELLED
    with pytest.raises(InvalidState):
        pay(db, order, coop, staff)


def test_ceasing_cancels_the_membership_share_without_repayment(db, coop, member, staff):
    from portal.models import CertificateState, LedgerKind
    from portal.services import members

    membership = share_type(db, "membership")
    certificate = pay(
        db, shares.place_order(db, member, membership, 1, actor=None, settings=coop), coop, staff
    )
    supporter = pay(
        db,
        shares.place_order(db, member, share_type(db, "supporter"), 5, actor=None, settings=coop),
        coop,
        staff,
    )
    members.cease_member(db, member, actor=staff, note="Resigned")
    assert ledger.holding(db, member, membership) == 0
    assert ledger.holding(db, member, share_type(db, "supporter")) == 5  # repaid separately
    last = db.scalar(select(LedgerEntry).order_by(LedgerEntry.seq.desc()))
    assert last.kind is LedgerKind.CANCEL and last.reference == "Membership ceased"
    assert certificate.state is CertificateState.CANCELLED
    assert supporter.state is CertificateState.VALID
    assert ledger.check_register(db).ok


def test_an_order_loaded_with_its_share_type_can_be_paid(db, coop, member, staff):
    # FOR UPDATE cannot apply to an eager outer join (PostgreSQL): the lock must not use one.
    from portal.services import holdings

    shares.place_order(db, member, share_type(db, "supporter"), 10, actor=None, settings=coop)
    db.expire_all()
    (order,) = holdings.summary(db, member).orders
    assert pay(db, order, coop, staff).quantity == 10
