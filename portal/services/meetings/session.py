"""The meeting in session: the chair starts it, moves through the agenda, puts a
resolution to a short vote in the room and online, closes that vote, and ends the session.

The session has its own small state machine (``SessionState``: pending → in session →
ended), beside the meeting's voting state: a meeting is in session while noticed or while
its voting is open. A vote taken in session is a resolution opened through the same path
as any other (``lifecycle.open_resolution_for``) and closed and counted by
``closing.close_resolution``; while the meeting sits, a vote past its time is closed but
the meeting's voting is not, so the chair can still put the resolutions left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ... import coop
from ...errors import InvalidInput, InvalidState
from ...models import (
    AgendaItem,
    Meeting,
    MeetingState,
    Member,
    Resolution,
    ResolutionState,
    SessionState,
    User,
)
from .. import audit, transitions
from ..inputs import read_whole
from . import closing, lifecycle
from .overview import BallotItem, ballot_items

# How long a vote taken in session may stay open, in minutes.
VOTE_MINUTES = (1, 120)
SITTING = (MeetingState.NOTICED, MeetingState.VOTING_OPEN)


def start_refusal(db: Session, meeting: Meeting) -> str | None:
    """Why the session cannot start now, or None: the meeting must have been noticed (and
    not be closed for voting), and its day must have come (the co-op's clock, in
    ``CoopSettings.timezone``): the chair may open the room before the advertised hour."""
    if meeting.session_state is not SessionState.PENDING:
        return f"This meeting's session is {meeting.session_state.label.lower()}."
    if meeting.state not in SITTING:
        return f"This meeting is {meeting.state.label.lower()}; it can no longer sit."
    clock = coop.clock(db)
    day = clock.day_of(meeting.starts_at)
    if clock.today() < day:
        return f"The meeting sits on {day:%-d %B %Y}; its session can start from that day."
    return None


def start_session(db: Session, meeting: Meeting, *, actor: User) -> Meeting:
    """Start the session (see :func:`start_refusal`) on the first item of the agenda."""
    transitions.require(meeting.session_state, SessionState.IN_SESSION, doing="started")
    refusal = start_refusal(db, meeting)
    if refusal is not None:
        raise InvalidState(refusal)
    meeting.current_item = meeting.agenda[0] if meeting.agenda else None
    transitions.move(
        db,
        meeting,
        SessionState.IN_SESSION,
        field="session_state",
        actor=actor,
        doing="started",
        stamp="in_session_at",
        action="meeting.session_started",
        summary="The meeting is in session"
        + (f"; now: {meeting.current_item.title}" if meeting.current_item else ""),
    )
    return meeting


def _require_sitting(meeting: Meeting, doing: str) -> None:
    if meeting.session_state is not SessionState.IN_SESSION:
        raise InvalidState(
            f"This meeting's session is {meeting.session_state.label.lower()}; {doing}."
        )


def read_item(meeting: Meeting, value: object) -> AgendaItem:
    """The meeting's agenda item named by its id in a form; refused when it has none such."""
    raw = str(value or "").strip()
    item = next((i for i in meeting.agenda if str(i.id) == raw), None)
    if item is None:
        raise InvalidInput("Choose an item of this meeting's agenda.", field="item")
    return item


def next_item(meeting: Meeting) -> AgendaItem | None:
    """The agenda item after the current one (the first when none is current)."""
    agenda = meeting.agenda
    if meeting.current_item_id is None:
        return agenda[0] if agenda else None
    ids = [item.id for item in agenda]
    at = ids.index(meeting.current_item_id) if meeting.current_item_id in ids else -1
    return agenda[at + 1] if 0 <= at < len(agenda) - 1 else None


def take_item(db: Session, meeting: Meeting, item: AgendaItem, *, actor: User) -> AgendaItem:
    """Move the meeting on to ``item`` of its agenda (votes already open stay open)."""
    _require_sitting(meeting, "it does not move through its agenda")
    if item.meeting_id != meeting.id:
        raise InvalidInput("Choose an item of this meeting's agenda.", field="item")
    meeting.current_item = item
    db.flush()
    audit.record(
        db, actor=actor, action="meeting.item_taken", target=meeting, summary=f"Now: {item.title}"
    )
    return item


def read_minutes(value: object) -> timedelta:
    """How long the vote stays open: a whole number of minutes within ``VOTE_MINUTES``."""
    low, high = VOTE_MINUTES
    return timedelta(minutes=read_whole(value, "Minutes", low=low, high=high, field="minutes"))


def _own_resolution(meeting: Meeting, resolution: Resolution) -> None:
    if resolution.meeting_id != meeting.id:
        raise InvalidInput("This meeting has no such resolution.")


