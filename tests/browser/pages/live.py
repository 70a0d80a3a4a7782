"""The meeting in session: the member's meeting page waiting for the session and with a
vote put in session, and the chair's page before, during (after an htmx action, and a
refused one) and after the session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from portal.models import Meeting, Resolution, utcnow
from portal.services.meetings import session

from .crawl import Site, state, wait_for_htmx

RESOLUTIONS = (
    {"title": "Approve the minutes of the 2025 AGM"},
    {"title": "Elect the chair", "secret": True},
)


def _sitting(site: Site, *, start: bool = True, vote: bool = True, end: bool = False) -> int:
    """An AGM that started a minute ago: in session on its second item, with its first
    resolution put to the vote for ten minutes (unless told otherwise)."""
    ref = site.make.meeting(resolutions=RESOLUTIONS, state="noticed", days=1)
    with site.make.session() as db:
        actor = site.make._reviewer(db)
        meeting = db.get(Meeting, ref.id)
        meeting.starts_at = utcnow() - timedelta(minutes=1)
        if start:
            session.start_session(db, meeting, actor=actor)
            session.take_item(db, meeting, meeting.agenda[1], actor=actor)
        if vote:
            first = db.get(Resolution, ref.resolution_ids[0])
            session.open_vote(db, meeting, first, "10", actor=actor)
        if end:
            session.end_session(db, meeting, actor=actor)
    return ref.id


@state("member")
def meeting_waiting_for_its_session(site: Site) -> Any:
    return site.goto(f"/meetings/{_sitting(site, start=False, vote=False)}")


@state("member", "staff")
def meeting_in_session_with_a_vote(site: Site) -> Any:
    return site.goto(f"/meetings/{_sitting(site)}")


@state("staff", "admin")
def chair_before_the_session(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_sitting(site, start=False, vote=False)}/live")


@state("staff")
def chair_in_session_with_a_vote_open(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_sitting(site)}/live")


@state("staff")
def chair_opened_a_vote_by_htmx(site: Site) -> None:
    site.goto(f"/staff/meetings/{_sitting(site, vote=False)}/live")
    site.page.get_by_role("button", name="Open the vote on resolution 1").click()
    wait_for_htmx(site.page)


@state("staff")
def chair_refused_minutes_by_htmx(site: Site) -> None:
    site.goto(f"/staff/meetings/{_sitting(site, vote=False)}/live")
    site.log.allow_status(422)
    site.page.get_by_label("Open the vote for").first.fill("500")
    site.page.get_by_role("button", name="Open the vote on resolution 1").click()
    wait_for_htmx(site.page)


@state("staff")
def chair_after_the_session(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_sitting(site, end=True)}/live")
