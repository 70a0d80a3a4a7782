"""Board elections: voting opened with the meeting's, closed and counted by STV, declared
onto the board, checked again by ``check-votes``; the results page and the minutes
(issue 15 §4, §5).

Most tests write rankings as the schema says (a participation, and for a secret election a
ranked ballot with a random id and a voter tag), so the count is tested apart from the
ranked ballot service; those that cast go through ``services.elections.ballots``.
"""

from __future__ import annotations

import secrets
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal import coop as coop_module
from portal.db import write_session
from portal.errors import InvalidState
from portal.models import (
    AuditEvent,
    Candidate,
    Director,
    Election,
    ElectionParticipation,
    ElectionState,
    Meeting,
    MeetingState,
    MemberClass,
    RankedBallot,
    Resolution,
    ResolutionState,
    User,
)
from portal.services.elections import ballots, count, nominations, voting
from portal.services.meetings import ballots as meeting_ballots
from portal.services.meetings import closing, lifecycle, minutes

from .factories import REVIEWER, reading
from .test_document_pdf import page_texts
from .test_meeting_minutes import confirm

ARTISTS = ("Ada", "Bea", "Cy", "Dee", "Eve", "Fay")


def find_class(db, code):
    return db.scalar(select(MemberClass).where(MemberClass.code == code))


@pytest.fixture
def artists(coop, make_member):
    """Six artist members: Ada seconds, the others may stand."""
    return {
        name: make_member(
            name=f"{name} Artist", email=f"{name.lower()}@example.org", classes=["artist"]
        )
        for name in ARTISTS
    }


@pytest.fixture
def listeners(coop, make_member):
    return {
        name: make_member(
            name=f"{name} Listener", email=f"{name.lower()}@example.org", classes=["listener"]
        )
        for name in ("Lee", "Lou")
    }


@pytest.fixture
def agm(artists, listeners, make_meeting):
    """An AGM in 60 days, in draft, with one resolution."""
    return make_meeting(state="draft", days=60, resolutions=({"title": "Approve the accounts"},))


@contextmanager
def writing(app):
    """A committed write transaction, as a request's."""
    with app.test_request_context("/"), write_session(app) as db:
        yield db


def nominating(db, meeting_id, *, seats=2, code="artist"):
    """An election of ``seats`` ``code`` directors on the draft meeting, taking nominations."""
    staff = _staff(db)
    today = coop_module.today(db)
    election = nominations.create_election(
        db,
        db.get(Meeting, meeting_id),
        find_class(db, code),
        nominations.ElectionInput(seats, today, today + timedelta(days=5)),
        actor=staff,
    )
    return nominations.open_nominations(db, election, actor=staff)


def stage(db, meeting_id, members, *, standing, seats=2, code="artist", secret=True):
    """An election of ``seats`` ``code`` directors on the draft meeting, ``standing`` (names)
    self-nominated, seconded by the first member who does not stand, and confirmed."""
    staff = _staff(db)
    election = nominating(db, meeting_id, seats=seats, code=code)
    election.secret = secret
    seconder = next(ref for name, ref in members.items() if name not in standing).load(db)
    for name in standing:
        m = members[name].load(db)
        candidate = nominations.nominate(
            db, election, m, m, statement=f"{name} stands.", actor=m.user
        )
        nominations.second_nomination(db, candidate, seconder, actor=seconder.user)
    nominations.close_nominations(db, election, actor=staff)
    for candidate in nominations.election_candidates(db, election):
        nominations.confirm_candidate(db, candidate, actor=staff)
    nominations.confirm_candidate_list(db, election, actor=staff)
    db.flush()
    return election


def _staff(db):
    """Rita Reviewer, the staff member the factories act as."""
    return db.scalar(select(User).where(User.email == REVIEWER))


def open_voting(db, meeting_id):
    """Notice, then voting opened on the meeting (resolutions and elections)."""
    meeting = db.get(Meeting, meeting_id)
    staff = _staff(db)
    lifecycle.send_notice(db, meeting, actor=staff, short_notice_reason="Test")
    lifecycle.open_voting(db, meeting, actor=staff)
    return voting.open_elections(db, meeting, actor=staff)


