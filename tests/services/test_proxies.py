"""Proxies (issue 14 §1): each rule named by a test."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal import coop as coop_module
from portal.errors import InvalidInput, InvalidState, NotAllowed
from portal.models import (
    AuditEvent,
    Ballot,
    Choice,
    Participation,
    ProxyKind,
    ProxyState,
    ResolutionResult,
)
from portal.services.meetings import ballots, closing, proxies

from . import test_meetings
from .test_meetings import vote

# The meetings' fixtures, shared: an AGM open for voting, members admitted a month ago.
today = test_meetings.today
secretary = test_meetings.secretary
long_standing = test_meetings.long_standing
voting = test_meetings.voting

FOR, AGAINST = Choice.FOR, Choice.AGAINST


def appoint(db, meeting, grantor, holder=None, *, directions=None, kind=ProxyKind.DIRECTED):
    member = grantor.load(db)
    resolutions = proxies.votable_resolutions(db, meeting, member)
    if directions is None:
        directions = {r.id: FOR for r in resolutions}
    if kind is ProxyKind.DISCRETIONARY:
        directions = {r.id: None for r in resolutions}
    return proxies.appoint_proxy(
        db,
        meeting,
        member,
        holder=None if holder is None else holder.load(db),
        kind=kind,
        directions=directions,
        actor=member.user,
    )


def accept(db, appointment, holder):
    member = holder.load(db)
    proxies.answer_proxy(db, appointment, member, accept=True, actor=member.user)


def cast(db, appointment, resolution, holder, choice=None):
    member = holder.load(db)
    return proxies.cast_proxy(db, appointment, resolution, choice, holder=member, actor=member.user)


def test_a_member_appoints_a_directed_proxy_and_both_are_mailed(db, voting, long_standing, outbox):
    lena, hal = long_standing(), long_standing()
    meeting, (resolution,) = voting()
    appointment = appoint(db, meeting, lena, hal, directions={resolution.id: AGAINST})
    db.commit()
    assert appointment.state is ProxyState.APPOINTED
    assert appointment.direction_for(resolution.id).choice is AGAINST
    sent = [m.to for m in outbox() if m.subject.startswith("A proxy for")]
    assert sorted(sent) == sorted([lena.email, hal.email])


def test_a_proxy_after_the_deadline_is_refused(db, voting, long_standing):
    lena, hal = long_standing(), long_standing()
    meeting, _ = voting()
    hours = coop_module.settings(db).proxy_deadline_hours
    with (
        time_machine.travel(meeting.starts_at - timedelta(hours=hours), tick=False),
        pytest.raises(InvalidState) as refused,
    ):
        appoint(db, meeting, lena, hal)
    assert f"{hours} hours before the meeting" in refused.value.message
    assert proxies.standing_proxy(db, meeting, lena.load(db)) is None


def test_revoking_after_the_deadline_is_refused(db, voting, long_standing):
    lena, hal = long_standing(), long_standing()
    meeting, _ = voting()
    appointment = appoint(db, meeting, lena, hal)
    with (
        time_machine.travel(meeting.starts_at - timedelta(hours=1), tick=False),
        pytest.raises(InvalidState),
    ):
        proxies.revoke_proxy(db, appointment, lena.load(db), actor=lena.load(db).user)
    assert appointment.state is ProxyState.APPOINTED


def test_a_proxy_over_the_holders_cap_is_refused(db, voting, long_standing, coop):
    coop_module.stored_settings(db).proxies_per_holder = 2
    hal = long_standing()
    grantors = [long_standing() for _ in range(3)]
    meeting, _ = voting()
    appoint(db, meeting, grantors[0], hal)
    appoint(db, meeting, grantors[1], hal)
    with pytest.raises(InvalidState) as refused:
        appoint(db, meeting, grantors[2], hal)
    assert "already holds 2 proxies" in refused.value.message


def test_the_chair_is_exempt_from_the_cap_when_the_setting_says_so(db, voting, long_standing):
    settings = coop_module.stored_settings(db)
    settings.proxies_per_holder = 1
    settings.chair_exempt_from_proxy_cap = True
    one, two, three = long_standing(), long_standing(), long_standing()
    meeting, _ = voting()
    appoint(db, meeting, one)
    appoint(db, meeting, two)
    assert proxies.held_count(db, meeting, None) == 2
    settings.chair_exempt_from_proxy_cap = False
    with pytest.raises(InvalidState):
        appoint(db, meeting, three)


def test_a_holder_not_on_the_roll_is_refused(db, voting, long_standing, make_member):
    lena = long_standing()
    meeting, _ = voting()
    newcomer = make_member(classes=("listener",))  # admitted after the record date
    with pytest.raises(InvalidInput) as refused:
        appoint(db, meeting, lena, newcomer)
    assert "not on this meeting's voter roll" in refused.value.message


def test_a_grantor_not_on_the_roll_is_refused(db, voting, long_standing, make_member):
    hal = long_standing()
    meeting, _ = voting()
    newcomer = make_member(classes=("listener",))
    with pytest.raises(NotAllowed):
        appoint(db, meeting, newcomer, hal)


def test_a_directed_proxy_must_direct_every_resolution(db, voting, long_standing):
    _, resolutions = voting({}, {"title": "Set the fee"})
    with pytest.raises(InvalidInput):
        proxies.read_directions(
            resolutions, ProxyKind.DIRECTED, {f"direction-{resolutions[0].id}": "for"}
        )
    read = proxies.read_directions(
        resolutions,
        ProxyKind.DIRECTED,
        {f"direction-{resolutions[0].id}": "for", f"direction-{resolutions[1].id}": "holder"},
    )
    assert read == {resolutions[0].id: FOR, resolutions[1].id: None}


def test_changing_a_proxy_revokes_the_old_one(db, voting, long_standing):
    lena, hal, ida = long_standing(), long_standing(), long_standing()
    meeting, _ = voting()
    first = appoint(db, meeting, lena, hal)
    second = appoint(db, meeting, lena, ida)
    assert first.state is ProxyState.REVOKED
    assert proxies.standing_proxy(db, meeting, lena.load(db)) == second


def test_the_holder_casts_a_directed_proxy_as_directed(db, voting, long_standing):
    lena, hal = long_standing(), long_standing()
    meeting, (resolution,) = voting()
    appointment = appoint(db, meeting, lena, hal, directions={resolution.id: AGAINST})
    accept(db, appointment, hal)
    with pytest.raises(InvalidInput):
        cast(db, appointment, resolution, hal, "for")
    cast(db, appointment, resolution, hal)
    participation = db.scalar(select(Participation))
    assert participation.member_id == lena.id and participation.proxy_id == appointment.id
    assert participation.choice is AGAINST
    assert proxies.proxy_votes(db, resolution) == 1


def test_an_unaccepted_proxy_is_not_cast(db, voting, long_standing):
    lena, hal = long_standing(), long_standing()
    meeting, (resolution,) = voting()
    appointment = appoint(db, meeting, lena, hal)
    with pytest.raises(InvalidState):
        cast(db, appointment, resolution, hal)


def test_only_the_holder_casts_a_proxy(db, voting, long_standing):
    lena, hal, ida = long_standing(), long_standing(), long_standing()
    meeting, (resolution,) = voting()
    appointment = appoint(db, meeting, lena, hal)
    accept(db, appointment, hal)
    with pytest.raises(NotAllowed):
        cast(db, appointment, resolution, ida)


def test_a_grantor_who_voted_themselves_revokes_the_proxy_for_that_resolution(
    db, voting, long_standing
):
    lena, hal = long_standing(), long_standing()
    meeting, (first, second) = voting({}, {"title": "Set the fee"})
    appointment = appoint(db, meeting, lena, hal, kind=ProxyKind.DISCRETIONARY)
    accept(db, appointment, hal)
    vote(db, first, lena, "against")
    db.refresh(appointment.direction_for(first.id))
    assert appointment.direction_for(first.id).revoked_at is not None
    with pytest.raises(InvalidState) as refused:
        cast(db, appointment, first, hal, "for")
    assert "themselves" in refused.value.message
    cast(db, appointment, second, hal, "for")  # the other resolution still goes by proxy
    assert proxies.proxy_votes(db, second) == 1
    assert (
        db.scalar(select(func.count()).where(AuditEvent.action == "proxy.revoked_for_resolution"))
        == 1
    )


def test_a_grantors_own_vote_replaces_the_one_their_proxy_cast(db, voting, long_standing):
    lena, hal = long_standing(), long_standing()
    meeting, (resolution,) = voting()
    appointment = appoint(db, meeting, lena, hal, kind=ProxyKind.DISCRETIONARY)
    accept(db, appointment, hal)
    cast(db, appointment, resolution, hal, "for")
    vote(db, resolution, lena, "against")
    participation = db.scalar(select(Participation))
    assert participation.proxy_id is None and participation.choice is AGAINST
    assert db.scalar(select(func.count()).select_from(Participation)) == 1


def test_directed_proxies_are_cast_at_close_when_the_holder_did_not(
    db, voting, long_standing, secretary
):
    members = [long_standing() for _ in range(4)]
    lena, hal = members[0], members[1]
    meeting, (resolution,) = voting()
    appointment = appoint(db, meeting, lena, hal, directions={resolution.id: FOR})
    accept(db, appointment, hal)
    chair = appoint(db, meeting, members[2], directions={resolution.id: FOR})  # to the chair
    assert chair.state is ProxyState.ACCEPTED
    tally = closing.close_resolution(db, resolution, actor=secretary)
    assert tally.votes_for == 2
    assert proxies.proxy_votes(db, resolution) == 2
    assert closing.check_votes(db).ok


def test_a_secret_proxy_vote_is_a_ballot_naming_no_one(db, voting, long_standing, secretary):
    lena, hal = long_standing(), long_standing()
    meeting, (resolution,) = voting({"secret": True})
    appointment = appoint(db, meeting, lena, hal, kind=ProxyKind.DISCRETIONARY)
    accept(db, appointment, hal)
    cast(db, appointment, resolution, hal, "against")
    participation = db.scalar(select(Participation))
    assert participation.choice is None and participation.proxy_id == appointment.id
    assert db.scalar(select(Ballot.choice)) is AGAINST
    assert ballots.vote_of(db, resolution, lena.load(db)).choice is AGAINST
    tally = closing.close_resolution(db, resolution, actor=secretary)
    assert tally.against == 1


def test_proxies_count_towards_turnout_and_quorum(db, voting, long_standing, coop):
    settings = coop_module.stored_settings(db)
    settings.quorum_min_members = 1
    settings.quorum_percent = 0
    lena, hal = long_standing(), long_standing()
    meeting, (resolution,) = voting()
    appointment = appoint(db, meeting, lena, hal)
    accept(db, appointment, hal)
    cast(db, appointment, resolution, hal)
    assert closing.turnout_of(db, resolution).voted == 1
    assert closing.close_resolution(db, resolution, actor=lena.load(db).user).result is (
        ResolutionResult.PASSED
    )
