"""The demo co-op's general meetings (issue 13 §10): its 2025 AGM closed and counted, its
2026 AGM open for voting with votes already cast, both told through the app's services at
their own dates; presets with no meetings get none."""

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
    MeetingMinutes,
    MeetingState,
    Member,
    ResolutionKind,
    ResolutionResult,
    ResolutionState,
    User,
)
from portal.presets import PRESETS, RESONATE
from portal.services.meetings import closing, minutes, overview, roll
from portal.services.meetings.tally import Tally

from .factories import HTMX, fake_certificate, reading

LISTENER = RESONATE.demo.person("listener@reverb.example")


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
        assert roll.roll_size(db, agm) == 11  # the lapsed and the gone were members then
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
        assert roll.roll_size(db, agm) == 9  # the lapsed and the gone are not on it
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
            for resolution in meeting.resolutions:
                assert len(resolution.votes) == len(meeting.voters), resolution.title
                assert set(resolution.votes) <= {"F", "A", "X", "."}, resolution.title


def test_a_preset_without_meetings_seeds_none_at_the_real_time(app):
    with app.test_request_context("/"), write_session(app) as db:
        assert demo.seed(db, app.config, preset="stocksy", render=fake_certificate)
    with reading(app) as db:
        assert db.scalars(select(Meeting)).all() == []
        admitted = set(db.scalars(select(Member.admitted_on)))
    assert admitted == {Clock.named(PRESETS["stocksy"].settings["timezone"]).today()}
