"""Voting in a real browser: three resolutions voted through htmx swaps with no reload, a
vote changed and its receipt shown; the same without JavaScript; turnout updating live."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import LiveServer, sign_in

RESOLUTIONS = (
    {"title": "Approve the minutes of 2025"},
    {"title": "Lower the platform's share", "kind": "special"},
    {"title": "Elect the chair", "secret": True},
)


@pytest.fixture
def meeting(live_server: LiveServer, make_member: Any, make_meeting: Any) -> Any:
    """Ann and Bob on the roll of an AGM open for voting on three resolutions."""
    make_member(name="Ann Listener", email="ann@example.org", classes=["listener"])
    make_member(name="Bob Artist", email="bob@example.org", classes=["artist"])
    return make_meeting(resolutions=RESOLUTIONS)


def ballot(page: Any, meeting: Any, index: int) -> Any:
    return page.locator(f"#resolution-{meeting.resolution_ids[index]}")


def test_a_member_votes_on_three_resolutions_without_a_reload_and_changes_one(
    new_page: Callable[..., Any], live_server: LiveServer, meeting: Any, expect: Any
) -> None:
    page = new_page()
    sign_in(page, live_server, "ann@example.org")
    page.goto(live_server.link(f"/meetings/{meeting.id}"))
    page.evaluate("window.__stillHere = true")
    for index, choice in enumerate(("For", "Against", "Abstain")):
        card = ballot(page, meeting, index)
        with page.expect_response(re.compile(r"/vote$")) as voted:
            card.get_by_role("button", name=choice, exact=True).click()
        assert voted.value.request.headers.get("hx-request") == "true"
        card = ballot(page, meeting, index)
        expect(card.locator(".ballot-vote")).to_contain_text(f"Your vote: {choice}")
        expect(card.locator(".receipt code")).to_have_text(re.compile(r"^\w{4}-\w{4}-\w{4}$"))
    first = ballot(page, meeting, 0)
    receipt = first.locator(".receipt code").inner_text()
    first.get_by_text("Change my vote").click()
    with page.expect_response(re.compile(r"/vote$")):
        first.get_by_role("button", name="Against", exact=True).click()
    first = ballot(page, meeting, 0)
    expect(first.locator(".ballot-vote")).to_contain_text("Your vote: Against")
    expect(first.locator(".receipt code")).to_have_text(receipt)
    assert page.evaluate("window.__stillHere") is True  # every swap in place, no reload


def test_voting_works_without_javascript(
    new_page: Callable[..., Any], live_server: LiveServer, meeting: Any, expect: Any
) -> None:
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, "ann@example.org")
    page.goto(live_server.link(f"/meetings/{meeting.id}"))
    for index, choice in enumerate(("For", "Against", "Abstain")):
        with page.expect_navigation():
            ballot(page, meeting, index).get_by_role("button", name=choice, exact=True).click()
        expect(page.locator("#messages")).to_contain_text("Your receipt is")
        expect(ballot(page, meeting, index).locator(".ballot-vote")).to_contain_text(choice)
    first = ballot(page, meeting, 0)
    first.get_by_text("Change my vote").click()
    with page.expect_navigation():
        first.get_by_role("button", name="Abstain", exact=True).click()
    expect(ballot(page, meeting, 0).locator(".ballot-vote")).to_contain_text("Abstain")


def test_turnout_updates_while_another_member_votes(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    meeting: Any,
    expect: Any,
) -> None:
    page = new_page()
    sign_in(page, live_server, "ann@example.org")
    page.goto(live_server.link(f"/meetings/{meeting.id}"))
    turnout = page.locator("#turnout")
    expect(turnout).to_contain_text("Resolution 1: 0 of 2 voted so far")
    other = new_page()
    sign_in(other, live_server, "bob@example.org")
    other.goto(live_server.link(f"/meetings/{meeting.id}"))
    with other.expect_response(re.compile(r"/vote$")):
        ballot(other, meeting, 0).get_by_role("button", name="For", exact=True).click()
    expect(turnout).to_contain_text("Resolution 1: 1 of 2 voted so far", timeout=12_000)
