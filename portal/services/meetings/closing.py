"""Closing the vote: counting from the votes in one transaction, storing the result, and
checking stored results again (``check-votes``).

Closing takes the resolution's row lock exclusively, so a vote being written as it
closes either commits first and is counted, or waits and then finds the resolution
closed and is refused with a message: never acknowledged and lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Exists, and_, exists, func, select
from sqlalchemy.orm import Session

from ... import coop
from ...db import lock_row
from ...errors import InvalidState
from ...models import (
    Ballot,
    Channel,
    Choice,
    HandCount,
    Meeting,
    MeetingState,
    Participation,
    Resolution,
    ResolutionState,
    SessionState,
    TurnoutCount,
    User,
)
from .. import transitions
from . import proxies, roll
from .ballots import seal_ballots
from .tally import ChannelCount, ClassCount, Rules, Tally, assess_quorum, tally_resolution


def votes_by_channel(db: Session, resolution: Resolution) -> dict[int, list[ChannelCount]]:
    """How many chose what, by class and channel: from the ballots when secret, else the
    participations (both grouped along their count index), and the tellers' hands."""
    source = Ballot if resolution.secret else Participation
    rows = db.execute(
        select(source.class_id, source.channel, source.choice, func.count())
        .where(source.resolution_id == resolution.id, source.choice.is_not(None))
        .group_by(source.class_id, source.channel, source.choice)
    )
    votes: dict[int, dict[Channel, dict[Choice, int]]] = defaultdict(lambda: defaultdict(dict))
    for class_id, channel, choice, n in rows:
        votes[class_id][channel][choice] = n
    counts: dict[int, list[ChannelCount]] = defaultdict(list)
    for class_id, channels in votes.items():
        counts[class_id] += [
            ChannelCount(
                channel.value,
                votes_for=n.get(Choice.FOR, 0),
                against=n.get(Choice.AGAINST, 0),
                abstain=n.get(Choice.ABSTAIN, 0),
            )
            for channel, n in channels.items()
        ]
    for hands in db.scalars(select(HandCount).where(HandCount.resolution_id == resolution.id)):
        counts[hands.class_id].append(
            ChannelCount("hands", hands.votes_for, hands.against, hands.abstain)
        )
    return counts


def class_counts(db: Session, resolution: Resolution) -> list[ClassCount]:
    """Each class on the resolution's roll with its weight (as frozen) and its votes,
    merged from every channel (online and by proxy, in the room, by post, show of hands)."""
    votes = votes_by_channel(db, resolution)
    return [
        ClassCount.merged(c.code, c.members, c.weight, votes[c.class_id])
        for c in roll.class_rolls(db, resolution)
    ]


def count_resolution(db: Session, resolution: Resolution) -> Tally:
    """Count the resolution's votes under the rules fixed when its voting opened."""
    if resolution.rules is None:
        raise InvalidState(f"Voting on resolution {resolution.number} never opened.")
    return tally_resolution(Rules.from_json(resolution.rules), class_counts(db, resolution))


@dataclass(frozen=True)
class Turnout:
    """Who has voted so far, by class against the roll, and whether quorum is reached.

    Counts only: it never reads a choice, so it is safe to show live for a secret ballot.
    Every channel counts: online, by proxy, on paper, and the hands the tellers counted.
    """

    classes: tuple[ClassCount, ...]  # turnout held in ``abstain``: choices are not read
    quorum: int
    classes_short_of_quorum: tuple[str, ...]

    @property
    def voted(self) -> int:
        return sum(c.turnout for c in self.classes)

    @property
    def roll(self) -> int:
        return sum(c.roll for c in self.classes)

    @property
    def quorate(self) -> bool:
        return self.voted >= self.quorum and not self.classes_short_of_quorum


def turnout_of(db: Session, resolution: Resolution) -> Turnout:
    """The resolution's turnout so far, per class, and quorum under its fixed rules."""
    return turnouts_of(db, [resolution])[resolution.id]


