"""The ranked ballot in board elections (issue 15 §3): each rule named by a test.

Services are called directly; the pages (``/meetings/<id>/elections/<eid>/ballot``) as
plain and htmx requests. Every refusal says why, answers 4xx, and writes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from portal.db import write_session
from portal.errors import InvalidInput, InvalidState, NotAllowed
from portal.models import (
    AuditEvent,
    CandidateState,
    Election,
    ElectionParticipation,
    ElectionState,
    Meeting,
    Member,
    ProxyAppointment,
    ProxyKind,
    ProxyRanking,
    RankedBallot,
)
from portal.services.elections import ballots, voting
from portal.services.meetings import ballots as resolution_ballots
from portal.services.meetings import proxies

from .factories import count, is_page, is_partial, reading
from .ranked_elections import open_election


def rows(db, model, *where):
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def voters(coop, make_member):
    """Five artists (Ada, Bea and Cy stand) and a listener, Lee: committed, for the pages."""
    made = {
        name: make_member(
            name=f"{name} Artist", email=f"{name.lower()}@example.org", classes=["artist"]
        )
        for name in ("Ada", "Bea", "Cy", "Dee", "Eve")
    }
    made["Lee"] = make_member(name="Lee Listener", email="lee@example.org", classes=["listener"])
    return made


@pytest.fixture
def people(db, voters):
    """Five artists (Ada, Bea and Cy stand) and a listener, Lee, who stands for listeners;
    in the test's session."""
    return voters


@pytest.fixture
def meeting(db, people, make_meeting):
    return db.get(Meeting, make_meeting().id)


def member(db, people, name):
    return people[name].load(db)


@pytest.fixture
def election(db, meeting, people):
    """An open-voting secret election of one artist director: Ada, Bea and Cy stand."""
    return open_election(db, meeting.id, "artist", [people[n].id for n in ("Ada", "Bea", "Cy")])


def candidate_ids(election):
    """The candidates' ids: Ada's, Bea's, Cy's."""
    return [c.id for c in election.candidates]


def cast(db, election, voter, ranking, **kwargs):
    return ballots.cast_ranking(db, election, voter, ranking, actor=voter.user, **kwargs)


def nothing_written(db, election):
    assert rows(db, ElectionParticipation, ElectionParticipation.election_id == election.id) == 0
    assert rows(db, RankedBallot, RankedBallot.election_id == election.id) == 0


# -- casting and changing ---------------------------------------------------------------------


def test_a_member_ranks_candidates_on_a_secret_ballot(db, election, people):
    dee = member(db, people, "Dee")
    ada, bea, _ = candidate_ids(election)
    vote = cast(db, election, dee, [bea, ada])
    assert vote.ranking == (bea, ada) and vote.secret and len(vote.receipt) == 14
    participation = db.scalar(select(ElectionParticipation))
    assert participation.member_id == dee.id
    assert participation.ranking is None and participation.receipt is None
    ballot = db.scalar(select(RankedBallot))
    assert ballot.candidate_ids == [bea, ada] and ballot.receipt == vote.receipt
    assert ballot.voter_tag == ballots.voter_tag(election.id, dee.id)
    assert ballots.ranking_of(db, election, dee) == vote


def test_changing_a_ranking_keeps_the_receipt_and_one_participation(db, election, people):
    dee = member(db, people, "Dee")
    ada, bea, cy = candidate_ids(election)
    first = cast(db, election, dee, [ada, bea, cy])
    second = cast(db, election, dee, [cy, ada])
    assert second.changed and second.receipt == first.receipt
    assert rows(db, ElectionParticipation) == 1 and rows(db, RankedBallot) == 1
    assert db.scalar(select(RankedBallot.ranking)) == f"{cy},{ada}"
    actions = list(
        db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "election"))
    )
    assert actions == ["ranking.cast", "ranking.changed"]


