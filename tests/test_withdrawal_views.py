"""Withdrawal and transfer pages: members ask, staff decide and repay, certificates follow."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Certificate, CertificateState, Withdrawal

from .factories import HTMX, reading, today_iso


@pytest.fixture
def holder(make_member, make_user):
    """Member no. 1 (lena@) holds 25 supporter shares; no. 2 (otto@) holds 10; and staff.

    Certificates: Lena's membership share no. 1 (paid to join) and her supporter shares
    no. 2; Otto's membership share no. 3 and his supporter shares no. 4.
    """
    make_member(email="lena@example.org", name="Lena Listener", shares={"supporter": 25})
    make_member(email="otto@example.org", name="Otto Other", shares={"supporter": 10})
    make_user(email="staff@example.org", role="staff")


def withdrawal_row(app):
    with reading(app) as db:
        return db.scalar(select(Withdrawal).order_by(Withdrawal.id.desc()))


def ask(client, quantity="10", **extra):
    return client.post(
        "/shares/withdraw",
        data={"share_type": "supporter", "quantity": quantity, "reason": "Tuition", **extra},
    )


def test_the_holder_is_offered_a_withdrawal(client, holder):
    client.login("lena@example.org")
    assert 'href="/shares/withdraw"' in client.get("/shares").get_data(as_text=True)
    page = client.get("/shares/withdraw").get_data(as_text=True)
    assert "you can withdraw up to 25" in page and "multiples of 5" in page


def test_withdrawal_is_not_offered_when_no_request_would_keep_the_rules(
    make_member, share_terms, buy, sign_in
):
    share_terms("supporter", step="1", min_quantity="1")
    odd = make_member(email="odd@example.org")
    buy(odd, "supporter", 7)
    share_terms("supporter", step="5", min_quantity="5")  # 5 would leave 2; 7 is no step
    client = sign_in(odd.email)
    assert 'href="/shares/withdraw"' not in client.get("/shares").get_data(as_text=True)
    assert "You hold no shares you can withdraw" in client.get("/shares/withdraw").get_data(
        as_text=True
    )


def test_a_request_goes_to_the_board(app, client, holder):
    client.login("lena@example.org")
    response = ask(client)
    assert response.status_code == 303 and response.headers["Location"] == "/shares"
    page = client.get("/shares").get_data(as_text=True)
    assert "With the board" in page and "Cancel request" in page
    assert withdrawal_row(app).quantity == 10


def test_an_htmx_request_is_redirected_by_header(client, holder):
    client.login("lena@example.org")
    response = client.post(
        "/shares/withdraw",
        data={"share_type": "supporter", "quantity": "5"},
        headers=HTMX,
    )
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/shares"


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("7", "multiples of 5"),
        ("30", "at most 25"),
        ("ten", "whole number"),
        ("", "whole number"),
    ],
)
def test_a_bad_request_is_refused_with_the_rule(app, client, holder, quantity, message):
    client.login("lena@example.org")
    response = ask(client, quantity)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert withdrawal_row(app) is None


def test_membership_shares_are_not_offered(client, holder):
    client.login("lena@example.org")
    response = client.post("/shares/withdraw", data={"share_type": "membership", "quantity": "1"})
    assert response.status_code == 422
    assert "cannot be withdrawn" in response.get_data(as_text=True)


def test_only_the_holder_cancels_their_request(app, client, holder):
    client.login("lena@example.org")
    ask(client)
    withdrawal_id = withdrawal_row(app).id
    client.post("/logout")
    client.login("otto@example.org")
    assert client.post(f"/shares/withdrawals/{withdrawal_id}/cancel").status_code == 404
    client.post("/logout")
    client.login("lena@example.org")
    assert client.post(f"/shares/withdrawals/{withdrawal_id}/cancel").status_code == 303
    assert withdrawal_row(app).state.value == "cancelled"


def test_members_cannot_decide_withdrawals(app, client, holder):
    client.login("lena@example.org")
    ask(client)
    withdrawal_id = withdrawal_row(app).id
    assert client.get("/staff/withdrawals").status_code == 403
    response = client.post(
        f"/staff/withdrawals/{withdrawal_id}/approve", data={"decision_reference": "Me"}
    )
    assert response.status_code == 403
    assert withdrawal_row(app).state.value == "requested"


def test_a_request_without_the_csrf_token_is_refused(client, holder):
    client.login("lena@example.org")
    response = client.post(
        "/shares/withdraw", data={"share_type": "supporter", "quantity": "5"}, csrf=False
    )
    assert response.status_code == 400


@pytest.mark.pdf
def test_staff_approve_then_record_the_repayment(app, client, holder, outbox):
    client.login("lena@example.org")
    ask(client)
    withdrawal_id = withdrawal_row(app).id
    client.post("/logout")
    client.login("staff@example.org")
    queue = client.get("/staff/withdrawals").get_data(as_text=True)
    assert "Lena Listener" in queue and "With the board" in queue

    refused = client.post(f"/staff/withdrawals/{withdrawal_id}/approve", data={})
    assert refused.status_code == 422
    assert "decision reference" in refused.get_data(as_text=True)

    approved = client.post(
        f"/staff/withdrawals/{withdrawal_id}/approve",
        data={"decision_reference": "Board minute 2026/14"},
    )
    assert approved.status_code == 303
    assert "Record repayment" in client.get("/staff/withdrawals").get_data(as_text=True)

    repayment = {
        "amount": "9.00",
        "paid_on": today_iso(),
        "method": "bank_transfer",
        "bank_reference": "OUT-77",
    }
    wrong = client.post(f"/staff/withdrawals/{withdrawal_id}/repayment", data=repayment)
    assert wrong.status_code == 422 and "the payment is €1 less" in wrong.get_data(as_text=True)

    repayment["amount"] = "10.00"
    done = client.post(f"/staff/withdrawals/{withdrawal_id}/repayment", data=repayment)
    assert done.status_code == 303
    assert withdrawal_row(app).state.value == "repaid"

    with reading(app) as db:
        certificates = {
            c.number: (c.quantity, c.state)
            for c in db.scalars(select(Certificate).where(Certificate.member_id == 1))
        }
    assert certificates == {
        1: (1, CertificateState.VALID),  # the membership share is not withdrawn
        2: (25, CertificateState.SUPERSEDED),
        5: (15, CertificateState.VALID),  # the next number after Otto's two
    }
    assert client.get("/certificates/5.pdf").data.startswith(b"%PDF")
    (mail,) = [m for m in outbox() if m.subject == "Your shares are repaid"]
    assert "certificate no. 5" in mail.text


def test_a_future_repayment_date_is_refused(app, client, holder):
    client.login("lena@example.org")
    ask(client)
    withdrawal_id = withdrawal_row(app).id
    client.post("/logout")
    client.login("staff@example.org")
    client.post(f"/staff/withdrawals/{withdrawal_id}/approve", data={"decision_reference": "B-1"})
    response = client.post(
        f"/staff/withdrawals/{withdrawal_id}/repayment",
        data={"amount": "10", "paid_on": "2999-01-01", "method": "bank_transfer"},
    )
    assert response.status_code == 422
    assert "not in the future" in response.get_data(as_text=True)


def test_transfers_are_refused_while_no_type_allows_them(client, holder):
    client.login("staff@example.org")
    assert "No share type is transferable" in client.get("/staff/transfers").get_data(as_text=True)
    response = client.post(
        "/staff/transfers",
        data={"from_member": "1", "to_member": "2", "share_type": "supporter", "quantity": "5"},
    )
    assert response.status_code == 422
    assert "transferable share type" in response.get_data(as_text=True)


@pytest.mark.pdf
def test_staff_record_a_transfer_where_allowed(client, holder, share_terms):
    share_terms("supporter", transferable=True)
    client.login("staff@example.org")
    form = {
        "from_member": "1",
        "to_member": "9",
        "share_type": "supporter",
        "quantity": "5",
        "decision_reference": "Board 2026/21",
    }
    unknown = client.post("/staff/transfers", data=form)
    assert unknown.status_code == 422 and "No member has the number 9" in unknown.get_data(
        as_text=True
    )
    form["to_member"] = "2"
    assert client.post("/staff/transfers", data=form).status_code == 303
    page = client.get("/staff/transfers").get_data(as_text=True)
    assert "Board 2026/21" in page and "Otto Other" in page


def test_members_cannot_record_transfers(client, holder):
    client.login("lena@example.org")
    assert client.get("/staff/transfers").status_code == 403
    assert client.post("/staff/transfers", data={}).status_code == 403


@pytest.mark.pdf
def test_a_superseded_certificate_says_which_one_replaced_it(app, client, holder):
    client.login("lena@example.org")
    ask(client)
    withdrawal_id = withdrawal_row(app).id
    client.post("/logout")
    client.login("staff@example.org")
    client.post(f"/staff/withdrawals/{withdrawal_id}/approve", data={"decision_reference": "B-9"})
    client.post(
        f"/staff/withdrawals/{withdrawal_id}/repayment",
        data={"amount": "10", "paid_on": today_iso(), "method": "bank_transfer"},
    )
    with reading(app) as db:
        old = db.scalar(select(Certificate).where(Certificate.number == 2)).code  # 25 shares
    page = app.test_client().get(f"/verify/{old}").get_data(as_text=True)
    assert "Superseded" in page and "superseded by certificate no. 5" in page
