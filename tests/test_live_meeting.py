"""The meeting in session: the chair starts it, moves through the agenda, puts a
resolution to the vote for a few minutes and closes it; members following the meeting's
page see the item and the vote (services.meetings.session, views on both sides)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from portal.db import write_session
from portal.errors import InvalidInput, InvalidState
from portal.models import (
    AuditEvent,
    Meeting,
    MeetingState,
    Participation,
    Resolution,
    ResolutionResult,
    ResolutionState,
    SessionState,
)
from portal.services.meetings import closing, session

from .factories import HTMX, count, is_page, is_partial, reading, sql_statements

TWO = ({"title": "Approve the minutes"}, {"title": "Elect the chair", "secret": True})


@pytest.fixture
def ann(make_member):
    return make_member(email="ann@example.org", name="Ann Listener", classes=["listener"])


@pytest.fixture
def noticed(ann, make_member, make_meeting):
    """A meeting noticed for tomorrow, its two resolutions not yet put to the vote."""
    make_member(email="bob@example.org", classes=["artist"])
    return make_meeting(resolutions=TWO, state="noticed", days=1)


@pytest.fixture
def on_the_day(app, noticed):
    """The clock runs from the meeting's start for the whole test (running: a vote closed
    at the very instant it opened would have no window)."""
    with reading(app) as db:
        starts = db.get(Meeting, noticed.id).starts_at
    traveller = time_machine.travel(starts + timedelta(minutes=1))
    traveller.start()
    yield starts
    traveller.stop()


@pytest.fixture
def staff(on_the_day, make_user, sign_in):
    """Sam Staff, signed in on the meeting's day (a session signed in the day before would
    have lapsed)."""
    make_user(email="staff@example.org", role="staff", name="Sam Staff")
    return sign_in("staff@example.org")


@pytest.fixture
def ann_client(on_the_day, ann, sign_in):
    return sign_in(ann.email)


@pytest.fixture
def early_staff(make_user, sign_in):
    """Sam Staff, signed in now (the day before the meeting)."""
    make_user(email="staff@example.org", role="staff", name="Sam Staff")
    return sign_in("staff@example.org")


def signed_in(make_user, sign_in):
    make_user(email="staff@example.org", role="staff", name="Sam Staff")
    return sign_in("staff@example.org")


def live_url(meeting, action=""):
    return f"/staff/meetings/{meeting.id}/live{action}"


def state_of(app, meeting):
    with reading(app) as db:
        found = db.get(Meeting, meeting.id)
        return found.session_state, found.state, found.current_item_id


def resolution(app, rid):
    with reading(app) as db:
        return db.get(Resolution, rid)


def start(staff, meeting):
    return staff.post(live_url(meeting, "/start"))


def open_vote(staff, meeting, index=0, minutes="5", headers=None):
    rid = meeting.resolution_ids[index]
    return staff.post(
        live_url(meeting, f"/resolutions/{rid}/open"), data={"minutes": minutes}, headers=headers
    )


# -- the rules -------------------------------------------------------------------------


def test_the_session_cannot_start_before_the_meetings_day(app, early_staff, noticed):
    response = start(early_staff, noticed)
    assert response.status_code == 409
    assert "can start from that day" in response.get_data(as_text=True)
    assert state_of(app, noticed)[0] is SessionState.PENDING


def test_the_session_cannot_start_before_notice(app, make_meeting, ann, make_user, sign_in):
    draft = make_meeting(state="draft", days=1)
    with reading(app) as db:
        starts = db.get(Meeting, draft.id).starts_at
    with time_machine.travel(starts):
        response = start(signed_in(make_user, sign_in), draft)
    assert response.status_code == 409
    assert "draft" in response.get_data(as_text=True).lower()


def test_starting_puts_the_meeting_in_session_on_its_first_item(app, staff, noticed, on_the_day):
    response = start(staff, noticed)
    assert response.status_code == 303
    sitting, voting, item = state_of(app, noticed)
    assert sitting is SessionState.IN_SESSION and voting is MeetingState.NOTICED
    with reading(app) as db:
        meeting = db.get(Meeting, noticed.id)
        assert item == meeting.agenda[0].id
        assert meeting.in_session_at is not None
    assert count(app, AuditEvent, AuditEvent.action == "meeting.session_started") == 1
    assert start(staff, noticed).status_code == 409  # once


def test_next_item_and_picking_an_item(app, make_meeting, ann, make_user, sign_in):
    meeting = make_meeting(kind="agm", state="noticed", days=1)  # the standard agenda
    with reading(app) as db:
        found = db.get(Meeting, meeting.id)
        starts, agenda = found.starts_at, [i.id for i in found.agenda]
    with time_machine.travel(starts):
        staff = signed_in(make_user, sign_in)
        start(staff, meeting)
        assert staff.post(live_url(meeting, "/item"), data={"item": agenda[1]}).status_code == 303
        assert state_of(app, meeting)[2] == agenda[1]
        page = staff.get(live_url(meeting)).get_data(as_text=True)
        assert "Next item: " in page and 'aria-current="step"' in page
        response = staff.post(live_url(meeting, "/item"), data={"item": "999999"})
        assert response.status_code == 422
        assert "Choose an item of this meeting" in response.get_data(as_text=True)
        assert state_of(app, meeting)[2] == agenda[1]


def test_opening_a_vote_in_session_fixes_its_rules_and_a_window_of_minutes(
    app, staff, noticed, on_the_day
):
    start(staff, noticed)
    response = open_vote(staff, noticed, minutes="7")
    assert response.status_code == 303
    opened = resolution(app, noticed.resolution_ids[0])
    assert opened.state is ResolutionState.OPEN
    assert opened.rules is not None
    assert opened.closes_at - opened.opens_at == timedelta(minutes=7)
    assert opened.agenda_item_id == state_of(app, noticed)[2]
    # The meeting's voting opened with it; the other resolution waits for the chair.
    assert state_of(app, noticed)[1] is MeetingState.VOTING_OPEN
    assert resolution(app, noticed.resolution_ids[1]).state is ResolutionState.DRAFT
    assert count(app, AuditEvent, AuditEvent.action == "meeting.vote_in_session") == 1


@pytest.mark.parametrize("minutes", ["0", "121", "", "five", "²", "-3", "9" * 30])
def test_minutes_outside_1_to_120_are_refused_and_nothing_opens(
    app, staff, noticed, on_the_day, minutes
):
    start(staff, noticed)
    response = open_vote(staff, noticed, minutes=minutes)
    assert response.status_code == 422
    assert "Minutes must be" in response.get_data(as_text=True)
    assert resolution(app, noticed.resolution_ids[0]).state is ResolutionState.DRAFT
    assert state_of(app, noticed)[1] is MeetingState.NOTICED


def test_no_vote_is_opened_outside_the_session(app, staff, noticed, on_the_day):
    assert open_vote(staff, noticed).status_code == 409
    assert resolution(app, noticed.resolution_ids[0]).state is ResolutionState.DRAFT


def test_a_resolution_already_open_is_not_opened_again(app, staff, noticed, on_the_day):
    start(staff, noticed)
    open_vote(staff, noticed)
    response = open_vote(staff, noticed, minutes="9")
    assert response.status_code == 409
    assert "voting open" in response.get_data(as_text=True).lower()


def test_open_in_session_then_a_member_votes_and_close_now_stores_the_tally(
    app, staff, noticed, on_the_day, ann_client
):
    start(staff, noticed)
    open_vote(staff, noticed)
    rid = noticed.resolution_ids[0]
    vote = ann_client.post(f"/meetings/{noticed.id}/resolutions/{rid}/vote", data={"choice": "for"})
    assert vote.status_code == 303
    response = staff.post(live_url(noticed, f"/resolutions/{rid}/close"))
    assert response.status_code == 303
    closed = resolution(app, rid)
    assert closed.state is ResolutionState.CLOSED
    # One vote of two on the roll, against a quorum of three members: counted, not quorate.
    assert closed.result is ResolutionResult.NOT_QUORATE
    assert closed.votes_for == 1
    assert sum(c["for"] for c in closed.tally["classes"]) == 1
    # The meeting still sits: its voting stays open for the next resolution.
    assert state_of(app, noticed)[1] is MeetingState.VOTING_OPEN
    assert open_vote(staff, noticed, index=1).status_code == 303


def test_a_vote_past_its_minutes_closes_but_the_meeting_sitting_keeps_voting_open(
    app, staff, noticed, on_the_day
):
    start(staff, noticed)
    open_vote(staff, noticed, minutes="2")
    later = time_machine.travel(on_the_day + timedelta(minutes=5), tick=False)
    with later, write_session(app) as db:
        closing.close_if_due(db, db.get(Meeting, noticed.id))
    assert resolution(app, noticed.resolution_ids[0]).state is ResolutionState.CLOSED
    assert state_of(app, noticed)[1] is MeetingState.VOTING_OPEN


def test_ending_the_session_closes_the_meetings_voting_when_nothing_is_open(
    app, staff, noticed, on_the_day
):
    start(staff, noticed)
    open_vote(staff, noticed)
    rid = noticed.resolution_ids[0]
    staff.post(live_url(noticed, f"/resolutions/{rid}/close"))
    assert staff.post(live_url(noticed, "/end")).status_code == 303
    sitting, voting, item = state_of(app, noticed)
    assert sitting is SessionState.ENDED and voting is MeetingState.VOTING_CLOSED
    assert item is None
    assert staff.post(live_url(noticed, "/end")).status_code == 409
    assert open_vote(staff, noticed, index=1).status_code == 409


def test_ending_with_a_vote_still_open_leaves_it_to_close_at_its_time(
    app, staff, noticed, on_the_day
):
    start(staff, noticed)
    open_vote(staff, noticed)
    staff.post(live_url(noticed, "/end"))
    assert state_of(app, noticed)[1] is MeetingState.VOTING_OPEN
    assert resolution(app, noticed.resolution_ids[0]).state is ResolutionState.OPEN


def test_the_services_refuse_another_meetings_resolution(app, noticed, make_meeting, on_the_day):
    other = make_meeting(state="noticed", days=1)
    with write_session(app) as db:
        meeting = db.get(Meeting, noticed.id)
        actor = db.get(Meeting, noticed.id).created_by
        session.start_session(db, meeting, actor=actor)
        with pytest.raises(InvalidInput):
            session.open_vote(
                db, meeting, db.get(Resolution, other.resolution_ids[0]), "5", actor=actor
            )
        with pytest.raises(InvalidState):
            session.close_vote(
                db, meeting, db.get(Resolution, noticed.resolution_ids[0]), actor=actor
            )


# -- the views: who, CSRF, htmx --------------------------------------------------------


def test_the_chairs_page_is_for_staff_only(app, noticed, ann_client, on_the_day):
    assert ann_client.get(live_url(noticed)).status_code == 403
    assert ann_client.post(live_url(noticed, "/start")).status_code == 403
    assert state_of(app, noticed)[0] is SessionState.PENDING


def test_the_chairs_actions_need_the_csrf_token(app, staff, noticed, on_the_day):
    response = staff.post(live_url(noticed, "/start"), csrf=False)
    assert response.status_code == 400
    assert state_of(app, noticed)[0] is SessionState.PENDING


def test_the_chairs_page_and_its_htmx_panel(app, staff, noticed, on_the_day):
    page = staff.get(live_url(noticed))
    assert is_page(page) and "Start the session" in page.get_data(as_text=True)
    response = staff.post(live_url(noticed, "/start"), headers=HTMX)
    assert response.status_code == 200 and is_partial(response)
    body = response.get_data(as_text=True)
    assert 'id="live-panel"' in body and "The meeting is in session." in body
    assert "Open the vote for" in body
    refused = open_vote(staff, noticed, minutes="500", headers=HTMX)
    assert refused.status_code == 422 and is_partial(refused)
    assert "Minutes must be between 1 and 120." in refused.get_data(as_text=True)
    opened = open_vote(staff, noticed, headers=HTMX)
    assert opened.status_code == 200 and "Close now" in opened.get_data(as_text=True)


def test_the_staff_meeting_page_links_the_chairs_page(early_staff, noticed):
    body = early_staff.get(f"/staff/meetings/{noticed.id}").get_data(as_text=True)
    assert f'href="/staff/meetings/{noticed.id}/live"' in body


# -- members following the meeting -------------------------------------------------------


def test_before_the_day_the_member_page_has_no_live_part(ann, sign_in, noticed):
    page = sign_in(ann.email).get(f"/meetings/{noticed.id}")
    assert 'id="live"' not in page.get_data(as_text=True)


def test_on_the_day_the_member_page_waits_for_the_session_and_polls(
    ann_client, noticed, on_the_day
):
    body = ann_client.get(f"/meetings/{noticed.id}").get_data(as_text=True)
    assert "The meeting has not started yet" in body
    assert 'data-hx-trigger="every 5s"' in body


def test_in_session_the_member_page_shows_the_item_and_the_open_vote(
    app, staff, noticed, on_the_day, ann_client
):
    start(staff, noticed)
    open_vote(staff, noticed)
    body = ann_client.get(f"/meetings/{noticed.id}").get_data(as_text=True)
    assert "In session — now: Apologies for absence" in body
    rid = noticed.resolution_ids[0]
    # Its ballot is shown once, in the session's part of the page.
    assert body.count(f'id="resolution-{rid}"') == 1
    live = body.index('id="live"')
    assert live < body.index(f'id="resolution-{rid}"') < body.index('id="agenda-heading"')


def test_the_poll_answers_the_header_and_asks_for_the_ballots_only_when_they_changed(
    app, staff, noticed, on_the_day, ann_client
):
    start(staff, noticed)
    url = f"/meetings/{noticed.id}/live"
    first = ann_client.get(url, headers=HTMX)
    assert first.status_code == 200 and is_partial(first)
    assert "HX-Trigger" in first.headers  # nothing seen yet
    body = first.get_data(as_text=True)
    seen = body.split("seen=")[1].split('"')[0]
    same = ann_client.get(f"{url}?seen={seen}", headers=HTMX)
    assert "HX-Trigger" not in same.headers
    assert "resolution-" not in same.get_data(as_text=True)  # never the ballots themselves
    open_vote(staff, noticed)
    changed = ann_client.get(f"{url}?seen={seen}", headers=HTMX)
    assert changed.headers["HX-Trigger"] == "live-ballots"
    ballots = ann_client.get(f"{url}/ballots", headers=HTMX)
    assert is_partial(ballots)
    assert 'name="choice" value="for"' in ballots.get_data(as_text=True)


def test_the_poll_stops_once_the_session_has_ended(app, staff, noticed, on_the_day, ann_client):
    start(staff, noticed)
    staff.post(live_url(noticed, "/end"))
    response = ann_client.get(f"/meetings/{noticed.id}/live", headers=HTMX)
    assert response.status_code == 286
    assert "every 5s" not in response.get_data(as_text=True)


def test_without_htmx_the_live_urls_lead_to_the_meeting_page(
    staff, noticed, on_the_day, ann_client
):
    for url in (f"/meetings/{noticed.id}/live", f"/meetings/{noticed.id}/live/ballots"):
        response = ann_client.get(url)
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/meetings/{noticed.id}#live")


def test_a_member_votes_in_session_through_htmx(app, staff, noticed, on_the_day, ann_client):
    start(staff, noticed)
    open_vote(staff, noticed)
    rid = noticed.resolution_ids[0]
    response = ann_client.post(
        f"/meetings/{noticed.id}/resolutions/{rid}/vote", data={"choice": "against"}, headers=HTMX
    )
    assert response.status_code == 200 and "Receipt" in response.get_data(as_text=True)
    assert count(app, Participation, Participation.resolution_id == rid) == 1


def test_the_polled_partials_run_the_same_statements_whatever_the_rolls_size(
    app, make_member, make_meeting, make_user, ann, sign_in
):
    def statements(voters):
        for i in range(voters):
            make_member(email=f"m{voters}-{i}@example.org", classes=["listener"])
        meeting = make_meeting(resolutions=TWO, state="noticed", days=1)
        with reading(app) as db:
            starts = db.get(Meeting, meeting.id).starts_at
        with time_machine.travel(starts):
            staff = signed_in(make_user, sign_in) if voters == 2 else sign_in("staff@example.org")
            client = sign_in(ann.email)
            start(staff, meeting)
            open_vote(staff, meeting)
            open_vote(staff, meeting, index=1)
            client.get(f"/meetings/{meeting.id}/live", headers=HTMX)  # warm
            with sql_statements(app) as poll:
                client.get(f"/meetings/{meeting.id}/live", headers=HTMX)
            with sql_statements(app) as ballots:
                client.get(f"/meetings/{meeting.id}/live/ballots", headers=HTMX)
        return len(poll), len(ballots)

    small, large = statements(2), statements(40)
    assert small == large
    assert small[0] <= 12


def test_the_poll_stops_when_the_meeting_closes_without_sitting(
    app, staff, noticed, on_the_day, ann_client
):
    staff.post(f"/staff/meetings/{noticed.id}/open")
    staff.post(f"/staff/meetings/{noticed.id}/close")
    assert state_of(app, noticed)[1] is MeetingState.VOTING_CLOSED
    response = ann_client.get(f"/meetings/{noticed.id}/live", headers=HTMX)
    assert response.status_code == 286
