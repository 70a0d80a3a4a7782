"""Members' own motions (issue 14 §4, §5): proposed and seconded resolutions, requisitions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal import coop as coop_module
from portal.models import (
    AuditEvent,
    Meeting,
    MemberProposal,
    ProposalState,
    Requisition,
    RequisitionSignature,
    RequisitionState,
    Resolution,
)
from portal.services.meetings import requisitions

from .factories import count, mails_to, reading


@pytest.fixture
def ann(make_member):
    return make_member(email="ann@example.org", name="Ann Listener", classes=["listener"])


@pytest.fixture
def bob(make_member):
    return make_member(email="bob@example.org", name="Bob Artist", classes=["artist"])


@pytest.fixture
def draft(ann, bob, make_meeting):
    return make_meeting(state="draft", days=60, resolutions=())


def _today(app):
    with reading(app) as db:
        return coop_module.today(db)


def open_call(staff, meeting, app, *, opens=0, closes=5):
    today = _today(app)
    return staff.post(
        f"/staff/meetings/{meeting.id}/proposals/call",
        data={
            "opens_on": (today + timedelta(days=opens)).isoformat(),
            "closes_on": (today + timedelta(days=closes)).isoformat(),
        },
    )


PROPOSAL = {
    "title": "Pay artists within 30 days",
    "text": "RESOLVED that artists are paid within 30 days of each stream.",
    "reason": "Artists wait too long.",
}


def propose(client, meeting, **changes):
    return client.post(f"/meetings/{meeting.id}/proposals", data={**PROPOSAL, **changes})


def the_proposal(app):
    with reading(app) as db:
        return db.scalar(select(MemberProposal).order_by(MemberProposal.id.desc()))


# -- the call for resolutions --------------------------------------------------------------


def test_staff_open_a_call_that_ends_before_notice(app, staff, draft):
    response = open_call(staff, draft, app)
    assert response.status_code == 303
    assert count(app, AuditEvent, AuditEvent.action == "meeting.proposals_called") == 1


def test_a_call_closing_on_or_after_the_last_day_for_notice_is_refused(app, staff, draft):
    response = open_call(staff, draft, app, closes=59)
    assert response.status_code == 422
    assert "before the notice goes out" in response.get_data(as_text=True)


def test_a_call_after_notice_is_refused(app, staff, ann, make_meeting):
    noticed = make_meeting(state="noticed", days=60, resolutions=())
    assert open_call(staff, noticed, app).status_code == 409


def test_a_member_proposes_and_another_seconds(app, staff, draft, ann, bob, sign_in):
    open_call(staff, draft, app)
    ann_client = sign_in(ann.email)
    assert ann_client.get(f"/meetings/{draft.id}/proposals").status_code == 200
    assert propose(ann_client, draft).status_code == 303
    proposal = the_proposal(app)
    assert proposal.state is ProposalState.SUBMITTED
    bob_client = sign_in(bob.email)
    response = bob_client.post(f"/meetings/{draft.id}/proposals/{proposal.id}/second")
    assert response.status_code == 303
    proposal = the_proposal(app)
    assert proposal.state is ProposalState.SECONDED and proposal.seconder_id == bob.id


def test_a_proposals_paragraphs_stay_paragraphs_sanitised_for_member_and_staff(
    app, staff, draft, ann, sign_in
):
    open_call(staff, draft, app)
    ann_client = sign_in(ann.email)
    text = "WHEREAS artists wait too long;\n\nRESOLVED that they are paid <b>within 30 days</b>."
    assert propose(ann_client, draft, text=text).status_code == 303
    for client, url in (
        (ann_client, f"/meetings/{draft.id}/proposals"),
        (staff, f"/staff/meetings/{draft.id}/proposals"),
    ):
        page = client.get(url).get_data(as_text=True)
        assert "<p>WHEREAS artists wait too long;</p>\n<p>RESOLVED that they are paid" in page
        assert "<b>within" not in page  # raw HTML is never rendered


def test_proposing_while_the_call_is_closed_is_refused(app, staff, draft, ann, sign_in):
    open_call(staff, draft, app, opens=2, closes=5)
    response = propose(sign_in(ann.email), draft)
    assert response.status_code == 409
    assert count(app, MemberProposal) == 0


def test_proposing_without_a_title_is_422_and_writes_nothing(app, staff, draft, ann, sign_in):
    open_call(staff, draft, app)
    response = propose(sign_in(ann.email), draft, title="  ")
    assert response.status_code == 422
    assert count(app, MemberProposal) == 0


def test_seconding_ones_own_proposal_is_refused(app, staff, draft, ann, sign_in):
    open_call(staff, draft, app)
    client = sign_in(ann.email)
    propose(client, draft)
    proposal = the_proposal(app)
    response = client.post(f"/meetings/{draft.id}/proposals/{proposal.id}/second")
    assert response.status_code == 403
    assert the_proposal(app).seconder_id is None


def test_seconding_twice_is_refused(app, staff, draft, ann, bob, make_member, sign_in):
    open_call(staff, draft, app)
    propose(sign_in(ann.email), draft)
    proposal = the_proposal(app)
    url = f"/meetings/{draft.id}/proposals/{proposal.id}/second"
    assert sign_in(bob.email).post(url).status_code == 303
    cy = make_member(email="cy@example.org", classes=["listener"])
    response = sign_in(cy.email).post(url)
    assert response.status_code == 409
    assert "already seconded" in response.get_data(as_text=True)
    assert the_proposal(app).seconder_id == bob.id


def test_seconding_after_the_call_closed_is_refused(app, staff, draft, ann, bob, sign_in):
    open_call(staff, draft, app, closes=1)
    propose(sign_in(ann.email), draft)
    proposal = the_proposal(app)
    with time_machine.travel(timedelta(days=3)):
        response = sign_in(bob.email).post(f"/meetings/{draft.id}/proposals/{proposal.id}/second")
    assert response.status_code == 409


def test_proposing_without_the_csrf_token_is_refused(app, staff, draft, ann, sign_in):
    open_call(staff, draft, app)
    response = sign_in(ann.email).post(f"/meetings/{draft.id}/proposals", data=PROPOSAL, csrf=False)
    assert response.status_code in (400, 403)
    assert count(app, MemberProposal) == 0


def test_members_cannot_use_the_staff_routes(app, draft, ann, sign_in):
    response = sign_in(ann.email).post(
        f"/staff/meetings/{draft.id}/proposals/call",
        data={"opens_on": "2026-01-01", "closes_on": "2026-01-02"},
    )
    assert response.status_code == 403


def test_notice_is_refused_while_the_call_is_open_naming_when_it_closes(app, staff, draft, sign_in):
    open_call(staff, draft, app, closes=5)
    response = staff.post(f"/staff/meetings/{draft.id}/notice")
    assert response.status_code == 409
    last_day = _today(app) + timedelta(days=5)
    page = response.get_data(as_text=True)
    # The refusal names the call's last day, never a midnight time (the meeting's own start,
    # shown on the same page, may fall at 00:00 when the suite runs just after midnight).
    refusal = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', page, re.S)
    assert refusal is not None
    assert f"is open until the end of {last_day:%-d %B %Y}. " in refusal[1]
    assert "00:00" not in refusal[1]
    assert count(app, AuditEvent, AuditEvent.action == "meeting.noticed") == 0
    with time_machine.travel(timedelta(days=6)):
        staff = sign_in("staff@example.org")  # a fresh session, days later
        assert staff.post(f"/staff/meetings/{draft.id}/notice").status_code == 303
    with reading(app) as db:
        assert db.get(Meeting, draft.id).notice_sent_at is not None


def test_notice_is_refused_while_the_call_is_still_to_open(app, staff, draft):
    open_call(staff, draft, app, opens=2, closes=5)
    response = staff.post(f"/staff/meetings/{draft.id}/notice")
    assert response.status_code == 409
    assert "has not opened yet" in response.get_data(as_text=True)


def seconded(app, staff, draft, ann, bob, sign_in):
    open_call(staff, draft, app)
    propose(sign_in(ann.email), draft)
    proposal = the_proposal(app)
    sign_in(bob.email).post(f"/meetings/{draft.id}/proposals/{proposal.id}/second")
    return proposal


def test_staff_accept_a_seconded_proposal_onto_the_agenda_with_its_number(
    app, staff, draft, ann, bob, sign_in
):
    proposal = seconded(app, staff, draft, ann, bob, sign_in)
    response = staff.post(
        f"/staff/meetings/{draft.id}/proposals/{proposal.id}/accept", data={"kind": "ordinary"}
    )
    assert response.status_code == 303
    with reading(app) as db:
        stored = db.get(MemberProposal, proposal.id)
        resolution = db.get(Resolution, stored.resolution_id)
        assert stored.state is ProposalState.ACCEPTED
        assert resolution.number == 1 and resolution.title == PROPOSAL["title"]
        assert resolution.proposal.proposer.name == "Ann Listener"


def test_an_unseconded_proposal_cannot_be_accepted(app, staff, draft, ann, sign_in):
    open_call(staff, draft, app)
    propose(sign_in(ann.email), draft)
    proposal = the_proposal(app)
    response = staff.post(
        f"/staff/meetings/{draft.id}/proposals/{proposal.id}/accept", data={"kind": "ordinary"}
    )
    assert response.status_code == 409
    assert count(app, Resolution) == 0


def test_staff_return_a_proposal_with_a_reason_mailed_to_the_proposer(
    app, staff, draft, ann, bob, sign_in, outbox
):
    proposal = seconded(app, staff, draft, ann, bob, sign_in)
    url = f"/staff/meetings/{draft.id}/proposals/{proposal.id}/return"
    assert staff.post(url, data={"reason": ""}).status_code == 422
    assert staff.post(url, data={"reason": "This is for the board."}).status_code == 303
    assert the_proposal(app).state is ProposalState.RETURNED
    [mail] = [m for m in mails_to(outbox, ann.email) if "proposed resolution" in m.subject]
    assert "This is for the board." in mail.text


def test_the_notice_names_the_proposer_and_seconder(app, staff, draft, ann, bob, sign_in):
    proposal = seconded(app, staff, draft, ann, bob, sign_in)
    staff.post(
        f"/staff/meetings/{draft.id}/proposals/{proposal.id}/accept", data={"kind": "ordinary"}
    )
    from portal.services.meetings import notices

    with app.test_request_context("/"), reading(app) as db:
        text = notices.notice_markdown(db, db.get(Meeting, draft.id))
    assert "Proposed by Ann Listener and seconded by Bob Artist" in text


# -- requisitions ---------------------------------------------------------------------------


@pytest.fixture
def workers(make_member):
    return [
        make_member(email=f"worker{i}@example.org", name=f"Worker {i}", classes=["worker"])
        for i in range(3)
    ]


def start(client, **changes):
    data = {"kind": "class", "member_class": "worker", "purpose": "Discuss pay.", **changes}
    return client.post("/meetings/requisitions", data=data)


def the_requisition(app):
    with reading(app) as db:
        return db.scalar(select(Requisition).order_by(Requisition.id.desc()))


def test_threshold_is_the_percent_of_members_rounded_up():
    assert requisitions.threshold_for(30, 10) == 3
    assert requisitions.threshold_for(31, 10) == 4
    assert requisitions.threshold_for(0, 10) == 1


def test_a_member_starts_a_requisition_for_their_class(app, workers, ann, sign_in):
    response = start(sign_in(workers[0].email))
    assert response.status_code == 303
    requisition = the_requisition(app)
    assert requisition.base_members == 3  # the worker class only, counted in SQL
    assert count(app, RequisitionSignature) == 1


def test_signing_twice_is_refused(app, workers, sign_in, coop):
    client = sign_in(workers[0].email)
    start(client)
    requisition = the_requisition(app)
    response = client.post(f"/meetings/requisitions/{requisition.id}/sign")
    assert response.status_code == 409
    assert count(app, RequisitionSignature) == 1


def test_a_member_of_another_class_cannot_sign(app, workers, ann, sign_in):
    start(sign_in(workers[0].email))
    requisition = the_requisition(app)
    response = sign_in(ann.email).post(f"/meetings/requisitions/{requisition.id}/sign")
    assert response.status_code == 403
    assert count(app, RequisitionSignature) == 1


def test_reaching_the_threshold_exactly_tells_the_board(app, make_member, sign_in, outbox):
    # 10 % of 20 listeners is 2 signatures: the second reaches it exactly.
    listeners = [make_member(email=f"l{i}@example.org", classes=["listener"]) for i in range(20)]
    start(sign_in(listeners[0].email), member_class="listener")
    requisition = the_requisition(app)
    assert requisition.threshold == 2 and requisition.state is RequisitionState.COLLECTING
    sign_in(listeners[1].email).post(f"/meetings/requisitions/{requisition.id}/sign")
    requisition = the_requisition(app)
    assert requisition.state is RequisitionState.REACHED
    assert requisition.call_by == _today(app) + timedelta(days=21)
    with reading(app) as db:
        board = coop_module.settings(db).contact_email
    assert len(mails_to(outbox, board)) == 1
    page = sign_in(listeners[2].email).get(f"/meetings/requisitions/{requisition.id}")
    assert "must call the meeting by" in page.get_data(as_text=True)


def test_signing_after_the_deadline_is_refused(app, workers, sign_in):
    start(sign_in(workers[0].email))
    requisition = the_requisition(app)
    with time_machine.travel(timedelta(days=29)):
        response = sign_in(workers[1].email).post(f"/meetings/requisitions/{requisition.id}/sign")
    assert response.status_code == 409
    assert "deadline" in response.get_data(as_text=True)


def test_a_class_requisition_needs_its_class(app, workers, sign_in):
    response = start(sign_in(workers[0].email), member_class="")
    assert response.status_code == 422
    assert count(app, Requisition) == 0


def test_staff_record_the_meeting_called_in_time(app, staff, make_member, sign_in, make_meeting):
    listeners = [make_member(email=f"l{i}@example.org", classes=["listener"]) for i in range(5)]
    start(sign_in(listeners[0].email), member_class="listener")
    requisition = the_requisition(app)
    assert requisition.state is RequisitionState.REACHED  # 1 of 5 at 10 %: one suffices
    wrong = make_meeting(state="draft", days=60, resolutions=())
    url = f"/staff/requisitions/{requisition.id}/meeting"
    assert staff.post(url, data={"meeting": str(wrong.id)}).status_code == 422
    called = make_meeting(
        state="draft", days=60, resolutions=(), kind="class", member_class="listener"
    )
    assert staff.post(url, data={"meeting": str(called.id)}).status_code == 303
    requisition = the_requisition(app)
    assert requisition.state is RequisitionState.CALLED and requisition.call_met is True
    page = sign_in(listeners[1].email).get(f"/meetings/requisitions/{requisition.id}")
    assert "in time" in page.get_data(as_text=True)


def test_the_ballot_names_the_proposer_and_seconder(app, staff, draft, ann, bob, sign_in):
    proposal = seconded(app, staff, draft, ann, bob, sign_in)
    staff.post(
        f"/staff/meetings/{draft.id}/proposals/{proposal.id}/accept", data={"kind": "ordinary"}
    )
    with time_machine.travel(timedelta(days=6)):  # the call has closed
        staff = sign_in("staff@example.org")  # a fresh session, days later
        assert staff.post(f"/staff/meetings/{draft.id}/notice").status_code == 303
        assert staff.post(f"/staff/meetings/{draft.id}/open").status_code == 303
        page = sign_in(ann.email).get(f"/meetings/{draft.id}").get_data(as_text=True)
    assert "Proposed by Ann Listener, seconded by Bob Artist" in page


# -- requisitions lapse ---------------------------------------------------------------------


@pytest.fixture
def collecting(app, make_member, sign_in):
    """A listeners' requisition one signature short (10 % of 11 listeners is 2), with the
    signing deadline of 28 days (``requisition_signing_days``)."""
    listeners = [make_member(email=f"l{i}@example.org", classes=["listener"]) for i in range(11)]
    start(sign_in(listeners[0].email), member_class="listener")
    requisition = the_requisition(app)
    assert requisition.state is RequisitionState.COLLECTING and requisition.threshold == 2
    return requisition


def lapsed_events(app):
    return count(app, AuditEvent, AuditEvent.action == "requisition.lapsed")


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("l1@example.org", "/meetings/requisitions"),
        ("l1@example.org", "/meetings/requisitions/{id}"),
        ("staff@example.org", "/staff/requisitions/{id}"),
    ],
)
def test_a_requisition_lapses_on_the_next_request_after_its_deadline(
    app, collecting, staff, sign_in, who, url
):
    url = url.format(id=collecting.id)
    assert sign_in(who).get(url).status_code == 200  # on its last day it still collects
    assert the_requisition(app).state is RequisitionState.COLLECTING
    assert lapsed_events(app) == 0
    with time_machine.travel(timedelta(days=29)):
        page = sign_in(who).get(url)
        assert page.status_code == 200
        assert sign_in(who).get(url).status_code == 200  # lapsed once, not again
    requisition = the_requisition(app)
    assert requisition.state is RequisitionState.LAPSED and requisition.lapsed_at is not None
    assert lapsed_events(app) == 1


def test_a_reached_requisition_does_not_lapse(app, collecting, sign_in):
    sign_in("l1@example.org").post(f"/meetings/requisitions/{collecting.id}/sign")
    assert the_requisition(app).state is RequisitionState.REACHED
    with time_machine.travel(timedelta(days=29)):
        assert sign_in("l2@example.org").get("/meetings/requisitions").status_code == 200
    assert the_requisition(app).state is RequisitionState.REACHED
    assert lapsed_events(app) == 0


def test_lapse_requisitions_lapses_what_is_past_its_deadline_once(app, runner, collecting):
    early = runner.invoke(args=["lapse-requisitions"])
    assert early.exit_code == 0 and "0 requisitions lapsed." in early.output
    with time_machine.travel(timedelta(days=29)):
        result = runner.invoke(args=["lapse-requisitions"])
        again = runner.invoke(args=["lapse-requisitions"])
    assert result.exit_code == 0, result.output
    assert f"Lapsed requisition {collecting.id}, a meeting of the listener class" in result.output
    assert "1 requisition lapsed." in result.output
    assert "0 requisitions lapsed." in again.output
    assert the_requisition(app).state is RequisitionState.LAPSED
    assert lapsed_events(app) == 1
