"""The proxy page: a member appoints a directed proxy; the holder accepts and casts it,
through htmx and as plain form posts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Participation, ProxyAppointment, ProxyState

from .factories import HTMX, is_partial, reading


@pytest.fixture
def ann(make_member):
    return make_member(email="ann@example.org", name="Ann Listener", classes=["listener"])


@pytest.fixture
def hal(make_member):
    return make_member(email="hal@example.org", name="Hal Holder", classes=["listener"])


@pytest.fixture
def meeting(ann, hal, make_meeting):
    return make_meeting(resolutions=({"title": "Approve the minutes"}, {"title": "Set the fee"}))


def test_a_member_appoints_a_directed_proxy_and_the_holder_casts_it(
    app, sign_in, ann, hal, meeting
):
    first, second = meeting.resolution_ids
    ann_client = sign_in(ann.email)
    assert ann_client.get(f"/meetings/{meeting.id}/proxy").status_code == 200
    response = ann_client.post(
        f"/meetings/{meeting.id}/proxy",
        data={
            "holder": str(hal.number),
            "kind": "directed",
            f"direction-{first}": "against",
            f"direction-{second}": "holder",
        },
    )
    assert response.status_code == 303
    with reading(app) as db:
        appointment = db.scalar(select(ProxyAppointment))
        assert appointment.state is ProxyState.APPOINTED
    hal_client = sign_in(hal.email)
    page = hal_client.get(f"/meetings/{meeting.id}/proxy").get_data(as_text=True)
    assert "Ann Listener" in page and "Accept" in page
    base = f"/meetings/{meeting.id}/proxy/{appointment.id}"
    answered = hal_client.post(f"{base}/answer", data={"answer": "accept"}, headers=HTMX)
    assert answered.status_code == 200 and is_partial(answered)
    assert "Cast Against as directed" in answered.get_data(as_text=True)
    refused = hal_client.post(
        f"{base}/resolutions/{first}/vote", data={"choice": "for"}, headers=HTMX
    )
    assert refused.status_code == 422 and "directed to vote Against" in refused.get_data(
        as_text=True
    )
    cast = hal_client.post(
        f"{base}/resolutions/{first}/vote", data={"choice": "against"}, headers=HTMX
    )
    assert cast.status_code == 200 and "— cast" in cast.get_data(as_text=True)
    plain = hal_client.post(f"{base}/resolutions/{second}/vote", data={"choice": "for"})
    assert plain.status_code == 303
    with reading(app) as db:
        assert db.scalar(select(Participation.proxy_id).where(Participation.member_id == ann.id))
        assert len(db.scalars(select(Participation)).all()) == 2


def test_a_proxy_to_someone_not_on_the_roll_gets_the_form_back_with_why(
    app, sign_in, ann, meeting, make_member
):
    newcomer = make_member(email="new@example.org", classes=["listener"])
    response = sign_in(ann.email).post(
        f"/meetings/{meeting.id}/proxy",
        data={"holder": str(newcomer.number), "kind": "discretionary"},
    )
    assert response.status_code == 422
    assert "voter roll: a proxy must be a member on the roll" in response.get_data(as_text=True)
    with reading(app) as db:
        assert db.scalar(select(ProxyAppointment.id)) is None


def test_someone_else_cannot_cast_a_proxy(app, sign_in, ann, hal, meeting, make_member):
    sign_in(ann.email).post(
        f"/meetings/{meeting.id}/proxy", data={"holder": str(hal.number), "kind": "discretionary"}
    )
    with reading(app) as db:
        appointment_id = db.scalar(select(ProxyAppointment.id))
    sign_in(hal.email).post(
        f"/meetings/{meeting.id}/proxy/{appointment_id}/answer", data={"answer": "accept"}
    )
    other = make_member(email="eve@example.org", classes=["listener"])
    eve = sign_in(other.email)
    base = f"/meetings/{meeting.id}/proxy/{appointment_id}"
    vote = f"{base}/resolutions/{meeting.resolution_ids[0]}/vote"
    for headers in ({}, HTMX):  # htmx is refused as a plain post is (it had answered 404)
        assert eve.post(vote, data={"choice": "for"}, headers=headers).status_code == 403
        assert (
            eve.post(f"{base}/answer", data={"answer": "decline"}, headers=headers).status_code
            == 403
        )
    with reading(app) as db:
        assert db.scalar(select(ProxyAppointment.state)) is ProxyState.ACCEPTED
        assert db.scalar(select(Participation.id)) is None
