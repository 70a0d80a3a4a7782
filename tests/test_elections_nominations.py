"""Board elections: elections on a meeting, nominations and the board record (issue 15 §1, §2).

Each rule named by a test; the services are called directly, the pages as plain requests.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import inspect, select, text
from werkzeug.datastructures import FileStorage

from portal import coop as coop_module
from portal import uploads
from portal.errors import InvalidInput, InvalidState, NotAllowed
from portal.models import (
    AuditEvent,
    Candidate,
    CandidateState,
    Election,
    ElectionState,
    Meeting,
    MemberClass,
    RankedBallot,
)
from portal.services.elections import board, nominations

from .factories import on_day


def find_class(db, code):
    return db.scalar(select(MemberClass).where(MemberClass.code == code))


def window(db, *, seats=2, opens=0, closes=5):
    today = coop_module.today(db)
    return nominations.ElectionInput(
        seats=seats,
        opens_on=today + timedelta(days=opens),
        closes_on=today + timedelta(days=closes),
    )


@pytest.fixture
def artists(db, coop, make_member):
    """Four artist members (Ada nominates, Bea is nominated, Cy seconds, Dee too)."""
    return {
        name: make_member(
            name=f"{name} Artist", email=f"{name.lower()}@example.org", classes=["artist"]
        )
        for name in ("Ada", "Bea", "Cy", "Dee")
    }


@pytest.fixture
def listener(db, coop, make_member):
    return make_member(name="Lee Listener", email="lee@example.org", classes=["listener"])


@pytest.fixture
def agm(db, artists, listener, make_meeting):
    return db.get(Meeting, make_meeting(state="draft", days=60, resolutions=()).id)


@pytest.fixture
def election(db, agm, reviewer):
    """An election of two artist directors, nominations open from today for six days."""
    made = nominations.create_election(
        db, agm, find_class(db, "artist"), window(db), actor=reviewer
    )
    return nominations.open_nominations(db, made, actor=reviewer)


def member(db, ref):
    return ref.load(db)


def self_nominate(db, election, ref, statement="I will listen to artists."):
    m = member(db, ref)
    return nominations.nominate(db, election, m, m, statement=statement, actor=m.user)


def seconded(db, election, artists, reviewer):
    candidate = self_nominate(db, election, artists["Bea"])
    cy = member(db, artists["Cy"])
    return nominations.second_nomination(db, candidate, cy, actor=cy.user)


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(data, name="me.png", mimetype="image/png"):
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=mimetype)


# -- elections on a meeting -----------------------------------------------------------------


def test_staff_put_an_election_of_a_class_on_a_draft_meeting(db, election):
    assert election.state is ElectionState.NOMINATIONS_OPEN
    assert election.seats == 2
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "election"))
    assert list(actions) == ["election.created", "election.nominations_open"]


def test_seats_over_the_class_board_seats_are_refused(db, agm, reviewer):
    artist = find_class(db, "artist")
    with pytest.raises(InvalidInput, match="board seat") as refused:
        nominations.create_election(
            db, agm, artist, window(db, seats=artist.board_seats + 1), actor=reviewer
        )
    assert refused.value.field == "seats"
    assert db.scalar(select(Election.id)) is None


def test_a_class_without_board_seats_has_no_election(db, agm, reviewer):
    artist = find_class(db, "artist")
    artist.board_seats = 0
    with pytest.raises(InvalidInput, match="no board seats"):
        nominations.create_election(db, agm, artist, window(db, seats=1), actor=reviewer)


def test_the_nominations_window_closes_before_the_notice_goes_out(db, agm, reviewer):
    notice_by = coop_module.clock(db).last_day_to_send(
        agm.starts_at, coop_module.settings(db).notice_days
    )
    late = nominations.ElectionInput(2, coop_module.today(db), notice_by)
    with pytest.raises(InvalidInput, match="before the notice goes out"):
        nominations.create_election(db, agm, find_class(db, "artist"), late, actor=reviewer)


def test_one_election_per_class_and_meeting(db, agm, election, reviewer):
    with pytest.raises(InvalidState, match="already has an election"):
        nominations.create_election(db, agm, find_class(db, "artist"), window(db), actor=reviewer)


def test_elections_are_set_before_notice(db, artists, reviewer, make_meeting):
    noticed = db.get(Meeting, make_meeting(state="noticed", days=60, resolutions=()).id)
    with pytest.raises(InvalidState, match="before the notice"):
        nominations.create_election(
            db, noticed, find_class(db, "artist"), window(db), actor=reviewer
        )


# -- nominating -----------------------------------------------------------------------------


def test_a_member_nominates_themselves_and_is_accepted_at_once(db, election, artists):
    candidate = self_nominate(db, election, artists["Bea"])
    assert candidate.state is CandidateState.ACCEPTED
    assert candidate.self_nominated and candidate.accepted_at is not None


def test_nominating_across_classes_is_refused(db, election, artists, listener):
    lee = member(db, listener)
    with pytest.raises(NotAllowed, match="member of the Artist class"):
        nominations.nominate(db, election, lee, lee, statement="Me", actor=lee.user)
    ada = member(db, artists["Ada"])
    with pytest.raises(NotAllowed, match="the nominee"):
        nominations.nominate(db, election, ada, lee, actor=ada.user)
    assert db.scalar(select(Candidate.id)) is None


def test_the_nominee_must_accept(db, election, artists):
    ada, bea, cy = (member(db, artists[n]) for n in ("Ada", "Bea", "Cy"))
    candidate = nominations.nominate(db, election, ada, bea, actor=ada.user)
    assert candidate.state is CandidateState.NOMINATED
    with pytest.raises(InvalidState, match="not accepted yet"):
        nominations.second_nomination(db, candidate, cy, actor=cy.user)
    with pytest.raises(NotAllowed, match="Only the member nominated"):
        nominations.accept_nomination(db, candidate, ada, statement="Yes", actor=ada.user)
    nominations.accept_nomination(db, candidate, bea, statement="I accept.", actor=bea.user)
    assert candidate.state is CandidateState.ACCEPTED and candidate.statement == "I accept."
    nominations.second_nomination(db, candidate, cy, actor=cy.user)
    assert candidate.state is CandidateState.SECONDED


def test_a_member_is_nominated_once_per_election(db, election, artists):
    self_nominate(db, election, artists["Bea"])
    ada = member(db, artists["Ada"])
    with pytest.raises(InvalidState, match="already nominated"):
        nominations.nominate(db, election, ada, member(db, artists["Bea"]), actor=ada.user)


def test_a_seconder_of_another_class_is_refused(db, election, artists, listener):
    candidate = self_nominate(db, election, artists["Bea"])
    lee = member(db, listener)
    with pytest.raises(NotAllowed, match="The seconder must be a member of the Artist class"):
        nominations.second_nomination(db, candidate, lee, actor=lee.user)
    assert candidate.seconded_by_id is None


def test_neither_the_nominee_nor_the_nominator_seconds(db, election, artists):
    ada, bea = member(db, artists["Ada"]), member(db, artists["Bea"])
    own = self_nominate(db, election, artists["Bea"])
    with pytest.raises(NotAllowed, match="your own"):
        nominations.second_nomination(db, own, bea, actor=bea.user)
    cy = member(db, artists["Cy"])
    theirs = nominations.nominate(db, election, ada, cy, actor=ada.user)
    nominations.accept_nomination(db, theirs, cy, statement="Yes.", actor=cy.user)
    with pytest.raises(NotAllowed, match="You nominated"):
        nominations.second_nomination(db, theirs, ada, actor=ada.user)


def test_a_nomination_is_seconded_once(db, election, artists, reviewer):
    candidate = seconded(db, election, artists, reviewer)
    dee = member(db, artists["Dee"])
    with pytest.raises(InvalidState, match="already seconded, by Cy Artist"):
        nominations.second_nomination(db, candidate, dee, actor=dee.user)


def test_nominating_after_the_window_closed_is_refused(db, election, artists):
    after = coop_module.today(db) + timedelta(days=6)
    bea = member(db, artists["Bea"])
    with on_day(after), pytest.raises(InvalidState, match="not open"):
        nominations.nominate(db, election, bea, bea, statement="Late", actor=bea.user)


def test_nominating_once_staff_closed_nominations_is_refused(db, election, artists, reviewer):
    nominations.close_nominations(db, election, actor=reviewer)
    bea = member(db, artists["Bea"])
    with pytest.raises(InvalidState, match="not open"):
        nominations.nominate(db, election, bea, bea, statement="Late", actor=bea.user)


def test_nominating_before_nominations_open_is_refused(db, agm, artists, reviewer):
    draft = nominations.create_election(
        db, agm, find_class(db, "artist"), window(db, opens=1), actor=reviewer
    )
    nominations.open_nominations(db, draft, actor=reviewer)
    bea = member(db, artists["Bea"])
    with pytest.raises(InvalidState, match="not open"):
        nominations.nominate(db, draft, bea, bea, statement="Early", actor=bea.user)


# -- the statement and the photo ------------------------------------------------------------


def test_the_statement_is_sanitised_as_documents_are(db, election, artists):
    candidate = self_nominate(
        db,
        election,
        artists["Bea"],
        statement="**Fair pay.** <script>alert(1)</script> [x](javascript:alert(1)) "
        "<img src=x onerror=y>",
    )
    html = str(nominations.statement_html(candidate))
    assert "<strong>Fair pay.</strong>" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as the text it is


def test_the_statement_is_length_bounded(db, election, artists):
    with pytest.raises(InvalidInput, match="at most 3000") as refused:
        self_nominate(db, election, artists["Bea"], statement="x" * 3001)
    assert refused.value.field == "statement"
    with pytest.raises(InvalidInput, match="cannot be empty"):
        self_nominate(db, election, artists["Bea"], statement="   ")


def test_a_photo_is_stored_with_its_checked_type(db, election, artists, tmp_path):
    photo = uploads.accept_image(upload(png_bytes()), root=tmp_path, max_bytes=100_000)
    bea = member(db, artists["Bea"])
    candidate = nominations.nominate(
        db, election, bea, bea, statement="Me.", photo=photo, actor=bea.user
    )
    assert (candidate.photo_type, candidate.photo_sha256) == ("image/png", photo.sha256)
    assert uploads.open_upload(tmp_path, photo.sha256) == png_bytes()


@pytest.mark.parametrize(
    ("data", "name", "mimetype"),
    [
        (b"GIF89a" + b"\0" * 64, "me.png", "image/png"),  # another image type, renamed
        (b"%PDF-1.7\n" + b"\0" * 64, "me.png", "image/png"),  # a PDF renamed
        (b"<svg onload=alert(1)></svg>", "me.png", "image/png"),  # script in disguise
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "me.png", "image/png"),  # the magic, then junk
        (None, "me.jpg", "image/jpeg"),  # a PNG named as a JPEG
        (None, "me.png", "text/html"),  # a PNG declared as HTML
        (None, "me.svg", "image/svg+xml"),  # not an accepted type
    ],
)
def test_a_photo_with_wrong_magic_bytes_or_type_is_refused(tmp_path, data, name, mimetype):
    with pytest.raises(InvalidInput) as refused:
        uploads.accept_image(
            upload(data if data is not None else png_bytes(), name, mimetype),
            root=tmp_path,
            max_bytes=100_000,
        )
    assert refused.value.field == "photo"
    assert not any(tmp_path.rglob("*"))


def test_a_photo_over_the_size_limit_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="larger than the limit"):
        uploads.accept_image(upload(png_bytes()), root=tmp_path, max_bytes=20)


def test_a_photo_is_served_with_a_safe_content_type(app, tmp_path):
    stored = uploads.accept_image(upload(png_bytes()), root=tmp_path, max_bytes=100_000)
    with app.test_request_context("/"):
        response = uploads.send_image(tmp_path, stored.sha256, stored.content_type)
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"


# -- staff decide ---------------------------------------------------------------------------


def test_staff_confirm_candidates_once_nominations_close(db, election, artists, reviewer):
    candidate = seconded(db, election, artists, reviewer)
    with pytest.raises(InvalidState, match="once nominations have closed"):
        nominations.confirm_candidate(db, candidate, actor=reviewer)
    nominations.close_nominations(db, election, actor=reviewer)
    nominations.confirm_candidate(db, candidate, actor=reviewer)
    assert candidate.state is CandidateState.CONFIRMED


def test_staff_reject_a_nomination_with_a_reason(db, election, artists, reviewer):
    candidate = self_nominate(db, election, artists["Bea"])
    with pytest.raises(InvalidInput, match="Reason cannot be empty"):
        nominations.reject_candidate(db, candidate, " ", actor=reviewer)
    nominations.reject_candidate(db, candidate, "Not eligible under rule 30.", actor=reviewer)
    assert candidate.state is CandidateState.REJECTED
    assert candidate.reject_reason == "Not eligible under rule 30."


def test_confirming_the_list_lapses_unseconded_nominations(db, election, artists, reviewer):
    confirmed = seconded(db, election, artists, reviewer)
    lapsing = self_nominate(db, election, artists["Dee"])
    nominations.close_nominations(db, election, actor=reviewer)
    with pytest.raises(InvalidState, match="every seconded candidate first: Bea Artist"):
        nominations.confirm_candidate_list(db, election, actor=reviewer)
    nominations.confirm_candidate(db, confirmed, actor=reviewer)
    nominations.confirm_candidate_list(db, election, actor=reviewer)
    assert election.state is ElectionState.CANDIDATES_CONFIRMED
    assert lapsing.state is CandidateState.REJECTED
    assert lapsing.reject_reason == nominations.LAPSED_REASON
    with pytest.raises(InvalidState, match="confirmed; it no longer changes"):
        nominations.reject_candidate(db, confirmed, "Too late", actor=reviewer)


def test_a_list_with_no_confirmed_candidate_is_refused(db, election, reviewer):
    nominations.close_nominations(db, election, actor=reviewer)
    with pytest.raises(InvalidState, match="No candidate is confirmed"):
        nominations.confirm_candidate_list(db, election, actor=reviewer)


def test_a_candidate_stands_down_until_voting_opens(db, election, artists, reviewer):
    candidate = self_nominate(db, election, artists["Bea"])
    ada = member(db, artists["Ada"])
    with pytest.raises(NotAllowed):
        nominations.withdraw_nomination(db, candidate, ada, actor=ada.user)
    bea = member(db, artists["Bea"])
    nominations.withdraw_nomination(db, candidate, bea, actor=bea.user)
    assert candidate.state is CandidateState.WITHDRAWN and candidate.withdrawn_at is not None


# -- the board record -----------------------------------------------------------------------


def test_the_board_shows_directors_sitting_today_by_class(db, artists, reviewer):
    artist = find_class(db, "artist")
    today = coop_module.today(db)
    bea, cy = member(db, artists["Bea"]), member(db, artists["Cy"])
    board.record_director(db, bea, artist, today, today + timedelta(days=700), actor=reviewer)
    board.record_director(db, cy, artist, today, today + timedelta(days=300), actor=reviewer)
    seats = {b.member_class.code: b for b in board.current_board(db)}
    assert [d.member.name for d in seats["artist"].directors] == ["Cy Artist", "Bea Artist"]
    assert seats["artist"].vacant_seats == artist.board_seats - 2
    assert seats["listener"].directors == []


def test_a_director_sits_for_a_class_they_belong_to(db, artists, listener, reviewer):
    today = coop_module.today(db)
    with pytest.raises(InvalidInput, match="is not in the Artist class"):
        board.record_director(
            db,
            member(db, listener),
            find_class(db, "artist"),
            today,
            today + timedelta(days=9),
            actor=reviewer,
        )


def test_a_class_has_no_more_directors_than_board_seats(db, artists, reviewer):
    artist = find_class(db, "artist")
    artist.board_seats = 1
    today = coop_module.today(db)
    board.record_director(
        db, member(db, artists["Bea"]), artist, today, today + timedelta(days=9), actor=reviewer
    )
    with pytest.raises(InvalidInput, match="all taken"):
        board.record_director(
            db, member(db, artists["Cy"]), artist, today, today + timedelta(days=9), actor=reviewer
        )


def test_terms_ending_at_an_agm(db, agm, artists, reviewer):
    artist = find_class(db, "artist")
    today = coop_module.today(db)
    agm_day = coop_module.clock(db).day_of(agm.starts_at)
    ending = board.record_director(
        db, member(db, artists["Bea"]), artist, today, agm_day, actor=reviewer
    )
    board.record_director(
        db, member(db, artists["Cy"]), artist, today, agm_day + timedelta(days=365), actor=reviewer
    )
    assert board.terms_ending_at(db, agm) == [ending]
    assert board.terms_ending_at(db, agm, find_class(db, "listener")) == []


# -- the ranked ballot's secrecy, as the schema holds it ------------------------------------


def test_a_ranked_ballot_has_no_column_or_join_path_to_a_member():
    table = RankedBallot.__table__
    assert {fk.column.table.name for fk in table.foreign_keys} == {"elections"}
    assert not any("member" in c.name or "participation" in c.name for c in table.columns)
    assert not any(c.type.python_type is datetime for c in table.columns)
    assert not any(
        fk.column.table.name == "ranked_ballots"
        for other in RankedBallot.metadata.tables.values()
        for fk in other.foreign_keys
    )
    assert inspect(RankedBallot).primary_key[0].type.python_type is str  # random, not a sequence


def test_ranked_ballots_keep_no_rowid_on_sqlite(db):
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL rewrites sealed ballots under new ids instead")
    sql = db.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ranked_ballots'"))
    assert "WITHOUT ROWID" in sql


def test_a_ranked_ballot_reads_its_ranking_first_preference_first():
    assert RankedBallot(ranking="12,7,9").candidate_ids == [12, 7, 9]


def test_seats_held_past_the_meeting_are_not_up_for_election(db, agm, artists, reviewer):
    artist = find_class(db, "artist")  # three seats
    today = coop_module.today(db)
    agm_day = coop_module.clock(db).day_of(agm.starts_at)
    for name in ("Bea", "Cy"):
        board.record_director(
            db,
            member(db, artists[name]),
            artist,
            today,
            agm_day + timedelta(days=365),
            actor=reviewer,
        )
    with pytest.raises(InvalidInput, match="at most 1 can be elected"):
        nominations.create_election(db, agm, artist, window(db, seats=2), actor=reviewer)
    assert nominations.create_election(db, agm, artist, window(db, seats=1), actor=reviewer)