def test_the_same_ranking_again_changes_nothing(db, election, people):
    dee = member(db, people, "Dee")
    ada, *_ = candidate_ids(election)
    cast(db, election, dee, [ada])
    assert not cast(db, election, dee, [ada]).changed
    assert rows(db, AuditEvent, AuditEvent.action == "ranking.changed") == 0


def test_an_open_election_keeps_the_ranking_on_the_participation(db, meeting, people):
    election = open_election(
        db, meeting.id, "artist", [people["Ada"].id, people["Bea"].id], secret=False
    )
    ada, bea = candidate_ids(election)
    dee = member(db, people, "Dee")
    vote = cast(db, election, dee, [bea, ada])
    participation = db.scalar(select(ElectionParticipation))
    assert participation.ranking == f"{bea},{ada}" and participation.receipt == vote.receipt
    assert rows(db, RankedBallot) == 0
    assert ballots.rankings_for_count(db, election) == [[bea, ada]]


def test_the_audit_never_puts_a_secret_ranking_beside_a_name(db, election, people):
    dee = member(db, people, "Dee")
    ada, bea, cy = candidate_ids(election)
    cast(db, election, dee, [cy, bea, ada])
    summary = db.scalar(select(AuditEvent.summary).where(AuditEvent.action == "ranking.cast"))
    assert "secret ballot" in summary
    assert f"{cy}" not in summary.replace(f"no. {dee.number}", "")


def test_the_secret_tag_has_its_own_key(db, election, people):
    dee = member(db, people, "Dee")
    assert ballots.voter_tag(election.id, dee.id) != resolution_ballots.voter_tag(
        election.id, dee.id
    )


# -- refusals: a message, a 4xx, nothing written ----------------------------------------------


def test_a_candidate_ranked_twice_is_refused(db, election, people):
    ada, bea, _ = candidate_ids(election)
    with pytest.raises(InvalidInput, match="Ada Artist is ranked twice") as refused:
        cast(db, election, member(db, people, "Dee"), [ada, bea, ada])
    assert refused.value.status == 422
    nothing_written(db, election)


def test_an_empty_ranking_is_refused(db, election, people):
    with pytest.raises(InvalidInput, match="Rank at least one"):
        cast(db, election, member(db, people, "Dee"), [])
    nothing_written(db, election)


def test_a_candidate_of_another_class_is_refused(db, meeting, election, people):
    listeners = open_election(db, meeting.id, "listener", [people["Lee"].id])
    lee_candidate = listeners.candidates[0].id
    with pytest.raises(InvalidInput, match="Lee Listener stands for the Listener class"):
        cast(db, election, member(db, people, "Dee"), [candidate_ids(election)[0], lee_candidate])
    nothing_written(db, election)


def test_a_candidate_of_another_election_of_the_class_is_refused(
    db, election, people, make_meeting
):
    other_meeting = make_meeting(title="Extraordinary general meeting")
    other = open_election(db, other_meeting.id, "artist", [people["Eve"].id])
    with pytest.raises(InvalidInput, match="Eve Artist stands in another election"):
        cast(db, election, member(db, people, "Dee"), [other.candidates[0].id])
    nothing_written(db, election)


def test_a_withdrawn_candidate_is_refused(db, election, people):
    cy = election.candidates[2]
    cy.state, cy.withdrawn_at = CandidateState.WITHDRAWN, cy.decided_at
    db.flush()
    with pytest.raises(InvalidInput, match="Cy Artist has withdrawn"):
        cast(db, election, member(db, people, "Dee"), [cy.id])
    nothing_written(db, election)


def test_an_unknown_candidate_is_refused(db, election, people):
    with pytest.raises(InvalidInput, match="not on this ballot"):
        cast(db, election, member(db, people, "Dee"), [10**6])
    nothing_written(db, election)


