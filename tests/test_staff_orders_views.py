"""Staff find orders and record payments: a confirmation says what recording will do, and
nothing is written until staff confirm; search by reference, number or name, paged by key."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Certificate, Member, OrderState, ShareOrder

from .factories import HTMX, count, is_page, is_partial, reading, today_iso


def payment_of(order, **changes):
    """The payment form as staff first send it (not yet confirmed)."""
    return {
        "amount": f"{order.amount_minor / 100:.2f}",
        "paid_on": today_iso(),
        "method": "bank_transfer",
        "bank_reference": "TX-42",
        **changes,
    }


def stored(app, order_id):
    with reading(app) as db:
        return db.get(ShareOrder, order_id)


@pytest.fixture
def ada_order(make_member, make_order, make_user):
    """Ada Okafor (member no. 1, certificate no. 1) orders 10 supporter shares; a cashier."""
    ada = make_member(name="Ada Okafor")
    make_user(email="cashier@example.org", role="staff", name="Cass Cashier")
    return make_order(ada, "supporter", 10)


@pytest.fixture
def cashier(sign_in, ada_order):
    return sign_in("cashier@example.org")


def test_the_first_post_says_what_recording_will_do_and_writes_nothing(app, cashier, ada_order):
    events = count(app, AuditEvent)
    answer = cashier.post(f"/staff/orders/{ada_order.id}/payment", data=payment_of(ada_order))
    assert answer.status_code == 200 and is_page(answer)
    page = answer.get_data(as_text=True)
    assert "Issues certificate no. 2 to Ada Okafor (member no. 1) for 10 supporter shares." in page
    paid_on = f"{date.fromisoformat(today_iso()):%-d %B %Y}"
    assert f"€10 by bank transfer on {paid_on}" in page and "TX-42" in page
    for name, value in payment_of(ada_order).items():  # carried to the confirmation
        assert f'name="{name}" value="{value}"' in page
    assert 'name="confirm" value="yes"' in page and 'name="confirm" value="change"' in page
    assert count(app, AuditEvent) == events and count(app, Certificate) == 1
    assert stored(app, ada_order.id).state is OrderState.PENDING_PAYMENT


def test_htmx_swaps_the_orders_card_for_its_confirmation(cashier, ada_order):
    answer = cashier.post(
        f"/staff/orders/{ada_order.id}/payment", data=payment_of(ada_order), headers=HTMX
    )
    assert answer.status_code == 200 and is_partial(answer)
    card = answer.get_data(as_text=True)
    assert card.lstrip().startswith(
        f'<article class="card order-card confirm-card" id="order-{ada_order.id}"'
    )
    assert 'data-hx-target="this"' in card and "Confirm payment" in card


def test_confirming_records_once_however_often_it_is_sent(app, cashier, ada_order):
    confirmed = {**payment_of(ada_order), "confirm": "yes"}
    first = cashier.post(f"/staff/orders/{ada_order.id}/payment", data=confirmed)
    again = cashier.post(f"/staff/orders/{ada_order.id}/payment", data=confirmed)
    assert first.status_code == again.status_code == 303
    assert stored(app, ada_order.id).state is OrderState.ISSUED
    assert count(app, Certificate) == 2  # the membership share's, and this one: once
    flash = cashier.get("/staff/orders").get_data(as_text=True)
    assert "Payment recorded: certificate no. 2; issued to member no. 1." in flash


def test_an_admission_says_which_member_number_it_gives(app, make_applicant, cashier):
    ann = make_applicant(name="Ann Approved", state="awaiting_share")
    with reading(app) as db:
        order = db.scalar(select(ShareOrder).where(ShareOrder.application_id == ann.application_id))
    page = cashier.post(f"/staff/orders/{order.id}/payment", data=payment_of(order))
    assert (
        "Admits Ann Approved as member no. 2 and issues certificate no. 2 for 1 membership share."
        in page.get_data(as_text=True)
    )
    assert count(app, Member) == 1  # Ada only: not yet admitted


def test_a_refused_payment_answers_422_before_any_confirmation(app, cashier, ada_order):
    refused = cashier.post(
        f"/staff/orders/{ada_order.id}/payment", data=payment_of(ada_order, amount="7.50")
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "The order is for €10; the payment is €2.50 less." in page
    assert "Confirm payment" not in page and 'value="7.50"' in page
    swapped = cashier.post(
        f"/staff/orders/{ada_order.id}/payment",
        data=payment_of(ada_order, paid_on="2099-01-01"),
        headers=HTMX,
    )
    assert swapped.status_code == 422 and is_partial(swapped)
    assert "not in the future" in swapped.get_data(as_text=True)
    assert stored(app, ada_order.id).state is OrderState.PENDING_PAYMENT


def test_change_brings_the_form_back_as_typed(cashier, ada_order):
    typed = {**payment_of(ada_order, bank_reference="TX-TYPO"), "confirm": "change"}
    back = cashier.post(f"/staff/orders/{ada_order.id}/payment", data=typed)
    assert back.status_code == 200
    page = back.get_data(as_text=True)
    assert 'value="TX-TYPO"' in page and "Record payment for" in page
    card = cashier.post(f"/staff/orders/{ada_order.id}/payment", data=typed, headers=HTMX)
    assert is_partial(card) and 'value="TX-TYPO"' in card.get_data(as_text=True)


def test_a_refusal_shows_the_order_even_when_it_is_not_on_the_first_page(
    app, make_member, make_order, cashier, ada_order
):
    ben = make_member(name="Ben Byrne")
    later = [make_order(ben, "supporter", 5) for _ in range(25)]
    refused = cashier.post(
        f"/staff/orders/{later[-1].id}/payment", data=payment_of(later[-1], amount="1")
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f'id="order-{later[-1].id}"' in page
    assert "the payment is €4 less" in page


def test_staff_find_an_order_by_reference_number_or_name(
    make_member, make_order, cashier, ada_order
):
    ben = make_member(name="Ben Byrne")  # member no. 2
    bens = make_order(ben, "supporter", 5)

    def cards(query):
        page = cashier.get(f"/staff/orders?{query}").get_data(as_text=True)
        return re.findall(r'<article class="card order-card" id="order-(\d+)"', page)

    assert cards("") == [str(ada_order.id), str(bens.id)]
    reference = bens.payment_reference
    assert cards(f"q={reference.lower().replace('-', '')}") == [str(bens.id)]
    assert cards("q=2") == [str(bens.id)]
    assert cards("q=okafor") == [str(ada_order.id)]
    assert cards("q=okafor&state=issued") != []  # her membership share, paid to join
    assert cards("q=nobody") == []


def test_the_search_swaps_its_results_for_htmx_and_pages_by_key(
    make_member, make_order, cashier, ada_order
):
    ben = make_member(name="Ben Byrne")
    for _ in range(20):
        make_order(ben, "supporter", 5)
    first = cashier.get("/staff/orders")
    page = first.get_data(as_text=True)
    assert "21 orders awaiting payment." in page
    later = re.search(r'href="(/staff/orders\?after=\d+[^"]*)" rel="next"', page).group(1)
    assert "state=pending_payment" in later and "page=" not in later
    second = cashier.get(later.replace("&amp;", "&"), headers=HTMX)
    assert is_partial(second)
    text = second.get_data(as_text=True)
    assert text.count('<article class="card order-card"') == 1 and 'rel="prev"' in text
    assert 'rel="next"' not in text


@pytest.mark.parametrize(
    "query", ["after=abc", "before=-1", "after=99999999999999999999", "state=nope"]
)
def test_odd_search_arguments_give_the_first_page(cashier, ada_order, query):
    answer = cashier.get(f"/staff/orders?{query}")
    assert answer.status_code == 200
    assert f'id="order-{ada_order.id}"' in answer.get_data(as_text=True)
