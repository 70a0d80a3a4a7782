"""Buying shares in a real browser: live check, order, payment recorded, certificate."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import BrowserLog, LiveServer, sign_in

IBAN = "IE29AIBK93115212345678"  # Resonate's preset account, shown on the order page


@pytest.fixture
def member(live_server: LiveServer, make_user: Callable[..., Any], make_member: Any) -> str:
    """The e-mail of Siún Ní Bhriain, an artist admitted when her membership share was paid
    (certificate no. 1); and Cass Cashier, the staff who take payments."""
    make_user(name="Cass Cashier", email="cashier@example.org", role="staff")
    return make_member(name="Siún Ní Bhriain", email="siun@example.org", town="Kinsale").email


def pdf_text(data: bytes) -> str:
    """The text of a PDF's first page with all white space removed (lines wrap anywhere)."""
    from pypdf import PdfReader

    return re.sub(r"\s+", "", PdfReader(io.BytesIO(data)).pages[0].extract_text())


@pytest.mark.pdf
def test_buy_supporter_shares_staff_record_payment_member_downloads_certificate(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    member: str,
    browser_log: BrowserLog,
    expect: Any,
) -> None:
    page = new_page()
    sign_in(page, live_server, member)
    page.goto(live_server.link("/shares/buy"))
    page.evaluate("window.__stillHere = true")
    check = page.locator("#order-check")
    expect(check).to_have_text("Enter a number of shares to see the total.")

    # A broken rule: the live check (an htmx GET of the same URL) says which.
    page.get_by_label("Supporter share").check()
    with page.expect_response(re.compile(r"/shares/buy\?.*quantity=12")) as checked:
        page.get_by_label("Number of shares").fill("12")
    assert checked.value.request.headers.get("hx-request") == "true"
    assert "<html" not in checked.value.text()  # the partial, not the page
    expect(check).to_contain_text("Total: €12")
    expect(check.locator(".alert-warning")).to_contain_text("sold in multiples of 5")

    with page.expect_response(re.compile(r"/shares/buy\?.*quantity=25")):
        page.get_by_label("Number of shares").fill("25")
    expect(check).to_contain_text("Total: €25")
    expect(check).to_contain_text("25 × Supporter share")
    expect(check.locator(".alert")).to_have_count(0)
    # The live region stays while htmx replaces the check inside it, so changes are announced.
    expect(page.locator("[aria-live='polite'] > #order-check")).to_have_count(1)
    assert page.url == live_server.link("/shares/buy")
    assert page.evaluate("window.__stillHere") is True  # swapped in place, no reload

    with page.expect_navigation():
        page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/shares/orders/\d+$"))
    expect(page.get_by_text("Your order is placed")).to_be_visible()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Order RVB-[A-Z0-9]{4}-[A-Z0-9]{4}$"))
    reference = heading.inner_text().removeprefix("Order ")
    instructions = page.get_by_role("region", name="How to pay")
    expect(instructions).to_contain_text("bank transfer")
    expect(instructions.get_by_role("definition").first).to_have_text("€25")
    expect(instructions).to_contain_text(IBAN)
    expect(instructions.locator("code", has_text=reference)).to_be_visible()

    staff = new_page()
    sign_in(staff, live_server, "cashier@example.org")
    staff.goto(live_server.link("/staff/orders"))
    staff.evaluate("window.__stillHere = true")
    order = staff.get_by_role("article", name=reference)
    expect(order).to_contain_text("Member no. 1, Siún Ní Bhriain: 25 supporter shares = €25")
    # Too little first: htmx swaps the card back in place with its message (422).
    payment = re.compile(r"/staff/orders/\d+/payment$")
    post = order.locator("form").get_attribute("data-hx-post")
    browser_log.allow_status(422, live_server.link(post))
    order.get_by_label("Amount received").fill("20")
    with staff.expect_response(payment) as refused:
        order.get_by_role("button", name=f"Record payment for {reference}").click()
    assert refused.value.status == 422
    assert refused.value.request.headers.get("hx-request") == "true"
    expect(order.get_by_role("alert")).to_have_text("The order is for €25; the payment is €5 less.")
    expect(order.get_by_label("Amount received")).to_have_value("20")
    order.get_by_label("Amount received").fill("25.00")
    order.get_by_label("Bank reference").fill("TX-2026-0042")
    order.get_by_role("button", name=f"Record payment for {reference}").click()
    # What recording will do replaces the form; nothing is recorded until it is confirmed.
    confirm = staff.get_by_role("article", name=f"Confirm the payment for {reference}")
    expect(confirm.locator(".confirm-summary")).to_have_text(
        "Issues certificate no. 2 to Siún Ní Bhriain (member no. 1) for 25 supporter shares."
    )
    expect(confirm).to_contain_text("€25 by bank transfer on")
    expect(confirm).to_contain_text("TX-2026-0042")
    assert staff.evaluate("window.__stillHere") is True  # swapped in place, no reload
    with staff.expect_navigation():
        confirm.get_by_role("button", name="Confirm payment").click()
    expect(staff.get_by_text("Payment recorded: certificate no. 2; issued")).to_be_visible()
    expect(staff.get_by_role("article", name=reference)).to_have_count(0)

    page.goto(live_server.link("/shares"))
    holdings = page.get_by_role("region", name="Holdings table")
    expect(holdings.get_by_role("row", name=re.compile(r"^Supporter share 25 "))).to_be_visible()
    orders = page.get_by_role("region", name="Orders table")
    expect(orders.get_by_role("row", name=re.compile(reference))).to_contain_text("Issued")
    link = page.get_by_role("link", name="Certificate no. 2")  # no. 1: her membership share
    with page.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename == "share-certificate-2.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "ShareCertificateNo.2" in text
    assert "SiúnNíBhriain" in text
    assert "25" in text and "Supportershare" in text
    code = re.search(r"/verify/([A-Za-z0-9_-]{32})", text)
    assert code, f"no verification link in the certificate: {text}"

    visitor = new_page()
    response = visitor.goto(live_server.link(f"/verify/{code.group(1)}"))
    assert response.status == 200
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Share certificate check")
    expect(visitor.locator(".status")).to_have_text("Valid")
    expect(visitor.get_by_role("main")).to_contain_text("25 × Supporter share")
    expect(visitor.get_by_role("main")).to_contain_text("S. N. B.")
    expect(visitor.get_by_text("Siún Ní Bhriain")).to_have_count(0)


def test_buying_shares_without_javascript_posts_plain_forms(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    member: str,
    browser_log: BrowserLog,
    expect: Any,
) -> None:
    browser_log.allow_status(422, live_server.link("/shares/buy"))
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, member)
    page.goto(live_server.link("/shares/buy"))
    page.get_by_label("Supporter share").check()
    page.get_by_label("Number of shares").fill("12")
    with page.expect_navigation() as refused:
        page.get_by_role("button", name="Place order").click()
    assert refused.value.status == 422
    assert refused.value.request.headers.get("hx-request") is None
    expect(page.locator("#order-check")).to_contain_text("sold in multiples of 5")
    expect(page.get_by_label("Number of shares")).to_have_value("12")

    page.get_by_label("Number of shares").fill("10")
    with page.expect_navigation() as placed:
        page.get_by_role("button", name="Place order").click()
    assert placed.value.status == 200
    assert placed.value.request.redirected_from is not None  # the POST answered 303
    expect(page).to_have_url(re.compile(r"/shares/orders/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Order RVB-"))
    instructions = page.get_by_role("region", name="How to pay")
    expect(instructions.get_by_role("definition").first).to_have_text("€10")
    expect(instructions).to_contain_text(IBAN)
