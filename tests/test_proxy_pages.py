"""Proxies on the meeting's pages (issue 14 §1): the ballot page shows the member's proxy
and the proxies they hold; the results, their CSV and the minutes' draft say how many
votes came by proxy."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine

from portal.models import Meeting
from portal.services.meetings import minutes, proxies

from . import test_proxy_views
from .factories import HTMX, is_partial, reading, sql_statements

# The proxy views' members, shared: Ann (who appoints) and Hal (who holds), listeners.
ann = test_proxy_views.ann
hal = test_proxy_views.hal


@pytest.fixture
def cat(make_member):
    return make_member(email="cat@example.org", name="Cat Artist", classes=["artist"])


@pytest.fixture
def meeting(ann, hal, cat, make_meeting):
    return make_meeting(resolutions=({"title": "Approve the minutes"}, {"title": "Set the fee"}))


# -- the ballot page ----------------------------------------------------------------------


def test_the_ballot_page_offers_a_proxy_until_the_deadline(app, sign_in, ann, meeting):
    client = sign_in(ann.email)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Your proxy" in page and "Appoint a proxy" in page
    assert f'href="/meetings/{meeting.id}/proxy"' in page
    with reading(app) as db:
        deadline = proxies.deadline(db, db.get(Meeting, meeting.id))
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        late = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Appoint a proxy" not in late and "Your proxy" not in late


def test_staff_see_no_proxy_section(staff, meeting):
    page = staff.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Your proxy" not in page and "Proxies you hold" not in page


def test_the_ballot_page_shows_the_members_proxy_and_its_state(
    app, sign_in, factories, ann, hal, meeting
):
    appointment_id = factories.proxy(meeting, ann, hal, "against", None)
    client = sign_in(ann.email)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Your directed proxy is Hal Holder" in page and "Awaiting the holder" in page
    assert "Change or revoke your proxy" in page
    sign_in(hal.email).post(
        f"/meetings/{meeting.id}/proxy/{appointment_id}/answer", data={"answer": "decline"}
    )
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Declined" in page and "They declined it" in page and "Appoint a proxy" in page


def test_a_proxy_standing_after_the_deadline_is_shown_without_the_link(
    app, sign_in, factories, ann, hal, meeting
):
    factories.proxy(meeting, ann, hal, accept=True)
    with reading(app) as db:
        deadline = proxies.deadline(db, db.get(Meeting, meeting.id))
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        page = sign_in(ann.email).get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Your discretionary proxy is Hal Holder" in page and "Accepted" in page
    assert "Change or revoke your proxy" not in page


def test_the_holder_accepts_and_casts_a_proxy_from_the_ballot_page(
    app, sign_in, factories, ann, hal, meeting
):
    first, _ = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, "against", None)
    client = sign_in(hal.email)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Proxies you hold" in page
    assert f'id="proxy-{appointment_id}"' in page and 'data-hx-target="this"' in page
    assert "Ann Listener" in page and "Accept" in page
    base = f"/meetings/{meeting.id}/proxy/{appointment_id}"
    answered = client.post(f"{base}/answer", data={"answer": "accept"}, headers=HTMX)
    assert answered.status_code == 200 and is_partial(answered)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Cast Against as directed" in page
    cast_now = client.post(
        f"{base}/resolutions/{first}/vote", data={"choice": "against"}, headers=HTMX
    )
    assert cast_now.status_code == 200 and "— cast" in cast_now.get_data(as_text=True)
    assert "Cast Against as directed" not in cast_now.get_data(as_text=True)  # done


def test_the_grantors_ballot_says_a_vote_was_cast_by_their_proxy(
    sign_in, factories, ann, hal, meeting
):
    first, _ = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, "against", None, accept=True)
    factories.cast_proxy(appointment_id, first, hal, None)
    page = sign_in(ann.email).get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert page.count("Your vote, cast by your proxy") == 1


def test_a_refusal_on_the_proxy_page_is_said_once_not_in_each_held_proxy(
    sign_in, factories, ann, hal, meeting
):
    factories.proxy(meeting, ann, hal)
    response = sign_in(hal.email).post(
        f"/meetings/{meeting.id}/proxy", data={"holder": str(hal.number), "kind": "discretionary"}
    )
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("Your proxy must be someone else.") == 1


def test_the_ballot_page_reads_as_many_statements_for_four_held_proxies_as_for_one(
    app, sign_in, factories, hal, make_member
):
    """A holder's page must not grow a query per proxy held (the chair's may hold many)."""
    grantors = [make_member(email=f"g{n}@example.org", classes=["listener"]) for n in range(4)]
    # The roll was frozen with the meeting's notice: a new meeting puts the grantors on it.
    meeting = factories.meeting(
        resolutions=({"title": "Approve the minutes"}, {"title": "Set the fee"})
    )
    client = sign_in(hal.email)
    counts = []
    for grantor in grantors:
        factories.proxy(meeting, grantor, hal, "for", None, accept=True)
        with sql_statements(app) as seen:
            response = client.get(f"/meetings/{meeting.id}")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('class="card held-proxy"') == len(counts) + 1
        counts.append(len(seen))
    assert counts[-1] == counts[0], counts


# -- results, CSV, minutes ----------------------------------------------------------------


@pytest.fixture
def counted(factories, ann, hal, cat, meeting):
    """Ann's proxy (Hal) voted on resolution 1, and on 2 as directed at close; Hal and Cat
    voted themselves on both."""
    first, _ = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, "for", "against", accept=True)
    factories.cast_proxy(appointment_id, first, hal, None)
    factories.vote(meeting, hal, "for", "for")
    factories.vote(meeting, cat, "against", "for")
    factories.close_meeting(meeting)
    return meeting


def test_the_results_say_how_many_votes_came_by_proxy(sign_in, ann, counted):
    body = sign_in(ann.email).get(f"/meetings/{counted.id}/results").get_data(as_text=True)
    assert body.count("1 of the 3 votes came by proxy") == 2
    assert '<th scope="col" class="numeric">By proxy</th>' in body


def test_the_results_say_none_came_by_proxy_when_none_did(
    sign_in, factories, ann, hal, cat, meeting
):
    factories.vote(meeting, ann, "for", "for")
    factories.close_meeting(meeting)
    body = sign_in(ann.email).get(f"/meetings/{meeting.id}/results").get_data(as_text=True)
    assert "No vote came by proxy" in body


def test_the_results_csv_has_the_proxy_votes_per_class_and_in_total(sign_in, ann, counted):
    response = sign_in(ann.email).get(f"/meetings/{counted.id}/results.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_proxy = {(row["resolution"], row["class"]): row["by_proxy"] for row in rows}
    assert by_proxy[("1", "All classes")] == "1" and by_proxy[("2", "All classes")] == "1"
    assert by_proxy[("1", "Listener")] == "1" and by_proxy[("1", "Artist")] == "0"


def test_the_minutes_draft_says_how_many_votes_came_by_proxy(app, counted):
    with reading(app) as db:
        body = minutes.prefilled_body(db, db.get(Meeting, counted.id))
    assert body.count("1 of the 3 votes came by proxy.") == 2


def test_proxy_votes_are_counted_for_a_whole_meeting_in_one_statement(app, counted):
    with reading(app) as db:
        first, second = counted.resolution_ids
        with sql_statements(app) as seen:
            counts = proxies.proxy_votes_by_class(db, [first, second])
    assert counts == {first: {"listener": 1}, second: {"listener": 1}}
    assert [s for s in seen if s.startswith("SELECT")] == seen[-1:]
