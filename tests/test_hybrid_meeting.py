"""A hybrid meeting (issue 14 §2): staff record attendance, the tellers' show of hands and
paper ballots from the room or the post, each rule named by a test, with htmx and as
plain form posts; refusals write nothing."""

from __future__ import annotations

import html
import io
import re
from csv import DictReader

import pytest
from sqlalchemy import select

from portal.models import (
    Attendance,
    AuditEvent,
    Ballot,
    Channel,
    HandCount,
    Meeting,
    Participation,
    ProxyDirection,
    Resolution,
)
from portal.services.meetings import ballots, closing, hybrid

from .factories import HTMX, count, is_partial, reading


@pytest.fixture
def ada(make_member):
    return make_member(email="ada@example.org", name="Ada Okafor", classes=["listener"])


@pytest.fixture
def ben(make_member):
    return make_member(email="ben@example.org", name="Ben Artist", classes=["artist"])


@pytest.fixture
def cal(make_member):
    return make_member(email="cal@example.org", name="Cal Listener", classes=["listener"])


@pytest.fixture
def meeting(ada, ben, cal, make_meeting):
    return make_meeting(
        resolutions=(
            {"title": "Approve the accounts"},
            {"title": "Elect the board", "secret": True},
        )
    )


def room(meeting, index=0):
    return f"/staff/meetings/{meeting.id}/resolutions/{meeting.resolution_ids[index]}/room"


def attend(staff, meeting, member, present="y"):
    return staff.post(
        f"/staff/meetings/{meeting.id}/attendance/{member.id}", data={"present": present}
    )


def paper(staff, meeting, member, choice="for", channel="in_room", index=0):
    return staff.post(
        f"{room(meeting, index)[: -len('/room')]}/paper",
        data={"member": str(member.number), "choice": choice, "channel": channel},
    )


def hands(staff, meeting, index=0, **fields):
    return staff.post(f"{room(meeting, index)[: -len('/room')]}/hands", data=fields)


def text(response):
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


# -- attendance ----------------------------------------------------------------------------


def test_staff_find_a_member_on_the_roll_and_mark_them_present(app, staff, meeting, ada, cal):
    page = staff.get(f"/staff/meetings/{meeting.id}/attendance?q=okafor")
    assert page.status_code == 200
    assert "Ada Okafor" in text(page) and "Cal Listener" not in text(page)
    by_number = staff.get(f"/staff/meetings/{meeting.id}/attendance?q={cal.number}", headers=HTMX)
    assert is_partial(by_number) and "Cal Listener" in text(by_number)
    marked = attend(staff, meeting, ada)
    assert marked.status_code == 303
    swapped = staff.post(
        f"/staff/meetings/{meeting.id}/attendance/{cal.id}",
        data={"present": "y", "q": "cal"},
        headers=HTMX,
    )
    assert swapped.status_code == 200 and is_partial(swapped)
    assert "Cal Listener marked present" in text(swapped)
    assert count(app, Attendance) == 2
    page = text(staff.get(f"/staff/meetings/{meeting.id}/attendance"))
    assert re.search(r"Listener</th><td class=\"num\">2</td>", page)
    assert attend(staff, meeting, ada, present="").status_code == 303
    assert count(app, Attendance) == 1
    assert "meeting.attended" in [a for a in _actions(app)]


@pytest.mark.parametrize(
    ("state", "linked"),
    [("draft", False), ("noticed", True), ("voting_open", True), ("voting_closed", False)],
)
def test_the_meeting_page_links_attendance_whenever_it_can_be_recorded(
    staff, make_meeting, ada, state, linked
):
    meeting = make_meeting(state=state)
    page = staff.get(f"/staff/meetings/{meeting.id}").get_data(as_text=True)
    link = f'<li><a href="/staff/meetings/{meeting.id}/attendance">Attendance in the room</a></li>'
    assert (link in page) is linked