def open_vote(
    db: Session, meeting: Meeting, resolution: Resolution, minutes: object, *, actor: User
) -> Resolution:
    """Put a draft resolution to the vote now, for the minutes given, under the current
    agenda item (a resolution put under another item stays with it). Opened as any vote
    opens (``lifecycle.open_resolution_for``: roll frozen, counting rules fixed now)."""
    _require_sitting(meeting, "no vote is taken in it")
    _own_resolution(meeting, resolution)
    duration = read_minutes(minutes)
    item = meeting.current_item
    if item is None:
        raise InvalidState("Take an item of the agenda first; the vote is put under it.")
    if resolution.agenda_item_id not in (None, item.id):
        raise InvalidState(
            f"Resolution {resolution.number} is put under another item of the agenda."
        )
    resolution.agenda_item_id = item.id
    lifecycle.open_resolution_for(db, resolution, duration, actor=actor)
    audit.record(
        db,
        actor=actor,
        action="meeting.vote_in_session",
        target=meeting,
        summary=f"Resolution {resolution.number} put to the vote for "
        f"{duration.seconds // 60} minutes under “{item.title}”",
    )
    return resolution


def close_vote(db: Session, meeting: Meeting, resolution: Resolution, *, actor: User) -> None:
    """Close the vote on a resolution now and count it (``closing.close_resolution``)."""
    _require_sitting(meeting, "its votes are closed from the meeting's page")
    _own_resolution(meeting, resolution)
    closing.close_resolution(db, resolution, actor=actor)


def end_session(db: Session, meeting: Meeting, *, actor: User) -> Meeting:
    """End the session; when no vote is left open the meeting's voting closes with it."""
    meeting.current_item = None
    transitions.move(
        db,
        meeting,
        SessionState.ENDED,
        field="session_state",
        actor=actor,
        doing="ended",
        stamp="session_ended_at",
        action="meeting.session_ended",
        summary="The meeting's session ended",
    )
    if meeting.state is MeetingState.VOTING_OPEN and not any(
        r.state is ResolutionState.OPEN for r in meeting.resolutions
    ):
        closing.close_voting(db, meeting, actor=actor)
    return meeting


def _in_session(meeting: Meeting) -> object:
    """Resolutions put to the vote in session: open, or closed under the current item."""
    return (
        select(Resolution)
        .where(
            Resolution.meeting_id == meeting.id,
            Resolution.agenda_item_id.is_not(None),
            or_(
                Resolution.state == ResolutionState.OPEN,
                Resolution.agenda_item_id == meeting.current_item_id,
            ),
        )
        .order_by(Resolution.number)
    )


@dataclass(frozen=True)
class Live:
    """What members following online see: the session, the item it is on, and the ballot
    of each resolution put to the vote in session (open, or closed on this item).

    ``key`` changes exactly when that set of resolutions or their states change, so a
    page polling for the session swaps the ballots in only then (``meetings/_live.html``).
    """

    meeting: Meeting
    item: AgendaItem | None
    ballots: tuple[BallotItem, ...]
    key: str
    polling: bool  # the session sits, or may still start: the page keeps asking


def live_key(meeting: Meeting, resolutions: list[Resolution]) -> str:
    """The version of the live ballots: the session, its item, and each resolution's state."""
    votes = "-".join(f"{r.id}{r.state.value[0]}" for r in resolutions)
    return f"{meeting.session_state.value[0]}{meeting.current_item_id or 0}.{votes}"


def followed(db: Session, meeting: Meeting) -> bool:
    """Members follow the session on the meeting's page: once its day has come (before the
    session starts, the page waits for it), while it sits, and after it ended."""
    if meeting.session_state is not SessionState.PENDING:
        return True
    return start_refusal(db, meeting) is None


def live(db: Session, meeting: Meeting, member: Member | None, *, ballots: bool = True) -> Live:
    """The session as ``member`` follows it: a fixed number of statements (the item, the
    resolutions in session, and each one's ballot for this member), whatever the roll's
    size. ``ballots=False`` reads only what the key needs (the poll's answer)."""
    resolutions = list(db.scalars(_in_session(meeting)))
    items = tuple(ballot_items(db, meeting, resolutions, member)) if ballots else ()
    polling = meeting.session_state is SessionState.IN_SESSION or (
        meeting.session_state is SessionState.PENDING and start_refusal(db, meeting) is None
    )
    return Live(meeting, meeting.current_item, items, live_key(meeting, resolutions), polling)


def chair_view(meeting: Meeting) -> tuple[list[Resolution], list[Resolution]]:
    """For the chair: the drafts that can be put to the vote under the current item, and
    the resolutions already put in session."""
    current = meeting.current_item_id
    drafts = [
        r
        for r in meeting.resolutions
        if r.state is ResolutionState.DRAFT and r.agenda_item_id in (None, current)
    ]
    taken = [r for r in meeting.resolutions if r.agenda_item_id is not None and r not in drafts]
    return drafts, taken