def turnouts_of(db: Session, resolutions: Sequence[Resolution]) -> dict[int, Turnout]:
    """The turnout so far of each resolution (all of one meeting), by id: one read of the
    counts kept as each vote is written (``TurnoutCount``) and one of the roll's counts per
    class (kept when it was frozen), however many resolutions there are and however many
    have voted. Quorum as ``assess_quorum`` reads it from the rules fixed at opening
    (``CoopSettings.quorum_min_members``, ``quorum_percent``, ``quorum_percent_per_class``)."""
    for resolution in resolutions:
        if resolution.rules is None:
            raise InvalidState(f"Voting on resolution {resolution.number} never opened.")
    voted: dict[int, dict[int, int]] = defaultdict(dict)
    for resolution_id, class_id, n in db.execute(
        select(TurnoutCount.resolution_id, TurnoutCount.class_id, TurnoutCount.voted).where(
            TurnoutCount.resolution_id.in_([r.id for r in resolutions])
        )
    ):
        voted[resolution_id][class_id] = n
    for resolution_id, class_id, n in db.execute(
        select(
            HandCount.resolution_id,
            HandCount.class_id,
            HandCount.votes_for + HandCount.against + HandCount.abstain,
        ).where(HandCount.resolution_id.in_([r.id for r in resolutions]))
    ):
        voted[resolution_id][class_id] = voted[resolution_id].get(class_id, 0) + n
    rolls: dict[int, roll.MeetingRoll] = {}  # by meeting: one, in practice
    turnouts = {}
    for resolution in resolutions:
        if resolution.meeting_id not in rolls:
            rolls[resolution.meeting_id] = roll.meeting_roll(db, resolution.meeting_id)
        counted = voted[resolution.id]
        classes = tuple(
            ClassCount(c.code, roll=c.members, weight=c.weight, abstain=counted.get(c.class_id, 0))
            for c in rolls[resolution.meeting_id].voting_on(resolution)
        )
        quorum, short = assess_quorum(Rules.from_json(resolution.rules), classes)
        turnouts[resolution.id] = Turnout(classes, quorum, short)
    return turnouts


def _lock_for_closing(db: Session, resolution: Resolution) -> None:
    """Wait for votes being written to commit, keep new ones out, and re-read the state."""
    db.execute(select(Resolution.id).where(Resolution.id == resolution.id).with_for_update())
    db.refresh(resolution, attribute_names=["state", "closes_at"])


def close_resolution(db: Session, resolution: Resolution, *, actor: User | None) -> Tally:
    """Close voting on a resolution, count it and store the count and result with it.

    A secret resolution's ballots are sealed as it closes (``ballots.seal_ballots``).
    Directed proxies the holder did not cast are cast as directed first
    (``proxies.cast_directed_at_close``).
    """
    _lock_for_closing(db, resolution)
    transitions.require(resolution.state, ResolutionState.CLOSED, doing="closed")
    now = coop.clock(db).now()
    proxies.cast_directed_at_close(db, resolution)
    tally = count_resolution(db, resolution)
    resolution.tally = tally.as_json()
    resolution.result = tally.result
    resolution.votes_for = tally.votes_for
    resolution.votes_against = tally.against
    resolution.abstentions = tally.abstain
    if resolution.closes_at is None or resolution.closes_at > now:
        resolution.closes_at = now  # closed early by staff
    transitions.move(
        db,
        resolution,
        ResolutionState.CLOSED,
        actor=actor,
        doing="closed",
        stamp="closed_at",
        summary=(
            f"Resolution {resolution.number}: {tally.result.label} "
            f"(For {tally.votes_for}, Against {tally.against}, Abstain {tally.abstain})"
        ),
    )
    if resolution.secret:
        seal_ballots(db, resolution)
    return tally


def close_voting(db: Session, meeting: Meeting, *, actor: User | None) -> list[Tally]:
    """Close voting on every open resolution of the meeting, then the meeting's voting."""
    transitions.require(meeting.state, MeetingState.VOTING_CLOSED, doing="closed for voting")
    tallies = [
        close_resolution(db, resolution, actor=actor)
        for resolution in meeting.resolutions
        if resolution.state is ResolutionState.OPEN
    ]
    transitions.move(
        db,
        meeting,
        MeetingState.VOTING_CLOSED,
        actor=actor,
        doing="closed for voting",
        stamp="voting_closed_at",
        summary=f"Voting closed on {len(tallies)} resolutions",
    )
    return tallies


def _due(now: datetime) -> Any:
    """Open resolutions whose closing time (the co-op's clock) has passed."""
    return and_(Resolution.state == ResolutionState.OPEN, Resolution.closes_at <= now)


def _past_closing(resolution: Resolution, now: datetime) -> bool:
    return (
        resolution.state is ResolutionState.OPEN
        and resolution.closes_at is not None
        and resolution.closes_at <= now
    )


def due(meeting: Meeting, now: datetime) -> Exists:
    """Some resolution of the meeting is open past ``now``, its closing time (to select)."""
    return exists().where(Resolution.meeting_id == meeting.id, _due(now))


def is_due(db: Session, meeting: Meeting) -> bool:
    """Some resolution of the meeting is open past its closing time: one small read."""
    return bool(db.scalar(select(due(meeting, coop.clock(db).now()))))