def ids(db, election):
    """Candidate ids by first name."""
    return {c.member.name.split()[0]: c.id for c in nominations.election_candidates(db, election)}


def rank(db, election, member_ref, *names):
    """``member_ref`` ranks ``names``, written as the schema says (module docstring)."""
    candidate = ids(db, election)
    ranking = ",".join(str(candidate[n]) for n in names)
    receipt = meeting_ballots.new_receipt()
    if election.secret:
        db.add(ElectionParticipation(election_id=election.id, member_id=member_ref.id))
        db.add(
            RankedBallot(
                id=secrets.token_hex(16),
                election_id=election.id,
                ranking=ranking,
                receipt=receipt,
                voter_tag=secrets.token_hex(16),
            )
        )
    else:
        db.add(
            ElectionParticipation(
                election_id=election.id, member_id=member_ref.id, ranking=ranking, receipt=receipt
            )
        )
    db.flush()


def names_of(db, election, candidate_ids):
    by_id = {v: k for k, v in ids(db, election).items()}
    return [by_id[c] for c in candidate_ids]


# -- opening --------------------------------------------------------------------------------


def test_voting_opens_in_confirmed_elections_with_the_meetings_window_and_a_published_seed(
    db, agm, artists
):
    election = stage(db, agm.id, artists, standing=("Bea", "Cy", "Dee"))
    opened = open_voting(db, agm.id)
    assert opened == [election]
    assert election.state is ElectionState.VOTING_OPEN
    resolution = db.get(Resolution, agm.resolution_ids[0])
    assert election.voting_closes_at == resolution.closes_at
    assert resolution.opens_at <= election.voting_opens_at <= coop_module.clock(db).now()
    assert len(election.tie_break_seed) == 32
    assert election.seed_published_at == election.voting_opens_at
    assert election.result_json is None


def test_each_election_draws_its_own_seed(db, agm, artists, listeners):
    artist = stage(db, agm.id, artists, standing=("Bea", "Cy"))
    listener = stage(db, agm.id, listeners, standing=("Lee",), seats=1, code="listener")
    open_voting(db, agm.id)
    assert artist.tie_break_seed != listener.tie_break_seed


def _noticed_while_nominating(db, meeting, election):
    """The meeting noticed while its election still takes nominations: the notice refuses
    that now (services.meetings.lifecycle), so this stands for a row left so by hand or by
    an older version; opening the vote must still refuse it."""
    taking = election.state
    election.state = ElectionState.CANDIDATES_CONFIRMED
    lifecycle.send_notice(db, meeting, actor=_staff(db), short_notice_reason="Test")
    election.state = taking
    db.flush()


def test_voting_does_not_open_while_an_election_takes_nominations(db, agm, artists):
    staff = _staff(db)
    meeting = db.get(Meeting, agm.id)
    election = nominating(db, agm.id)
    _noticed_while_nominating(db, meeting, election)
    lifecycle.open_voting(db, meeting, actor=staff)
    with pytest.raises(InvalidState, match="nominations open") as refused:
        voting.open_elections(db, meeting, actor=staff)
    assert refused.value.status == 409
    assert election.tie_break_seed is None


def test_staff_opening_voting_with_an_election_taking_nominations_get_409_and_nothing_opens(
    app, staff, agm, artists
):
    with writing(app) as db:
        _noticed_while_nominating(db, db.get(Meeting, agm.id), nominating(db, agm.id))
    response = staff.post(f"/staff/meetings/{agm.id}/open")
    assert response.status_code == 409
    assert "Confirm its candidate list or cancel it" in response.get_data(as_text=True)
    with reading(app) as db:
        assert db.get(Meeting, agm.id).state is MeetingState.NOTICED
        assert db.get(Resolution, agm.resolution_ids[0]).state is ResolutionState.DRAFT