def test_ranking_after_close_is_refused(db, election, people):
    election.voting_closes_at = election.voting_opens_at + timedelta(minutes=30)
    db.flush()
    with pytest.raises(InvalidState, match="has closed; your ranking was not counted") as refused:
        cast(db, election, member(db, people, "Dee"), candidate_ids(election))
    assert refused.value.status == 409
    nothing_written(db, election)


def test_ranking_once_counted_is_refused(db, election, people):
    election.state = ElectionState.COUNTED
    db.flush()
    with pytest.raises(InvalidState, match="has closed"):
        cast(db, election, member(db, people, "Dee"), candidate_ids(election))
    nothing_written(db, election)


def test_ranking_before_voting_opens_is_refused(db, meeting, people):
    election = open_election(
        db, meeting.id, "artist", [people["Ada"].id], state=ElectionState.CANDIDATES_CONFIRMED
    )
    with pytest.raises(InvalidState, match="has not opened yet"):
        cast(db, election, member(db, people, "Dee"), candidate_ids(election))
    nothing_written(db, election)


def test_ranking_before_the_window_opens_is_refused(db, election, people):
    election.voting_opens_at = election.voting_closes_at - timedelta(hours=1)
    db.flush()
    with pytest.raises(InvalidState, match="has not opened yet"):
        cast(db, election, member(db, people, "Dee"), candidate_ids(election))
    nothing_written(db, election)


def test_a_member_not_on_the_roll_is_refused(db, election, make_member):
    late = make_member(name="Late Artist", email="late@example.org", classes=["artist"]).load(db)
    with pytest.raises(NotAllowed, match="not on this meeting's voter roll") as refused:
        cast(db, election, late, candidate_ids(election))
    assert refused.value.status == 403
    nothing_written(db, election)


def test_a_member_of_another_class_is_refused(db, election, people):
    with pytest.raises(NotAllowed, match="Only members whose voting class is the Artist class"):
        cast(db, election, member(db, people, "Lee"), candidate_ids(election))
    nothing_written(db, election)


# -- the form: ranks 1..n without gaps --------------------------------------------------------


def form(**ranks):
    return {f"rank-{candidate_id}": rank for candidate_id, rank in ranks.items()}


def test_the_form_reads_ranks_in_order(db, election):
    ada, bea, cy = candidate_ids(election)
    values = {f"rank-{ada}": "2", f"rank-{bea}": "", f"rank-{cy}": "1", "csrf_token": "x"}
    assert ballots.read_ranks(db, election, values) == [cy, ada]


@pytest.mark.parametrize(
    ("ranks", "message"),
    [
        ((("1", "1", "")), "You gave rank 1 to both Ada Artist and Bea Artist"),
        ((("1", "3", "")), "Rank 2 is missing"),
        ((("2", "", "")), "Rank 1 is missing"),
        ((("", "", "")), "Rank at least one"),
        ((("4", "", "")), "Give Ada Artist a rank from 1 to 3"),
        ((("x", "", "")), "Give Ada Artist a rank from 1 to 3"),
        ((("²", "", "")), "Give Ada Artist a rank from 1 to 3"),
        ((("-1", "", "")), "Give Ada Artist a rank from 1 to 3"),
    ],
)
def test_bad_ranks_are_refused_saying_which(db, election, ranks, message):
    values = {f"rank-{cid}": rank for cid, rank in zip(candidate_ids(election), ranks, strict=True)}
    with pytest.raises(InvalidInput, match=message):
        ballots.read_ranks(db, election, values)


def test_a_rank_for_someone_off_the_ballot_is_refused(db, election):
    with pytest.raises(InvalidInput, match="not on this ballot"):
        ballots.read_ranks(db, election, {"rank-99999": "1"})
    with pytest.raises(InvalidInput, match="not on this ballot"):
        ballots.read_ranks(db, election, {"rank-abc": "1"})


# -- secrecy, the count and sealing -----------------------------------------------------------


