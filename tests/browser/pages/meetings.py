"""The meetings' pages that need a meeting: the ballot before and after a vote, turnout,
results with a secret ballot's receipts, who voted how on an open one, and the staff's
meeting pages."""

from __future__ import annotations

from typing import Any

from .crawl import Site, state, wait_for_htmx

RESOLUTIONS = (
    {"title": "Approve the minutes of the 2025 AGM"},
    {"title": "Adopt class-weighted voting", "kind": "special"},
    {"title": "Elect the chair", "secret": True},
)


def _meeting(site: Site, **options: Any) -> Any:
    return site.make.meeting(resolutions=RESOLUTIONS, **options)


@state("member", "staff", "admin")
def meeting_ballot(site: Site) -> Any:
    return site.goto(f"/meetings/{_meeting(site).id}")


@state("member")
def meeting_ballot_after_an_htmx_vote(site: Site) -> None:
    meeting = _meeting(site)
    site.goto(f"/meetings/{meeting.id}")
    card = site.page.locator(f"#resolution-{meeting.resolution_ids[0]}")
    card.get_by_role("button", name="For", exact=True).click()
    wait_for_htmx(site.page)
    card.locator(".ballot-vote").wait_for()


@state("member")
def meeting_turnout(site: Site) -> Any:
    return site.goto(f"/meetings/{_meeting(site).id}/turnout")


def _closed_meeting(site: Site) -> Any:
    """A meeting whose voting closed, the crawl's member (if any) having voted."""
    meeting = _meeting(site)
    if site.member is not None:
        site.make.vote(meeting, site.member, "for", "against", "for")
    site.make.close_meeting(meeting)
    return meeting


@state("member", "staff")
def meeting_results(site: Site) -> Any:
    return site.goto(f"/meetings/{_closed_meeting(site).id}/results")


@state("member", "staff")
def meeting_votes(site: Site) -> Any:
    """Who voted how on an open resolution, once closed."""
    meeting = _closed_meeting(site)
    return site.goto(f"/meetings/{meeting.id}/resolutions/{meeting.resolution_ids[0]}/votes")


def _minuted(site: Site) -> Any:
    """A closed meeting whose minutes are published."""
    meeting = _closed_meeting(site)
    site.make.publish_minutes(meeting)
    return meeting


@state("member", "staff")
def meeting_with_published_minutes(site: Site) -> Any:
    return site.goto(f"/meetings/{_minuted(site).id}")


@state("staff", "admin")
def staff_minutes_draft(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_closed_meeting(site).id}/minutes")


@state("staff")
def staff_minutes_previewed_by_htmx(site: Site) -> None:
    """The minutes' preview after typing the chair: swapped in by htmx."""
    from playwright.sync_api import expect

    site.goto(f"/staff/meetings/{_closed_meeting(site).id}/minutes")
    site.page.get_by_label("Chair of the meeting").fill("Jo Chair")
    expect(site.page.locator("#minutes-preview")).to_contain_text("Chair: Jo Chair")
    wait_for_htmx(site.page)


@state("staff")
def staff_minutes_confirm(site: Site) -> Any:
    site.goto(f"/staff/meetings/{_closed_meeting(site).id}/minutes")
    site.page.get_by_label("Chair of the meeting").fill("Jo Chair")
    return site.submit("Publish the minutes")


@state("staff")
def staff_minutes_refused_without_a_chair(site: Site) -> Any:
    site.goto(f"/staff/meetings/{_closed_meeting(site).id}/minutes")
    return site.submit("Publish the minutes", status=422)


@state("staff", "admin")
def staff_minutes_published(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_minuted(site).id}/minutes")


@state("staff", "admin")
def staff_meeting_open(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_meeting(site).id}")


@state("staff")
def staff_meeting_draft_short_notice(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_meeting(site, state='draft', days=3).id}")


@state("staff")
def staff_meeting_refused(site: Site) -> Any:
    site.goto("/staff/meetings")
    site.page.get_by_label("Title").fill("")
    return site.submit("Create meeting", status=422)


@state("staff", "admin")
def staff_meeting_notice_mailing(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_meeting(site, state='noticed').id}/notice")