def test_the_staff_open_voting_button_opens_the_elections_too(app, staff, agm, artists):
    with writing(app) as db:
        election_id = stage(db, agm.id, artists, standing=("Bea", "Cy")).id
        lifecycle.send_notice(
            db, db.get(Meeting, agm.id), actor=_staff(db), short_notice_reason="Test"
        )
    response = staff.post(f"/staff/meetings/{agm.id}/open")
    assert response.status_code == 303
    with reading(app) as db:
        election = db.get(Election, election_id)
        assert election.state is ElectionState.VOTING_OPEN
        assert election.seed_published_at is not None


# -- closing and counting -------------------------------------------------------------------


@pytest.fixture
def counted(db, agm, artists):
    """Two artist seats, four candidates, nine ballots; closed and counted."""
    election = stage(db, agm.id, artists, standing=("Bea", "Cy", "Dee", "Eve"))
    open_voting(db, agm.id)
    for voter, ranking in (
        ("Ada", ("Bea", "Cy")),
        ("Bea", ("Bea", "Dee")),
        ("Cy", ("Cy", "Bea")),
        ("Dee", ("Dee", "Cy")),
        ("Eve", ("Eve", "Dee", "Cy")),
        ("Fay", ("Bea", "Eve")),
    ):
        rank(db, election, artists[voter], *ranking)
    voting.close_election(db, election, actor=_staff(db))
    return election


def test_closing_counts_every_ranking_and_stores_every_round(db, counted):
    assert counted.state is ElectionState.COUNTED
    assert counted.counted_at is not None
    stored = count.Count.from_json(counted.result_json)
    recount = count.count_stv(
        voting.standing_ids(db, counted),
        [[int(c) for c in b.ranking.split(",")] for b in db.scalars(select(RankedBallot))],
        2,
        seed=counted.tie_break_seed,
    )
    assert counted.result_json == recount.as_json()
    assert stored.ballots == 6 and stored.quota == 3
    assert len(stored.rounds) >= 2
    assert [r.number for r in stored.rounds] == list(range(1, len(stored.rounds) + 1))
    assert all(r.votes for r in stored.rounds)
    assert names_of(db, counted, stored.elected[:1]) == ["Bea"]
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "election")
    ).all()
    assert actions[-2:] == ["election.voting_open", "election.counted"]


def test_no_more_are_elected_than_seats_and_all_from_the_elections_class(db, counted):
    stored = count.Count.from_json(counted.result_json)
    assert len(stored.elected) == counted.seats
    for candidate_id in stored.elected:
        candidate = db.get(Candidate, candidate_id)
        assert candidate.election_id == counted.id
        assert counted.member_class in candidate.member.active_classes


def test_closing_seals_the_secret_ballots(db, counted):
    assert db.scalars(select(RankedBallot.voter_tag)).all() == [None] * 6


def test_closing_twice_is_refused_and_counts_once(db, counted):
    stored = counted.result_json
    with pytest.raises(InvalidState, match="counted"):
        voting.close_election(db, counted, actor=_staff(db))
    assert counted.result_json == stored
    counts = db.scalars(select(AuditEvent.action).where(AuditEvent.action == "election.counted"))
    assert len(counts.all()) == 1


def test_one_seat_is_instant_runoff(db, agm, artists):
    election = stage(db, agm.id, artists, standing=("Bea", "Cy", "Dee"), seats=1)
    open_voting(db, agm.id)
    # Bea leads on first preferences, but Dee's voters prefer Cy: Cy wins the runoff.
    for voter, ranking in (
        ("Ada", ("Bea",)),
        ("Bea", ("Bea",)),
        ("Cy", ("Cy", "Bea")),
        ("Dee", ("Dee", "Cy")),
        ("Eve", ("Cy",)),
    ):
        rank(db, election, artists[voter], *ranking)
    result = voting.close_election(db, election, actor=_staff(db))
    assert result.instant_runoff and result.quota == 3
    assert names_of(db, election, result.elected) == ["Cy"]
    assert names_of(db, election, result.excluded[:1]) == ["Dee"]


