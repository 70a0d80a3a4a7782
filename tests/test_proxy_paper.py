"""Proxies for staff and on paper (issue 14 §1): the chair's proxies on the staff pages,
the printed proxy form, staff recording a received form; and three fixes around them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import ProposalCall

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
