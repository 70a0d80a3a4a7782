"""Joining in a real browser: apply as an artist, staff approve in place, the membership
share paid, welcome."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from portal.models import User

from .conftest import BrowserLog, LiveServer, sign_in

IBAN = "IE29AIBK93115212345678"  # Resonate's preset account, shown with the share to pay


@pytest.mark.pdf  # recording the payment issues the membership share's certificate
def test_apply_as_artist_staff_approve_without_reload_pay_the_share_member_sees_number(
    browser: Any,
    new_page: Callable[[], Any],
    live_server: LiveServer,
    make_user: Callable[..., User],
    browser_log: BrowserLog,
    expect: Any,
    coop: Any,
) -> None:
    applicant = make_user(name="Clodagh Reilly", email="clodagh@example.org")
    make_user(role="staff", name="Ciarán Staff", email="staff@example.org")

    page = new_page()
    sign_in(page, live_server, applicant.email)
    page.goto(live_server.link("/join"))
    page.get_by_role("link", name="Apply as artist").click()
    page.get_by_label("Artist or band name").fill("Clodagh and the Tides")
    page.get_by_label("Link to one of your releases").fill("https://music.example/tides")
    page.get_by_label("Address", exact=True).fill("7 Harbour Row")
    page.get_by_label("Town or city").fill("Kinsale")
    page.get_by_label("Country").fill("Ireland")
    page.get_by_label("I have read and accept").check()
    page.get_by_role("button", name="Submit application").click()
    expect(page.get_by_role("heading", name="Your applications")).to_be_visible()
    expect(page.get_by_text("Waiting for review")).to_be_visible()

    staff = new_page()
    sign_in(staff, live_server, "staff@example.org")
    staff.goto(live_server.link("/staff/applications"))
    staff.evaluate("window.__stillHere = true")
    row = staff.locator("tbody.review-row", has_text="Clodagh Reilly")
    row.get_by_text("Answers, ask or reject").click()
    expect(row.get_by_text("Clodagh and the Tides")).to_be_visible()
    row.get_by_role("button", name="Approve Clodagh Reilly").click()
    approved = staff.locator("tbody.review-row", has_text="Clodagh Reilly")
    # Approved, but a member only once the membership share is paid (rule 8.1).
    expect(approved.get_by_text("Approved, share to pay", exact=True)).to_be_visible()
    expect(approved).to_contain_text("becomes a member when the membership share is paid")
    expect(approved.get_by_text(re.compile(r"^Member no\."))).to_have_count(0)
    reference = approved.locator("code").inner_text()
    assert re.fullmatch(r"RVB-[A-Z0-9]{4}-[A-Z0-9]{4}", reference), reference
    approved.get_by_role("button", name="Remind to pay Clodagh Reilly").click()
    expect(staff.locator("tbody.review-row", has_text="Clodagh Reilly")).to_contain_text(
        "Sent Clodagh Reilly the payment details again."
    )
    assert staff.evaluate("window.__stillHere") is True  # swapped in place, no reload

    page.goto(live_server.link("/application"))
    expect(page.get_by_text("Approved, share to pay", exact=True)).to_be_visible()
    due = page.locator(".share-due")
    expect(due.get_by_role("heading")).to_contain_text("pay to become a member")
    expect(due).to_contain_text("€1")
    expect(due).to_contain_text(IBAN)
    expect(due.locator("code", has_text=reference)).to_be_visible()
    page.goto(live_server.link("/me"))
    expect(page.locator(".share-due code", has_text=reference)).to_be_visible()
    expect(page.locator(".member-number")).to_have_count(0)

    staff.goto(live_server.link("/staff/orders"))
    order = staff.get_by_role("article", name=reference)
    expect(order).to_contain_text("Admission of Clodagh Reilly (Artist class")
    order.get_by_label("Bank reference").fill("TX-2026-0007")
    order.get_by_role("button", name=f"Record payment for {reference}").click()
    confirm = staff.get_by_role("article", name=f"Confirm the payment for {reference}")
    expect(confirm.locator(".confirm-summary")).to_have_text(
        re.compile(r"^Admits Clodagh Reilly as member no\. 1 and issues certificate no\. 1 ")
    )
    with staff.expect_navigation():
        confirm.get_by_role("button", name="Confirm payment").click()
    expect(staff.get_by_text(re.compile(r"^Payment recorded: certificate no\. 1"))).to_be_visible()

    page.goto(live_server.link("/application"))
    expect(page.get_by_text("Approved", exact=True)).to_be_visible()
    expect(page.locator(".share-due")).to_have_count(0)
    page.goto(live_server.link("/me"))
    expect(page.locator(".member-number")).to_have_text("1")
    expect(page.get_by_text("Artist (votes here)")).to_be_visible()
    page.goto(live_server.link("/shares"))
    expect(page.get_by_role("link", name="Certificate no. 1")).to_be_visible()
