"""Votes cast at once, each in its own transaction: none lost, none counted twice.

Many threads call the service as requests would (one write session each, committed at
the end), with duplicates and changes among them, on SQLite or, with ``DATABASE_URL``
set, on PostgreSQL. Closing while votes are in flight drops none that were acknowledged.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from portal import coop
from portal.db import write_session
from portal.errors import InvalidState
from portal.models import (
    Ballot,
    Meeting,
    MeetingKind,
    Member,
    Participation,
    Resolution,
    TurnoutCount,
    User,
)
from portal.services.meetings import ballots, closing, lifecycle

VOTERS = 16
DUPLICATES = 6
CHANGES = 4


def _open_meeting(app, secretary_id, *, secret):
    with app.test_request_context("/"), write_session(app) as db:
        clock = coop.clock(db)
        today = clock.today()
        secretary = db.get(User, secretary_id)
        meeting = lifecycle.create_meeting(
            db,
            lifecycle.MeetingInput(
                kind=MeetingKind.AGM,
                title="AGM",
                starts_at=datetime.combine(
                    today + timedelta(days=30), time(19), clock.zone
                ).astimezone(UTC),
                record_date=today - timedelta(days=1),
                place="Cork",
            ),
            actor=secretary,
        )
        resolution = lifecycle.add_resolution(
            db,
            meeting,
            title="Adopt the budget",
            text="RESOLVED",
            kind=lifecycle.ResolutionKind.ORDINARY,
            secret=secret,
            actor=secretary,
        )
        lifecycle.send_notice(db, meeting, actor=secretary)
        lifecycle.open_voting(db, meeting, actor=secretary)
        return meeting.id, resolution.id


def _cast(app, resolution_id, member_id, choice, answers):
    with app.test_request_context("/"):
        try:
            with write_session(app) as db:
                member = db.get(Member, member_id)
                resolution = db.get(Resolution, resolution_id)
                vote = ballots.cast_vote(db, resolution, member, choice, actor=member.user)
            answers.append((member_id, vote.choice.value))
        except InvalidState as refused:
            answers.append((member_id, f"refused: {refused.message}"))
        except Exception as exc:
            answers.append((member_id, f"error: {exc!r}"))


def _run(threads):
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def _members(make_member, today):
    return [
        make_member(classes=["listener"], admitted_on=today - timedelta(days=30))
        for _ in range(VOTERS)
    ]


def test_concurrent_votes_duplicates_and_changes_count_exactly_once(
    app, coop, make_member, make_user
):
    today = coop_today(app)
    members = _members(make_member, today)
    secretary = make_user(role="staff")
    _, resolution_id = _open_meeting(app, secretary.id, secret=True)
    jobs = [(m.id, "for") for m in members]
    jobs += [(m.id, "for") for m in members[:DUPLICATES]]
    jobs += [(m.id, "against") for m in members[-CHANGES:]]
    answers: list = []
    _run(
        [
            threading.Thread(target=_cast, args=(app, resolution_id, member_id, choice, answers))
            for member_id, choice in jobs
        ]
    )
    assert not [a for a in answers if a[1].startswith(("error", "refused"))]
    with app.test_request_context("/"), write_session(app) as db:
        participations = db.scalar(select(func.count()).select_from(Participation))
        boxed = db.scalar(select(func.count()).select_from(Ballot))
        assert participations == boxed == VOTERS
        # The turnout kept as votes are written counted each member once too.
        assert db.scalar(select(func.sum(TurnoutCount.voted))) == VOTERS
        assert closing.turnout_problems(db) == []
        # Each changed member's last acknowledged answer is what the ballot box holds.
        against = db.scalar(
            select(func.count()).select_from(Ballot).where(Ballot.choice == "against")
        )
        last = {member_id: choice for member_id, choice in answers}
        assert against == sum(1 for choice in last.values() if choice == "against")


def test_closing_while_votes_are_in_flight_drops_none_acknowledged(
    app, coop, make_member, make_user
):
    today = coop_today(app)
    members = _members(make_member, today)
    secretary = make_user(role="staff")
    meeting_id, resolution_id = _open_meeting(app, secretary.id, secret=False)
    answers: list = []
    voters = [
        threading.Thread(target=_cast, args=(app, resolution_id, m.id, "for", answers))
        for m in members
    ]

    def close():
        with app.test_request_context("/"), write_session(app) as db:
            closing.close_voting(db, db.get(Meeting, meeting_id), actor=db.get(User, secretary.id))

    closer = threading.Thread(target=close)
    _run([*voters[: VOTERS // 2], closer, *voters[VOTERS // 2 :]])
    assert not [a for a in answers if a[1].startswith("error")]
    acknowledged = sum(1 for _, choice in answers if choice == "for")
    with app.test_request_context("/"), write_session(app) as db:
        resolution = db.get(Resolution, resolution_id)
        assert resolution.votes_for == acknowledged
        assert closing.check_votes(db).ok


def coop_today(app):
    with app.test_request_context("/"), write_session(app) as db:
        return coop.today(db)