def test_a_secret_ranked_ballot_has_no_path_to_the_member(db, election, people):
    dee = member(db, people, "Dee")
    cast(db, election, dee, candidate_ids(election))
    columns = {c.key for c in inspect(RankedBallot).columns}
    assert columns == {"id", "election_id", "ranking", "receipt", "voter_tag", "channel"}
    assert not inspect(RankedBallot).relationships
    ballots.seal_rankings(db, election)
    assert db.scalar(select(RankedBallot.voter_tag)) is None
    assert ballots.ranking_of(db, election, dee) is None
    assert ballots.has_ranked(db, election, dee)
    assert ballots.rankings_for_count(db, election) == [candidate_ids(election)]


def test_rankings_for_count_holds_every_ranking(db, election, people):
    ada, bea, cy = candidate_ids(election)
    cast(db, election, member(db, people, "Dee"), [ada, bea])
    cast(db, election, member(db, people, "Eve"), [cy])
    assert sorted(ballots.rankings_for_count(db, election)) == [[ada, bea], [cy]]


# -- proxies ----------------------------------------------------------------------------------


def appoint(db, meeting, grantor, holder, *, kind="discretionary", accept=True):
    appointment = proxies.appoint_proxy(
        db,
        meeting,
        grantor,
        holder=holder,
        kind=ProxyKind(kind),
        directions={r.id: None for r in meeting.resolutions},
        actor=grantor.user,
    )
    if accept:
        proxies.answer_proxy(db, appointment, holder, accept=True, actor=holder.user)
    return appointment


def test_a_discretionary_holder_ranks_for_the_grantor(db, meeting, election, people):
    dee, eve = member(db, people, "Dee"), member(db, people, "Eve")
    appointment = appoint(db, meeting, dee, eve)
    ada, bea, _ = candidate_ids(election)
    vote = ballots.holder_ranks(db, appointment, election, [bea, ada], holder=eve, actor=eve.user)
    assert vote.by_proxy
    participation = db.scalar(select(ElectionParticipation))
    assert participation.member_id == dee.id and participation.proxy_id == appointment.id
    assert "by proxy" in db.scalar(
        select(AuditEvent.summary).where(AuditEvent.action == "ranking.cast")
    )


def test_only_the_holder_ranks_through_a_proxy(db, meeting, election, people):
    dee, eve, ada = (member(db, people, n) for n in ("Dee", "Eve", "Ada"))
    appointment = appoint(db, meeting, dee, eve)
    with pytest.raises(NotAllowed, match="held by someone else"):
        ballots.holder_ranks(
            db, appointment, election, candidate_ids(election), holder=ada, actor=ada.user
        )
    nothing_written(db, election)


def test_a_proxy_not_yet_accepted_does_not_rank(db, meeting, election, people):
    dee, eve = member(db, people, "Dee"), member(db, people, "Eve")
    appointment = appoint(db, meeting, dee, eve, accept=False)
    with pytest.raises(InvalidState, match="only an accepted proxy ranks"):
        ballots.holder_ranks(
            db, appointment, election, candidate_ids(election), holder=eve, actor=eve.user
        )
    nothing_written(db, election)


def test_a_grantor_ranking_themselves_revokes_their_proxy_for_the_election(
    db, meeting, election, people
):
    dee, eve = member(db, people, "Dee"), member(db, people, "Eve")
    appointment = appoint(db, meeting, dee, eve)
    ada, bea, cy = candidate_ids(election)
    ballots.holder_ranks(db, appointment, election, [ada], holder=eve, actor=eve.user)
    own = cast(db, election, dee, [cy, bea])
    assert not own.by_proxy
    participation = db.scalar(select(ElectionParticipation))
    assert participation.proxy_id is None  # the member's own ranking replaced the proxy's
    assert ballots.rankings_for_count(db, election) == [[cy, bea]]
    revoked = db.scalar(select(ProxyRanking))
    assert revoked.appointment_id == appointment.id and revoked.revoked_at is not None
    assert rows(db, AuditEvent, AuditEvent.action == "proxy.revoked_for_election") == 1
    with pytest.raises(InvalidState, match="themselves, so their proxy no longer applies"):
        ballots.holder_ranks(db, appointment, election, [ada], holder=eve, actor=eve.user)
    assert ballots.rankings_for_count(db, election) == [[cy, bea]]


