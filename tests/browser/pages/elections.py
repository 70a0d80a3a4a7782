"""Board elections: the board, an election taking nominations (one candidate seconded with
a photo and statement, one awaiting the crawl's member's second, one nomination the crawl's
member must accept), and the staff's elections pages."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from PIL import Image
from werkzeug.datastructures import FileStorage

import portal.coop
from portal import uploads
from portal.models import Meeting, Member
from portal.services.elections import board, nominations

from ...ranked_elections import open_election
from .crawl import Site, state, wait_for_htmx


def _photo() -> uploads.StoredImage:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (91, 60, 196)).save(buffer, format="PNG")
    upload = FileStorage(io.BytesIO(buffer.getvalue()), "photo.png", content_type="image/png")
    return uploads.accept_image(
        upload, root=uploads.uploads_root(), max_bytes=uploads.DEFAULT_MAX_IMAGE_BYTES
    )


def _election(site: Site) -> tuple[int, int]:
    """A draft AGM with an election of artist directors taking nominations."""
    meeting_ref = site.make.meeting(state="draft", days=60, resolutions=())
    ann = site.make.member(classes=["artist"], name="Ann Candidate")
    bob = site.make.member(classes=["artist"], name="Bob Seconder")
    with site.make.session() as db:
        actor = site.make._reviewer(db)
        today = portal.coop.today(db)
        meeting = db.get(Meeting, meeting_ref.id)
        artist = nominations.read_class(db, "artist")
        election = nominations.create_election(
            db,
            meeting,
            artist,
            nominations.ElectionInput(2, today, today + timedelta(days=5)),
            actor=actor,
        )
        nominations.open_nominations(db, election, actor=actor)
        first, second = db.get(Member, ann.id), db.get(Member, bob.id)
        seconded = nominations.nominate(
            db,
            election,
            first,
            first,
            statement="I release on the co-op. I will push for **fair pay per stream**:\n\n"
            "- quarterly statements\n- an artists' fund",
            photo=_photo(),
            actor=actor,
        )
        nominations.second_nomination(db, seconded, second, actor=actor)
        nominations.nominate(
            db, election, second, second, statement="Ten years of touring.", actor=actor
        )
        if site.member is not None:
            nominations.nominate(db, election, first, db.get(Member, site.member.id), actor=actor)
        return meeting.id, election.id


@state("member", "staff")
def election_nominations(site: Site) -> Any:
    meeting_id, election_id = _election(site)
    return site.goto(f"/meetings/{meeting_id}/elections/{election_id}/nominations")


@state("staff", "admin")
def staff_meeting_elections(site: Site) -> Any:
    meeting_id, _ = _election(site)
    return site.goto(f"/staff/meetings/{meeting_id}/elections")


@state("staff", "admin")
def staff_election(site: Site) -> Any:
    meeting_id, election_id = _election(site)
    return site.goto(f"/staff/meetings/{meeting_id}/elections/{election_id}")


@state("member")
def board_with_nominations_open(site: Site) -> Any:
    _election(site)
    return site.goto("/board")


@state("staff", "admin")
def staff_board_with_directors(site: Site) -> Any:
    """The staff board page with two artist directors recorded, one term ending soon."""
    ann = site.make.member(classes=["artist"], name="Ann Director")
    bob = site.make.member(classes=["artist"], name="Bob Director")
    with site.make.session() as db:
        actor = site.make._reviewer(db)
        today = portal.coop.today(db)
        artist = nominations.read_class(db, "artist")
        for ref, years in ((ann, 1), (bob, 3)):
            board.record_director(
                db,
                db.get(Member, ref.id),
                artist,
                today,
                today + timedelta(days=365 * years),
                actor=actor,
            )
    return site.goto("/staff/board")


def _ranked_election(site: Site) -> tuple[int, int]:
    """An AGM whose election of the crawl member's class is open for ranking: three
    confirmed candidates (one with a photo and statement), the crawl's member on the roll."""
    code = "artist"
    if site.member is not None:
        with site.make.session() as db:
            primary = db.get(Member, site.member.id).primary_class
            code = primary.code if primary is not None else code
    names = ("Ann Candidate", "Bob Candidate", "Cat Candidate")
    people = [site.make.member(classes=[code], name=name) for name in names]
    meeting = site.make.meeting(resolutions=({"title": "Approve the accounts"},))
    with site.make.session() as db:
        election = open_election(db, meeting.id, code, [p.id for p in people], seats=2)
        election.candidates[0].statement = (
            "I release on the co-op. I will push for **fair pay per stream**:\n\n"
            "- quarterly statements\n- an artists' fund"
        )
        photo = _photo()
        election.candidates[0].photo_sha256, election.candidates[0].photo_type = (
            photo.sha256,
            photo.content_type,
        )
        return meeting.id, election.id


@state("member", "staff")
def ranked_ballot(site: Site) -> Any:
    meeting_id, election_id = _ranked_election(site)
    return site.goto(f"/meetings/{meeting_id}/elections/{election_id}/ballot")


@state("member")
def ranked_ballot_after_an_htmx_ranking(site: Site) -> None:
    """The ballot with the receipt and "Change my ranking", swapped in by htmx."""
    meeting_id, election_id = _ranked_election(site)
    site.goto(f"/meetings/{meeting_id}/elections/{election_id}/ballot")
    ballot = site.page.locator("#ballot-own")
    ballot.get_by_label("Ann Candidate").select_option("1")
    ballot.get_by_role("button", name="Cast my ranking").click()
    wait_for_htmx(site.page)
    site.page.locator("#ballot-own .ranked-vote").wait_for()


@state("member")
def meeting_with_a_board_election(site: Site) -> Any:
    meeting_id, _ = _ranked_election(site)
    return site.goto(f"/meetings/{meeting_id}")
