"""The demo co-op's general meetings (issue 13 §10, issue 14 §6): its 2025 AGM closed and
counted, its 2026 AGM open for voting with votes already cast, proxies appointed and a
member-proposed resolution on its agenda, and a worker class requisition collecting
signatures; all told through the app's services at their own dates; presets with no
meetings get none."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal import demo
from portal.coop import Clock
from portal.db import write_session
from portal.models import (
    AuditEvent,
    Meeting,
    MeetingKind,
    MeetingMinutes,
    MeetingState,
    Member,
    ProposalState,
    ProxyKind,
    ProxyState,
    RequisitionState,
    ResolutionKind,
    ResolutionResult,
    ResolutionState,
    User,
)
from portal.presets import PRESETS, RESONATE
from portal.services.meetings import (
    closing,
    minutes,
    notices,
    overview,
    proposals,
    proxies,
    requisitions,
    roll,
)
from portal.services.meetings.tally import Tally
from portal.services.shares import ledger

from .factories import HTMX, fake_certificate, reading

LISTENER = RESONATE.demo.person("listener@reverb.example")
WORKER = RESONATE.demo.person("worker@reverb.example")
STAFF = RESONATE.demo.person("staff@reverb.example")


@pytest.fixture
def seeded(app):
    """The resonate demo, its shares paid (certificates are stand-ins)."""
    with app.test_request_context("/"), write_session(app) as db:
        assert demo.seed(db, app.config, preset="resonate", render=fake_certificate)
    return app


def meetings(db):
    return {m.title: m for m in db.scalars(select(Meeting))}


def member(db, email):
    return db.scalar(
        select(Member).join(User, Member.user_id == User.id).where(User.email == email)
    )


def test_the_2025_agm_was_held_on_its_dates_and_closed_with_every_resolution_passed(seeded):
    with reading(seeded) as db:
        agm = meetings(db)["Annual General Meeting 2025"]
        assert agm.state is MeetingState.MINUTES_PUBLISHED  # three weeks after the meeting
        written = db.get(MeetingMinutes, agm.id)
        assert written.chair == "Pádraig Walsh" and written.document_id is not None
        # From the meeting's own figures, with what was said under each agenda item.
        assert "the board undertook to publish the figure each quarter" in written.body
        assert minutes.DISCUSSION not in written.body
        assert all(r.title in written.body for r in agm.resolutions)
        assert agm.record_date == date(2025, 8, 29)  # as its minutes say
        assert agm.notice_clear_days == 21
        assert agm.roll_as_of is not None and agm.voting_closed_at is not None
        # The lapsed and the gone were members then; the board's listener and artists and
        # the artists standing in 2026 (seven) were founding members.
        assert roll.roll_size(db, agm) == 18
        resolutions = agm.resolutions
        assert [r.state for r in resolutions] == [ResolutionState.CLOSED] * 5
        assert [r.result for r in resolutions] == [ResolutionResult.PASSED] * 5
        kinds = [r.kind for r in resolutions]
        assert kinds.count(ResolutionKind.ORDINARY) == 3
        special = Tally.from_json(resolutions[kinds.index(ResolutionKind.SPECIAL)].tally)
        assert special.passed and not special.classes_without_majority
        assert all(c.has_majority for c in special.classes)  # a majority in every class
        worker = resolutions[kinds.index(ResolutionKind.CLASS)]
        assert worker.member_class.code == "worker" and worker.votes_for == 3
        assert closing.check_votes(db).ok
        # Closed at its time by the clock, as close-due-votes would: no one's action.
        closed = db.scalars(
            select(AuditEvent).where(AuditEvent.action.like("resolution.%closed%"))
        ).all()
        assert closed and all(event.actor_id is None for event in closed)


def test_the_2026_agm_is_open_with_turnout_and_the_listener_has_votes_to_cast(seeded):
    with reading(seeded) as db:
        agm = meetings(db)["Annual General Meeting 2026"]
        assert agm.state is MeetingState.VOTING_OPEN
        assert not closing.is_due(db, agm)
        titles = [r.title for r in agm.resolutions]
        assert len(titles) == 6 and sum(r.secret for r in agm.resolutions) == 1
        assert [r.kind for r in agm.resolutions].count(ResolutionKind.SPECIAL) == 1
        assert roll.roll_size(db, agm) == 16  # the lapsed and the gone are not on it
        turnouts = overview.meeting_turnout(db, agm)
        assert all(t.turnout.voted > 0 for t in turnouts)
        assert turnouts[0].turnout.quorate
        listener = member(db, LISTENER.email)
        assert roll.on_roll(db, agm, listener)
        assert overview.awaiting_votes(db, listener) == 5  # she voted on the minutes only


def test_the_listener_sees_the_open_vote_and_last_years_results(seeded, sign_in):
    client = sign_in(LISTENER.email, LISTENER.password)
    with reading(seeded) as db:
        agm_2025, agm_2026 = (meetings(db)[f"Annual General Meeting {y}"] for y in (2025, 2026))
        ids = agm_2025.id, agm_2026.id, agm_2025.resolutions[0].id
    assert "5 resolutions await your vote" in client.get("/me").get_data(as_text=True)
    ballot = client.get(f"/meetings/{ids[1]}").get_data(as_text=True)
    assert "Lowering the platform" in ballot and "Class-weighted voting" in ballot
    turnout = client.get(f"/meetings/{ids[1]}/turnout", headers=HTMX)
    assert turnout.status_code == 200 and "every 5s" in turnout.get_data(as_text=True)
    results = client.get(f"/meetings/{ids[0]}/results").get_data(as_text=True)
    assert results.count("Passed") >= 5
    votes = client.get(f"/meetings/{ids[0]}/resolutions/{ids[2]}/votes")
    assert votes.status_code == 200 and "Pádraig Walsh" in votes.get_data(as_text=True)


def test_only_presets_with_a_past_hold_meetings():
    assert RESONATE.demo.founded_on is not None and len(RESONATE.demo.meetings) == 2
    for preset in PRESETS.values():
        if preset is not RESONATE:
            assert preset.demo.meetings == (), preset.name
        for meeting in preset.demo.meetings:
            assert preset.demo.founded_on is not None
            for resolution in meeting.all_resolutions:
                assert len(resolution.votes) == len(meeting.voters), resolution.title
                assert set(resolution.votes) <= {"F", "A", "X", "."}, resolution.title


def test_a_preset_without_meetings_seeds_none_at_the_real_time(app):
    with app.test_request_context("/"), write_session(app) as db:
        assert demo.seed(db, app.config, preset="stocksy", render=fake_certificate)
    with reading(app) as db:
        assert db.scalars(select(Meeting)).all() == []
        admitted = set(db.scalars(select(Member.admitted_on)))
    assert admitted == {Clock.named(PRESETS["stocksy"].settings["timezone"]).today()}


# -- issue 14 §6: proxies, a member's resolution and a requisition in the demo ---------------


def test_the_2026_agm_has_directed_discretionary_and_chair_proxies(seeded):
    with reading(seeded) as db:
        agm = meetings(db)["Annual General Meeting 2026"]
        listener = member(db, LISTENER.email)
        by_grantor = {
            a.grantor.user.email: a
            for a in (proxies.latest_proxy(db, agm, m) for m in roll_members(db, agm))
            if a is not None
        }
        assert len(by_grantor) == 4
        kinds = [a.kind for a in by_grantor.values()]
        assert ProxyKind.DIRECTED in kinds and ProxyKind.DISCRETIONARY in kinds
        to_chair = [a for a in by_grantor.values() if a.to_chair]
        assert len(to_chair) == 1 and to_chair[0].state is ProxyState.ACCEPTED
        directed = by_grantor["member3@reverb.example"]
        assert directed.state is ProxyState.ACCEPTED
        assert sum(d.choice is None for d in directed.directions) == 1  # "holder decides"
        awaiting = by_grantor["member4@reverb.example"]
        assert awaiting.state is ProxyState.APPOINTED  # the holder has not answered
        # Cathal voted on four resolutions himself after appointing: those are revoked.
        assert sum(d.revoked_at is not None for d in awaiting.directions) == 4
        # The listener holds Darragh's discretionary proxy, with every vote still to cast,
        # and has her own votes to cast too.
        [held] = proxies.held_proxies(db, agm, listener)
        assert held.appointment.kind is ProxyKind.DISCRETIONARY
        assert held.appointment.state is ProxyState.ACCEPTED
        assert len(held.items) == 6 and not any(item.cast for item in held.items)
        assert overview.awaiting_votes(db, listener) == 5
        # Two of Orla's votes came by proxy already; turnout counts them.
        assert sum(proxies.proxy_votes(db, r) for r in agm.resolutions) == 2
        assert closing.check_votes(db).ok and ledger.check_register(db).ok


def roll_members(db, meeting):
    return [m for m in db.scalars(select(Member)) if roll.on_roll(db, meeting, m)]


def test_the_2026_agm_has_a_members_resolution_proposed_seconded_and_accepted(seeded):
    with reading(seeded) as db:
        agm = meetings(db)["Annual General Meeting 2026"]
        [proposal] = proposals.meeting_proposals(db, agm)
        assert proposal.state is ProposalState.ACCEPTED
        assert proposal.proposer.name == "Aisling Brennan"
        assert proposal.seconder.name == "Tadhg O'Sullivan"
        resolution = agm.resolutions[-1]
        assert proposal.resolution_id == resolution.id and resolution.number == 6
        assert resolution.state is ResolutionState.OPEN
        # voted on in the same window as the board's resolutions
        assert {(r.opens_at, r.closes_at) for r in agm.resolutions} == {
            (resolution.opens_at, resolution.closes_at)
        }
        notice = notices.notice_document(db, agm).versions[-1].body
        assert "Proposed by Aisling Brennan and seconded by Tadhg O'Sullivan" in notice
        # The call for resolutions closed before the notice went out.
        assert proposals.call_for(db, agm).closes_at < agm.notice_sent_at


def test_a_worker_class_requisition_is_collecting_signatures_short_of_its_threshold(seeded):
    with reading(seeded) as db:
        [requisition] = requisitions.requisitions(db)
        assert requisition.kind is MeetingKind.CLASS
        assert requisition.member_class.code == "worker"
        assert requisition.state is RequisitionState.COLLECTING
        assert requisitions.shown_state(db, requisition) is RequisitionState.COLLECTING
        assert requisitions.signature_count(db, requisition) == 2 < requisition.threshold == 3
        assert requisitions.days_left(db, requisition.sign_by) > 0
        # The worker demo member has not signed: her signature would reach it.
        assert requisitions.signature_of(db, requisition, member(db, WORKER.email)) is None
        # The newcomers joined after the 2026 AGM's record date: not on its roll.
        agm = meetings(db)["Annual General Meeting 2026"]
        assert roll.roll_size(db, agm) == 16


def test_the_demo_people_see_proxies_proposals_and_the_requisition(seeded, sign_in):
    with reading(seeded) as db:
        agm = meetings(db)["Annual General Meeting 2026"]
        [requisition] = requisitions.requisitions(db)
        ids = agm.id, requisition.id
    listener = sign_in(LISTENER.email, LISTENER.password)
    ballot = listener.get(f"/meetings/{ids[0]}").get_data(as_text=True)
    assert "Proxies you hold" in ballot and "Darragh Quinn" in ballot
    assert "Proposed by Aisling Brennan, seconded by Tadhg O&#39;Sullivan" in ballot
    worker = sign_in(WORKER.email, WORKER.password)
    assert "Cathal Ryan" in worker.get(f"/meetings/{ids[0]}/proxy").get_data(as_text=True)
    page = worker.get(f"/meetings/requisitions/{ids[1]}").get_data(as_text=True)
    assert "Cathal Ryan" in page and "Sign" in page
    staff = sign_in(STAFF.email, STAFF.password)
    assert staff.get(f"/staff/meetings/{ids[0]}/proposals").status_code == 200
    assert staff.get(f"/staff/requisitions/{ids[1]}").status_code == 200


def test_the_demo_checks_clean_by_the_cli_and_seeds_once(seeded, runner):
    for command in ("check-votes", "check-register"):
        result = runner.invoke(args=[command])
        assert result.exit_code == 0, result.output
    with seeded.test_request_context("/"), write_session(seeded) as db:
        assert not demo.seed(db, seeded.config, preset="resonate", render=fake_certificate)
    with reading(seeded) as db:
        assert len(requisitions.requisitions(db)) == 1