def test_directed_rankings_are_cast_at_close(db, meeting, election, people):
    dee, eve, ada_m = (member(db, people, n) for n in ("Dee", "Eve", "Ada"))
    ada, bea, cy = candidate_ids(election)
    directed = appoint(db, meeting, dee, eve, kind="directed")
    db.add(ProxyRanking(appointment_id=directed.id, election_id=election.id, ranking=f"{cy},{ada}"))
    revoked = appoint(db, meeting, ada_m, eve, kind="directed")
    db.add(ProxyRanking(appointment_id=revoked.id, election_id=election.id, ranking=f"{bea}"))
    db.flush()
    cast(db, election, ada_m, [ada])  # Ada ranks herself: her directed proxy is revoked
    with pytest.raises(InvalidState, match="cast as they directed when voting closes"):
        ballots.holder_ranks(db, directed, election, [bea], holder=eve, actor=eve.user)
    assert ballots.cast_directed_rankings(db, election) == 1
    participation = db.scalar(
        select(ElectionParticipation).where(ElectionParticipation.member_id == dee.id)
    )
    assert participation.proxy_id == directed.id
    assert sorted(ballots.rankings_for_count(db, election)) == [[ada], [cy, ada]]
    assert ballots.cast_directed_rankings(db, election) == 0  # once only
    assert rows(db, AuditEvent, AuditEvent.action == "proxy.rankings_cast_at_close") == 1


def test_closing_the_election_counts_a_directed_proxys_ranking(db, meeting, election, people):
    dee, eve, ada_m = (member(db, people, n) for n in ("Dee", "Eve", "Ada"))
    ada, bea, cy = candidate_ids(election)
    directed = appoint(db, meeting, dee, eve, kind="directed")
    db.add(ProxyRanking(appointment_id=directed.id, election_id=election.id, ranking=f"{cy},{bea}"))
    db.flush()
    cast(db, election, eve, [cy])
    cast(db, election, ada_m, [ada])
    # Without Dee's directed ranking Ada and Cy tie on one vote each; with it Cy is elected.
    count = voting.close_election(db, election, actor=None)
    assert count.ballots == 3 and list(count.elected) == [cy]
    assert election.state is ElectionState.COUNTED
    assert rows(db, AuditEvent, AuditEvent.action == "proxy.rankings_cast_at_close") == 1


def test_a_directed_proxy_without_a_ranking_for_the_election_does_not_rank(
    db, meeting, election, people
):
    dee, eve = member(db, people, "Dee"), member(db, people, "Eve")
    appointment = appoint(db, meeting, dee, eve, kind="directed")
    with pytest.raises(NotAllowed, match="does not rank"):
        ballots.holder_ranks(
            db, appointment, election, candidate_ids(election), holder=eve, actor=eve.user
        )
    nothing_written(db, election)


# -- the pages --------------------------------------------------------------------------------


@pytest.fixture
def site(app, voters, make_meeting):
    """A meeting whose artist election's voting is open: its URL and candidates' ids."""
    meeting = make_meeting()
    with app.test_request_context("/"), write_session(app) as db:
        election = open_election(
            db, meeting.id, "artist", [voters[n].id for n in ("Ada", "Bea", "Cy")]
        )
        ids = [c.id for c in election.candidates]
        url = f"/meetings/{meeting.id}/elections/{election.id}/ballot"
        return {"url": url, "ids": ids, "election_id": election.id, "meeting_id": meeting.id}