def test_a_tie_is_broken_by_lot_from_the_stored_seed_and_the_recount_agrees(db, agm, artists):
    election = stage(db, agm.id, artists, standing=("Bea", "Cy"), seats=1)
    open_voting(db, agm.id)
    rank(db, election, artists["Ada"], "Bea")
    rank(db, election, artists["Dee"], "Cy")
    result = voting.close_election(db, election, actor=_staff(db))
    assert result.drawn_by_lot
    assert result.seed == election.tie_break_seed
    # The lot order anyone can recompute from the seed decides: the earliest stays.
    assert result.elected == count.lot_order(result.candidates, election.tie_break_seed)[:1]
    again = count.count_stv(
        result.candidates, [[c] for c in result.candidates], 1, seed=result.seed
    )
    assert again.as_json() == election.result_json
    assert voting.check_elections(db).ok


def test_an_open_election_is_counted_from_the_participations(db, agm, artists):
    election = stage(db, agm.id, artists, standing=("Bea", "Cy"), seats=1, secret=False)
    open_voting(db, agm.id)
    rank(db, election, artists["Ada"], "Cy", "Bea")
    rank(db, election, artists["Dee"], "Cy")
    result = voting.close_election(db, election, actor=_staff(db))
    assert names_of(db, election, result.elected) == ["Cy"] and result.ballots == 2


def test_an_election_with_no_ranking_is_counted_with_no_one_elected_by_votes(db, agm, artists):
    election = stage(db, agm.id, artists, standing=("Bea", "Cy", "Dee"), seats=1)
    open_voting(db, agm.id)
    result = voting.close_election(db, election, actor=_staff(db))
    assert result.ballots == 0
    assert len(result.elected) <= 1


def test_close_if_due_closes_elections_past_their_time_once(db, agm, artists):
    election = stage(db, agm.id, artists, standing=("Bea", "Cy"))
    open_voting(db, agm.id)
    meeting = db.get(Meeting, agm.id)
    assert not voting.is_due(db, meeting)
    assert voting.close_if_due(db, meeting).elections == []
    with time_machine.travel(election.voting_closes_at + timedelta(seconds=1), tick=False):
        assert voting.is_due(db, meeting)
        closed = voting.close_if_due(db, meeting)
        assert closed.elections == [election] and len(closed.resolutions) == 1
        assert voting.close_if_due(db, meeting).elections == []
        assert voting.close_due_elections(db) == []
    assert election.state is ElectionState.COUNTED


def test_closing_is_counted_once_under_two_requests_at_once(app, agm, artists):
    with writing(app) as db:
        election_id = stage(db, agm.id, artists, standing=("Bea", "Cy")).id
        open_voting(db, agm.id)
        rank(db, db.get(Election, election_id), artists["Ada"], "Cy")
    outcomes, start = [], threading.Barrier(2)

    def close():
        start.wait()
        try:
            with writing(app) as db:
                voting.close_election(db, db.get(Election, election_id), actor=None)
            outcomes.append("closed")
        except InvalidState:
            outcomes.append("refused")

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["closed", "refused"]
    with reading(app) as db:
        counted = db.scalars(select(AuditEvent).where(AuditEvent.action == "election.counted"))
        assert len(counted.all()) == 1


def test_staff_closing_the_meetings_voting_counts_its_open_elections(app, staff, agm, artists):
    with writing(app) as db:
        election_id = stage(db, agm.id, artists, standing=("Bea", "Cy")).id
        open_voting(db, agm.id)
        rank(db, db.get(Election, election_id), artists["Ada"], "Cy")
    response = staff.post(f"/staff/meetings/{agm.id}/close")
    assert response.status_code == 303
    with reading(app) as db:
        assert db.get(Election, election_id).state is ElectionState.COUNTED
        assert db.get(Meeting, agm.id).state is MeetingState.VOTING_CLOSED


def test_a_ranking_after_close_is_refused_with_409(db, counted, artists):
    ada = artists["Ada"].load(db)
    with pytest.raises(InvalidState) as refused:
        ballots.cast_ranking(db, counted, ada, voting.standing_ids(db, counted)[:1])
    assert refused.value.status == 409


