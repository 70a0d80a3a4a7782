"""Board election results: an election with voting open (the seed published, nothing
counted), one counted over several rounds with transfers (the round table, the chart), and
the staff's election page at each of those steps."""

from __future__ import annotations

from typing import Any

from portal.models import Election
from portal.services.elections import voting

from ...test_elections_results import open_voting, rank, stage
from .crawl import Site, state

NAMES = ("Ann", "Bob", "Cat", "Dan", "Eve", "Fin", "Gus")
# Five stand for three seats; seven artists rank: several rounds, surpluses and exclusions.
RANKINGS = (
    ("Ann", "Bob", "Cat"),
    ("Ann", "Cat"),
    ("Ann", "Dan", "Bob"),
    ("Bob", "Ann"),
    ("Cat", "Eve", "Dan"),
    ("Dan", "Cat"),
    ("Eve", "Dan", "Bob"),
)


def _election(site: Site, *, counted: bool) -> tuple[int, int]:
    """An AGM whose voting is open in an election of three artist directors; counted when
    ``counted`` (closed now by staff)."""
    members = {
        name: site.make.member(classes=["artist"], name=f"{name} Candidate") for name in NAMES
    }
    meeting = site.make.meeting(state="draft", days=60, resolutions=({"title": "Accounts"},))
    with site.make.session() as db:
        election = stage(
            db, meeting.id, members, standing=("Ann", "Bob", "Cat", "Dan", "Eve"), seats=3
        )
        open_voting(db, meeting.id)
        for voter, ranking in zip(NAMES, RANKINGS, strict=True):
            rank(db, election, members[voter], *ranking)
        if counted:
            voting.close_election(db, db.get(Election, election.id), actor=None)
        return meeting.id, election.id


@state("member", "staff")
def election_voting_open(site: Site) -> Any:
    meeting_id, election_id = _election(site, counted=False)
    return site.goto(f"/meetings/{meeting_id}/elections/{election_id}")


@state("member", "staff")
def election_counted(site: Site) -> Any:
    meeting_id, election_id = _election(site, counted=True)
    return site.goto(f"/meetings/{meeting_id}/elections/{election_id}")


@state("staff", "admin")
def staff_election_voting_open(site: Site) -> Any:
    meeting_id, election_id = _election(site, counted=False)
    return site.goto(f"/staff/meetings/{meeting_id}/elections/{election_id}")


@state("staff", "admin")
def staff_election_counted(site: Site) -> Any:
    meeting_id, election_id = _election(site, counted=True)
    return site.goto(f"/staff/meetings/{meeting_id}/elections/{election_id}")