def ranks(ids, *values):
    return {f"rank-{cid}": value for cid, value in zip(ids, values, strict=True)}


def participations(app):
    return count(app, ElectionParticipation) + count(app, RankedBallot)


def test_the_ballot_page_lists_the_candidates_with_rank_selects(site, sign_in):
    dee = sign_in("dee@example.org")
    page = dee.get(site["url"])
    assert page.status_code == 200 and is_page(page)
    text = page.get_data(as_text=True)
    assert "Rank 1, 2, 3… as many as you wish; leave the rest unranked" in text
    for cid in site["ids"]:
        assert f'name="rank-{cid}"' in text
    assert '<details class="ranked-statement">' in text
    partial = dee.get(site["url"], headers={"HX-Request": "true"})
    assert is_partial(partial) and 'id="ballot-own"' in partial.get_data(as_text=True)


def test_a_plain_ranking_is_recorded_with_a_303_and_shows_the_receipt(app, site, sign_in):
    dee = sign_in("dee@example.org")
    ada, bea, _ = site["ids"]
    response = dee.post(site["url"], data=ranks(site["ids"], "2", "1", ""))
    assert response.status_code == 303 and response.location.endswith("#ballot-own")
    page = dee.get(site["url"]).get_data(as_text=True)
    assert "Your ranking is recorded. Your receipt is" in page
    assert "Change my ranking" in page
    assert count(app, RankedBallot, RankedBallot.ranking == f"{bea},{ada}") == 1


def test_an_htmx_ranking_answers_the_partial_and_a_change_keeps_the_receipt(app, site, sign_in):
    dee = sign_in("dee@example.org")
    hx = {"HX-Request": "true"}
    first = dee.post(site["url"], data=ranks(site["ids"], "1", "2", "3"), headers=hx)
    assert first.status_code == 200 and is_partial(first)
    with reading(app) as db:
        receipt = db.scalar(select(RankedBallot.receipt))
    assert receipt in first.get_data(as_text=True)
    second = dee.post(site["url"], data=ranks(site["ids"], "", "1", ""), headers=hx)
    assert receipt in second.get_data(as_text=True)
    assert count(app, ElectionParticipation) == 1 and count(app, RankedBallot) == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (("1", "1", ""), "You gave rank 1 to both Ada Artist and Bea Artist"),
        (("1", "3", ""), "Rank 2 is missing"),
        (("", "", ""), "Rank at least one"),
        (("9", "", ""), "a rank from 1 to 3"),
    ],
)
@pytest.mark.parametrize("htmx_request", [False, True])
def test_bad_ranks_answer_422_keeping_the_choices(
    app, site, sign_in, values, message, htmx_request
):
    dee = sign_in("dee@example.org")
    headers = {"HX-Request": "true"} if htmx_request else {}
    response = dee.post(site["url"], data=ranks(site["ids"], *values), headers=headers)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text
    assert is_partial(response) if htmx_request else is_page(response)
    if values[1]:
        assert f'<option value="{values[1]}" selected>' in text  # the choice is kept
    assert participations(app) == 0


def test_a_member_of_another_class_is_refused_with_403(app, site, sign_in):
    lee = sign_in("lee@example.org")
    response = lee.post(site["url"], data=ranks(site["ids"], "1", "", ""))
    assert response.status_code == 403
    assert "Only members whose voting class is the Artist class" in response.get_data(as_text=True)
    assert participations(app) == 0
    assert "Only members whose voting class" in lee.get(site["url"]).get_data(as_text=True)


def test_ranking_after_close_is_refused_with_409(app, site, sign_in):
    with app.test_request_context("/"), write_session(app) as db:
        election = db.get(Election, site["election_id"])
        election.voting_closes_at = election.voting_opens_at + timedelta(minutes=1)
    dee = sign_in("dee@example.org")
    response = dee.post(site["url"], data=ranks(site["ids"], "1", "", ""))
    assert response.status_code == 409
    assert "has closed; your ranking was not counted" in response.get_data(as_text=True)
    assert participations(app) == 0


