"""The meeting's page, its turnout and a vote run a fixed number of statements, however many
resolutions and elections the meeting has and however large its roll (issue 16 §2, §3, §5):
the member's roll entries, votes and rankings are read once for them all, and the roll's
size per class is kept as the roll is frozen (``roll_classes``), never counted again."""

from __future__ import annotations

from sqlalchemy import func, select, update

from portal.db import write_session
from portal.models import (
    Election,
    Meeting,
    Resolution,
    ResolutionKind,
    RollClass,
    RollEntry,
    TurnoutCount,
)
from portal.services.elections import ballots as election_ballots
from portal.services.meetings import ballots as meeting_ballots
from portal.services.meetings import closing, roll
from portal.services.register.classes import find_class
from tests.factories import sql_statements

from .ranked_elections import open_election

# One resolution, secret and of the artists' class, against six of every kind: each page
# reads the classes and the secret ballots once, whatever the number.
ONE = ({"title": "Artists' fees", "kind": "class", "member_class": "artist", "secret": True},)
SIX = (
    {"title": "Approve the accounts"},
    {"title": "Elect the auditor", "secret": True},
    {"title": "Change the rules", "kind": "special"},
    {"title": "Artists' fees", "kind": "class", "member_class": "artist"},
    {"title": "Listeners' fees", "kind": "class", "member_class": "listener", "secret": True},
    {"title": "Thank the board", "secret": True},
)


def statements_of(app, client, url, **kwargs):
    """The statements a GET of ``url`` runs, once the client has opened it before."""
    client.get(url, **kwargs)
    with sql_statements(app) as seen:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return seen


def meeting_with(factories, make_meeting, ann, others, resolutions, classes):
    """A meeting whose voting is open on ``resolutions`` and in an election for each of
    ``classes``, on which Ann has voted and ranked everything she may."""
    made = make_meeting(resolutions=resolutions)
    with factories.session() as db:
        ids = [
            open_election(db, made.id, code, [m.id for m in others], secret=code != "worker").id
            for code in classes
        ]
    with factories.session() as db:
        member = ann.load(db)
        for resolution in db.get(Meeting, made.id).resolutions:
            if (
                resolution.kind is not ResolutionKind.CLASS
                or resolution.member_class.code == "artist"
            ):
                meeting_ballots.cast_vote(db, resolution, member, "for", actor=member.user)
        for election in (db.get(Election, i) for i in ids):
            if election.class_id == member.primary_class_id:
                candidates = [c.id for c in election.candidates]
                election_ballots.cast_ranking(db, election, member, candidates, actor=member.user)
    return made


def test_the_ballot_page_runs_as_many_statements_for_six_resolutions_as_for_one(
    app, factories, make_member, make_meeting, sign_in
):
    ann = make_member(name="Ann Artist", email="ann@example.org", classes=["artist"])
    others = [
        make_member(name=f"{n} Artist", email=f"{n.lower()}@example.org", classes=["artist"])
        for n in ("Bea", "Cy")
    ]
    one = meeting_with(factories, make_meeting, ann, others, ONE, ["artist"])
    six = meeting_with(factories, make_meeting, ann, others, SIX, ["artist", "listener", "worker"])
    client = sign_in(ann.email)
    small = statements_of(app, client, f"/meetings/{one.id}")
    large = statements_of(app, client, f"/meetings/{six.id}")
    assert len(large) == len(small), (len(small), len(large))
    page = client.get(f"/meetings/{six.id}").get_data(as_text=True)
    assert page.count("Your vote") + page.count("Your receipt") >= 1
    assert "Only members of the Listener class vote" in page


def test_the_turnout_never_counts_the_roll_and_runs_as_many_statements_for_six(
    app, factories, make_member, make_meeting, sign_in
):
    ann = make_member(name="Ann Artist", email="ann@example.org", classes=["artist"])
    others = [make_member(name="Bea Artist", email="bea@example.org", classes=["artist"])]
    one = meeting_with(factories, make_meeting, ann, others, ONE, [])
    six = meeting_with(factories, make_meeting, ann, others, SIX, [])
    client = sign_in(ann.email)
    htmx = {"headers": {"HX-Request": "true"}}
    small = statements_of(app, client, f"/meetings/{one.id}/turnout", **htmx)
    large = statements_of(app, client, f"/meetings/{six.id}/turnout", **htmx)
    assert len(large) == len(small)
    assert not [s for s in large if "roll_entries" in s]
    page = statements_of(app, client, f"/meetings/{six.id}")
    assert not [s for s in page if "roll_entries" in s and "count(" in s]


