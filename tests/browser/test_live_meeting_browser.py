"""The meeting in session in a real browser: the chair starts it and puts a resolution to
the vote; a member's meeting page, open all along, shows the item and the ballot without
a reload, the member votes through htmx, and the chair's "Close now" reaches the page too."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from portal.models import Meeting, utcnow

from .conftest import LiveServer, sign_in

STAFF = "staff@example.org"
# A poll every 5 s: what the chair does shows on the member's page within two polls.
WITHIN = 12_000


@pytest.fixture
def sitting(
    live_server: LiveServer, make_member: Any, make_meeting: Any, make_user: Any, factories: Any
) -> Any:
    """An AGM noticed with two resolutions, which started a minute ago: the chair may open
    the session now (its day has come, whatever the hour)."""
    make_member(name="Ann Listener", email="ann@example.org", classes=["listener"])
    make_member(name="Bob Artist", email="bob@example.org", classes=["artist"])
    make_user(role="staff", name="Jo Chair", email=STAFF)
    meeting = make_meeting(
        resolutions=({"title": "Approve the minutes"}, {"title": "Elect the auditors"}),
        state="noticed",
        days=1,
    )
    with factories.session() as db:
        db.get(Meeting, meeting.id).starts_at = utcnow() - timedelta(minutes=1)
    return meeting


def test_the_chair_opens_a_vote_and_a_member_page_open_all_along_shows_it(
    new_page: Callable[..., Any], live_server: LiveServer, sitting: Any, expect: Any
) -> None:
    member = new_page()
    sign_in(member, live_server, "ann@example.org")
    member.goto(live_server.link(f"/meetings/{sitting.id}"))
    expect(member.locator("#live-now")).to_contain_text("The meeting has not started yet")
    member.evaluate("window.__stillHere = true")

    chair = new_page()
    sign_in(chair, live_server, STAFF)
    chair.goto(live_server.link(f"/staff/meetings/{sitting.id}/live"))
    chair.evaluate("window.__stillHere = true")
    chair.get_by_role("button", name="Start the session").click()
    expect(chair.locator("#live-panel")).to_contain_text("The meeting is in session.")
    chair.get_by_role("button", name=re.compile(r"^Next item")).click()
    expect(chair.locator("#live-panel")).to_contain_text("Now: Minutes of the last")
    rid = sitting.resolution_ids[0]
    chair.get_by_label("Open the vote for").first.fill("5")
    chair.get_by_role("button", name="Open the vote on resolution 1").click()
    expect(chair.locator("#live-panel")).to_contain_text("Voting on resolution 1 is open until")
    assert chair.evaluate("window.__stillHere") is True

    expect(member.locator("#live-now")).to_contain_text(
        "In session — now: Minutes of the last annual general meeting", timeout=WITHIN
    )
    ballot = member.locator(f"#live-ballots #resolution-{rid}")
    expect(ballot).to_be_visible(timeout=WITHIN)
    with member.expect_response(re.compile(r"/vote$")) as voted:
        ballot.get_by_role("button", name="For", exact=True).click()
    assert voted.value.request.headers.get("hx-request") == "true"
    expect(member.locator(f"#resolution-{rid} .ballot-vote")).to_contain_text("Your vote: For")
    # A poll comes and goes without touching the ballot just cast.
    with member.expect_response(re.compile(r"/live\?seen=")):
        pass
    expect(member.locator(f"#resolution-{rid} .alert-success")).to_be_visible()

    chair.get_by_role("button", name="Close now and count resolution 1").click()
    expect(chair.locator("#live-panel")).to_contain_text("Voting on resolution 1 closed")
    expect(member.locator(f"#resolution-{rid}")).to_contain_text(
        "Voting has closed", timeout=WITHIN
    )
    assert member.evaluate("window.__stillHere") is True  # all in place, no reload