def test_a_ranking_without_the_csrf_token_is_refused(app, site, sign_in):
    dee = sign_in("dee@example.org")
    response = dee.post(site["url"], data=ranks(site["ids"], "1", "", ""), csrf=False)
    assert response.status_code == 400
    assert participations(app) == 0


def test_an_election_not_yet_confirmed_has_no_ballot(app, voters, make_meeting, sign_in):
    meeting = make_meeting()
    with app.test_request_context("/"), write_session(app) as db:
        election = open_election(
            db, meeting.id, "artist", [voters["Ada"].id], state=ElectionState.NOMINATIONS_OPEN
        )
        url = f"/meetings/{meeting.id}/elections/{election.id}/ballot"
    assert sign_in("dee@example.org").get(url).status_code == 404


def test_a_holder_ranks_for_their_grantor_on_the_page(app, site, voters, sign_in):
    with app.test_request_context("/"), write_session(app) as db:
        dee, eve = voters["Dee"].load(db), voters["Eve"].load(db)
        appointment = appoint(db, db.get(Meeting, site["meeting_id"]), dee, eve)
        appointment_id = appointment.id
    eve_client = sign_in("eve@example.org")
    page = eve_client.get(site["url"]).get_data(as_text=True)
    assert "Rankings you hold" in page and "For Dee Artist" in page
    url = f"{site['url']}/proxy/{appointment_id}"
    response = eve_client.post(
        url, data=ranks(site["ids"], "", "", "1"), headers={"HX-Request": "true"}
    )
    assert (
        response.status_code == 200
        and "The ranking for Dee Artist is recorded" in response.get_data(as_text=True)
    )
    with reading(app) as db:
        participation = db.scalar(select(ElectionParticipation))
        assert (
            participation.member_id == voters["Dee"].id and participation.proxy_id == appointment_id
        )
    # Someone who does not hold it finds nothing there.
    assert (
        sign_in("ada@example.org").post(url, data=ranks(site["ids"], "1", "", "")).status_code
        == 404
    )


def test_the_meeting_page_shows_the_open_ballot_and_the_dashboard_awaits_a_ranking(
    app, site, sign_in
):
    dee = sign_in("dee@example.org")
    meeting_page = dee.get(f"/meetings/{site['meeting_id']}").get_data(as_text=True)
    assert "Board elections" in meeting_page and 'id="ballot-own"' in meeting_page
    assert "Board elections — 1 ballot awaits your ranking." in dee.get("/me").get_data(
        as_text=True
    )
    dee.post(site["url"], data=ranks(site["ids"], "1", "", ""))
    assert "awaits your ranking" not in dee.get("/me").get_data(as_text=True)
    lee = sign_in("lee@example.org")  # a listener: no artist ballot awaits them
    assert "awaits your ranking" not in lee.get("/me").get_data(as_text=True)


def test_the_meeting_page_puts_the_members_own_ballot_before_other_classes_elections(
    app, site, voters, sign_in
):
    with app.test_request_context("/"), write_session(app) as db:
        listeners = open_election(db, site["meeting_id"], "listener", [voters["Lee"].id])
        listener_title = f'id="election-{listeners.id}-title"'
    artist_title = f'id="election-{site["election_id"]}-title"'
    url = f"/meetings/{site['meeting_id']}"
    for email, other_title in (
        ("dee@example.org", listener_title),
        ("lee@example.org", artist_title),
    ):
        page = sign_in(email).get(url).get_data(as_text=True)
        assert page.index('id="ballot-own"') < page.index(other_title), email
        other_card = page[page.index(other_title) :]
        assert ">The candidates</a>" in other_card and ">The ballot</a>" not in other_card