# -- declaring ------------------------------------------------------------------------------


def test_declaring_records_the_elected_as_directors_for_the_term_in_the_settings(db, coop, counted):
    coop.director_term_years = 4
    staff = _staff(db)
    directors = voting.declare(db, counted, actor=staff)
    stored = count.Count.from_json(counted.result_json)
    assert [d.member_id for d in directors] == [
        db.get(Candidate, c).member_id for c in stored.elected
    ]
    day = coop_module.clock(db).day_of(counted.meeting.starts_at)
    for director in directors:
        assert director.term_started_on == day
        assert director.term_ends_on == day.replace(year=day.year + 4)
        assert director.election_id == counted.id
        assert director.class_id == counted.class_id
    assert counted.state is ElectionState.DECLARED and counted.declared_at is not None
    with pytest.raises(InvalidState, match="declared"):
        voting.declare(db, counted, actor=staff)
    assert len(db.scalars(select(Director)).all()) == 2


def test_elected_directors_take_the_seats_of_those_whose_terms_end_at_the_agm(
    db, coop, agm, artists
):
    """Terms ending on the AGM's day hand their seats over that day (the class is full)."""
    from portal.services.elections import board

    staff = _staff(db)
    artist = find_class(db, "artist")
    artist.board_seats = 2
    meeting = db.get(Meeting, agm.id)
    day = coop_module.clock(db).day_of(meeting.starts_at)
    for name in ("Ada", "Fay"):
        board.record_director(
            db, artists[name].load(db), artist, coop_module.today(db), day, actor=staff
        )
    election = stage(db, agm.id, artists, standing=("Bea", "Cy", "Dee"))
    open_voting(db, agm.id)
    rank(db, election, artists["Eve"], "Bea", "Cy")
    voting.close_election(db, election, actor=staff)
    assert len(voting.declare(db, election, actor=staff)) == 2
    assert {
        b.member_class.code: len(b.directors)
        for b in board.current_board(db, day + timedelta(days=1))
    }["artist"] == 2


def test_declaring_before_the_count_is_refused(db, agm, artists):
    election = stage(db, agm.id, artists, standing=("Bea",), seats=1)
    open_voting(db, agm.id)
    with pytest.raises(InvalidState):
        voting.declare(db, election, actor=_staff(db))


# -- check-votes ----------------------------------------------------------------------------


def test_check_votes_recounts_elections_and_exits_1_on_a_tampered_count(app, runner, agm, artists):
    with writing(app) as db:
        election = stage(db, agm.id, artists, standing=("Bea", "Cy", "Dee"))
        open_voting(db, agm.id)
        for voter, ranking in (("Ada", ("Bea",)), ("Eve", ("Cy", "Bea")), ("Fay", ("Bea",))):
            rank(db, election, artists[voter], *ranking)
        voting.close_election(db, election, actor=None)
        election_id = election.id
    good = runner.invoke(args=["check-votes"])
    assert good.exit_code == 0, good.output
    assert "1 elections" in good.output
    with writing(app) as db:
        tampered = db.get(Election, election_id)
        data = dict(tampered.result_json)
        data["elected"] = list(reversed(data["elected"]))
        tampered.result_json = data
    bad = runner.invoke(args=["check-votes"])
    assert bad.exit_code == 1
    assert "election of Artist directors: the stored count differs" in bad.output


def test_check_votes_accepts_a_count_stored_with_its_transfers_in_another_order(db, agm, artists):
    """Counts stored before transfers were ordered by candidate list them as the ballots
    were read; a recount of the same votes is the same count."""
    election = stage(db, agm.id, artists, standing=("Bea", "Cy", "Dee"), seats=1)
    open_voting(db, agm.id)
    # Two first preferences each, every second preference different: whoever is excluded
    # first, their votes move to both others.
    for voter, ranking in (
        ("Ada", ("Bea", "Dee")),
        ("Bea", ("Bea", "Cy")),
        ("Cy", ("Cy", "Dee")),
        ("Dee", ("Cy", "Bea")),
        ("Eve", ("Dee", "Bea")),
        ("Fay", ("Dee", "Cy")),
    ):
        rank(db, election, artists[voter], *ranking)
    voting.close_election(db, election, actor=_staff(db))
    assert voting.check_elections(db).ok
    data = dict(election.result_json)
    data["rounds"] = [{**r, "transfers": r["transfers"][::-1]} for r in data["rounds"]]
    assert data != election.result_json
    election.result_json = data
    db.flush()
    assert voting.check_elections(db).ok