# -- proxies (issue 14 §1) -----------------------------------------------------------------


@state("member")
def meeting_proxy_form(site: Site) -> Any:
    """The proxy page before any is appointed: the form, a direction per resolution."""
    return site.goto(f"/meetings/{_meeting(site).id}/proxy")


@state("member")
def meeting_ballot_with_a_proxy_appointed(site: Site) -> Any:
    """The ballot of a member whose directed proxy awaits the holder."""
    holder = site.make.member(classes=["listener"], name="Hal Holder")
    meeting = _meeting(site)
    site.make.proxy(meeting, site.member, holder, "for", None, "against")
    return site.goto(f"/meetings/{meeting.id}")


def _holding(site: Site) -> Any:
    """A meeting at which the crawl's member holds two proxies: a directed one accepted,
    a discretionary one awaiting their answer."""
    ann = site.make.member(classes=["listener"], name="Ann Grantor")
    bob = site.make.member(classes=["listener"], name="Bob Grantor")
    meeting = _meeting(site)
    site.make.proxy(meeting, ann, site.member, "for", None, "against", accept=True)
    site.make.proxy(meeting, bob, site.member)
    return meeting


@state("member")
def meeting_ballot_of_a_proxy_holder(site: Site) -> Any:
    return site.goto(f"/meetings/{_holding(site).id}")


@state("member")
def meeting_ballot_after_an_htmx_proxy_vote(site: Site) -> None:
    """The holder casts a directed proxy from the ballot page: its card swaps itself."""
    from playwright.sync_api import expect

    meeting = _holding(site)
    site.goto(f"/meetings/{meeting.id}")
    card = site.page.locator(".held-proxy").first
    card.get_by_role("button", name="Cast For as directed").click()
    wait_for_htmx(site.page)
    expect(site.page.locator(".held-proxy").first).to_contain_text("— cast")


@state("member")
def meeting_proxy_page_of_a_holder(site: Site) -> Any:
    return site.goto(f"/meetings/{_holding(site).id}/proxy")


@state("member")
def meeting_results_with_proxy_votes(site: Site) -> Any:
    """Results where the crawl's member's directed proxy was cast as directed at close."""
    holder = site.make.member(classes=["listener"], name="Hal Holder")
    meeting = _meeting(site)
    site.make.proxy(meeting, site.member, holder, "for", "against", "for", accept=True)
    site.make.close_meeting(meeting)
    return site.goto(f"/meetings/{meeting.id}/results")


def _chair_holding(site: Site) -> Any:
    """A meeting at which the chair holds two proxies: one directed (a secret direction
    among them), one where the chair decides."""
    ann = site.make.member(classes=["listener"], name="Ann Grantor")
    bob = site.make.member(classes=["listener"], name="Bob Grantor")
    meeting = _meeting(site)
    site.make.proxy(meeting, ann, None, "for", None, "against")
    site.make.proxy(meeting, bob, None)
    return meeting


@state("staff", "admin")
def staff_chair_proxies(site: Site) -> Any:
    """The chair's proxies: counts by state, each grantor's card, a secret resolution's
    directed proxies cast together."""
    return site.goto(f"/staff/meetings/{_chair_holding(site).id}/proxies")


@state("staff")
def staff_paper_proxy_form(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_meeting(site).id}/proxies/new")


@state("staff")
def staff_paper_proxy_refused(site: Site) -> Any:
    """A paper form naming no member: the form again with why."""
    site.goto(f"/staff/meetings/{_meeting(site).id}/proxies/new")
    site.page.get_by_label("Their proxy: a member number, or chair").fill("chair")
    return site.submit("Record the form", status=422)


@state("member")
def meeting_proxy_page_after_a_holder_decided(site: Site) -> Any:
    """The grantor's proxy page once the holder cast a vote the grantor left to them."""
    holder = site.make.member(classes=["listener"], name="Hal Holder")
    meeting = _meeting(site)
    appointment = site.make.proxy(meeting, site.member, holder, None, None, None, accept=True)
    site.make.cast_proxy(appointment, meeting.resolution_ids[0], holder, "against")
    return site.goto(f"/meetings/{meeting.id}/proxy")