def test_the_roll_is_paged_by_member_number(app, staff, meeting, ada, ben, cal, factories):
    with factories.session() as db:
        first = hybrid.search_roll(db, db.get(Meeting, meeting.id), "", per_page=2)
        assert [m.name for m in first.members] == ["Ada Okafor", "Ben Artist"]
        rest = hybrid.search_roll(db, db.get(Meeting, meeting.id), "", after=first.next_after)
        assert [m.name for m in rest.members] == ["Cal Listener"] and rest.next_after is None
    page = text(staff.get(f"/staff/meetings/{meeting.id}/attendance?after={ada.number}"))
    assert "Ada Okafor" not in page and "Ben Artist" in page and "From the first" in page


def test_marking_someone_not_on_the_roll_is_refused_and_nothing_is_written(
    app, staff, meeting, make_member
):
    late = make_member(email="late@example.org", name="Lee Late", classes=["listener"])
    response = attend(staff, meeting, late)
    assert response.status_code == 403
    assert "not on this meeting's voter roll" in text(response)
    assert count(app, Attendance) == 0


def test_attendance_is_refused_after_voting_closes(app, staff, meeting, ada):
    assert staff.post(f"/staff/meetings/{meeting.id}/close").status_code == 303
    response = attend(staff, meeting, ada)
    assert response.status_code == 409 and count(app, Attendance) == 0


# -- paper ballots -------------------------------------------------------------------------


def test_a_paper_ballot_is_counted_with_its_channel_and_audited(app, staff, meeting, ada):
    response = paper(staff, meeting, ada, "against", "postal")
    assert response.status_code == 303
    with reading(app) as db:
        vote = db.scalar(select(Participation))
        assert (vote.member_id, vote.channel, vote.choice.value) == (
            ada.id,
            Channel.POSTAL,
            "against",
        )
        assert db.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "vote.entered"
    page = text(staff.get(room(meeting)))
    assert "Ada Okafor" in page and "By post" in page


def test_an_in_room_paper_ballot_marks_the_member_present_and_a_postal_one_does_not(
    app, staff, meeting, ada, cal
):
    assert paper(staff, meeting, ada, "for", "in_room").status_code == 303
    assert paper(staff, meeting, cal, "for", "postal").status_code == 303
    with reading(app) as db:
        assert list(db.scalars(select(Attendance.member_id))) == [ada.id]
    assert _actions(app).count("meeting.attended") == 1
    # already present: a second in-room ballot adds no attendance and no audit event
    assert paper(staff, meeting, ada, "for", "in_room", index=1).status_code == 303
    assert count(app, Attendance) == 1 and _actions(app).count("meeting.attended") == 1


def test_paper_after_an_online_vote_is_refused_naming_when_and_how(
    app, staff, meeting, ada, factories
):
    factories.vote(meeting, ada, "for")
    response = paper(staff, meeting, ada, "against")
    assert response.status_code == 409
    assert re.search(r"Ada Okafor voted online on \d{1,2} \w+ 20\d\d at \d\d:\d\d", text(response))
    with reading(app) as db:
        assert [p.choice.value for p in db.scalars(select(Participation))] == ["for"]


def test_online_after_paper_is_refused_naming_when_and_how(app, staff, meeting, ada, sign_in):
    assert paper(staff, meeting, ada, "against").status_code == 303
    response = sign_in(ada.email).post(
        f"/meetings/{meeting.id}/resolutions/{meeting.resolution_ids[0]}/vote",
        data={"choice": "for"},
    )
    assert response.status_code == 409
    assert "Ada Okafor voted on paper in the room on" in text(response)
    with reading(app) as db:
        assert [p.choice.value for p in db.scalars(select(Participation))] == ["against"]


