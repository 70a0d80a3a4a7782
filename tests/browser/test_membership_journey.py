"""Joining in a real browser: apply as an artist, staff approve in place, welcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal.models import User

from .conftest import BrowserLog, LiveServer, sign_in


def test_apply_as_artist_staff_approve_without_reload_member_sees_number(
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
    expect(approved.get_by_text("Approved", exact=True)).to_be_visible()
    expect(approved.get_by_text("Member no. 1", exact=True)).to_be_visible()
    assert staff.evaluate("window.__stillHere") is True  # swapped in place, no reload

    page.goto(live_server.link("/application"))
    expect(page.get_by_text("Approved", exact=True)).to_be_visible()
    page.goto(live_server.link("/me"))
    expect(page.locator(".member-number")).to_have_text("1")
    expect(page.get_by_text("Artist (votes here)")).to_be_visible()
