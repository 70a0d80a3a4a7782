"""What recording a payment will do, said before it is done: nothing written, no number taken."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.errors import InvalidInput, InvalidState
from portal.models import AuditEvent, Certificate, Counter, Member, OrderState, ShareOrder
from portal.services.shares import orders, payments
from portal.services.shares.share_types import find_type

from ..factories import today_iso


def payment_for(order, **changes):
    values = {
        "amount_minor": order.amount_minor,
        "paid_on": date.fromisoformat(today_iso()),
        "method": "bank_transfer",
        "reference": "TX-1",
        **changes,
    }
    return payments.Payment(**values)


def counters(db):
    return {name: value for name, value in db.execute(select(Counter.name, Counter.value))}


def rows(db):
    return [
        db.scalar(select(func.count()).select_from(model))
        for model in (AuditEvent, Certificate, Member)
    ]


def test_a_members_order_previews_the_next_certificate_to_the_member(db, make_member, pay):
    ada = make_member(name="Ada Okafor").load(db)  # member no. 1, certificate no. 1
    order = orders.place_order(db, ada, find_type(db, "supporter"), 10, actor=None)
    before = (counters(db), rows(db))

    preview = payments.preview_settlement(db, order, payment_for(order))

    assert preview.summary == (
        "Issues certificate no. 2 to Ada Okafor (member no. 1) for 10 supporter shares."
    )
    assert (preview.certificate_number, preview.member_number) == (2, 1)
    assert not preview.admits_new_member and preview.classes == []
    db.flush()
    assert (counters(db), rows(db)) == before  # nothing written, no number taken
    assert order.state is OrderState.PENDING_PAYMENT and order.paid_at is None
    assert pay(order).number == preview.certificate_number  # as foretold


def test_an_admission_previews_the_member_number_it_will_give(db, make_member, make_applicant):
    make_member(name="Earlier Member")  # member no. 1, certificate no. 1
    ann = make_applicant(name="Ann Approved", code="listener", state="awaiting_share")
    order = db.scalar(select(ShareOrder).where(ShareOrder.application_id == ann.application_id))
    before = (counters(db), rows(db))

    preview = payments.preview_settlement(db, order, payment_for(order))

    assert preview.summary == (
        "Admits Ann Approved as member no. 2 and issues certificate no. 2 for 1 membership share."
    )
    assert preview.admits_new_member and preview.classes == ["Listener"]
    assert preview.method_label == "Bank transfer"
    db.flush()
    assert (counters(db), rows(db)) == before


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"amount_minor": 750}, InvalidInput, r"the payment is €2\.50 less"),
        ({"method": "barter"}, InvalidInput, "Choose how the payment was made"),
    ],
)
def test_a_preview_refuses_what_recording_would(db, make_member, changes, error, message):
    member = make_member().load(db)
    order = orders.place_order(db, member, find_type(db, "supporter"), 10, actor=None)
    with pytest.raises(error, match=message):
        payments.preview_settlement(db, order, payment_for(order, **changes))


def test_a_paid_order_previews_as_already_paid(db, make_member, pay):
    member = make_member().load(db)
    order = orders.place_order(db, member, find_type(db, "supporter"), 10, actor=None)
    pay(order)
    with pytest.raises(InvalidState, match=r"already paid: certificate no\. 2\."):
        payments.preview_settlement(db, order, payment_for(order))
