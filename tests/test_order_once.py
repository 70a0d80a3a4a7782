"""Placing an order is idempotent: the buy form carries a key of its own, held once per member
in the database; the same form sent again answers with the order it placed (issue 12, 7)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.models import AuditEvent, Member, ShareOrder
from portal.services.shares import orders
from portal.services.shares.share_types import find_type

from .factories import HTMX, reading

KEY_RE = re.compile(r'name="order_key" value="([A-Za-z0-9_-]+)"')


@pytest.fixture
def buyer(make_member, sign_in):
    """Bea, a member, signed in."""
    make_member(email="buyer@example.org", name="Bea Buyer")
    return sign_in("buyer@example.org")


def form_key(client) -> str:
    """The key of a buy form as the page shows it."""
    keys = KEY_RE.findall(client.get("/shares/buy").get_data(as_text=True))
    assert len(keys) == 1
    return keys[0]


def member_orders(app) -> list[ShareOrder]:
    with reading(app) as db:
        return list(
            db.scalars(
                select(ShareOrder)
                .where(ShareOrder.application_id.is_(None))
                .order_by(ShareOrder.id)
            )
        )


def placed_events(app) -> int:
    with reading(app) as db:
        return db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "order.placed")
        )


def test_each_buy_form_carries_a_key_of_its_own(buyer):
    first, second = form_key(buyer), form_key(buyer)
    assert first != second and len(first) >= 20


def test_the_same_form_sent_again_answers_with_the_order_it_placed(app, buyer):
    form = {"share_type": "supporter", "quantity": "10", "order_key": form_key(buyer)}
    events = placed_events(app)
    answers = [buyer.post("/shares/buy", data=form) for _ in range(5)]
    assert {a.status_code for a in answers} == {303}
    assert len({a.headers["Location"] for a in answers}) == 1
    placed = member_orders(app)
    assert len(placed) == 1 and placed[0].quantity == 10
    assert answers[0].headers["Location"] == f"/shares/orders/{placed[0].id}"
    assert placed_events(app) == events + 1
    assert buyer.get(answers[-1].headers["Location"]).status_code == 200


def test_sent_again_by_htmx_it_redirects_to_the_same_order(app, buyer):
    form = {"share_type": "supporter", "quantity": "10", "order_key": form_key(buyer)}
    first = buyer.post("/shares/buy", data=form)
    again = buyer.post("/shares/buy", data=form, headers=HTMX)
    assert again.status_code == 200 and again.headers["HX-Redirect"] == first.headers["Location"]
    assert len(member_orders(app)) == 1


def test_a_new_form_places_a_new_order(app, buyer):
    for _ in range(2):
        form = {"share_type": "supporter", "quantity": "5", "order_key": form_key(buyer)}
        assert buyer.post("/shares/buy", data=form).status_code == 303
    assert len(member_orders(app)) == 2


def test_the_same_key_for_other_shares_is_refused_with_a_fresh_form(app, buyer):
    key = form_key(buyer)
    buyer.post("/shares/buy", data={"share_type": "supporter", "quantity": "10", "order_key": key})
    reference = member_orders(app)[0].payment_reference
    changed = buyer.post(
        "/shares/buy", data={"share_type": "supporter", "quantity": "15", "order_key": key}
    )
    assert changed.status_code == 422
    page = changed.get_data(as_text=True)
    assert f"This form placed order {reference} already" in page
    fresh = KEY_RE.findall(page)
    assert fresh and fresh[0] != key and 'value="15"' in page  # sent again, it places it
    again = {"share_type": "supporter", "quantity": "15", "order_key": fresh[0]}
    assert buyer.post("/shares/buy", data=again).status_code == 303
    assert [o.quantity for o in member_orders(app)] == [10, 15]


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "bad key with spaces!!!!!", "ü" * 30])
def test_a_form_without_a_good_key_places_nothing(app, buyer, key):
    form = {"share_type": "supporter", "quantity": "10", "order_key": key}
    refused = buyer.post("/shares/buy", data=form)
    assert refused.status_code == 422
    assert "This form has expired" in refused.get_data(as_text=True)
    assert member_orders(app) == []


def test_keys_are_each_members_own(app, buyer, make_member, sign_in):
    make_member(email="other@example.org")
    other = sign_in("other@example.org")
    key = form_key(buyer)
    form = {"share_type": "supporter", "quantity": "10", "order_key": key}
    mine = buyer.post("/shares/buy", data=dict(form))
    theirs = other.post("/shares/buy", data=dict(form))
    assert mine.status_code == theirs.status_code == 303
    assert mine.headers["Location"] != theirs.headers["Location"]  # never another's order
    assert other.get(mine.headers["Location"]).status_code == 404
    assert len(member_orders(app)) == 2


def test_the_database_holds_a_key_once_per_member(db, make_member):
    member = db.get(Member, make_member(email="buyer@example.org").id)
    supporter = find_type(db, "supporter")
    placed = orders.place_order(db, member, supporter, 5, actor=None, key="k" * 32)
    assert orders.place_order(db, member, supporter, 5, actor=None, key="k" * 32) is placed
    db.add(
        ShareOrder(
            member=member,
            share_type=supporter,
            quantity=5,
            amount_minor=500,
            currency="EUR",
            payment_reference="RVB-TWIN-TWIN",
            order_key="k" * 32,
        )
    )
    with pytest.raises(IntegrityError):
        db.flush()
