"""Proxies in a real browser (issue 14 §1): a member appoints a directed proxy; the holder
signs in, sees it on the ballot page with its directions, accepts it and casts it through
htmx swaps, with no reload."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import LiveServer, sign_in

RESOLUTIONS = (
    {"title": "Approve the minutes of 2025"},
    {"title": "Elect the chair", "secret": True},
)


@pytest.fixture
def people(live_server: LiveServer, make_member: Any) -> tuple[Any, Any]:
    """Ann, who appoints a proxy, and Hal, who holds it: listeners."""
    return (
        make_member(name="Ann Listener", email="ann@example.org", classes=["listener"]),
        make_member(name="Hal Holder", email="hal@example.org", classes=["listener"]),
    )


@pytest.fixture
def meeting(people: tuple[Any, Any], make_meeting: Any) -> Any:
    """Ann and Hal on the roll of an AGM open for voting on two resolutions."""
    return make_meeting(resolutions=RESOLUTIONS)


def test_a_directed_proxy_is_appointed_then_accepted_and_cast_by_its_holder_through_htmx(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    people: tuple[Any, Any],
    meeting: Any,
    expect: Any,
) -> None:
    first, secret = meeting.resolution_ids
    ann = new_page()
    sign_in(ann, live_server, "ann@example.org")
    ann.goto(live_server.link(f"/meetings/{meeting.id}/proxy"))
    ann.get_by_label("Your proxy's member number").fill(str(people[1].number))
    ann.get_by_label("1. Approve the minutes of 2025").select_option("against")
    ann.get_by_label("2. Elect the chair").select_option("holder")
    with ann.expect_navigation():
        ann.get_by_role("button", name="Appoint my proxy").click()
    expect(ann.locator("#messages")).to_contain_text("Hal Holder is now your proxy")

    hal = new_page()
    sign_in(hal, live_server, "hal@example.org")
    hal.goto(live_server.link(f"/meetings/{meeting.id}"))
    hal.evaluate("window.__stillHere = true")
    card = hal.locator(".held-proxy")
    expect(card).to_contain_text("Ann Listener")
    expect(card).to_contain_text("Approve the minutes of 2025: directed Against")
    expect(card).to_contain_text("Elect the chair: you decide")
    with hal.expect_response(re.compile(r"/answer$")) as answered:
        card.get_by_role("button", name="Accept").click()
    assert answered.value.request.headers.get("hx-request") == "true"
    card = hal.locator(".held-proxy")
    with hal.expect_response(re.compile(rf"/resolutions/{first}/vote$")) as cast:
        card.get_by_role("button", name="Cast Against as directed").click()
    assert cast.value.request.headers.get("hx-request") == "true"
    card = hal.locator(".held-proxy")
    expect(card.locator("li").first).to_contain_text("— cast")
    with hal.expect_response(re.compile(rf"/resolutions/{secret}/vote$")):
        card.locator("li").nth(1).get_by_role("button", name="For", exact=True).click()
    card = hal.locator(".held-proxy")
    expect(card.locator("li").nth(1)).to_contain_text("Receipt")
    assert hal.evaluate("window.__stillHere") is True  # every swap in place, no reload

    ann.goto(live_server.link(f"/meetings/{meeting.id}"))
    expect(ann.locator(f"#resolution-{first} .ballot-vote")).to_contain_text(
        "Your vote, cast by your proxy: Against"
    )


def test_the_holder_casts_without_javascript_and_comes_back_to_the_ballot(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    people: tuple[Any, Any],
    meeting: Any,
    expect: Any,
    factories: Any,
) -> None:
    ann, hal = people
    factories.proxy(meeting, ann, hal, "for", None, accept=True)
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, "hal@example.org")
    page.goto(live_server.link(f"/meetings/{meeting.id}"))
    with page.expect_navigation():
        page.get_by_role("button", name="Cast For as directed").click()
    assert re.search(rf"/meetings/{meeting.id}#proxy-\d+$", page.url), page.url
    expect(page.locator("#messages")).to_contain_text("is recorded: For")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_held_proxys_button_rows_stand_apart_from_the_next_item(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    people: tuple[Any, Any],
    make_member: Any,
    make_meeting: Any,
    factories: Any,
    width: int,
) -> None:
    ann, hal = people
    cy = make_member(name="Cy Listener", email="cy@example.org", classes=["listener"])
    meeting = make_meeting(resolutions=RESOLUTIONS)  # Ann, Hal and Cy on its roll
    factories.proxy(meeting, ann, hal, None, None, accept=True)  # buttons on each resolution
    factories.proxy(meeting, cy, hal, "for", "against")  # to accept or decline
    page = new_page(viewport={"width": width, "height": 900})
    sign_in(page, live_server, "hal@example.org")
    page.goto(live_server.link(f"/meetings/{meeting.id}/proxy"))
    gaps = page.evaluate(
        """() => [...document.querySelectorAll('.held-proxy')].map(card => {
          const gap = (upper, lower) =>
            lower.getBoundingClientRect().top - upper.getBoundingClientRect().bottom;
          const form = card.querySelector(':scope > form');
          const list = card.querySelector('.held-directions');
          const items = [...list.children];
          return {
            answer: form ? gap(form, list) : null,
            rows: items.slice(1).map((li, i) => {
              const above = items[i].querySelector('form');
              return above ? gap(above, li) : null;
            }).filter(g => g !== null),
          };
        })"""
    )
    rows = [gap for card in gaps for gap in card["rows"]]
    answers = [card["answer"] for card in gaps if card["answer"] is not None]
    assert rows and answers, gaps
    # --space-4 (1rem): a row of buttons stands apart from the next resolution, and
    # Accept / Decline from the list under them
    assert all(gap >= 16 for gap in rows + answers), gaps
