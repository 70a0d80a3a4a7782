"""Ranking board candidates in a real browser (issue 15 §3): three candidates ranked and a
rank changed through htmx swaps with no reload, the receipt shown and kept; the same with
JavaScript off, through the plain form."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from ..ranked_elections import open_election
from .conftest import LiveServer, sign_in

RECEIPT = re.compile(r"^\w{4}-\w{4}-\w{4}$")


@pytest.fixture
def ballot_url(live_server: LiveServer, factories: Any, make_member: Any, make_meeting: Any) -> str:
    """Ann on the roll of an AGM whose artist election (three candidates) is open."""
    make_member(name="Ann Artist", email="ann@example.org", classes=["artist"])
    standing = [
        make_member(name=name, email=f"{name.split()[0].lower()}@example.org", classes=["artist"])
        for name in ("Bea Candidate", "Cy Candidate", "Dee Candidate")
    ]
    meeting = make_meeting()
    with factories.session() as db:
        election = open_election(db, meeting.id, "artist", [m.id for m in standing], seats=2)
        return f"/meetings/{meeting.id}/elections/{election.id}/ballot"


def rank(ballot: Any, name: str, value: str) -> None:
    ballot.get_by_label(name).select_option(value)


def ranked(ballot: Any) -> list[str]:
    return ballot.locator(".ranked-list li").all_inner_texts()


def test_a_member_ranks_three_candidates_changes_a_rank_and_keeps_the_receipt(
    new_page: Callable[..., Any], live_server: LiveServer, ballot_url: str, expect: Any
) -> None:
    page = new_page()
    sign_in(page, live_server, "ann@example.org")
    page.goto(live_server.link(ballot_url))
    page.evaluate("window.__stillHere = true")
    ballot = page.locator("#ballot-own")
    rank(ballot, "Cy Candidate", "1")
    rank(ballot, "Bea Candidate", "2")
    rank(ballot, "Dee Candidate", "3")
    with page.expect_response(re.compile(r"/ballot$")) as cast:
        ballot.get_by_role("button", name="Cast my ranking").click()
    assert cast.value.request.headers.get("hx-request") == "true"
    ballot = page.locator("#ballot-own")
    expect(ballot.locator(".ranked-list li")).to_have_count(3)
    assert ranked(ballot) == ["Cy Candidate", "Bea Candidate", "Dee Candidate"]
    expect(ballot.locator(".receipt code")).to_have_text(RECEIPT)
    receipt = ballot.locator(".receipt code").inner_text()
    ballot.get_by_text("Change my ranking", exact=True).first.click()
    rank(ballot, "Dee Candidate", "1")
    rank(ballot, "Cy Candidate", "3")
    with page.expect_response(re.compile(r"/ballot$")):
        ballot.get_by_role("button", name="Change my ranking").click()
    ballot = page.locator("#ballot-own")
    expect(ballot.locator(".alert-success")).to_contain_text("Your ranking is recorded")
    assert ranked(ballot) == ["Dee Candidate", "Bea Candidate", "Cy Candidate"]
    expect(ballot.locator(".receipt code")).to_have_text(receipt)
    assert page.evaluate("window.__stillHere") is True  # every swap in place, no reload


def test_a_bad_ranking_is_refused_in_place_keeping_the_choices(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    ballot_url: str,
    expect: Any,
    browser_log: Any,
) -> None:
    browser_log.allow_status(422, live_server.link(ballot_url))
    page = new_page()
    sign_in(page, live_server, "ann@example.org")
    page.goto(live_server.link(ballot_url))
    ballot = page.locator("#ballot-own")
    rank(ballot, "Bea Candidate", "1")
    rank(ballot, "Cy Candidate", "3")
    with page.expect_response(re.compile(r"/ballot$")) as refused:
        ballot.get_by_role("button", name="Cast my ranking").click()
    assert refused.value.status == 422
    ballot = page.locator("#ballot-own")
    expect(ballot.locator(".alert-error")).to_contain_text("Rank 2 is missing")
    expect(ballot.get_by_label("Cy Candidate")).to_have_value("3")


def test_ranking_works_without_javascript(
    new_page: Callable[..., Any], live_server: LiveServer, ballot_url: str, expect: Any
) -> None:
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, "ann@example.org")
    page.goto(live_server.link(ballot_url))
    ballot = page.locator("#ballot-own")
    rank(ballot, "Cy Candidate", "1")
    rank(ballot, "Bea Candidate", "2")
    rank(ballot, "Dee Candidate", "3")
    with page.expect_navigation():
        ballot.get_by_role("button", name="Cast my ranking").click()
    expect(page.locator("#messages")).to_contain_text("Your receipt is")
    ballot = page.locator("#ballot-own")
    assert ranked(ballot) == ["Cy Candidate", "Bea Candidate", "Dee Candidate"]
    receipt = ballot.locator(".receipt code").inner_text()
    ballot.get_by_text("Change my ranking", exact=True).first.click()
    rank(ballot, "Bea Candidate", "1")
    rank(ballot, "Cy Candidate", "2")
    with page.expect_navigation():
        ballot.get_by_role("button", name="Change my ranking").click()
    ballot = page.locator("#ballot-own")
    assert ranked(ballot) == ["Bea Candidate", "Cy Candidate", "Dee Candidate"]
    expect(ballot.locator(".receipt code")).to_have_text(receipt)