def test_a_directed_proxy_carries_a_ranking_from_the_proxy_page(app, site, sign_in):
    dee = sign_in("dee@example.org")
    url = f"/meetings/{site['meeting_id']}/proxy"
    page = dee.get(url).get_data(as_text=True)
    prefix = f"election-{site['election_id']}-rank-"
    assert f'name="{prefix}{site["ids"][0]}"' in page
    ada, _, cy = site["ids"]
    with reading(app) as db:
        eve = db.scalar(select(Member.number).where(Member.name == "Eve Artist"))
        resolution = db.get(Meeting, site["meeting_id"]).resolutions[0]
    form = {
        "holder": str(eve),
        "kind": "directed",
        f"direction-{resolution.id}": "holder",
        f"{prefix}{cy}": "1",
        f"{prefix}{ada}": "2",
    }
    assert dee.post(url, data=form).status_code == 303
    with reading(app) as db:
        row = db.scalar(select(ProxyRanking))
        assert row.ranking == f"{cy},{ada}" and row.revoked_at is None
    assert "ranked as you directed" in dee.get(url).get_data(as_text=True)


def test_a_gap_in_a_proxy_ranking_is_refused_and_no_proxy_appointed(app, site, sign_in):
    dee = sign_in("dee@example.org")
    url = f"/meetings/{site['meeting_id']}/proxy"
    with reading(app) as db:
        eve = db.scalar(select(Member.number).where(Member.name == "Eve Artist"))
        resolution = db.get(Meeting, site["meeting_id"]).resolutions[0]
    prefix = f"election-{site['election_id']}-rank-"
    form = {
        "holder": str(eve),
        "kind": "directed",
        f"direction-{resolution.id}": "holder",
        f"{prefix}{site['ids'][0]}": "2",
    }
    response = dee.post(url, data=form)
    assert response.status_code == 422 and "Rank 1 is missing" in response.get_data(as_text=True)
    assert count(app, ProxyAppointment) == 0 and count(app, ProxyRanking) == 0


def test_a_discretionary_proxy_stores_no_rankings(app, site, sign_in):
    dee = sign_in("dee@example.org")
    with reading(app) as db:
        eve = db.scalar(select(Member.number).where(Member.name == "Eve Artist"))
    url = f"/meetings/{site['meeting_id']}/proxy"
    assert dee.post(url, data={"holder": str(eve), "kind": "discretionary"}).status_code == 303
    assert count(app, ProxyAppointment) == 1 and count(app, ProxyRanking) == 0


def test_a_plain_ranking_from_the_meeting_page_returns_there(app, site, sign_in):
    dee = sign_in("dee@example.org")
    meeting_url = f"/meetings/{site['meeting_id']}"
    assert f'name="next" value="{meeting_url}"' in dee.get(meeting_url).get_data(as_text=True)
    data = {**ranks(site["ids"], "1", "", ""), "next": meeting_url}
    response = dee.post(site["url"], data=data)
    assert response.status_code == 303 and response.location == f"{meeting_url}#ballot-own"
    elsewhere = dee.post(site["url"], data={**data, "next": "//evil.example/"})
    assert elsewhere.location == f"{site['url']}#ballot-own"  # never off the site


def test_a_meeting_with_only_an_election_offers_a_proxy_its_ranking(
    app, voters, make_meeting, sign_in
):
    meeting = make_meeting(state="noticed", resolutions=())
    with app.test_request_context("/"), write_session(app) as db:
        election = open_election(
            db, meeting.id, "artist", [voters["Ada"].id], state=ElectionState.CANDIDATES_CONFIRMED
        )
        field = f"election-{election.id}-rank-{election.candidates[0].id}"
    page = sign_in("dee@example.org").get(f"/meetings/{meeting.id}/proxy").get_data(as_text=True)
    assert "Appoint a proxy" in page and f'name="{field}"' in page
    assert "How a directed proxy votes" not in page  # no resolution to direct
