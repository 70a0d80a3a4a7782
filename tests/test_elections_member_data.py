"""A member's data and board elections (issue 15): the export holds their candidacies
(statement, photo's checksum and type), the nominations they backed and their terms on
the board; anonymising a former member removes their statements and photo references."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import coop as coop_module
from portal.db import write_session
from portal.models import Candidate, Meeting, MemberClass
from portal.services.elections import board, nominations

from .factories import reading

PHOTO_SHA = "ab" * 32


@pytest.fixture
def people(coop, make_member):
    joined = coop_module.Clock.named("Europe/Dublin").today() - timedelta(days=200)
    return {
        name: make_member(
            name=f"{name} Artist",
            email=f"{name.lower()}@example.org",
            classes=["artist"],
            admitted_on=joined,
        )
        for name in ("Ann", "Bob", "Cy")
    }


@pytest.fixture
def candidacy(app, people, make_meeting, reviewer):
    """Ann stood herself, with a statement and a photo, seconded by Bob; Cy nominated Bob,
    who has not accepted; Ann sat on the board for the Artist class since 100 days ago."""
    agm = make_meeting(state="draft", days=60, resolutions=())
    with app.test_request_context("/"), write_session(app) as db:
        today = coop_module.today(db)
        artist = db.scalar(select(MemberClass).where(MemberClass.code == "artist"))
        election = nominations.create_election(
            db,
            db.get(Meeting, agm.id),
            artist,
            nominations.ElectionInput(1, today, today + timedelta(days=5)),
            actor=reviewer,
        )
        nominations.open_nominations(db, election, actor=reviewer)
        ann, bob, cy = (people[n].load(db) for n in ("Ann", "Bob", "Cy"))
        mine = nominations.nominate(
            db, election, ann, ann, statement="I will *fight* for fair pay.", actor=ann.user
        )
        mine.photo_sha256, mine.photo_type = PHOTO_SHA, "image/png"
        nominations.second_nomination(db, mine, bob, actor=bob.user)
        nominations.nominate(db, election, cy, bob, actor=cy.user)
        board.record_director(
            db,
            ann,
            artist,
            today - timedelta(days=100),
            today + timedelta(days=300),
            actor=reviewer,
        )
        return mine.id


def test_the_export_holds_candidacies_nominations_backed_and_director_terms(
    app, people, candidacy, sign_in
):
    data = json.loads(sign_in("ann@example.org").get("/me/export").get_data(as_text=True))
    member = data["member"]
    [stood] = member["candidacies"]
    assert stood["election"] == "Artist directors, Annual general meeting"
    assert stood["class"] == "Artist" and stood["state"] == "Seconded"
    assert stood["self_nominated"] is True
    assert stood["statement"] == "I will *fight* for fair pay."
    assert (stood["photo_sha256"], stood["photo_type"]) == (PHOTO_SHA, "image/png")
    [term] = member["director_terms"]
    assert term["class"] == "Artist" and term["elected"] is False
    assert member["nominations_backed"] == []

    bob = json.loads(sign_in("bob@example.org").get("/me/export").get_data(as_text=True))
    [pending] = bob["member"]["candidacies"]
    assert pending["state"] == "Awaiting the nominee" and pending["statement"] == ""
    assert bob["member"]["nominations_backed"] == [
        {
            "election": "Artist directors, Annual general meeting",
            "class": "Artist",
            "as": "seconder",
            "nominee_number": people["Ann"].number,
        }
    ]
    assert bob["member"]["director_terms"] == []
    assert "fight for fair pay" not in json.dumps(bob)  # Ann's statement is hers


def test_anonymising_removes_statements_and_photo_references(app, people, candidacy, staff, cease):
    cease(people["Ann"])
    assert staff.post(f"/staff/members/{people['Ann'].id}/anonymise").status_code == 303
    with reading(app) as db:
        candidate = db.get(Candidate, candidacy)
        assert candidate.statement == ""
        assert (candidate.photo_sha256, candidate.photo_type) == (None, None)
        assert candidate.seconded_by_id == people["Bob"].id  # the record of the candidacy stays
