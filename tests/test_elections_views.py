"""Board election pages (issue 15 §1, §2): staff set elections and decide on candidates,
members nominate, accept and second; each as a plain request (and htmx where it answers)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from portal import coop as coop_module
from portal.models import AuditEvent, Candidate, CandidateState, Election, ElectionState

from .factories import count, mails_to, reading


@pytest.fixture
def people(coop, make_member):
    return {
        name: make_member(
            name=f"{name} {code.title()}", email=f"{name.lower()}@example.org", classes=[code]
        )
        for name, code in (
            ("Ada", "artist"),
            ("Bea", "artist"),
            ("Cy", "artist"),
            ("Lee", "listener"),
        )
    }


@pytest.fixture
def agm(people, make_meeting):
    return make_meeting(state="draft", days=60, resolutions=())


def _today(app):
    with reading(app) as db:
        return coop_module.today(db)


def add_election(staff, app, meeting, **changes):
    today = _today(app)
    data = {
        "class_code": "artist",
        "seats": "2",
        "opens_on": today.isoformat(),
        "closes_on": (today + timedelta(days=5)).isoformat(),
        **changes,
    }
    return staff.post(f"/staff/meetings/{meeting.id}/elections", data=data)


def the_election(app):
    with reading(app) as db:
        return db.scalar(select(Election).order_by(Election.id.desc()))


@pytest.fixture
def open_election(app, staff, agm):
    assert add_election(staff, app, agm).status_code == 303
    election = the_election(app)
    assert staff.post(f"/staff/meetings/{agm.id}/elections/{election.id}/open").status_code == 303
    return the_election(app)


def nominations_url(election):
    return f"/meetings/{election.meeting_id}/elections/{election.id}/nominations"


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_staff_add_an_election_and_open_nominations(app, staff, open_election):
    assert open_election.state is ElectionState.NOMINATIONS_OPEN
    page = staff.get(f"/staff/meetings/{open_election.meeting_id}/elections")
    assert page.status_code == 200
    assert "Artist" in page.get_data(as_text=True)
    detail = staff.get(f"/staff/meetings/{open_election.meeting_id}/elections/{open_election.id}")
    assert detail.status_code == 200


def test_seats_over_board_seats_answer_422_with_the_form(app, staff, agm):
    response = add_election(staff, app, agm, seats="9")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "board seat" in text and 'name="seats"' in text
    assert count(app, Election) == 0


@pytest.mark.parametrize("seats", ["", "two", "²", "99999999999999999999"])
def test_bad_seats_never_500(app, staff, agm, seats):
    assert add_election(staff, app, agm, seats=seats).status_code == 422


def test_staff_only_actions_are_403_for_members(app, sign_in, people, agm, staff):
    ada = sign_in(people["Ada"].email)
    assert ada.get(f"/staff/meetings/{agm.id}/elections").status_code == 403
    assert add_election(ada, app, agm).status_code == 403
    assert count(app, Election) == 0
    add_election(staff, app, agm)
    election = the_election(app)
    for action in ("open", "close", "confirm"):
        url = f"/staff/meetings/{agm.id}/elections/{election.id}/{action}"
        assert ada.post(url).status_code == 403


def test_election_forms_need_the_csrf_token(app, sign_in, people, staff, agm, open_election):
    response = staff.post(f"/staff/meetings/{agm.id}/elections", data={}, csrf=False)
    assert response.status_code == 400
    bea = sign_in(people["Bea"].email)
    response = bea.post(nominations_url(open_election), data={"statement": "Me"}, csrf=False)
    assert response.status_code == 400
    assert count(app, Candidate) == 0


def test_a_draft_election_is_hidden_from_members(app, staff, sign_in, people, agm):
    add_election(staff, app, agm)
    election = the_election(app)
    assert sign_in(people["Ada"].email).get(nominations_url(election)).status_code == 404


def test_a_member_nominates_themselves_with_a_photo(app, sign_in, people, open_election):
    bea = sign_in(people["Bea"].email)
    page = bea.get(nominations_url(open_election))
    assert page.status_code == 200 and "Nominate" in page.get_data(as_text=True)
    response = bea.post(
        nominations_url(open_election),
        data={
            "member_number": "",
            "statement": "**Fair** pay.",
            "photo": (io.BytesIO(png()), "bea.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    with reading(app) as db:
        candidate = db.scalar(select(Candidate))
        assert candidate.state is CandidateState.ACCEPTED and candidate.photo_type == "image/png"
    photo = bea.get(
        f"/meetings/{open_election.meeting_id}/elections/{open_election.id}/candidates/{candidate.id}/photo"
    )
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert "<strong>Fair</strong> pay." in bea.get(nominations_url(open_election)).get_data(
        as_text=True
    )


def test_a_photo_with_wrong_magic_bytes_answers_422(app, sign_in, people, open_election):
    bea = sign_in(people["Bea"].email)
    response = bea.post(
        nominations_url(open_election),
        data={
            "statement": "Me.",
            "photo": (io.BytesIO(b"<html><script>x</script>"), "bea.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not the image its name says" in response.get_data(as_text=True)
    assert count(app, Candidate) == 0


def test_a_nominee_accepts_and_another_member_seconds(app, sign_in, people, open_election):
    ada, bea, cy = (sign_in(people[n].email) for n in ("Ada", "Bea", "Cy"))
    response = ada.post(
        nominations_url(open_election), data={"member_number": str(people["Bea"].number)}
    )
    assert response.status_code == 303
    with reading(app) as db:
        candidate_id = db.scalar(select(Candidate.id))
    base = f"{nominations_url(open_election)}/{candidate_id}"
    refused = cy.post(f"{base}/second")
    assert refused.status_code == 409 and "not accepted yet" in refused.get_data(as_text=True)
    assert ada.post(f"{base}/accept", data={"statement": "Yes"}).status_code == 403
    assert bea.post(f"{base}/accept", data={"statement": "I accept."}).status_code == 303
    assert cy.post(f"{base}/second").status_code == 303
    with reading(app) as db:
        assert db.get(Candidate, candidate_id).state is CandidateState.SECONDED


def test_nominating_across_classes_answers_403(app, sign_in, people, open_election):
    lee = sign_in(people["Lee"].email)
    response = lee.post(nominations_url(open_election), data={"statement": "Me"})
    assert response.status_code == 403
    assert "member of the Artist class" in response.get_data(as_text=True)


def test_staff_confirm_the_list(app, staff, sign_in, people, open_election):
    bea, cy = sign_in(people["Bea"].email), sign_in(people["Cy"].email)
    bea.post(nominations_url(open_election), data={"statement": "Me."})
    with reading(app) as db:
        candidate_id = db.scalar(select(Candidate.id))
    cy.post(f"{nominations_url(open_election)}/{candidate_id}/second")
    base = f"/staff/meetings/{open_election.meeting_id}/elections/{open_election.id}"
    assert staff.post(f"{base}/close").status_code == 303
    assert staff.post(f"{base}/confirm").status_code == 409  # Bea awaits a decision
    assert staff.post(f"{base}/candidates/{candidate_id}/confirm").status_code == 303
    assert staff.post(f"{base}/confirm").status_code == 303
    assert the_election(app).state is ElectionState.CANDIDATES_CONFIRMED
    assert count(app, AuditEvent, AuditEvent.action == "election.candidates_confirmed") == 1


def test_staff_reject_needs_a_reason(app, staff, sign_in, people, open_election):
    sign_in(people["Bea"].email).post(nominations_url(open_election), data={"statement": "Me."})
    with reading(app) as db:
        candidate_id = db.scalar(select(Candidate.id))
    base = f"/staff/meetings/{open_election.meeting_id}/elections/{open_election.id}"
    url = f"{base}/candidates/{candidate_id}/reject"
    assert staff.post(url, data={"reason": ""}).status_code == 422
    assert staff.post(url, data={"reason": "Not eligible."}).status_code == 303


def test_the_board_page_lists_classes_with_seats(app, sign_in, people, client):
    page = sign_in(people["Ada"].email).get("/board")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Artist directors" in text and "No Artist director sits now." in text
    assert client.get("/board").status_code == 303  # sign in first


def test_the_nominations_page_answers_htmx_too(app, sign_in, people, open_election):
    response = sign_in(people["Ada"].email).htmx_get(nominations_url(open_election))
    assert response.status_code == 200
    assert "HX-Request" in response.headers.get("Vary", "")


def test_a_nominee_declines_and_no_one_else_can(app, sign_in, people, open_election):
    ada, bea = sign_in(people["Ada"].email), sign_in(people["Bea"].email)
    ada.post(nominations_url(open_election), data={"member_number": str(people["Bea"].number)})
    with reading(app) as db:
        candidate_id = db.scalar(select(Candidate.id))
    url = f"{nominations_url(open_election)}/{candidate_id}/withdraw"
    assert ada.post(url).status_code == 403
    assert bea.post(url).status_code == 303
    with reading(app) as db:
        assert db.get(Candidate, candidate_id).state is CandidateState.WITHDRAWN


def test_staff_change_the_seats_while_nominations_are_open(app, staff, open_election):
    today = _today(app)
    url = f"/staff/meetings/{open_election.meeting_id}/elections/{open_election.id}"
    data = {"opens_on": today.isoformat(), "closes_on": (today + timedelta(days=3)).isoformat()}
    assert staff.post(url, data={**data, "seats": "1"}).status_code == 303
    assert the_election(app).seats == 1
    assert staff.post(url, data={**data, "seats": "0"}).status_code == 422


def about_the_board(outbox, email, subject):
    return [m for m in mails_to(outbox, email) if m.subject.startswith(subject)]


def test_the_nominee_is_mailed_and_so_is_a_rejected_candidate(
    app, staff, sign_in, people, open_election, outbox
):
    ada = sign_in(people["Ada"].email)
    ada.post(nominations_url(open_election), data={"member_number": str(people["Bea"].number)})
    (nominated,) = about_the_board(outbox, people["Bea"].email, "You are nominated")
    assert "nominated you" in nominated.text and nominations_url(open_election) in nominated.text
    with reading(app) as db:
        candidate_id = db.scalar(select(Candidate.id))
    base = f"/staff/meetings/{open_election.meeting_id}/elections/{open_election.id}"
    staff.post(f"{base}/candidates/{candidate_id}/reject", data={"reason": "Not eligible."})
    (rejected,) = about_the_board(outbox, people["Bea"].email, "Your nomination")
    assert "Not eligible." in rejected.text


@pytest.mark.parametrize("number", ["999", "x", "-1", "１"])
def test_nominating_an_unknown_member_number_answers_422(
    app, sign_in, people, open_election, number
):
    ada = sign_in(people["Ada"].email)
    response = ada.post(nominations_url(open_election), data={"member_number": number})
    assert response.status_code == 422
    assert 'name="member_number"' in response.get_data(as_text=True)
    assert count(app, Candidate) == 0
