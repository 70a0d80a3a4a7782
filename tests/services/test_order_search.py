"""Finding orders as staff match a bank statement: by reference, member number or name, a
page at a time by key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import OrderState, ShareOrder
from portal.services.shares import orders
from portal.services.shares.share_types import find_type


@pytest.fixture
def ledger_of_orders(db, make_member, make_applicant):
    """Ada Okafor (member no. 1) with three supporter orders, Ben Byrne (no. 2) with one,
    and Ann Approved, an applicant whose admission order waits."""
    ada = make_member(name="Ada Okafor").load(db)
    ben = make_member(name="Ben Byrne").load(db)
    supporter = find_type(db, "supporter")
    placed = [orders.place_order(db, ada, supporter, 5, actor=None) for _ in range(3)]
    placed.append(orders.place_order(db, ben, supporter, 5, actor=None))
    ann = make_applicant(name="Ann Approved", state="awaiting_share")
    placed.append(
        db.scalar(select(ShareOrder).where(ShareOrder.application_id == ann.application_id))
    )
    return placed


def found(db, text, **options):
    return orders.search_orders(db, text=text, **options).items


def test_a_reference_is_found_however_it_was_typed(db, ledger_of_orders):
    order = ledger_of_orders[1]
    reference = order.payment_reference  # like RVB-7KQ4-M2XD
    without_prefix = reference.split("-", 1)[1]
    for typed in (reference, reference.lower(), reference.replace("-", ""), without_prefix):
        assert found(db, typed) == [order], typed
    assert found(db, reference.replace("-", " ")) == [order]


def test_a_member_number_finds_that_members_orders(db, ledger_of_orders):
    assert found(db, "2") == [ledger_of_orders[3]]
    assert found(db, "#1") == ledger_of_orders[:3]


def test_a_name_finds_the_member_or_the_applicant_in_any_order_of_words(db, ledger_of_orders):
    assert found(db, "okafor") == ledger_of_orders[:3]
    assert found(db, "OKAFOR A") == ledger_of_orders[:3]  # as a bank statement prints it
    assert found(db, "ann approved") == [ledger_of_orders[4]]
    assert found(db, "nobody") == []


def test_the_state_narrows_the_search_and_none_finds_every_state(db, ledger_of_orders, pay):
    pay(ledger_of_orders[0])
    assert found(db, "okafor") == ledger_of_orders[1:3]  # awaiting payment, by default
    admission, paid = found(db, "okafor", state=OrderState.ISSUED)  # her membership share too
    assert admission.share_type.code == "membership" and paid == ledger_of_orders[0]
    assert found(db, "okafor", state=None) == [admission, *ledger_of_orders[:3]]


def test_pages_follow_each_other_by_key_oldest_first(db, ledger_of_orders):
    first = orders.search_orders(db, per_page=2)
    assert first.items == ledger_of_orders[:2] and first.total == 5
    assert first.previous_before is None and first.next_after == ledger_of_orders[1].id
    second = orders.search_orders(db, per_page=2, after=first.next_after)
    assert second.items == ledger_of_orders[2:4]
    assert second.previous_before == ledger_of_orders[2].id
    last = orders.search_orders(db, per_page=2, after=second.next_after)
    assert last.items == ledger_of_orders[4:] and last.next_after is None
    back = orders.search_orders(db, per_page=2, before=last.previous_before)
    assert back.items == second.items
    assert orders.search_orders(db, per_page=2, before=back.previous_before).items == first.items


def test_an_order_paid_meanwhile_makes_the_next_page_skip_none(db, ledger_of_orders, pay):
    first = orders.search_orders(db, per_page=2)
    pay(ledger_of_orders[0])  # it leaves the list of orders awaiting payment
    newcomer = orders.place_order(
        db, ledger_of_orders[3].member, find_type(db, "supporter"), 5, actor=None
    )
    second = orders.search_orders(db, per_page=2, after=first.next_after)
    assert second.items == ledger_of_orders[2:4]  # by offset, the third would be skipped
    last = orders.search_orders(db, per_page=2, after=second.next_after)
    assert last.items == [ledger_of_orders[4], newcomer]


def test_orders_placed_at_one_instant_are_paged_by_id(db, ledger_of_orders):
    instant = datetime(2026, 11, 2, 9, tzinfo=UTC)
    for order in ledger_of_orders:
        order.created_at = instant
    ledger_of_orders[4].created_at = instant - timedelta(days=1)
    db.flush()
    pages = []
    after = None
    while True:
        page = orders.search_orders(db, per_page=2, after=after)
        pages.append([o.id for o in page.items])
        if page.next_after is None:
            break
        after = page.next_after
    ids = [o.id for o in ledger_of_orders]
    assert pages == [[ids[4], ids[0]], ids[1:3], ids[3:4]]


def test_a_cursor_naming_no_order_gives_the_first_page(db, ledger_of_orders):
    assert orders.search_orders(db, per_page=2, after=10**9).items == ledger_of_orders[:2]
    assert orders.search_orders(db, per_page=2, before=10**9).items == ledger_of_orders[:2]
