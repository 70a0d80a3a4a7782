"""A vote past its closing time closes on the next request that finds it due, not only by
``flask close-due-votes``: the ballot page, turnout, results and the staff meeting page
close and count it first, in a write transaction of their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event

from portal.db import database
from portal.models import Meeting, MeetingState, Resolution, ResolutionResult, ResolutionState

from .factories import HTMX, reading

TWO = ({"title": "Approve the minutes"}, {"title": "Elect the chair", "secret": True})


@pytest.fixture
def ann(make_member):
    return make_member(email="ann@example.org", name="Ann Listener", classes=["listener"])


@pytest.fixture
def voted(ann, make_member, make_meeting, factories):
    """A meeting open for voting on which three of four members voted."""
    bob = make_member(email="bob@example.org", classes=["artist"])
    cat = make_member(email="cat@example.org", classes=["listener"])
    make_member(email="dan@example.org", classes=["worker"])
    meeting = make_meeting(resolutions=TWO)
    factories.vote(meeting, ann, "for", "for")
    factories.vote(meeting, bob, "for", "against")
    factories.vote(meeting, cat, "against", "for")
    return meeting


def after_closing(app, meeting):
    """Time just past the meeting's latest closing time."""
    with reading(app) as db:
        closes = max(db.get(Resolution, rid).closes_at for rid in meeting.resolution_ids)
    return time_machine.travel(closes + timedelta(minutes=1), tick=False)


def closed(app, meeting):
    with reading(app) as db:
        found = db.get(Meeting, meeting.id)
        return found.state, [(r.state, r.result, r.votes_for) for r in found.resolutions]


COUNTED = (
    MeetingState.VOTING_CLOSED,
    [
        (ResolutionState.CLOSED, ResolutionResult.PASSED, 2),
        (ResolutionState.CLOSED, ResolutionResult.PASSED, 2),
    ],
)


def test_the_results_page_closes_and_counts_a_vote_past_its_closing_time(app, ann, voted, sign_in):
    with after_closing(app, voted):
        client = sign_in(ann.email)
        assert closed(app, voted)[0] is MeetingState.VOTING_OPEN  # nothing closed it yet
        body = client.get(f"/meetings/{voted.id}/results").get_data(as_text=True)
    assert closed(app, voted) == COUNTED
    assert "Voting is still open" not in body
    assert "1. Approve the minutes" in body and "Passed" in body
    assert body.count('class="card result"') == 2


def test_turnout_polled_past_closing_time_answers_286_with_the_final_turnout(
    app, ann, voted, sign_in
):
    with after_closing(app, voted):
        client = sign_in(ann.email)
        response = client.get(f"/meetings/{voted.id}/turnout", headers=HTMX)
    assert response.status_code == 286
    assert "Final turnout" in response.get_data(as_text=True)
    assert closed(app, voted) == COUNTED


@pytest.mark.parametrize("page", ["/meetings/{id}", "/staff/meetings/{id}"])
def test_the_ballot_and_staff_pages_close_a_vote_past_its_closing_time(
    app, ann, voted, sign_in, make_user, page
):
    make_user(email="staff@example.org", role="staff")
    with after_closing(app, voted):
        client = sign_in("staff@example.org" if "staff" in page else ann.email)
        response = client.get(page.format(id=voted.id))
    assert response.status_code == 200
    assert closed(app, voted) == COUNTED


def test_a_page_with_nothing_due_opens_no_write_transaction(app, ann, voted, sign_in):
    client = sign_in(ann.email)
    writes = []
    engine = database(app).engine

    def began(conn):  # a write session's connection carries this option, on any database
        if conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE":
            writes.append(conn)

    event.listen(engine, "begin", began)
    try:
        for path in (f"/meetings/{voted.id}", f"/meetings/{voted.id}/results"):
            assert client.get(path).status_code == 200
        assert client.get(f"/meetings/{voted.id}/turnout", headers=HTMX).status_code == 200
    finally:
        event.remove(engine, "begin", began)
    assert closed(app, voted)[0] is MeetingState.VOTING_OPEN
    assert writes == []


def test_close_due_votes_leaves_what_a_request_closed(app, runner, ann, voted, sign_in):
    with after_closing(app, voted):
        client = sign_in(ann.email)
        client.get(f"/meetings/{voted.id}/results")
        result = runner.invoke(args=["close-due-votes"])
    assert result.exit_code == 0 and "0 resolutions closed" in result.output
    assert runner.invoke(args=["check-votes"]).exit_code == 0
