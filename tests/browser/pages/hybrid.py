"""A hybrid meeting's staff pages (issue 14 §2): attendance with members present, after an
htmx mark, a resolution's room page with hands and paper ballots, a paper ballot refused
for a member who voted online, and results showing each channel."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from portal.models import Channel, Meeting, Member, Resolution
from portal.services.meetings import hybrid

from .crawl import Site, state, wait_for_htmx

RESOLUTIONS = (
    {"title": "Approve the accounts for 2025"},
    {"title": "Elect the board", "secret": True},
)


def _room(site: Site, *, close: bool = False) -> tuple[Any, list[Any]]:
    """An AGM open for voting: three members present, one paper ballot from the room and
    one by post, the hands of the rest on resolution 1, and one member who voted online."""
    people = [
        site.make.member(classes=["listener"], name=name)
        for name in ("Ada Okafor", "Bea Byrne", "Cian Walsh", "Dara Quinn")
    ]
    meeting_ref = site.make.meeting(resolutions=RESOLUTIONS)
    site.make.vote(meeting_ref, people[3], "for", "against")
    with site.make.session() as db:
        actor = site.make._reviewer(db)
        meeting = db.get(Meeting, meeting_ref.id)
        first, second = (db.get(Resolution, rid) for rid in meeting_ref.resolution_ids)
        ada, bea, cian = (db.get(Member, p.id) for p in people[:3])
        for member in (ada, bea, cian):
            hybrid.mark_present(db, meeting, member, actor=actor)
        hybrid.enter_paper_ballot(db, first, ada, "against", Channel.IN_ROOM, actor=actor)
        hybrid.enter_paper_ballot(db, second, bea, "for", Channel.POSTAL, actor=actor)
        listener = next(c for c in hybrid.roll.class_rolls(db, first) if c.code == "listener")
        hybrid.enter_hands(db, first, {listener.class_id: hybrid.Hands(1, 0, 1)}, actor=actor)
    if close:
        site.make.close_meeting(meeting_ref)
    return meeting_ref, people


@state("staff", "admin")
def staff_meeting_attendance(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_room(site)[0].id}/attendance")


@state("staff")
def staff_attendance_after_an_htmx_mark(site: Site) -> None:
    """Searching by name swaps the results; marking a member present swaps them again."""
    meeting, people = _room(site)
    site.goto(f"/staff/meetings/{meeting.id}/attendance")
    site.page.get_by_label("Name or member number").fill(str(people[3].number))
    rows = site.page.locator("#roll-results tbody tr")
    expect(rows).to_have_count(1)
    rows.get_by_role("button", name="Mark present").click()
    wait_for_htmx(site.page)
    expect(site.page.locator("#roll-results [role=status]")).to_contain_text("marked present")


@state("staff", "admin")
def staff_resolution_room(site: Site) -> Any:
    meeting, _ = _room(site)
    return site.goto(f"/staff/meetings/{meeting.id}/resolutions/{meeting.resolution_ids[0]}/room")


@state("staff")
def staff_resolution_room_secret(site: Site) -> Any:
    meeting, _ = _room(site)
    return site.goto(f"/staff/meetings/{meeting.id}/resolutions/{meeting.resolution_ids[1]}/room")


@state("staff")
def staff_paper_ballot_refused(site: Site) -> Any:
    """A paper ballot for a member who voted online: refused, naming when and how (409)."""
    meeting, people = _room(site)
    site.goto(f"/staff/meetings/{meeting.id}/resolutions/{meeting.resolution_ids[0]}/room")
    site.page.get_by_label("Member number", exact=True).fill(str(people[3].number))
    site.page.get_by_role("radio", name="For").check()
    return site.submit("Count this ballot", status=409)


@state("member", "staff")
def meeting_results_by_channel(site: Site) -> Any:
    return site.goto(f"/meetings/{_room(site, close=True)[0].id}/results")