def test_the_roll_s_counts_are_kept_as_it_is_frozen(db, factories, make_member, make_meeting):
    make_member(name="Ann Artist", email="ann@example.org", classes=["artist"])
    make_member(name="Lee Listener", email="lee@example.org", classes=["listener"])
    make_member(name="Ada Both", email="ada@example.org", classes=["artist", "worker"])
    made = make_meeting(resolutions=SIX)
    counted = {
        (class_id, bool(primary)): n
        for class_id, primary, n in db.execute(
            select(RollEntry.class_id, RollEntry.is_primary, func.count())
            .where(RollEntry.meeting_id == made.id)
            .group_by(RollEntry.class_id, RollEntry.is_primary)
        )
    }
    kept = db.scalars(select(RollClass).where(RollClass.meeting_id == made.id)).all()
    assert {r.class_id: r.voters for r in kept} == {
        c: counted.get((c, True), 0) for c, _ in counted
    }
    assert {r.class_id: r.members for r in kept} == {
        c: counted.get((c, True), 0) + counted.get((c, False), 0) for c, _ in counted
    }
    meeting = db.get(Meeting, made.id)
    assert roll.roll_size(db, meeting) == 3
    assert sum(c.members for c in roll.roll_counts(db, meeting)) == 3
    by_title = {
        r.title: r for r in db.scalars(select(Resolution).where(Resolution.meeting_id == made.id))
    }
    artists = roll.class_rolls(db, by_title["Artists' fees"])
    assert [(c.code, c.members) for c in artists] == [("artist", 2)]


# -- turnout kept as votes are written ------------------------------------------------------


def kept_turnout(db, resolution_id):
    return {
        row.class_id: row.voted
        for row in db.scalars(
            select(TurnoutCount).where(TurnoutCount.resolution_id == resolution_id)
        )
    }


def test_a_vote_counts_once_in_the_turnout_kept_however_often_it_is_sent_or_changed(
    db, factories, make_member, make_meeting
):
    ann = make_member(name="Ann Artist", email="ann@example.org", classes=["artist"])
    lee = make_member(name="Lee Listener", email="lee@example.org", classes=["listener"])
    made = make_meeting(resolutions=SIX)
    meeting = db.get(Meeting, made.id)
    ordinary, secret, *_, listeners, _thanks = meeting.resolutions
    for choice in ("for", "for", "against", "abstain"):
        meeting_ballots.cast_vote(db, secret, ann.load(db), choice, actor=ann.load(db).user)
        meeting_ballots.cast_vote(db, listeners, lee.load(db), choice, actor=lee.load(db).user)
    meeting_ballots.cast_vote(db, ordinary, lee.load(db), "for", actor=lee.load(db).user)
    artist, listener = (find_class(db, code).id for code in ("artist", "listener"))
    assert kept_turnout(db, secret.id) == {artist: 1}
    assert kept_turnout(db, listeners.id) == {listener: 1}
    assert kept_turnout(db, ordinary.id) == {listener: 1}
    assert closing.turnout_problems(db) == []
    turnout = closing.turnouts_of(db, [secret])[secret.id]
    assert (turnout.voted, turnout.roll) == (1, 2)


def test_check_votes_exits_1_when_the_turnout_kept_differs_from_the_votes(
    app, runner, factories, make_member, make_meeting
):
    ann = make_member(name="Ann Artist", email="ann@example.org", classes=["artist"])
    made = make_meeting(resolutions=(*ONE, {"title": "Approve the accounts"}))
    factories.vote(made, ann, "for", "against")
    assert runner.invoke(args=["check-votes"]).exit_code == 0
    with write_session(app) as db:
        db.execute(
            update(TurnoutCount)
            .where(TurnoutCount.resolution_id == made.resolution_ids[1])
            .values(voted=TurnoutCount.voted + 1)
        )
    result = runner.invoke(args=["check-votes"])
    assert result.exit_code == 1
    assert "resolution 2: the turnout kept for class" in result.output
    assert "is 2, but 1 members voted in it" in result.output


def test_a_vote_by_htmx_reads_the_member_s_roll_once_and_the_poll_asks_once_what_is_due(
    app, make_member, make_meeting, sign_in
):
    ann = make_member(name="Ann Artist", email="ann@example.org", classes=["artist"])
    made = make_meeting(resolutions=SIX)
    client = sign_in(ann.email)
    htmx = {"HX-Request": "true"}
    url = f"/meetings/{made.id}/resolutions/{made.resolution_ids[1]}/vote"
    assert client.post(url, data={"choice": "for"}, headers=htmx).status_code == 200
    with sql_statements(app) as seen:
        response = client.post(url, data={"choice": "against"}, headers=htmx)
    assert response.status_code == 200
    assert "Against" in response.get_data(as_text=True)
    assert len([s for s in seen if "FROM roll_entries" in s]) == 1  # the check, not again
    # The partial is answered from the vote cast: the secret ballot is read once, to change it.
    assert len([s for s in seen if "FROM ballots" in s]) == 1
    polled = statements_of(app, client, f"/meetings/{made.id}/turnout", headers=htmx)
    assert len([s for s in polled if "EXISTS" in s]) == 1  # resolutions and elections