def test_check_votes_finds_a_ranked_ballot_without_a_member_who_ranked(db, counted):
    db.add(
        RankedBallot(
            id=secrets.token_hex(16),
            election_id=counted.id,
            ranking=str(voting.standing_ids(db, counted)[0]),
            receipt="STUF-FEDX-XXXX",
        )
    )
    db.flush()
    problems = voting.check_elections(db).problems
    assert any("7 ranked ballots for 6 members" in p for p in problems)


def test_close_due_votes_counts_due_elections(app, runner, agm, artists):
    with writing(app) as db:
        election = stage(db, agm.id, artists, standing=("Bea", "Cy"))
        open_voting(db, agm.id)
        closes_at = election.voting_closes_at
    with time_machine.travel(closes_at + timedelta(minutes=1), tick=False):
        result = runner.invoke(args=["close-due-votes"])
    assert result.exit_code == 0, result.output
    assert "Counted meeting" in result.output and "1 election closed and counted" in result.output


# -- the minutes ----------------------------------------------------------------------------


def test_the_minutes_draft_gives_each_counted_election(db, counted):
    closing.close_voting(db, counted.meeting, actor=_staff(db))
    body = minutes.prefilled_body(db, counted.meeting)
    stored = count.Count.from_json(counted.result_json)
    assert "## Board elections" in body
    assert "### Artist directors" in body
    assert f"quota {stored.quota}" in body and "6 valid ballots" in body
    for name in names_of(db, counted, stored.elected):
        assert f"{name} Artist" in body


# -- the results page -----------------------------------------------------------------------


def page_url(meeting_id, election_id):
    return f"/meetings/{meeting_id}/elections/{election_id}"


@pytest.fixture
def open_election(app, agm, artists):
    """Voting open in a secret election of two artist seats; three rankings cast."""
    with writing(app) as db:
        election = stage(db, agm.id, artists, standing=("Bea", "Cy", "Dee"))
        open_voting(db, agm.id)
        for voter, ranking in (("Ada", ("Bea", "Cy")), ("Eve", ("Cy",)), ("Fay", ("Bea",))):
            rank(db, election, artists[voter], *ranking)
        return election.id


def test_before_the_count_the_page_shows_the_state_candidates_and_seed_and_no_tally(
    app, sign_in, agm, artists, open_election
):
    page = sign_in("lee@example.org").get(page_url(agm.id, open_election))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    with reading(app) as db:
        seed = db.get(Election, open_election).tie_break_seed
    assert seed in text and "Voting open" in text
    for name in ("Bea Artist", "Cy Artist", "Dee Artist"):
        assert name in text
    assert "Not counted yet" in text
    assert "Round 1" not in text and "Quota" not in text and "<svg" not in text


def test_the_counted_page_gives_the_elected_quota_rounds_and_an_svg_with_a_text_alternative(
    app, staff, sign_in, agm, artists, open_election
):
    response = staff.post(
        f"/staff/meetings/{agm.id}/elections/{open_election}/count", data={"confirm": "yes"}
    )
    assert response.status_code == 303
    with reading(app) as db:
        stored = count.Count.from_json(db.get(Election, open_election).result_json)
    text = sign_in("ada@example.org").get(page_url(agm.id, open_election)).get_data(as_text=True)
    assert "Counted, to be declared" in text
    assert f"<dd>{stored.quota} (Droop" in text and "<dd>3</dd>" in text
    for n in range(1, len(stored.rounds) + 1):
        assert f"Round {n}</th>" in text
    svg = text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    desc = svg.split("<desc", 1)[1].split("</desc>", 1)[0]
    assert "3 valid ballots" in desc and "first preferences" in desc
    assert 'class="table-wrap" tabindex="0" role="region"' in text


