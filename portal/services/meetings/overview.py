"""What members and staff see of meetings: the lists, a member's ballot, votes awaited.

Reads only: every change is in ``lifecycle``, ``ballots`` and ``closing``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ... import coop
from ...errors import PortalError
from ...models import (
    Meeting,
    MeetingState,
    Member,
    MemberClass,
    Participation,
    Resolution,
    ResolutionKind,
    ResolutionState,
    RollEntry,
)
from . import roll
from .ballots import Vote, check_on_roll, check_voting_open, votes_of
from .closing import Turnout, turnouts_of
from .tally import Tally

COMING = (MeetingState.NOTICED, MeetingState.VOTING_OPEN)
PAST = (MeetingState.VOTING_CLOSED, MeetingState.MINUTES_PUBLISHED, MeetingState.CANCELLED)


def staff_meetings(db: Session) -> list[Meeting]:
    """Every meeting, the latest first."""
    return list(
        db.scalars(
            select(Meeting)
            .options(selectinload(Meeting.resolutions))
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        )
    )


def _published() -> object:
    """Meetings members see: noticed ones (a meeting cancelled before notice never was)."""
    return Meeting.notice_sent_at.is_not(None)


def member_meetings(db: Session) -> tuple[list[Meeting], list[Meeting]]:
    """The meetings members see: those coming (soonest first) and past (latest first)."""
    query = select(Meeting).where(_published())
    coming = db.scalars(
        query.where(Meeting.state.in_(COMING)).order_by(Meeting.starts_at, Meeting.id)
    ).all()
    past = db.scalars(
        query.where(Meeting.state.in_(PAST)).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    ).all()
    return list(coming), list(past)


def member_meeting(db: Session, meeting_id: int) -> Meeting | None:
    """The meeting, if members may see it (notice has been given)."""
    return db.scalar(select(Meeting).where(Meeting.id == meeting_id, _published()))


def meeting_resolution(db: Session, meeting: Meeting, resolution_id: int) -> Resolution | None:
    """The meeting's resolution with this id, if it has one."""
    return db.scalar(
        select(Resolution).where(
            Resolution.id == resolution_id, Resolution.meeting_id == meeting.id
        )
    )


@dataclass(frozen=True)
class BallotItem:
    """A resolution as one member sees it: their vote, or why they cannot cast one now."""

    resolution: Resolution
    vote: Vote | None
    refusal: str | None  # None: the member may vote (or change their vote) now

    @property
    def open(self) -> bool:
        return self.refusal is None


def ballot_item(db: Session, resolution: Resolution, member: Member | None) -> BallotItem:
    """``resolution`` for ``member`` (None: a signed-in person not on the register)."""
    return ballot_items(db, resolution.meeting, [resolution], member)[0]


def ballot_items(
    db: Session, meeting: Meeting, resolutions: Sequence[Resolution], member: Member | None
) -> list[BallotItem]:
    """Each of the meeting's ``resolutions`` for ``member``, in a few statements however
    many there are: the member's roll entries and votes are read once for them all."""
    if member is None:
        return [BallotItem(r, None, "Only members on the voter roll vote.") for r in resolutions]
    entries = roll.member_entries(db, meeting.id, member)
    votes = votes_of(db, resolutions, member)
    # A class resolution's refusal names its class: every class read once (and held, so
    # the session's identity map keeps them), never a statement per resolution.
    classes = (
        db.scalars(select(MemberClass)).all()
        if any(r.kind is ResolutionKind.CLASS for r in resolutions)
        else []
    )
    items = []
    for resolution in resolutions:
        try:
            check_voting_open(db, resolution)
            check_on_roll(resolution, member, entries)
        except PortalError as exc:
            refusal: str | None = exc.message
        else:
            refusal = None
        items.append(BallotItem(resolution, votes.get(resolution.id), refusal))
    del classes
    return items


def cast_item(db: Session, resolution: Resolution, cast: Vote) -> BallotItem:
    """``resolution`` as the member who has just cast ``cast`` on it sees it, read again
    from nothing: they were on the (frozen) roll a moment ago, so only the voting window
    can refuse their next vote (the co-op's clock)."""
    try:
        check_voting_open(db, resolution)
    except PortalError as exc:
        return BallotItem(resolution, cast, exc.message)
    return BallotItem(resolution, cast, None)


def ballot(db: Session, meeting: Meeting, member: Member | None) -> list[BallotItem]:
    """The meeting's resolutions put to the vote (not drafts, not withdrawn), in order."""
    put = [
        resolution
        for resolution in meeting.resolutions
        if resolution.state in (ResolutionState.OPEN, ResolutionState.CLOSED)
    ]
    return ballot_items(db, meeting, put, member)


def awaiting_votes(db: Session, member: Member) -> int:
    """Open resolutions the member may vote on now and has not yet voted on."""
    now = coop.clock(db).now()
    on_roll = exists().where(
        RollEntry.meeting_id == Resolution.meeting_id,
        RollEntry.member_id == member.id,
        or_(
            and_(
                Resolution.kind == ResolutionKind.CLASS, RollEntry.class_id == Resolution.class_id
            ),
            and_(Resolution.kind != ResolutionKind.CLASS, RollEntry.is_primary.is_(True)),
        ),
    )
    voted = exists().where(
        Participation.resolution_id == Resolution.id, Participation.member_id == member.id
    )
    return (
        db.scalar(
            select(func.count())
            .select_from(Resolution)
            .where(
                Resolution.state == ResolutionState.OPEN,
                Resolution.opens_at <= now,
                Resolution.closes_at > now,
                on_roll,
                ~voted,
            )
        )
        or 0
    )


ROLL_CSV_COLUMNS = ("member_number", "name", "class", "votes_in_class", "weight")


def roll_csv_rows(db: Session, meeting: Meeting) -> Iterator[tuple[object, ...]]:
    """The frozen roll, a row per member and class, by member number."""
    rows = db.execute(
        select(RollEntry, Member)
        .join(Member, Member.id == RollEntry.member_id)
        .options(selectinload(RollEntry.member_class))
        .where(RollEntry.meeting_id == meeting.id)
        .order_by(Member.number, RollEntry.id)
    )
    for entry, member in rows:
        yield (
            member.number,
            member.name,
            entry.member_class.name,
            "yes" if entry.is_primary else "class resolutions only",
            entry.weight,
        )


def roll_counts(db: Session, meeting: Meeting) -> list[roll.ClassRoll]:
    """The meeting's roll by voting class (empty until the roll is frozen)."""
    return roll.roll_counts(db, meeting)


@dataclass(frozen=True)
class ResolutionTurnout:
    """How many have voted on a resolution, by class, against its roll (no choice read)."""

    resolution: Resolution
    turnout: Turnout


def meeting_turnout(db: Session, meeting: Meeting) -> list[ResolutionTurnout]:
    """Turnout on each resolution put to the vote: live while open, as declared once closed."""
    live = turnouts_of(db, [r for r in meeting.resolutions if r.state is ResolutionState.OPEN])
    turnouts = []
    for resolution in meeting.resolutions:
        if resolution.state is ResolutionState.OPEN:
            turnouts.append(ResolutionTurnout(resolution, live[resolution.id]))
        elif resolution.state is ResolutionState.CLOSED and resolution.tally is not None:
            tally = Tally.from_json(resolution.tally)
            turnouts.append(
                ResolutionTurnout(
                    resolution, Turnout(tally.classes, tally.quorum, tally.classes_short_of_quorum)
                )
            )
    return turnouts
