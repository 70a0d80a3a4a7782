"""Proxies for staff and on paper (issue 14 §1): the chair's proxies on the staff pages,
the printed proxy form, staff recording a received form; and three fixes around them."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal import coop as coop_module
from portal.models import Meeting, ProposalCall
from portal.services.meetings import proxies

from . import test_member_motions, test_proxy_views
from .factories import HTMX, is_partial, reading

ann = test_proxy_views.ann
hal = test_proxy_views.hal


@pytest.fixture
def meeting(ann, hal, make_meeting):
    return make_meeting(
        resolutions=(
            {"title": "Approve the minutes"},
            {"title": "Elect the board", "secret": True},
        )
    )


# -- (a) the call for resolutions is shown and entered by its last day --------------------


def test_the_call_form_shows_the_last_day_and_saving_it_again_keeps_it(
    app, staff, sign_in, ann, make_meeting
):
    draft = make_meeting(state="draft", days=60, resolutions=())
    assert test_member_motions.open_call(staff, draft, app, closes=5).status_code == 303
    first_day = test_member_motions._today(app)
    last = first_day + timedelta(days=5)
    page = staff.get(f"/staff/meetings/{draft.id}/proposals").get_data(as_text=True)
    assert f'name="closes_on" type="date" value="{last.isoformat()}"' in page
    assert f"to the end of {last:%-d %B %Y}" in page
    with reading(app) as db:
        first = db.scalar(select(ProposalCall.closes_at))
    # Saving the form as shown moves nothing.
    again = staff.post(
        f"/staff/meetings/{draft.id}/proposals/call",
        data={"opens_on": first_day.isoformat(), "closes_on": last.isoformat()},
    )
    assert again.status_code == 303
    with reading(app) as db:
        assert db.scalar(select(ProposalCall.closes_at)) == first
    member_page = sign_in(ann.email).get(f"/meetings/{draft.id}/proposals")
    assert f"to the end of {last:%-d %B %Y}" in member_page.get_data(as_text=True)


# -- (b) a plain cast from the ballot page comes back to the ballot page ------------------


def test_a_plain_cast_from_the_ballot_page_returns_to_it(sign_in, factories, ann, hal, meeting):
    first, _ = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, "against", None, accept=True)
    client = sign_in(hal.email)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f'name="next" value="/meetings/{meeting.id}"' in page
    base = f"/meetings/{meeting.id}/proxy/{appointment_id}/resolutions/{first}/vote"
    back = client.post(base, data={"choice": "against", "next": f"/meetings/{meeting.id}"})
    assert back.status_code == 303
    assert back.headers["Location"] == f"/meetings/{meeting.id}#proxy-{appointment_id}"


def test_a_plain_cast_never_redirects_off_the_site(sign_in, factories, ann, hal, meeting):
    first, _ = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, "against", None, accept=True)
    base = f"/meetings/{meeting.id}/proxy/{appointment_id}/resolutions/{first}/vote"
    away = sign_in(hal.email).post(base, data={"choice": "against", "next": "//evil.example"})
    assert away.headers["Location"] == f"/meetings/{meeting.id}/proxy#proxy-{appointment_id}"


# -- (c) the choice the holder made is shown ----------------------------------------------


def test_the_holders_choice_on_an_open_resolution_is_shown_to_holder_and_grantor(
    sign_in, factories, ann, hal, meeting
):
    first, _ = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, None, None, accept=True)
    client = sign_in(hal.email)
    base = f"/meetings/{meeting.id}/proxy/{appointment_id}/resolutions/{first}/vote"
    cast = client.post(base, data={"choice": "abstain"}, headers=HTMX)
    assert cast.status_code == 200 and is_partial(cast)
    assert "— cast</span> <span" in cast.get_data(as_text=True)
    page = client.get(f"/meetings/{meeting.id}/proxy").get_data(as_text=True)
    assert "Approve the minutes: you decide" in " ".join(page.split())
    assert '— cast</span> <span class="status' in page and ">Abstain</span>" in page
    grantor = sign_in(ann.email).get(f"/meetings/{meeting.id}/proxy").get_data(as_text=True)
    assert "the holder decides · cast" in grantor and ">Abstain</span>" in grantor


def test_the_holders_secret_choice_shows_only_in_their_receipt(
    sign_in, factories, ann, hal, meeting
):
    _, secret = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, None, None, accept=True)
    client = sign_in(hal.email)
    base = f"/meetings/{meeting.id}/proxy/{appointment_id}/resolutions/{secret}/vote"
    cast = client.post(base, data={"choice": "against"}, headers=HTMX).get_data(as_text=True)
    assert ">Against</span>" in cast and "Receipt <code>" in cast
    page = client.get(f"/meetings/{meeting.id}/proxy").get_data(as_text=True)
    assert (
        "— cast (secret ballot)" in page
        and ">Against</span>" not in page.split("Proxies you hold")[1]
    )
    grantor = sign_in(ann.email).get(f"/meetings/{meeting.id}/proxy").get_data(as_text=True)
    assert "the holder decides · cast" not in grantor


# -- the printed proxy form ----------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages
    )


def test_the_printed_proxy_form_names_the_member_meeting_resolutions_and_deadline(
    app, sign_in, ann, meeting
):
    client = sign_in(ann.email)
    assert f'href="/meetings/{meeting.id}/proxy/form.pdf"' in client.get(
        f"/meetings/{meeting.id}/proxy"
    ).get_data(as_text=True)
    response = client.get(f"/meetings/{meeting.id}/proxy/form.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    with reading(app) as db:
        settings = coop_module.settings(db)
        due = coop_module.clock(db).local(proxies.deadline(db, db.get(Meeting, meeting.id)))
        name, address, mail_to = settings.legal_name, settings.address, settings.contact_email
    assert name in text and "Proxy form" in text and "Annual general meeting" in text
    assert f"I, Ann Listener, member no. {ann.number}, appoint as my proxy" in text
    assert "the chair of the meeting" in text
    assert "1. Approve the minutes" in text and "2. Elect the board (secret ballot)" in text
    assert "FOR AGAINST ABSTAIN HOLDER DECIDES" in text.upper()
    assert f"arrives by {due:%A %-d %B %Y, %H:%M}" in text and "48 hours before" in text
    assert "Signature" in text and "Date" in text
    assert " ".join(address.split()) in text and mail_to in text


def test_the_proxy_form_is_refused_to_a_member_off_the_roll(sign_in, meeting, make_member):
    late = make_member(email="late@example.org", classes=["listener"])  # after the notice
    response = sign_in(late.email).get(f"/meetings/{meeting.id}/proxy/form.pdf")
    assert response.status_code == 403


def test_staff_get_no_proxy_form(staff, meeting):
    assert staff.get(f"/meetings/{meeting.id}/proxy/form.pdf").status_code == 403