def test_paper_after_a_proxy_vote_is_refused(app, staff, meeting, ada, cal, factories):
    appointment = factories.proxy(meeting, ada, cal, accept=True)
    with factories.session() as db:
        ballots.cast_vote(
            db,
            db.get(Resolution, meeting.resolution_ids[0]),
            ada.load(db),
            "for",
            actor=cal.load(db).user,
            proxy_id=appointment,
        )
    response = paper(staff, meeting, ada, "against")
    assert response.status_code == 409 and "Ada Okafor voted by proxy on" in text(response)
    assert count(app, Participation) == 1


def test_a_paper_ballot_revokes_the_members_proxy_for_that_resolution(
    app, staff, meeting, ada, cal, factories
):
    factories.proxy(meeting, ada, cal, "for", "for", accept=True)
    assert paper(staff, meeting, ada, "against").status_code == 303
    with reading(app) as db:
        directions = {d.resolution_id: d.revoked_at for d in db.scalars(select(ProxyDirection))}
    assert directions[meeting.resolution_ids[0]] is not None
    assert directions[meeting.resolution_ids[1]] is None


def test_a_secret_paper_ballot_goes_on_a_ballot_and_staff_see_only_that_they_voted(
    app, staff, meeting, ada
):
    assert paper(staff, meeting, ada, "against", index=1).status_code == 303
    with reading(app) as db:
        vote = db.scalar(select(Participation))
        ballot = db.scalar(select(Ballot))
        assert vote.choice is None and vote.channel is Channel.IN_ROOM
        assert ballot.choice.value == "against" and ballot.channel is Channel.IN_ROOM
        summary = db.scalar(select(AuditEvent.summary).order_by(AuditEvent.id.desc()))
        assert "secret ballot" in summary and "gainst" not in summary
    page = text(staff.get(room(meeting, 1)))
    assert "Voted (secret ballot)" in page and "Against</span>" not in page


def test_a_paper_ballot_for_a_member_not_on_the_roll_is_refused(app, staff, meeting, make_member):
    late = make_member(email="late@example.org", classes=["listener"])
    response = paper(staff, meeting, late)
    assert response.status_code == 403 and "not on this meeting's voter roll" in text(response)
    unknown = staff.post(
        f"{room(meeting)[: -len('/room')]}/paper",
        data={"member": "99999", "choice": "for", "channel": "in_room"},
    )
    assert unknown.status_code == 422 and "No member has the number 99999" in text(unknown)
    assert count(app, Participation) == 0


@pytest.mark.parametrize(
    "data",
    [
        {"member": "x", "choice": "for", "channel": "in_room"},
        {"choice": "maybe", "channel": "in_room"},
        {"choice": "for", "channel": "online"},
        {"choice": "for", "channel": ""},
    ],
)
def test_bad_paper_input_gets_the_form_back_and_writes_nothing(app, staff, meeting, ada, data):
    data = {"member": str(ada.number), **data}
    response = staff.post(f"{room(meeting)[: -len('/room')]}/paper", data=data)
    assert response.status_code == 422
    assert count(app, Participation) == 0


def test_paper_before_voting_opens_is_refused(app, staff, make_meeting, ada):
    noticed = make_meeting(state="noticed")
    response = paper(staff, noticed, ada)
    assert response.status_code == 409 and "has not opened yet" in text(response)
    assert count(app, Participation) == 0


def test_paper_and_hands_after_voting_closes_are_refused(app, staff, meeting, ada):
    assert staff.post(f"/staff/meetings/{meeting.id}/close").status_code == 303
    assert paper(staff, meeting, ada).status_code == 409
    assert hands(staff, meeting, **{"for-listener": "1"}).status_code == 409
    assert count(app, Participation) == 0 and count(app, HandCount) == 0


# -- show of hands -------------------------------------------------------------------------


def test_hands_are_recorded_per_class_and_replaced_when_entered_again(
    app, staff, meeting, ada, cal
):
    attend(staff, meeting, ada)
    attend(staff, meeting, cal)
    response = hands(staff, meeting, **{"for-listener": "1", "against-listener": "1"})
    assert response.status_code == 303
    again = hands(staff, meeting, **{"for-listener": "2", "against-listener": ""})
    assert again.status_code == 303
    with reading(app) as db:
        rows = db.scalars(select(HandCount)).all()
        assert [(h.votes_for, h.against, h.abstain) for h in rows] == [(2, 0, 0)]
    assert 'value="2"' in text(staff.get(room(meeting)))


