"""The demo co-op's board elections (issue 15 §6): before its notice went out, the 2026 AGM
took nominations for two artist seats (five candidates) and one listener seat (three),
self-nominated or nominated by another and accepted, each seconded and confirmed by
staff; the board in office is recorded, with the terms ending at that AGM."""

from __future__ import annotations

from sqlalchemy import select

from portal import demo
from portal.db import write_session
from portal.models import (
    Candidate,
    CandidateState,
    ElectionState,
    Meeting,
    Member,
    User,
)
from portal.presets import RESONATE
from portal.services.elections import ballots, board, nominations
from portal.services.meetings import notices, roll

from .factories import fake_certificate, reading

ARTIST = RESONATE.demo.person("artist@reverb.example")
STAFF = RESONATE.demo.person("staff@reverb.example")
AGM = "Annual General Meeting 2026"


def seeded_app(app):
    with app.test_request_context("/"), write_session(app) as db:
        assert demo.seed(db, app.config, preset="resonate", render=fake_certificate)
    return app


def member(db, email):
    return db.scalar(
        select(Member).join(User, Member.user_id == User.id).where(User.email == email)
    )


def agm(db):
    return db.scalar(select(Meeting).where(Meeting.title == AGM))


def test_the_demo_agm_has_its_elections_candidates_rankings_and_board(app, sign_in):
    seeded = seeded_app(app)
    with reading(seeded) as db:
        meeting = agm(db)
        elections = {e.member_class.code: e for e in nominations.meeting_elections(db, meeting)}
        assert set(elections) == {"artist", "listener"}
        assert (elections["artist"].seats, elections["listener"].seats) == (2, 1)
        # Voting opened with the meeting's; some members have ranked.
        assert all(e.state is ElectionState.VOTING_OPEN for e in elections.values())
        assert all(e.tie_break_seed and e.seed_published_at for e in elections.values())
        ranked = {code: len(ballots.rankings_for_count(db, e)) for code, e in elections.items()}
        assert ranked == {"artist": 7, "listener": 3}
        artists = nominations.standing_candidates(db, elections["artist"])
        listeners = nominations.standing_candidates(db, elections["listener"])
        assert (len(artists), len(listeners)) == (5, 3)
        every = artists + listeners
        assert all(c.state is CandidateState.CONFIRMED for c in every)
        assert all(c.statement and c.seconded_by_id and c.accepted_at for c in every)
        assert any(c.self_nominated for c in every)
        assert any(not c.self_nominated for c in every)
        assert all(c.member.primary_class.code == c.election.member_class.code for c in every)
        # The artist demo member is no candidate, and ranks the artist candidates.
        tadhg = member(db, ARTIST.email)
        assert tadhg.id not in {c.member_id for c in artists}
        assert tadhg.primary_class.code == "artist" and roll.on_roll(db, meeting, tadhg)
        assert any(c.nominated_by_id == tadhg.id for c in artists)
        # The list went out with the notice.
        assert all(e.confirmed_at < meeting.notice_sent_at for e in elections.values())
        body = notices.notice_document(db, meeting).versions[-1].body
        assert "### Artist directors: 2 seats" in body
        assert all(f"#### {c.member.name}" in body for c in every)

        # The board in office: every seat filled, three terms end at this AGM.
        seats = {b.member_class.code: b for b in board.current_board(db)}
        assert {code: len(b.directors) for code, b in seats.items()} == {
            "listener": 2,
            "artist": 3,
            "worker": 2,
        }
        ending = board.terms_ending_at(db, meeting)
        assert sorted(d.member.name for d in ending) == [
            "Ciara Lynch",
            "Orla Fitzgerald",
            "Pádraig Walsh",
        ]
        standing_again = {c.member_id for c in every} & {d.member_id for d in ending}
        assert len(standing_again) == 2  # Pádraig and Orla; Ciara stands down
        ids = meeting.id, elections["artist"].id
        assert db.scalar(select(Candidate.id).where(Candidate.photo_sha256.is_not(None))) is None

    artist = sign_in(ARTIST.email, ARTIST.password)
    page = artist.get(f"/meetings/{ids[0]}/elections/{ids[1]}/nominations")
    assert page.status_code == 200 and "Seán Kiernan" in page.get_data(as_text=True)
    assert "Orla Fitzgerald" in artist.get("/board").get_data(as_text=True)
    # Tadhg has not ranked yet: his ballot is open, with no receipt.
    ballot = artist.get(f"/meetings/{ids[0]}/elections/{ids[1]}/ballot").get_data(as_text=True)
    assert "Seán Kiernan" in ballot and "<select" in ballot and "Your receipt" not in ballot
    staff = sign_in(STAFF.email, STAFF.password)
    assert "Aoibheann Daly" in staff.get(f"/staff/meetings/{ids[0]}/elections/{ids[1]}").get_data(
        as_text=True
    )
    assert "Rory Doherty" in staff.get("/staff/board").get_data(as_text=True)
