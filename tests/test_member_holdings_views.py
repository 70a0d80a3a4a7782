"""What a member holds, as staff see it on the member's page, and an order's certificate."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def ada(make_member, make_order, factories):
    """Ada Okafor: the membership share (certificate no. 1) and 25 supporter shares
    (no. 2), an order for 10 more waiting, and a request to withdraw 5."""
    member = make_member(name="Ada Okafor", shares={"supporter": 25})
    waiting = make_order(member, "supporter", 10)
    factories.withdrawal(member, 5)
    return member, waiting


def rows(page, label):
    """The text of each body row of the table region named ``label``."""
    table = re.search(rf'aria-label="{label}">(.*?)</table>', page, re.S).group(1)
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in body.split("</tr>")[:-1]
    ]


def test_staff_see_what_a_member_holds(staff, ada):
    member, waiting = ada
    page = staff.get(f"/staff/members/{member.id}").get_data(as_text=True)
    assert rows(page, "Holdings table") == [
        "Membership share 1 €1 €1 Yes",
        "Supporter share 25 €1 €25 No",
    ]
    assert "Capital held" in page and "<strong>€26</strong>" in page
    orders = rows(page, "Orders table")  # newest first
    assert orders[0].startswith(f"{waiting.payment_reference} 10 supporter shares €10 ")
    assert orders[0].endswith("Awaiting payment")
    assert "25 supporter shares €25" in orders[1] and orders[1].endswith("Issued")
    assert "1 membership share €1" in orders[2] and orders[2].endswith("Issued")
    assert f'href="/shares/orders/{waiting.id}"' in page
    certificates = rows(page, "Certificates table")  # newest first
    assert certificates[0].startswith("Certificate no. 2 25 supporter shares")
    assert certificates[1].startswith("Certificate no. 1 1 membership share")
    assert all(c.endswith("Valid") for c in certificates)
    assert 'href="/certificates/2.pdf"' in page and 'href="/certificates/1.pdf"' in page
    withdrawals = rows(page, "Withdrawals table")
    assert withdrawals[0].startswith("5 supporter shares €5") and "With the board" in withdrawals[0]


def test_a_member_with_nothing_but_an_admission_holds_one_share(make_member, staff):
    member = make_member(name="Ben Byrne")
    page = staff.get(f"/staff/members/{member.id}").get_data(as_text=True)
    assert rows(page, "Holdings table") == ["Membership share 1 €1 €1 Yes"]
    assert "Withdrawals table" not in page


def test_an_issued_order_links_to_its_certificate(make_member, make_order, pay, sign_in, staff):
    member = make_member(email="ada@example.org", name="Ada Okafor")
    order = make_order(member, "supporter", 10)
    owner = sign_in("ada@example.org")
    waiting = owner.get(f"/shares/orders/{order.id}").get_data(as_text=True)
    assert "Certificate no." not in waiting and "How to pay" in waiting
    pay(order)
    for client in (owner, staff):
        page = client.get(f"/shares/orders/{order.id}").get_data(as_text=True)
        assert '<a href="/certificates/2.pdf">Certificate no. 2</a>' in page
        assert '<span class="status status-success">Valid</span>' in page
        assert "How to pay" not in page
    staff_page = staff.get(f"/shares/orders/{order.id}").get_data(as_text=True)
    assert f'href="/staff/members/{member.id}">Member no. 1, Ada Okafor' in staff_page
    assert "Your shares" in owner.get(f"/shares/orders/{order.id}").get_data(as_text=True)


def test_long_lists_show_the_newest_ten_and_link_to_them_all(make_member, make_order, buy, staff):
    member = make_member(name="Ada Okafor")  # certificate no. 1: the membership share
    for _ in range(10):
        buy(member, "supporter", 5)  # certificates no. 2 to 11, orders issued
    waiting = [make_order(member, "supporter", 5) for _ in range(2)]
    page = staff.get(f"/staff/members/{member.id}").get_data(as_text=True)
    orders = rows(page, "Orders table")
    assert len(orders) == 10 and orders[0].startswith(waiting[-1].payment_reference)
    assert f'href="/staff/orders?member={member.id}&amp;state=all">All 13 orders</a>' in page
    certificates = rows(page, "Certificates table")
    assert len(certificates) == 10 and certificates[0].startswith("Certificate no. 11 ")
    assert f'href="/staff/members/{member.id}/certificates">All 11 certificates</a>' in page

    listed = staff.get(f"/staff/orders?member={member.id}&state=all").get_data(as_text=True)
    assert "13 orders of" in listed and "member no. 1, Ada Okafor" in listed
    assert listed.count('class="card order-card"') == 13
    every = staff.get(f"/staff/members/{member.id}/certificates").get_data(as_text=True)
    assert len(rows(every, "Certificates table")) == 11
    assert rows(every, "Certificates table")[-1].startswith("Certificate no. 1 ")


def test_a_short_list_has_no_all_link(make_member, staff):
    member = make_member(name="Ben Byrne")
    page = staff.get(f"/staff/members/{member.id}").get_data(as_text=True)
    assert "All " not in page
    assert staff.get(f"/staff/members/{member.id}/withdrawals").status_code == 200
    assert staff.get(f"/staff/members/{member.id}/nonsense").status_code == 404
