"""General meetings: notice, the frozen roll, casting and changing votes, secrecy, closing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import inspect, select, text

from portal import coop as coop_module
from portal.errors import InvalidInput, InvalidState, NotAllowed
from portal.models import (
    AuditEvent,
    Ballot,
    Choice,
    MeetingKind,
    MeetingState,
    MemberStatus,
    Participation,
    ResolutionKind,
    ResolutionResult,
    ResolutionState,
    RollEntry,
)
from portal.services.meetings import ballots, closing, lifecycle, roll
from portal.services.membership import leaving
from portal.services.register.classes import find_class

from ..factories import on_day


@pytest.fixture
def today(db, coop):
    return coop_module.today(db)


@pytest.fixture
def secretary(db, make_user):
    return make_user(role="staff", email="secretary@example.org", name="Sue Secretary")


@pytest.fixture
def long_standing(make_member, today):
    """Members admitted a month ago, well before any record date in these tests."""

    def make(classes=("listener",), **kwargs):
        return make_member(classes=classes, admitted_on=today - timedelta(days=30), **kwargs)

    return make


def new_meeting(db, secretary, today, *, kind=MeetingKind.AGM, days=30, record=-1, **kwargs):
    """A meeting ``days`` from today at 19:00 in the co-op's zone, record date ``record``
    days from today."""
    clock = coop_module.clock(db)
    start = datetime.combine(today + timedelta(days=days), time(19), clock.zone).astimezone(UTC)
    given = lifecycle.MeetingInput(
        kind=kind,
        title=kwargs.pop("title", "Annual general meeting 2026"),
        starts_at=start,
        record_date=today + timedelta(days=record),
        place=kwargs.pop("place", "The Guildhall, Cork"),
        **kwargs,
    )
    return lifecycle.create_meeting(db, given, actor=secretary)


def put(db, meeting, secretary, kind=ResolutionKind.ORDINARY, **kwargs):
    return lifecycle.add_resolution(
        db,
        meeting,
        title=kwargs.pop("title", "Approve the minutes"),
        text=kwargs.pop("text", "WHEREAS …\n\nRESOLVED that the minutes be approved."),
        kind=kind,
        actor=secretary,
        **kwargs,
    )


@pytest.fixture
def voting(db, secretary, today):
    """An AGM with its notice sent and voting open on the given resolutions."""

    def make(*specs, **meeting_kwargs):
        meeting = new_meeting(db, secretary, today, **meeting_kwargs)
        resolutions = [put(db, meeting, secretary, **spec) for spec in specs or [{}]]
        lifecycle.send_notice(db, meeting, actor=secretary)
        lifecycle.open_voting(db, meeting, actor=secretary)
        return meeting, resolutions

    return make


def vote(db, resolution, ref, choice):
    member = ref.load(db)
    return ballots.cast_vote(db, resolution, member, choice, actor=member.user)


# -- creating and noticing ---------------------------------------------------------------------


def test_a_new_agm_offers_the_standard_agenda(db, secretary, today):
    meeting = new_meeting(db, secretary, today)
    assert [item.title for item in meeting.agenda] == list(lifecycle.STANDARD_AGM_AGENDA)
    assert meeting.state is MeetingState.DRAFT


def test_a_meeting_needs_a_place_or_a_link(db, secretary, today):
    with pytest.raises(InvalidInput) as refused:
        new_meeting(db, secretary, today, place="")
    assert refused.value.field == "place"
    meeting = new_meeting(db, secretary, today, place="", online_url="https://meet.example/agm")
    assert meeting.online_url == "https://meet.example/agm"


def test_the_record_date_cannot_follow_the_meeting(db, secretary, today):
    with pytest.raises(InvalidInput) as refused:
        new_meeting(db, secretary, today, days=10, record=11)
    assert refused.value.field == "record_date"


def test_a_class_meeting_names_its_class(db, secretary, today):
    with pytest.raises(InvalidInput):
        new_meeting(db, secretary, today, kind=MeetingKind.CLASS)
    worker = find_class(db, "worker")
    meeting = new_meeting(db, secretary, today, kind=MeetingKind.CLASS, member_class=worker)
    assert meeting.member_class is worker and meeting.agenda == []


def test_notice_is_refused_with_fewer_than_the_notice_days_clear_days(db, secretary, today, coop):
    # Meeting 14 days from today: 13 clear days (neither today nor its day counts).
    meeting = new_meeting(db, secretary, today, days=coop.notice_days)
    with pytest.raises(InvalidInput) as refused:
        lifecycle.send_notice(db, meeting, actor=secretary)
    assert refused.value.field == "short_notice_reason"
    assert "Only 13 clear days" in refused.value.message
    assert meeting.state is MeetingState.DRAFT and meeting.notice_sent_at is None


def test_notice_with_exactly_the_notice_days_clear_days_is_sent(db, secretary, today, coop):
    meeting = new_meeting(db, secretary, today, days=coop.notice_days + 1)
    lifecycle.send_notice(db, meeting, actor=secretary, short_notice_reason="ignored")
    assert meeting.state is MeetingState.NOTICED
    assert meeting.notice_clear_days == coop.notice_days
    assert meeting.short_notice_reason is None  # not short: no reason kept


def test_short_notice_with_a_reason_is_sent_and_the_reason_recorded(db, secretary, today):
    meeting = new_meeting(db, secretary, today, days=5)
    lifecycle.send_notice(
        db, meeting, actor=secretary, short_notice_reason="The auditor's deadline moved."
    )
    assert meeting.state is MeetingState.NOTICED
    assert meeting.notice_clear_days == 4
    assert meeting.short_notice_reason == "The auditor's deadline moved."
    summary = db.scalar(select(AuditEvent.summary).where(AuditEvent.action == "meeting.noticed"))
    assert "short notice: The auditor's deadline moved." in summary


def test_a_noticed_meeting_cannot_be_noticed_again(db, secretary, today):
    meeting = new_meeting(db, secretary, today)
    lifecycle.send_notice(db, meeting, actor=secretary)
    with pytest.raises(InvalidState):
        lifecycle.send_notice(db, meeting, actor=secretary)


def test_a_meeting_with_open_voting_cannot_be_cancelled(db, voting, secretary, long_standing):
    long_standing()
    meeting, _ = voting()
    with pytest.raises(InvalidState):
        lifecycle.cancel_meeting(db, meeting, actor=secretary, reason="Changed our minds")


# -- the roll ----------------------------------------------------------------------------------


def roll_of(db, meeting):
    return {
        (e.member_id, e.member_class.code, e.is_primary)
        for e in db.scalars(select(RollEntry).where(RollEntry.meeting_id == meeting.id))
    }


def test_the_roll_holds_active_members_with_a_paid_membership_share_in_their_primary_class(
    db, secretary, today, long_standing
):
    lena = long_standing(["listener"])
    ada = long_standing(["artist", "worker"], primary="worker")
    meeting = new_meeting(db, secretary, today)
    assert roll.freeze_roll(db, meeting, actor=secretary) == 2
    assert roll_of(db, meeting) == {
        (lena.id, "listener", True),
        (ada.id, "artist", False),
        (ada.id, "worker", True),
    }
    counts = {c.code: c.members for c in roll.roll_counts(db, meeting)}
    assert counts == {"listener": 1, "worker": 1}


def test_a_member_admitted_after_the_record_date_is_not_on_the_roll(
    db, secretary, today, make_member, long_standing
):
    long_standing()
    newcomer = make_member(classes=["listener"], admitted_on=today)
    meeting = new_meeting(db, secretary, today, record=-1)
    roll.freeze_roll(db, meeting, actor=secretary)
    assert newcomer.id not in {m for m, _, _ in roll_of(db, meeting)}


def test_an_approved_applicant_who_has_not_paid_is_not_on_the_roll(
    db, secretary, today, make_applicant
):
    with on_day(today - timedelta(days=30)):
        make_applicant(code="artist", state="awaiting_share")
    meeting = new_meeting(db, secretary, today)
    assert roll.freeze_roll(db, meeting, actor=secretary) == 0


def test_a_member_lapsed_on_the_record_date_is_not_on_the_roll(db, secretary, today, long_standing):
    lapsed = long_standing()
    later = long_standing()
    with on_day(today - timedelta(days=5)):
        leaving.set_status(db, lapsed.load(db), MemberStatus.LAPSED, "Fee unpaid", actor=secretary)
    # Lapsing after the record date does not take a member off the roll.
    leaving.set_status(db, later.load(db), MemberStatus.LAPSED, "Fee unpaid", actor=secretary)
    meeting = new_meeting(db, secretary, today, record=-1)
    roll.freeze_roll(db, meeting, actor=secretary)
    assert {m for m, _, _ in roll_of(db, meeting)} == {later.id}


def test_a_ceased_member_is_not_on_the_roll(db, secretary, today, long_standing, cease):
    gone = long_standing()
    stays = long_standing()
    cease(gone, on=today - timedelta(days=3))
    meeting = new_meeting(db, secretary, today)
    roll.freeze_roll(db, meeting, actor=secretary)
    assert {m for m, _, _ in roll_of(db, meeting)} == {stays.id}


def test_a_class_meeting_roll_holds_only_its_class(db, secretary, today, long_standing):
    long_standing(["listener"])
    worker = long_standing(["worker"])
    both = long_standing(["artist", "worker"], primary="artist")
    meeting = new_meeting(
        db, secretary, today, kind=MeetingKind.CLASS, member_class=find_class(db, "worker")
    )
    roll.freeze_roll(db, meeting, actor=secretary)
    assert roll_of(db, meeting) == {(worker.id, "worker", True), (both.id, "worker", True)}


def test_later_register_changes_do_not_change_a_frozen_roll(
    db, secretary, today, long_standing, make_member, cease
):
    stays = long_standing()
    meeting = new_meeting(db, secretary, today)
    roll.freeze_roll(db, meeting, actor=secretary)
    cease(stays)
    make_member(classes=["listener"], admitted_on=today - timedelta(days=10))
    assert roll.freeze_roll(db, meeting, actor=secretary) == 1
    assert {m for m, _, _ in roll_of(db, meeting)} == {stays.id}


def test_the_roll_cannot_be_frozen_before_the_record_date(db, secretary, today):
    meeting = new_meeting(db, secretary, today, record=2)
    with pytest.raises(InvalidState):
        roll.freeze_roll(db, meeting, actor=secretary)
    assert not meeting.roll_is_frozen


def test_sending_the_notice_freezes_the_roll_once_the_record_date_has_come(
    db, secretary, today, long_standing
):
    long_standing()
    meeting = new_meeting(db, secretary, today, record=0)
    lifecycle.send_notice(db, meeting, actor=secretary)
    assert meeting.roll_is_frozen and roll.roll_size(db, meeting) == 1
    later = new_meeting(db, secretary, today, record=3)
    lifecycle.send_notice(db, later, actor=secretary)
    assert not later.roll_is_frozen


# -- casting votes -----------------------------------------------------------------------------


def test_a_member_on_the_roll_votes_and_gets_a_receipt(db, voting, long_standing):
    lena = long_standing()
    _, (resolution,) = voting()
    cast = vote(db, resolution, lena, "for")
    assert cast.choice is Choice.FOR and len(cast.receipt) == 14
    assert ballots.vote_of(db, resolution, lena.load(db)) == cast


def test_a_vote_before_voting_opens_is_refused(db, secretary, today, long_standing):
    lena = long_standing()
    meeting = new_meeting(db, secretary, today)
    resolution = put(db, meeting, secretary)
    with pytest.raises(InvalidState) as refused:
        vote(db, resolution, lena, "for")
    assert refused.value.status == 409 and "not opened" in refused.value.message
    later = new_meeting(db, secretary, today)
    scheduled = put(db, later, secretary, opens_at=coop_module.clock(db).now() + timedelta(hours=2))
    lifecycle.send_notice(db, later, actor=secretary)
    lifecycle.open_voting(db, later, actor=secretary)
    with pytest.raises(InvalidState):
        vote(db, scheduled, lena, "for")
    assert db.scalar(select(Participation.id)) is None


def test_a_vote_after_voting_closes_is_refused(db, voting, long_standing):
    lena = long_standing()
    _, (resolution,) = voting()
    with (
        time_machine.travel(resolution.closes_at, tick=False),
        pytest.raises(InvalidState) as refused,
    ):
        vote(db, resolution, lena, "for")
    assert "has closed" in refused.value.message
    assert db.scalar(select(Participation.id)) is None


def test_a_vote_on_a_closed_resolution_is_refused(db, voting, secretary, long_standing):
    lena = long_standing()
    meeting, (resolution,) = voting()
    closing.close_voting(db, meeting, actor=secretary)
    with pytest.raises(InvalidState):
        vote(db, resolution, lena, "against")


def test_a_member_not_on_the_roll_is_refused(db, voting, long_standing, make_member):
    long_standing()
    newcomer = make_member(classes=["listener"])
    _, (resolution,) = voting()
    with pytest.raises(NotAllowed) as refused:
        vote(db, resolution, newcomer, "for")
    assert refused.value.status == 403 and "voter roll" in refused.value.message


def test_a_member_of_another_class_is_refused_on_a_class_resolution(db, voting, long_standing):
    lena = long_standing(["listener"])
    walt = long_standing(["worker"])
    worker = find_class(db, "worker")
    _, (resolution,) = voting({"kind": ResolutionKind.CLASS, "member_class": worker})
    with pytest.raises(NotAllowed) as refused:
        vote(db, resolution, lena, "for")
    assert "Only members of the Worker class" in refused.value.message
    assert vote(db, resolution, walt, "for").choice is Choice.FOR


def test_a_member_votes_on_a_class_resolution_of_a_class_that_is_not_their_primary(
    db, voting, long_standing
):
    ada = long_standing(["artist", "worker"], primary="artist")
    _, (resolution,) = voting(
        {"kind": ResolutionKind.CLASS, "member_class": find_class(db, "worker")}
    )
    vote(db, resolution, ada, "against")
    assert db.scalar(select(Participation.class_id)) == find_class(db, "worker").id


def test_a_bad_choice_is_refused(db, voting, long_standing):
    lena = long_standing()
    _, (resolution,) = voting()
    with pytest.raises(InvalidInput):
        vote(db, resolution, lena, "maybe")


def test_a_double_vote_counts_once(db, voting, long_standing):
    lena = long_standing()
    _, (resolution,) = voting()
    first = vote(db, resolution, lena, "for")
    again = vote(db, resolution, lena, "for")
    assert again.receipt == first.receipt and not again.changed
    assert len(db.scalars(select(Participation)).all()) == 1


def test_changing_a_vote_the_last_one_counts(db, voting, secretary, long_standing):
    lena = long_standing()
    meeting, (resolution,) = voting()
    first = vote(db, resolution, lena, "for")
    changed = vote(db, resolution, lena, "against")
    assert changed.changed and changed.receipt == first.receipt
    (tally,) = closing.close_voting(db, meeting, actor=secretary)
    assert (tally.votes_for, tally.against) == (0, 1)


def test_a_lost_race_for_the_participation_is_answered_as_the_current_vote(
    db, voting, long_standing, monkeypatch
):
    # The member's other request inserted the participation after this one looked for it.
    lena = long_standing()
    _, (resolution,) = voting({"secret": True})
    vote(db, resolution, lena, "for")
    looked = []
    real = ballots._participation

    def not_yet(*args):
        looked.append(1)
        return None if len(looked) == 1 else real(*args)

    monkeypatch.setattr(ballots, "_participation", not_yet)
    answer = vote(db, resolution, lena, "against")
    assert answer.choice is Choice.AGAINST and answer.changed
    assert len(db.scalars(select(Participation)).all()) == 1
    assert len(db.scalars(select(Ballot)).all()) == 1


def test_changing_a_secret_vote_changes_the_one_ballot(db, voting, secretary, long_standing):
    lena = long_standing()
    meeting, (resolution,) = voting({"secret": True})
    first = vote(db, resolution, lena, "for")
    changed = vote(db, resolution, lena, "abstain")
    assert changed.receipt == first.receipt and changed.changed
    assert [b.choice for b in db.scalars(select(Ballot))] == [Choice.ABSTAIN]
    participation = db.scalar(select(Participation))
    assert participation.choice is None and participation.receipt is None
    (tally,) = closing.close_voting(db, meeting, actor=secretary)
    assert (tally.votes_for, tally.abstain) == (0, 1)


# -- secrecy -----------------------------------------------------------------------------------


def test_a_secret_ballot_has_no_column_or_join_path_to_a_member():
    table = Ballot.__table__
    assert {fk.column.table.name for fk in table.foreign_keys} == {"resolutions", "member_classes"}
    assert not any("member" in c.name or "participation" in c.name for c in table.columns)
    assert not any(c.type.python_type is datetime for c in table.columns)
    assert not any(
        fk.column.table.name == "ballots"
        for other in Ballot.metadata.tables.values()
        for fk in other.foreign_keys
    )
    assert inspect(Ballot).primary_key[0].type.python_type is str  # random, not a sequence


def test_ballot_ids_do_not_follow_the_order_of_voting(db, voting, long_standing):
    voters = [long_standing() for _ in range(12)]
    _, (resolution,) = voting({"secret": True})
    receipts = [vote(db, resolution, ref, "for").receipt for ref in voters]
    by_id = [b.receipt for b in db.scalars(select(Ballot).order_by(Ballot.id))]
    assert sorted(by_id) == sorted(receipts) and by_id != receipts


def test_the_voter_tag_needs_the_secret_key(app, db, voting, long_standing):
    lena = long_standing()
    _, (resolution,) = voting({"secret": True})
    vote(db, resolution, lena, "for")
    stored = db.scalar(select(Ballot.voter_tag))
    assert stored == ballots.voter_tag(resolution.id, lena.id)
    app.secret_key = "another-key"
    assert ballots.voter_tag(resolution.id, lena.id) != stored


def test_closing_seals_the_secret_ballots(db, voting, secretary, long_standing):
    voters = [long_standing() for _ in range(3)]
    meeting, (resolution,) = voting({"secret": True})
    receipts = {vote(db, resolution, ref, "for").receipt for ref in voters}
    before = set(db.scalars(select(Ballot.id)))
    closing.close_voting(db, meeting, actor=secretary)
    sealed = db.scalars(select(Ballot)).all()
    assert {b.receipt for b in sealed} == receipts
    assert all(b.voter_tag is None for b in sealed)
    if db.get_bind().dialect.name == "postgresql":  # a heap keeps the order of writing
        assert not before & {b.id for b in sealed}
    else:  # no rowid: the random key is the only order
        sql = db.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ballots'"))
        assert "WITHOUT ROWID" in sql
    assert ballots.vote_of(db, resolution, voters[0].load(db)) is None
    assert closing.check_votes(db).ok


def test_the_audit_log_never_shows_a_secret_choice(db, voting, long_standing):
    lena = long_standing()
    _, (open_vote, secret_vote) = voting({}, {"secret": True, "title": "Elect the board"})
    vote(db, resolution=open_vote, ref=lena, choice="against")
    vote(db, resolution=secret_vote, ref=lena, choice="against")
    vote(db, resolution=secret_vote, ref=lena, choice="for")
    summaries = db.scalars(select(AuditEvent.summary).where(AuditEvent.action.like("vote.%"))).all()
    assert summaries[0].endswith("Against")
    assert all("(secret ballot)" in s for s in summaries[1:])
    assert not any(word in s for s in summaries[1:] for word in ("For", "Against"))


# -- closing and checking ------------------------------------------------------------------------


def test_closing_stores_the_tally_and_the_result(db, voting, secretary, long_standing, coop):
    members = [long_standing() for _ in range(4)]
    meeting, (resolution,) = voting()
    for ref, choice in zip(members, ["for", "for", "against", "abstain"], strict=True):
        vote(db, resolution, ref, choice)
    closing.close_voting(db, meeting, actor=secretary)
    assert meeting.state is MeetingState.VOTING_CLOSED
    assert resolution.state is ResolutionState.CLOSED
    assert (resolution.votes_for, resolution.votes_against, resolution.abstentions) == (2, 1, 1)
    assert resolution.result is ResolutionResult.PASSED
    assert resolution.tally["quorum"] == coop.quorum_min_members
    assert resolution.closes_at <= coop_module.clock(db).now()


def test_too_few_votes_leave_a_resolution_not_quorate(db, voting, secretary, long_standing):
    lena = long_standing()
    long_standing()
    long_standing()
    meeting, (resolution,) = voting()
    vote(db, resolution, lena, "for")
    closing.close_voting(db, meeting, actor=secretary)
    assert resolution.result is ResolutionResult.NOT_QUORATE


def test_rules_are_fixed_when_voting_opens(db, voting, secretary, long_standing, coop):
    voters = [long_standing() for _ in range(3)]
    meeting, (resolution,) = voting()
    for ref in voters:
        vote(db, resolution, ref, "for")
    coop.quorum_min_members = 50  # changed while voting was open: does not apply
    closing.close_voting(db, meeting, actor=secretary)
    assert resolution.result is ResolutionResult.PASSED


def test_the_meeting_override_of_the_voting_mode_applies(db, voting, secretary, long_standing):
    long_standing()
    _, (resolution,) = voting(voting_mode=None)
    assert resolution.rules["mode"] == "one_member_one_vote"
    from portal.models import VotingMode

    _, (weighted,) = voting(voting_mode=VotingMode.CLASS_WEIGHTED, title="EGM")
    assert weighted.rules["mode"] == "class_weighted"


def test_due_votes_close_at_their_closing_time(db, voting, long_standing):
    lena = long_standing()
    meeting, (resolution,) = voting()
    vote(db, resolution, lena, "for")
    assert closing.close_due_votes(db) == []
    with time_machine.travel(resolution.closes_at, tick=False):
        assert closing.close_due_votes(db) == [resolution]
    assert resolution.state is ResolutionState.CLOSED
    assert meeting.state is MeetingState.VOTING_CLOSED


def test_check_votes_finds_a_stored_count_that_differs(db, voting, secretary, long_standing):
    voters = [long_standing() for _ in range(3)]
    meeting, (resolution,) = voting({"secret": True})
    for ref in voters:
        vote(db, resolution, ref, "for")
    closing.close_voting(db, meeting, actor=secretary)
    assert closing.check_votes(db).ok
    db.scalars(select(Ballot)).first().choice = Choice.AGAINST
    db.flush()
    check = closing.check_votes(db)
    assert not check.ok and "differs" in check.problems[0]
    db.delete(db.scalars(select(Ballot)).first())
    db.flush()
    assert any("2 ballots for 3 members" in p for p in closing.check_votes(db).problems)


def test_turnout_counts_who_voted_by_class_against_the_roll(db, voting, long_standing):
    lena, lou = long_standing(["listener"]), long_standing(["listener"])
    ada = long_standing(["artist"])
    _, (resolution,) = voting({"secret": True})
    vote(db, resolution, lena, "for")
    vote(db, resolution, ada, "against")
    turnout = closing.turnout_of(db, resolution)
    assert {(c.code, c.turnout, c.roll) for c in turnout.classes} == {
        ("listener", 1, 2),
        ("artist", 1, 1),
    }
    assert (turnout.voted, turnout.roll, turnout.quorum) == (2, 3, 3)
    assert not turnout.quorate
    vote(db, resolution, lou, "abstain")
    assert closing.turnout_of(db, resolution).quorate
