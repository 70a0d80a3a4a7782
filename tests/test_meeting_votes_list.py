"""Who voted how: after an open (not secret) resolution closes, members read each member's
vote, a page at a time by key; a secret ballot's voters are never listed with a choice."""

from __future__ import annotations

import re

import pytest

from portal.services.meetings import results

from .factories import HTMX, reading

OPEN_AND_SECRET = (
    {"title": "Approve the minutes"},
    {"title": "Elect the chair", "secret": True},
)


@pytest.fixture
def ann(make_member):
    return make_member(email="ann@example.org", name="Ann Listener", classes=["listener"])


@pytest.fixture
def meeting(ann, make_member, make_meeting, factories):
    """Ann, Bob and Cat voted on an open and a secret resolution; voting is closed."""
    bob = make_member(email="bob@example.org", name="Bob Artist", classes=["artist"])
    cat = make_member(email="cat@example.org", name="Cat Worker", classes=["worker"])
    made = make_meeting(resolutions=OPEN_AND_SECRET)
    factories.vote(made, ann, "for", "against")
    factories.vote(made, bob, "against", "for")
    factories.vote(made, cat, "abstain", "for")
    factories.close_meeting(made)
    return made


def votes_url(meeting, index, **args):
    query = "".join(f"?{k}={v}" for k, v in args.items())
    return f"/meetings/{meeting.id}/resolutions/{meeting.resolution_ids[index]}/votes{query}"


def rows(body):
    """(name, class, choice) of each row of the votes table."""
    return re.findall(
        r'<th scope="row">([^<]+)</th><td>([^<]+)</td><td><span class="status[^"]*">(\w+)</span>',
        body,
    )


def test_members_read_who_voted_how_on_an_open_resolution_after_it_closes(ann, sign_in, meeting):
    client = sign_in(ann.email)
    results_page = client.get(f"/meetings/{meeting.id}/results").get_data(as_text=True)
    assert votes_url(meeting, 0) in results_page
    response = client.get(votes_url(meeting, 0))
    assert response.status_code == 200
    assert rows(response.get_data(as_text=True)) == [
        ("Ann Listener", "Listener", "For"),
        ("Bob Artist", "Artist", "Against"),
        ("Cat Worker", "Worker", "Abstain"),
    ]


def test_staff_read_the_list_too(make_user, sign_in, meeting):
    make_user(email="staff@example.org", role="staff")
    response = sign_in("staff@example.org").get(votes_url(meeting, 0))
    assert response.status_code == 200 and len(rows(response.get_data(as_text=True))) == 3


def test_a_secret_ballot_lists_no_voter_and_its_votes_page_is_not_found(ann, sign_in, meeting):
    client = sign_in(ann.email)
    for headers in ({}, HTMX):
        assert client.get(votes_url(meeting, 1), headers=headers).status_code == 404
    body = client.get(f"/meetings/{meeting.id}/results").get_data(as_text=True)
    assert votes_url(meeting, 1) not in body
    assert "Bob Artist" not in body and "Cat Worker" not in body  # no voter named anywhere


def test_no_list_while_voting_is_open(ann, sign_in, make_meeting, factories):
    open_meeting = make_meeting(resolutions=OPEN_AND_SECRET)
    factories.vote(open_meeting, ann, "for", "for")
    client = sign_in(ann.email)
    assert client.get(votes_url(open_meeting, 0)).status_code == 404
    body = client.get(f"/meetings/{open_meeting.id}/results").get_data(as_text=True)
    assert "/votes" not in body


def test_the_list_is_paged_by_key_and_never_all_at_once(app, ann, meeting, sign_in):
    with reading(app) as db:
        from portal.models import Resolution

        resolution = db.get(Resolution, meeting.resolution_ids[0])
        first = results.member_votes(db, resolution, per_page=2)
        second = results.member_votes(db, resolution, after=first.next_after, per_page=2)
        assert [v.name for v in first.votes] == ["Ann Listener", "Bob Artist"]
        assert [v.name for v in second.votes] == ["Cat Worker"]
        assert second.next_after is None and second.after == first.next_after
        assert results.member_votes(db, db.get(Resolution, meeting.resolution_ids[1])) is None
    client = sign_in(ann.email)
    body = client.get(votes_url(meeting, 0, after=first.next_after)).get_data(as_text=True)
    assert [name for name, _, _ in rows(body)] == ["Cat Worker"]
    assert 'rel="first"' in body and 'rel="next"' not in body


@pytest.mark.parametrize("after", ["x", "-1", "0", "²", "9" * 30])
def test_a_bad_cursor_shows_the_first_page(ann, sign_in, meeting, after):
    response = sign_in(ann.email).get(votes_url(meeting, 0, after=after))
    assert response.status_code == 200 and len(rows(response.get_data(as_text=True))) == 3


def test_a_page_holds_at_most_a_hundred_votes():
    assert results.VOTES_PER_PAGE == 100