def test_hands_on_a_secret_resolution_are_refused(app, staff, meeting, ada):
    attend(staff, meeting, ada)
    response = hands(staff, meeting, index=1, **{"for-listener": "1"})
    assert response.status_code == 409 and "secret ballot" in text(response)
    assert count(app, HandCount) == 0


def test_hands_over_attendance_are_refused_saying_why(app, staff, meeting, ada, cal, factories):
    attend(staff, meeting, ada)
    attend(staff, meeting, cal)
    factories.vote(meeting, cal, "for")  # present, but voted online already
    response = hands(staff, meeting, **{"for-listener": "1", "abstain-listener": "1"})
    assert response.status_code == 422
    assert (
        "The tellers counted 2 hands in the Listener class, but only 1 of its members present "
        "has not already voted on resolution 1 online, by proxy or on paper" in text(response)
    )
    assert count(app, HandCount) == 0


@pytest.mark.parametrize("bad", ["-1", "1.5", "many", "99999999"])
def test_hand_counts_must_be_whole_numbers(app, staff, meeting, ada, bad):
    attend(staff, meeting, ada)
    response = hands(staff, meeting, **{"for-listener": bad})
    assert response.status_code == 422 and "a whole number, 0 or more" in text(response)
    assert count(app, HandCount) == 0


# -- the count -----------------------------------------------------------------------------


def test_the_tally_merges_every_channel_and_the_results_show_each(
    app, staff, meeting, ada, ben, cal, factories, make_member
):
    attend(staff, meeting, ada)
    attend(staff, meeting, cal)
    factories.vote(meeting, ben, "for", "for")
    assert paper(staff, meeting, cal, "against", "postal").status_code == 303
    assert paper(staff, meeting, cal, "for", "in_room", index=1).status_code == 303
    assert hands(staff, meeting, **{"for-listener": "1"}).status_code == 303
    assert staff.post(f"/staff/meetings/{meeting.id}/close").status_code == 303
    with reading(app) as db:
        first = db.get(Resolution, meeting.resolution_ids[0])
        assert (first.votes_for, first.votes_against) == (2, 1)
        channels = {c["code"]: c["channels"] for c in first.tally["classes"]}
        assert channels["listener"] == {
            "postal": {"for": 0, "against": 1, "abstain": 0},
            "hands": {"for": 1, "against": 0, "abstain": 0},
        }
        assert channels["artist"] == {"online": {"for": 1, "against": 0, "abstain": 0}}
        second = db.get(Resolution, meeting.resolution_ids[1])
        assert second.tally["classes"][-1]["channels"] or second.tally["classes"][0]["channels"]
        assert closing.check_votes(db).ok
    results = text(staff.get(f"/meetings/{meeting.id}/results"))
    assert "1 online, 1 by post, 1 by show of hands" in results
    assert "1 online, 1 in the room" in results
    assert "Show of hands</th>" in results
    csv = staff.get(f"/meetings/{meeting.id}/results.csv").get_data(as_text=True)
    rows = list(DictReader(io.StringIO(csv)))
    channels = {
        (r["resolution"], r["class"]): (
            r["online"],
            r["by_proxy"],
            r["in_room"],
            r["by_post"],
            r["show_of_hands"],
        )
        for r in rows
    }
    assert channels["1", "Listener"] == ("0", "0", "0", "1", "1")
    assert channels["1", "Artist"] == ("1", "0", "0", "0", "0")
    assert channels["2", "All classes"] == ("1", "0", "1", "0", "0")


def _actions(app):
    with reading(app) as db:
        return list(db.scalars(select(AuditEvent.action)))
