"""Board elections on the notice (issue 15 §2): notice waits for every election's confirmed
candidate list, and the notice document and mail list each election's candidates with
who nominated and seconded them and their statements; staff may cancel an election."""

from __future__ import annotations

from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy import select

from portal import coop as coop_module
from portal.db import write_session
from portal.errors import InvalidInput, InvalidState
from portal.mail import outbox_path
from portal.models import AuditEvent, Election, ElectionState, Meeting, MemberClass
from portal.services.elections import nominations
from portal.services.meetings import lifecycle, notices

from .factories import reading

STATEMENT = (
    "I will **publish** what artists are paid.\n\n"
    "- fair pay\n- open books\n\n"
    "<script>alert(1)</script> [my band](javascript:alert(2))"
)


def find_class(db, code):
    return db.scalar(select(MemberClass).where(MemberClass.code == code))


@pytest.fixture
def artists(coop, make_member):
    """Four artist members: Ada nominates Bea, Bea stands, Cy seconds, Dee stands herself."""
    return {
        name: make_member(
            name=f"{name} Artist", email=f"{name.lower()}@example.org", classes=["artist"]
        )
        for name in ("Ada", "Bea", "Cy", "Dee")
    }


@pytest.fixture
def agm(artists, make_meeting):
    return make_meeting(state="draft", days=60, resolutions=({"title": "Approve the minutes"},))


def open_election(db, agm, reviewer) -> Election:
    today = coop_module.today(db)
    given = nominations.ElectionInput(2, today, today + timedelta(days=5))
    election = nominations.create_election(
        db, db.get(Meeting, agm.id), find_class(db, "artist"), given, actor=reviewer
    )
    return nominations.open_nominations(db, election, actor=reviewer)


def confirmed_list(app, agm, artists, reviewer) -> int:
    """The artist election with Bea (nominated by Ada) and Dee (herself), both seconded by
    Cy and confirmed by staff; returns its id."""
    with app.test_request_context("/"), write_session(app) as db:
        election = open_election(db, agm, reviewer)
        ada, bea, cy, dee = (artists[n].load(db) for n in ("Ada", "Bea", "Cy", "Dee"))
        bea_c = nominations.nominate(db, election, ada, bea, actor=ada.user)
        nominations.accept_nomination(db, bea_c, bea, statement=STATEMENT, actor=bea.user)
        dee_c = nominations.nominate(
            db, election, dee, dee, statement="Artists first.", actor=dee.user
        )
        for candidate in (bea_c, dee_c):
            nominations.second_nomination(db, candidate, cy, actor=cy.user)
        nominations.close_nominations(db, election, actor=reviewer)
        for candidate in (bea_c, dee_c):
            nominations.confirm_candidate(db, candidate, actor=reviewer)
        nominations.confirm_candidate_list(db, election, actor=reviewer)
        return election.id


def send_notice(staff, agm):
    return staff.post(f"/staff/meetings/{agm.id}/notice", data={})


# -- notice waits for the candidate lists ---------------------------------------------------


@pytest.mark.parametrize("stage", ["draft", "nominations_open", "nominations_closed"])
def test_notice_is_refused_while_an_election_has_no_confirmed_list(app, db, agm, reviewer, stage):
    election = nominations.create_election(
        db,
        db.get(Meeting, agm.id),
        find_class(db, "artist"),
        nominations.ElectionInput(
            1, coop_module.today(db), coop_module.today(db) + timedelta(days=5)
        ),
        actor=reviewer,
    )
    if stage != "draft":
        nominations.open_nominations(db, election, actor=reviewer)
    if stage == "nominations_closed":
        nominations.close_nominations(db, election, actor=reviewer)
    with pytest.raises(InvalidState, match="election of Artist directors") as refused:
        lifecycle.send_notice(db, db.get(Meeting, agm.id), actor=reviewer)
    assert refused.value.status == 409
    assert "confirm its candidates, or cancel it" in refused.value.message
    assert db.get(Meeting, agm.id).notice_sent_at is None


def test_the_staff_notice_form_answers_409_naming_the_class(app, staff, agm, reviewer):
    with write_session(app) as db:
        open_election(db, agm, reviewer)
    response = send_notice(staff, agm)
    assert response.status_code == 409
    assert "election of Artist directors is nominations open" in response.get_data(as_text=True)
    with reading(app) as db:
        assert db.get(Meeting, agm.id).notice_sent_at is None


def test_a_cancelled_election_lets_the_notice_go(app, db, agm, reviewer):
    election = open_election(db, agm, reviewer)
    nominations.cancel_election(db, election, "No one stood.", actor=reviewer)
    assert election.state is ElectionState.CANCELLED and election.cancelled_at is not None
    lifecycle.send_notice(db, db.get(Meeting, agm.id), actor=reviewer)
    body = notices.notice_markdown(db, db.get(Meeting, agm.id))
    assert "Board elections" not in body
    summary = db.scalar(select(AuditEvent.summary).where(AuditEvent.action == "election.cancelled"))
    assert summary == "Election of Artist directors cancelled: No one stood."


