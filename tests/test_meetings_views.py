"""The meetings' pages: staff run a meeting; members vote, watch turnout and read results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from portal.db import write_session
from portal.models import (
    Ballot,
    Meeting,
    MeetingState,
    Participation,
    Resolution,
    ResolutionState,
)

from .factories import count, is_page, is_partial, reading, sql_statements

HTMX = {"HX-Request": "true"}

THREE = (
    {"title": "Approve the minutes of 2025"},
    {"title": "Adopt class-weighted voting", "kind": "special"},
    {"title": "Elect the chair", "secret": True},
)


@pytest.fixture
def ann(make_member):
    return make_member(email="ann@example.org", name="Ann Listener", classes=["listener"])


@pytest.fixture
def bob(make_member):
    return make_member(email="bob@example.org", name="Bob Artist", classes=["artist"])


@pytest.fixture
def open_meeting(ann, bob, make_meeting):
    return make_meeting(resolutions=THREE)


@pytest.fixture
def ann_client(ann, sign_in):
    return sign_in(ann.email)


def vote_url(meeting, index=0):
    return f"/meetings/{meeting.id}/resolutions/{meeting.resolution_ids[index]}/vote"


# -- members: the ballot ---------------------------------------------------------------


def test_the_ballot_page_shows_each_open_resolution_with_its_choices(ann_client, open_meeting):
    response = ann_client.get(f"/meetings/{open_meeting.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Approve the minutes of 2025" in body
    assert "Elect the chair" in body
    assert body.count('name="choice" value="for"') == 3
    assert 'data-hx-target="this"' in body


def test_an_htmx_vote_answers_the_ballot_partial_with_the_choice_and_receipt(
    app, ann_client, open_meeting
):
    response = ann_client.post(vote_url(open_meeting), data={"choice": "for"}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert is_partial(response)
    assert body.lstrip().startswith("{#") is False
    assert 'id="resolution-' in body and 'data-hx-target="this"' in body
    assert "Your vote:" in body and "Receipt" in body
    assert "Change my vote" in body
    with reading(app) as db:
        participation = db.scalar(select(Participation))
        assert participation.receipt in body


def test_a_plain_vote_redirects_back_to_the_ballot_with_the_receipt(app, ann_client, open_meeting):
    response = ann_client.post(vote_url(open_meeting), data={"choice": "against"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/meetings/{open_meeting.id}#resolution-{open_meeting.resolution_ids[0]}"
    )
    page = ann_client.get(f"/meetings/{open_meeting.id}").get_data(as_text=True)
    with reading(app) as db:
        receipt = db.scalar(select(Participation.receipt))
    assert f"Your receipt is {receipt}" in page


def test_changing_a_vote_keeps_one_participation_and_the_last_choice(app, ann_client, open_meeting):
    ann_client.post(vote_url(open_meeting), data={"choice": "for"}, headers=HTMX)
    response = ann_client.post(vote_url(open_meeting), data={"choice": "abstain"}, headers=HTMX)
    assert response.status_code == 200
    assert count(app, Participation) == 1
    with reading(app) as db:
        assert db.scalar(select(Participation.choice)).value == "abstain"


def test_a_secret_vote_is_recorded_on_a_ballot_with_no_name(app, ann_client, open_meeting):
    response = ann_client.post(vote_url(open_meeting, 2), data={"choice": "for"}, headers=HTMX)
    assert response.status_code == 200
    with reading(app) as db:
        ballot = db.scalar(select(Ballot))
        participation = db.scalar(select(Participation))
    assert participation.choice is None and participation.receipt is None
    assert ballot.receipt in response.get_data(as_text=True)


@pytest.mark.parametrize("choice", ["", "maybe", "FOR", "x" * 5000])
def test_a_vote_without_a_valid_choice_is_refused_with_422_and_nothing_written(
    app, ann_client, open_meeting, choice
):
    for headers in (HTMX, {}):
        response = ann_client.post(vote_url(open_meeting), data={"choice": choice}, headers=headers)
        assert response.status_code == 422
        assert "Choose For, Against or Abstain" in response.get_data(as_text=True)
    assert count(app, Participation) == 0


def test_a_member_not_on_the_roll_is_refused_with_403(app, make_member, sign_in, open_meeting):
    make_member(email="late@example.org", classes=["listener"])  # admitted after the roll froze
    client = sign_in("late@example.org")
    for headers in (HTMX, {}):
        response = client.post(vote_url(open_meeting), data={"choice": "for"}, headers=headers)
        assert response.status_code == 403
        assert "voter roll: it lists the members" in response.get_data(as_text=True)
    assert count(app, Participation) == 0


def test_staff_who_are_not_members_cannot_vote(app, staff, open_meeting):
    response = staff.post(vote_url(open_meeting), data={"choice": "for"}, headers=HTMX)
    assert response.status_code == 403
    assert count(app, Participation) == 0


def test_voting_after_close_is_refused_with_409(app, ann, ann_client, factories, open_meeting):
    factories.close_meeting(open_meeting)
    for headers in (HTMX, {}):
        response = ann_client.post(vote_url(open_meeting), data={"choice": "for"}, headers=headers)
        assert response.status_code == 409
        assert "has closed" in response.get_data(as_text=True)
    assert count(app, Participation) == 0


def test_voting_before_voting_opens_is_refused_with_409(app, ann, ann_client, make_meeting):
    meeting = make_meeting(state="noticed")
    response = ann_client.post(vote_url(meeting), data={"choice": "for"}, headers=HTMX)
    assert response.status_code == 409
    assert "has not opened yet" in response.get_data(as_text=True)
    assert count(app, Participation) == 0


def test_a_class_resolution_refuses_another_class_with_403(app, ann, bob, ann_client, make_meeting):
    meeting = make_meeting(
        resolutions=[{"title": "Artist royalties", "kind": "class", "member_class": "artist"}]
    )
    response = ann_client.post(vote_url(meeting), data={"choice": "for"}, headers=HTMX)
    assert response.status_code == 403
    assert "Only members of the Artist class" in response.get_data(as_text=True)
    assert count(app, Participation) == 0


def test_a_resolution_of_another_meeting_is_not_found(ann, bob, ann_client, make_meeting):
    first = make_meeting()
    second = make_meeting(title="Extraordinary meeting", kind="egm")
    url = f"/meetings/{first.id}/resolutions/{second.resolution_ids[0]}/vote"
    assert ann_client.post(url, data={"choice": "for"}).status_code == 404


def test_a_draft_meeting_is_hidden_from_members(ann, ann_client, make_meeting):
    meeting = make_meeting(state="draft")
    assert ann_client.get(f"/meetings/{meeting.id}").status_code == 404
    assert "Annual general meeting" not in ann_client.get("/meetings").get_data(as_text=True)


def test_meetings_are_for_members_and_staff(app, client, make_applicant, sign_in, open_meeting):
    assert client.get("/meetings").status_code == 303  # sign in first
    applicant = make_applicant(state="awaiting_share")
    assert sign_in(applicant.email).get("/meetings").status_code == 403


def test_the_meetings_list_shows_coming_and_past(ann, bob, ann_client, make_meeting):
    make_meeting(title="AGM 2026")
    closed = make_meeting(title="AGM 2025", state="voting_closed")
    body = ann_client.get("/meetings").get_data(as_text=True)
    assert body.index("AGM 2026") < body.index("Past") < body.index("AGM 2025")
    assert f"/meetings/{closed.id}/results" in body


def test_the_dashboard_counts_the_resolutions_awaiting_a_vote(ann_client, open_meeting):
    body = ann_client.get("/me").get_data(as_text=True)
    assert "Voting open — 3 resolutions await your vote" in body
    ann_client.post(vote_url(open_meeting), data={"choice": "for"})
    body = ann_client.get("/me").get_data(as_text=True)
    assert "Voting open — 2 resolutions await your vote" in body


# -- turnout ------------------------------------------------------------------------------


def test_turnout_polls_while_open_and_reads_no_choice(ann_client, factories, ann, open_meeting):
    factories.vote(open_meeting, ann, "for", "against", "for")
    response = ann_client.get(f"/meetings/{open_meeting.id}/turnout", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert is_partial(response)
    assert 'data-hx-trigger="every 5s"' in body
    assert "1 of 2 voted" in body
    assert "For" not in body and "Against" not in body


def test_turnout_answers_286_with_the_final_figures_once_closed(
    ann_client, factories, ann, open_meeting
):
    factories.vote(open_meeting, ann, "for", "for", "for")
    factories.close_meeting(open_meeting)
    response = ann_client.get(f"/meetings/{open_meeting.id}/turnout", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 286
    assert "every 5s" not in body
    assert "Final turnout" in body and "1 of 2 voted" in body


def test_turnout_reads_as_many_statements_for_nine_resolutions_as_for_one(
    app, ann, bob, ann_client, make_meeting
):
    """Polled by every member every few seconds: its cost must not grow with the agenda."""
    many = [{"title": f"Motion {n}"} for n in range(8)] + [
        {"title": "Artists only", "kind": "class", "member_class": "artist"}
    ]
    statements = []
    for resolutions in ([{"title": "One motion"}], many):
        meeting = make_meeting(resolutions=resolutions)
        with sql_statements(app) as seen:
            response = ann_client.get(f"/meetings/{meeting.id}/turnout", headers=HTMX)
        assert response.status_code == 200
        statements.append(len(seen))
    one, nine = statements
    assert nine <= one + 1  # a class resolution counts its own class's roll once


def test_turnout_without_htmx_is_a_page(ann_client, open_meeting):
    response = ann_client.get(f"/meetings/{open_meeting.id}/turnout")
    assert response.status_code == 200 and is_page(response)


# -- results ------------------------------------------------------------------------------


def test_results_show_each_resolution_by_class_with_a_chart_and_receipts(
    app, ann_client, factories, ann, bob, make_member, make_meeting
):
    cat = make_member(email="cat@example.org", classes=["listener"])
    meeting = make_meeting(resolutions=THREE)
    factories.vote(meeting, ann, "for", "for", "against")
    factories.vote(meeting, bob, "for", "against", "against")
    factories.vote(meeting, cat, "abstain", "for", "for")
    factories.close_meeting(meeting)
    response = ann_client.get(f"/meetings/{meeting.id}/results")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Listener" in body and "Artist" in body and "All classes" in body
    assert '<svg class="chart-svg"' in body and "<desc" in body
    assert "Passed" in body  # the minutes: 2 For, 1 abstention
    assert "Not passed" in body  # special: 2 of 3, but no majority among artists
    assert "no majority in Artist" in body
    with reading(app) as db:
        receipts = list(db.scalars(select(Ballot.receipt)))
    assert len(receipts) == 3 and all(r in body for r in receipts)


def test_results_of_a_meeting_below_quorum_say_not_quorate(
    ann_client, factories, ann, coop, open_meeting
):
    factories.close_meeting(open_meeting)  # nobody voted: 3 members needed at least
    body = ann_client.get(f"/meetings/{open_meeting.id}/results").get_data(as_text=True)
    assert "Not quorate" in body


def test_results_csv_has_a_row_per_class_and_a_total(ann_client, factories, ann, open_meeting):
    factories.vote(open_meeting, ann, "for", "for", "for")
    factories.close_meeting(open_meeting)
    response = ann_client.get(f"/meetings/{open_meeting.id}/results.csv")
    lines = response.get_data(as_text=True).splitlines()
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert lines[0].startswith("resolution,title,kind,class")
    assert len(lines) == 1 + 3 * 3  # three resolutions: two classes and a total each


def test_results_before_close_say_voting_is_open(ann_client, open_meeting):
    body = ann_client.get(f"/meetings/{open_meeting.id}/results").get_data(as_text=True)
    assert "Voting is still open" in body


# -- staff --------------------------------------------------------------------------------

NEW_AGM = {
    "kind": "agm",
    "title": "Annual general meeting 2027",
    "starts_on": "2027-06-12",
    "starts_time": "19:00",
    "record_date": "2027-05-01",
    "place": "The Guildhall, Cork",
    "standard_agenda": "y",
}


def test_staff_create_an_agm_with_the_standard_agenda(app, staff, coop):
    response = staff.post("/staff/meetings", data=dict(NEW_AGM))
    assert response.status_code == 303
    with reading(app) as db:
        meeting = db.scalar(select(Meeting))
        assert meeting.state is MeetingState.DRAFT
        assert meeting.agenda[0].title == "Apologies for absence"
        assert len(meeting.agenda) == 7
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Annual general meeting 2027" in page and "Send the notice" in page
    assert "Annual general meeting 2027" in staff.get("/staff/meetings").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "Title cannot be empty"),
        ({"starts_on": "2027-02-30"}, "Day of the meeting"),
        ({"starts_time": "25:00"}, "HH:MM"),
        ({"kind": "class"}, "A class meeting is for one member class"),
        ({"record_date": "2027-07-01"}, "record date must be on or before"),
        ({"place": "", "online_url": "javascript:alert(1)"}, "must be a web address"),
        ({"starts_on": "2001-01-01", "record_date": "2000-12-01"}, "start in the future"),
        ({"member_class": "nope"}, "Choose one of the co-op's member classes"),
    ],
)
def test_a_meeting_with_bad_details_is_refused_with_422(app, staff, coop, change, message):
    response = staff.post("/staff/meetings", data={**NEW_AGM, **change})
    assert response.status_code == 422, response.get_data(as_text=True)[-3000:]
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert count(app, Meeting) == 0


def test_staff_add_and_edit_a_resolution_while_draft(app, staff, make_meeting):
    meeting = make_meeting(state="draft", resolutions=[])
    url = f"/staff/meetings/{meeting.id}/resolutions"
    response = staff.post(
        url, data={"title": "Lower the fee", "text": "RESOLVED …", "kind": "ordinary"}
    )
    assert response.status_code == 303
    with reading(app) as db:
        resolution_id = db.scalar(select(Meeting).where(Meeting.id == meeting.id)).resolutions[0].id
    response = staff.post(
        f"{url}/{resolution_id}",
        data={
            "title": "Lower the fee to €8",
            "text": "RESOLVED …",
            "kind": "special",
            "secret": "y",
        },
    )
    assert response.status_code == 303
    page = staff.get(f"/staff/meetings/{meeting.id}").get_data(as_text=True)
    assert "Lower the fee to €8" in page and "Secret ballot" in page
    refused = staff.post(
        f"{url}/{resolution_id}", data={"title": "", "text": "x", "kind": "ordinary"}
    )
    assert refused.status_code == 422 and "Title cannot be empty" in refused.get_data(as_text=True)


def test_a_resolution_cannot_be_edited_once_voting_is_open(staff, ann, bob, open_meeting):
    url = f"/staff/meetings/{open_meeting.id}/resolutions/{open_meeting.resolution_ids[0]}"
    response = staff.post(url, data={"title": "Changed", "text": "x", "kind": "ordinary"})
    assert response.status_code == 409
    assert "can no longer change" in response.get_data(as_text=True)


def test_short_notice_needs_a_reason_then_opening_and_closing_voting(app, staff, ann, make_meeting):
    meeting = make_meeting(state="draft", days=5)
    page = staff.get(f"/staff/meetings/{meeting.id}").get_data(as_text=True)
    assert "Reason for short notice" in page
    refused = staff.post(f"/staff/meetings/{meeting.id}/notice", data={})
    assert refused.status_code == 422
    assert "Give a reason to send short notice" in refused.get_data(as_text=True)
    sent = staff.post(
        f"/staff/meetings/{meeting.id}/notice", data={"short_notice_reason": "Urgent funding"}
    )
    assert sent.status_code == 303
    assert staff.post(f"/staff/meetings/{meeting.id}/open").status_code == 303
    page = staff.get(f"/staff/meetings/{meeting.id}").get_data(as_text=True)
    assert "Urgent funding" in page and "Close voting" in page
    assert staff.post(f"/staff/meetings/{meeting.id}/close").status_code == 303
    with reading(app) as db:
        stored = db.get(Meeting, meeting.id)
        assert stored.state is MeetingState.VOTING_CLOSED
        assert all(r.state is ResolutionState.CLOSED for r in stored.resolutions)
    again = staff.post(f"/staff/meetings/{meeting.id}/close")
    assert again.status_code == 409


def test_the_roll_shows_counts_per_class_and_downloads_as_csv(staff, ann, bob, open_meeting):
    page = staff.get(f"/staff/meetings/{open_meeting.id}").get_data(as_text=True)
    assert "Voter roll" in page and "Listener" in page and "Artist" in page
    response = staff.get(f"/staff/meetings/{open_meeting.id}/roll.csv")
    lines = response.get_data(as_text=True).splitlines()
    assert response.mimetype == "text/csv"
    assert lines[0] == "member_number,name,class,votes_in_class,weight"
    assert any("Ann Listener" in line for line in lines) and len(lines) == 3


def test_agenda_items_are_added_with_a_paper(staff, make_meeting, make_document):
    paper = make_document("Annual report 2026", visibility="members", category="reports")
    meeting = make_meeting(state="draft")
    response = staff.post(
        f"/staff/meetings/{meeting.id}/agenda",
        data={"title": "Annual report", "document": paper.slug},
    )
    assert response.status_code == 303
    page = staff.get(f"/staff/meetings/{meeting.id}").get_data(as_text=True)
    assert "Annual report 2026" in page


def test_staff_cancel_a_meeting_with_a_reason(app, staff, make_meeting):
    meeting = make_meeting(state="noticed")
    assert staff.post(f"/staff/meetings/{meeting.id}/cancel", data={}).status_code == 422
    response = staff.post(f"/staff/meetings/{meeting.id}/cancel", data={"reason": "Venue lost"})
    assert response.status_code == 303
    with reading(app) as db:
        assert db.get(Meeting, meeting.id).state is MeetingState.CANCELLED


def test_staff_withdraw_a_draft_resolution(app, staff, make_meeting):
    meeting = make_meeting(state="draft")
    url = f"/staff/meetings/{meeting.id}/resolutions/{meeting.resolution_ids[0]}/withdraw"
    assert staff.post(url).status_code == 303
    with reading(app) as db:
        assert db.get(Meeting, meeting.id).resolutions[0].state is ResolutionState.WITHDRAWN


def test_members_cannot_reach_the_staff_meetings(ann_client, open_meeting):
    assert ann_client.get("/staff/meetings").status_code == 403
    assert ann_client.post(f"/staff/meetings/{open_meeting.id}/close").status_code == 403


def test_unknown_meetings_are_not_found(staff):
    for path in (
        "/staff/meetings/9",
        "/staff/meetings/9/roll.csv",
        "/meetings/9",
        "/meetings/9/results",
    ):
        assert staff.get(path).status_code == 404


# -- commands -----------------------------------------------------------------------------


def test_close_due_votes_closes_and_counts_what_is_due_then_check_votes_agrees(
    app, runner, factories, ann, open_meeting
):
    factories.vote(open_meeting, ann, "for", "against", "abstain")
    early = runner.invoke(args=["close-due-votes"])
    assert early.exit_code == 0 and "0 resolutions closed" in early.output
    with time_machine.travel(datetime.now(UTC) + timedelta(days=9), tick=False):
        result = runner.invoke(args=["close-due-votes"])
    assert result.exit_code == 0, result.output
    assert "3 resolutions closed and counted" in result.output
    with reading(app) as db:
        assert db.get(Meeting, open_meeting.id).state is MeetingState.VOTING_CLOSED
    checked = runner.invoke(args=["check-votes"])
    assert checked.exit_code == 0 and "3 resolutions" in checked.output


def test_check_votes_exits_1_when_a_stored_count_differs(app, runner, factories, ann, open_meeting):
    factories.vote(open_meeting, ann, "for", "for", "for")
    factories.close_meeting(open_meeting)
    with write_session(app) as db:
        db.execute(
            update(Resolution)
            .where(Resolution.id == open_meeting.resolution_ids[0])
            .values(votes_for=99)
        )
    result = runner.invoke(args=["check-votes"])
    assert result.exit_code == 1
    assert "resolution 1: the stored totals or result differ" in result.output