def close_if_due(db: Session, meeting: Meeting) -> list[Resolution]:
    """Close and count the meeting's resolutions whose closing time has passed, then the
    meeting's voting once none is left open. The resolutions it closed.

    Not the meeting's voting while it is in session. Run in a write transaction of its
    own by the pages that find the meeting due (its
    ballot, turnout, results, the staff page), so a vote closes on the next request after
    its time as well as by ``close-due-votes``. Another request may have closed one since
    it was found due: each is re-read under its closing lock and left if closed already.
    """
    now = coop.clock(db).now()
    closed = []
    for resolution in meeting.resolutions:
        if not _past_closing(resolution, now):
            continue
        _lock_for_closing(db, resolution)
        if _past_closing(resolution, now):
            close_resolution(db, resolution, actor=None)
            closed.append(resolution)
    lock_row(db, meeting)
    # While the meeting sits, the chair may still put resolutions to the vote
    # (services.meetings.session): its voting closes when the session ends.
    if meeting.session_state is SessionState.IN_SESSION:
        return closed
    if meeting.state is MeetingState.VOTING_OPEN and not any(
        r.state is ResolutionState.OPEN for r in meeting.resolutions
    ):
        close_voting(db, meeting, actor=None)
    return closed


def close_due_votes(db: Session) -> list[Resolution]:
    """Close every open resolution whose closing time has passed (the co-op's clock), and
    the voting of each meeting left with none open. The closed resolutions."""
    now = coop.clock(db).now()
    meetings = db.scalars(
        select(Meeting)
        .where(Meeting.id.in_(select(Resolution.meeting_id).where(_due(now))))
        .order_by(Meeting.id)
    ).all()
    return [resolution for meeting in meetings for resolution in close_if_due(db, meeting)]


@dataclass(frozen=True)
class VoteCheck:
    """What ``check-votes`` found: resolutions checked and every difference, in words."""

    checked: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_votes(db: Session) -> VoteCheck:
    """Recount every closed resolution from its votes and compare with the stored count;
    for a secret one, also that each participation has exactly one ballot, by class."""
    problems = []
    closed = db.scalars(
        select(Resolution)
        .where(Resolution.state == ResolutionState.CLOSED)
        .order_by(Resolution.meeting_id, Resolution.number)
    ).all()
    for resolution in closed:
        name = f"meeting {resolution.meeting_id}, resolution {resolution.number}"
        if resolution.tally is None:
            problems.append(f"{name}: closed but no count is stored")
            continue
        recount = count_resolution(db, resolution)
        if _comparable(recount.as_json(), resolution.tally) != resolution.tally:
            problems.append(f"{name}: the stored count differs from a recount of the votes")
        if (recount.votes_for, recount.against, recount.abstain) != (
            resolution.votes_for,
            resolution.votes_against,
            resolution.abstentions,
        ) or recount.result is not resolution.result:
            problems.append(f"{name}: the stored totals or result differ from a recount")
        if resolution.secret:
            participants = _per_class(db, Participation, resolution)
            ballots = _per_class(db, Ballot, resolution)
            if participants != ballots:
                problems.append(
                    f"{name}: {sum(ballots.values())} ballots for "
                    f"{sum(participants.values())} members who voted"
                )
    return VoteCheck(len(closed), problems + turnout_problems(db))


def turnout_problems(db: Session) -> list[str]:
    """Every resolution's turnout kept per class (``TurnoutCount``, open or closed)
    against its participations, counted again: each difference, in words."""
    counted = {
        (resolution_id, class_id): n
        for resolution_id, class_id, n in db.execute(
            select(Participation.resolution_id, Participation.class_id, func.count()).group_by(
                Participation.resolution_id, Participation.class_id
            )
        )
    }
    kept = {
        (row.resolution_id, row.class_id): row.voted
        for row in db.scalars(select(TurnoutCount))
        if row.voted
    }
    problems = []
    for resolution_id, class_id in sorted(counted.keys() | kept.keys()):
        votes, said = (
            counted.get((resolution_id, class_id), 0),
            kept.get((resolution_id, class_id), 0),
        )
        if votes != said:
            resolution = db.get(Resolution, resolution_id)
            where = (
                f"meeting {resolution.meeting_id}, resolution {resolution.number}"
                if resolution
                else f"resolution {resolution_id}"
            )
            problems.append(
                f"{where}: the turnout kept for class {class_id} is {said}, "
                f"but {votes} members voted in it"
            )
    return problems


def _comparable(recount: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The recount as a tally stored before channels were kept (issue 14) would read."""
    if all("channels" in c for c in stored.get("classes", [])):
        return recount
    classes = [{k: v for k, v in c.items() if k != "channels"} for c in recount["classes"]]
    return {**recount, "classes": classes}


def _per_class(db: Session, source: type, resolution: Resolution) -> dict[tuple[int, str], int]:
    """Votes per class and channel (a ballot for each participation, channel by channel)."""
    return {
        (class_id, channel): n
        for class_id, channel, n in db.execute(
            select(source.class_id, source.channel, func.count())
            .where(source.resolution_id == resolution.id)
            .group_by(source.class_id, source.channel)
        )
    }