# -- what the notice says -------------------------------------------------------------------


def test_the_notice_document_lists_each_election_and_its_candidates(
    app, staff, agm, artists, reviewer, sign_in
):
    confirmed_list(app, agm, artists, reviewer)
    assert send_notice(staff, agm).status_code == 303
    with reading(app) as db:
        document = notices.notice_document(db, db.get(Meeting, agm.id))
        body = document.versions[-1].body
        slug = document.slug
    assert "## Board elections" in body
    assert "### Artist directors: 2 seats" in body
    assert "#### Bea Artist" in body and "#### Dee Artist" in body
    assert "*Nominated by Ada Artist, seconded by Cy Artist, members.*" in body
    assert "*Nominated themselves, seconded by Cy Artist, members.*" in body
    assert "> I will **publish** what artists are paid." in body  # quoted, as written
    page = sign_in("ada@example.org").get(f"/documents/{slug}").get_data(as_text=True)
    assert "<strong>publish</strong>" in page  # rendered and sanitised as documents are
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert 'href="javascript' not in page
    assert "Artists first." in page


def test_the_notice_mail_lists_the_candidates_with_statements_as_plain_text(
    app, staff, agm, artists, reviewer, outbox
):
    confirmed_list(app, agm, artists, reviewer)
    send_notice(staff, agm)
    [message] = [
        m for m in outbox() if m.to == "cy@example.org" and m.subject.startswith("Notice of")
    ]
    text = message.text
    assert "BOARD ELECTIONS" in text
    assert "Artist directors: 2 seats, 2 candidates" in text
    assert "- Bea Artist (Nominated by Ada Artist, seconded by Cy Artist)" in text
    assert "- Dee Artist (Nominated themselves, seconded by Cy Artist)" in text
    assert "I will publish what artists are paid." in text  # no Markdown left
    assert "**" not in text and "- fair pay" in text
    parsed = [
        BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        for path in outbox_path(app).glob("*.eml")
    ]
    notice = next(
        p
        for p in parsed
        if str(p["To"]) == "cy@example.org" and str(p["Subject"]).startswith("Notice of")
    )
    html = notice.get_body(preferencelist=("html",)).get_content()
    assert "Board elections" in html and "Bea Artist" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # escaped, never markup


def test_a_withdrawn_candidate_is_not_on_the_notice(app, agm, artists, reviewer):
    election_id = confirmed_list(app, agm, artists, reviewer)
    with app.test_request_context("/"), write_session(app) as db:
        election = db.get(Election, election_id)
        dee = artists["Dee"].load(db)
        [dee_c] = [c for c in election.candidates if c.member_id == dee.id]
        nominations.withdraw_nomination(db, dee_c, dee, actor=dee.user)
        body = notices.notice_markdown(db, db.get(Meeting, agm.id))
    assert "#### Bea Artist" in body and "Dee Artist" not in body
    assert "1 confirmed candidate;" in body


# -- cancelling -----------------------------------------------------------------------------


def test_cancelling_needs_a_reason_and_stops_once_voting_opens(db, agm, reviewer):
    election = open_election(db, agm, reviewer)
    with pytest.raises(InvalidInput, match="reason"):
        nominations.cancel_election(db, election, "  ", actor=reviewer)
    assert election.state is ElectionState.NOMINATIONS_OPEN
    election.state = ElectionState.VOTING_OPEN
    with pytest.raises(InvalidState, match="cannot be cancelled"):
        nominations.cancel_election(db, election, "Too late", actor=reviewer)


def test_staff_cancel_an_election_from_its_page(app, staff, agm, reviewer):
    with write_session(app) as db:
        election_id = open_election(db, agm, reviewer).id
    url = f"/staff/meetings/{agm.id}/elections/{election_id}"
    page = staff.get(url).get_data(as_text=True)
    assert "Cancel the election" in page
    refused = staff.post(f"{url}/cancel", data={"reason": ""})
    assert refused.status_code == 422
    assert "Cancel this election" in refused.get_data(as_text=True)
    done = staff.post(f"{url}/cancel", data={"reason": "Seats filled by co-option."})
    assert done.status_code == 303
    with reading(app) as db:
        assert db.get(Election, election_id).state is ElectionState.CANCELLED
    assert "Cancel the election" not in staff.get(url).get_data(as_text=True)


def test_members_cannot_cancel_an_election(app, agm, artists, reviewer, sign_in):
    with write_session(app) as db:
        election_id = open_election(db, agm, reviewer).id
    ada = sign_in("ada@example.org")
    response = ada.post(
        f"/staff/meetings/{agm.id}/elections/{election_id}/cancel", data={"reason": "Mine"}
    )
    assert response.status_code in (403, 404)
    with reading(app) as db:
        assert db.get(Election, election_id).state is ElectionState.NOMINATIONS_OPEN