def test_counting_without_the_tick_is_refused_with_422_and_counts_nothing(
    app, staff, agm, open_election
):
    response = staff.post(f"/staff/meetings/{agm.id}/elections/{open_election}/count")
    assert response.status_code == 422
    assert "Tick the box to confirm" in response.get_data(as_text=True)
    with reading(app) as db:
        assert db.get(Election, open_election).state is ElectionState.VOTING_OPEN


def test_staff_declare_from_the_election_page_and_the_page_says_elected(
    app, staff, sign_in, agm, open_election
):
    url = f"/staff/meetings/{agm.id}/elections/{open_election}"
    assert staff.post(f"{url}/declare").status_code == 409  # not counted yet
    staff.post(f"{url}/count", data={"confirm": "yes"})
    page = staff.get(url).get_data(as_text=True)
    assert "Declare the result" in page and page_url(agm.id, open_election) in page
    assert staff.post(f"{url}/declare").status_code == 303
    assert staff.post(f"{url}/count", data={"confirm": "yes"}).status_code == 409
    with reading(app) as db:
        assert len(db.scalars(select(Director)).all()) == 2
    text = sign_in("lee@example.org").get(page_url(agm.id, open_election)).get_data(as_text=True)
    assert '<h2 id="elected-heading">Elected</h2>' in text


def test_a_member_not_on_the_roll_gets_403_and_a_stranger_is_sent_to_sign_in(
    app, client, make_member, make_user, sign_in, agm, open_election
):
    make_member(name="Late Joiner", email="late@example.org", classes=["artist"])
    assert sign_in("late@example.org").get(page_url(agm.id, open_election)).status_code == 403
    make_user(email="someone@example.org", name="Some One")
    assert sign_in("someone@example.org").get(page_url(agm.id, open_election)).status_code == 403
    assert client.get(page_url(agm.id, open_election)).status_code in (302, 303)


def test_the_results_page_of_another_meeting_or_a_draft_election_is_404(
    app, staff, agm, artists, open_election, make_meeting
):
    other = make_meeting(state="draft", days=50, resolutions=())
    assert staff.get(page_url(other.id, open_election)).status_code == 404
    assert staff.get(page_url(agm.id, open_election + 99)).status_code == 404


def test_the_page_counts_an_election_past_its_time_when_read(app, sign_in, agm, open_election):
    with reading(app) as db:
        closes_at = db.get(Election, open_election).voting_closes_at
    with time_machine.travel(closes_at + timedelta(minutes=1), tick=False):
        text = (
            sign_in("ada@example.org").get(page_url(agm.id, open_election)).get_data(as_text=True)
        )
    assert "Counted, to be declared" in text
    with reading(app) as db:
        assert db.get(Election, open_election).state is ElectionState.COUNTED


def test_the_meeting_results_page_links_its_elections(app, sign_in, agm, open_election):
    text = sign_in("ada@example.org").get(f"/meetings/{agm.id}/results").get_data(as_text=True)
    assert page_url(agm.id, open_election) in text


@pytest.mark.pdf
def test_the_published_minutes_pdf_gives_the_election_result(
    app, staff, sign_in, agm, open_election
):
    assert staff.post(f"/staff/meetings/{agm.id}/close").status_code == 303
    assert confirm(staff, agm).status_code == 303
    response = sign_in("ada@example.org").get(f"/meetings/{agm.id}/minutes.pdf")
    assert response.status_code == 200
    text = " ".join(" ".join(page_texts(response.data)).split())
    with reading(app) as db:
        stored = count.Count.from_json(db.get(Election, open_election).result_json)
        names = [db.get(Candidate, c).member.name for c in stored.elected]
    assert "board elections artist directors 2 seats, 3 candidates" in text.lower()
    assert f"quota {stored.quota}, 3 valid ballots" in text
    assert f"Elected: {', '.join(names)} (counted, to be declared)" in text
