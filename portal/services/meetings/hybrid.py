"""A meeting held in a room as well as online (issue 14 §2): attendance, shows of hands,
and paper ballots from the room or the post, each merged with the online vote.

* **Attendance**: staff mark members on the roll present (and undo it) while the meeting
  is noticed or voting is open; the count per class is read from its index.
* **Show of hands** (open resolutions only: on a secret one the room would see how each
  member voted): the tellers' For, Against and Abstain per class, while voting is open.
  Each class's hands are at most its members present who have not voted on the
  resolution online, by proxy or on paper; entering them again replaces them.
* **Paper ballots**: one at a time, against a member on the roll, in the room or by post.
  A ballot cast in the room also marks the member present (a postal one does not).
  A member votes once: a paper ballot for a member who voted is refused, naming when and
  how they did; an online vote after a paper ballot is refused the same way
  (``ballots.cast_vote``). A paper ballot revokes the member's proxy for the resolution,
  as their own online vote does. On a secret resolution the choice goes on a ballot like
  an online one, and staff see afterwards only that the member voted.

Every entry is one transaction with its audit event; the tally merges every channel
(``closing.class_counts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from ...errors import InvalidFields, InvalidInput, InvalidState, NotAllowed
from ...models import (
    PAPER_CHANNELS,
    Attendance,
    Channel,
    Choice,
    HandCount,
    Meeting,
    MeetingState,
    Member,
    MemberClass,
    Participation,
    Resolution,
    RollEntry,
    User,
)
from .. import audit
from ..inputs import DIGITS, read_choice, read_id
from ..register.search import name_or_number
from . import ballots, roll

ATTENDANCE_STATES = (MeetingState.NOTICED, MeetingState.VOTING_OPEN)
HAND_LIMIT = 1_000_000  # more hands than any roll: a typo, said as such


# -- attendance --------------------------------------------------------------------------------


def attendance_open(meeting: Meeting) -> bool:
    """Whether staff can record attendance: the roll is frozen and the meeting is noticed
    or voting is open."""
    return meeting.state in ATTENDANCE_STATES and meeting.roll_frozen_at is not None


def _require_attendance_open(meeting: Meeting) -> None:
    if not attendance_open(meeting):
        raise InvalidState(
            "Attendance is recorded once the meeting's voter roll is frozen and until voting "
            f"closes; this meeting is {meeting.state.label.lower()}"
            + ("" if meeting.roll_frozen_at else " and its roll is not frozen yet")
            + "."
        )


def _primary_entry(db: Session, meeting: Meeting, member: Member) -> RollEntry | None:
    return db.scalar(
        select(RollEntry).where(
            RollEntry.meeting_id == meeting.id,
            RollEntry.member_id == member.id,
            RollEntry.is_primary.is_(True),
        )
    )


def _not_on_roll(meeting: Meeting, member: Member) -> NotAllowed:
    return NotAllowed(
        f"{member.name} (no. {member.number}) is not on this meeting's voter roll: it lists "
        f"the members on the register on {meeting.record_date:%-d %B %Y}."
    )


def mark_present(db: Session, meeting: Meeting, member: Member, *, actor: User) -> bool:
    """Record the member as present; False when they already were (nothing written)."""
    _require_attendance_open(meeting)
    entry = _primary_entry(db, meeting, member)
    if entry is None:
        raise _not_on_roll(meeting, member)
    return _record_presence(db, meeting, member, entry, actor=actor)


def _record_presence(
    db: Session, meeting: Meeting, member: Member, entry: RollEntry, *, actor: User, why: str = ""
) -> bool:
    if _attendance(db, meeting, member) is not None:
        return False
    db.add(
        Attendance(
            meeting_id=meeting.id,
            member_id=member.id,
            class_id=entry.class_id,
            recorded_by_id=actor.id,
        )
    )
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="meeting.attended",
        target=meeting,
        summary=f"Member no. {member.number} marked present{why}",
    )
    return True


def undo_present(db: Session, meeting: Meeting, member: Member, *, actor: User) -> bool:
    """Take back the member's attendance; False when they were not marked present."""
    _require_attendance_open(meeting)
    gone = db.execute(
        delete(Attendance)
        .where(Attendance.meeting_id == meeting.id, Attendance.member_id == member.id)
        .execution_options(synchronize_session=False)
    )
    if not gone.rowcount:
        return False
    audit.record(
        db,
        actor=actor,
        action="meeting.attendance_undone",
        target=meeting,
        summary=f"Member no. {member.number} no longer marked present",
    )
    return True


def _attendance(db: Session, meeting: Meeting, member: Member) -> Attendance | None:
    return db.scalar(
        select(Attendance).where(
            Attendance.meeting_id == meeting.id, Attendance.member_id == member.id
        )
    )


@dataclass(frozen=True)
class ClassPresence:
    """A class on the roll and how many of its members are present."""

    name: str
    members: int
    present: int


def presence(db: Session, meeting: Meeting) -> list[ClassPresence]:
    """Members present per voting class, against the roll (two grouped counts, each read
    from its index)."""
    present = dict(
        db.execute(
            select(Attendance.class_id, func.count())
            .where(Attendance.meeting_id == meeting.id)
            .group_by(Attendance.class_id)
        ).all()
    )
    return [
        ClassPresence(c.name, c.members, present.get(c.class_id, 0))
        for c in roll.roll_counts(db, meeting)
    ]


@dataclass(frozen=True)
class RollMember:
    """A member on the roll as a search shows them."""

    member_id: int
    number: int
    name: str
    class_name: str
    present: bool


@dataclass(frozen=True)
class RollPage:
    """One page of members on the roll matching a search, by number; ``next_after`` is
    the number the next page starts after (None: the last page)."""

    members: list[RollMember]
    text: str
    after: int | None
    next_after: int | None


ROLL_PAGE = 20


def search_roll(
    db: Session, meeting: Meeting, text: str, *, after: int | None = None, per_page: int = ROLL_PAGE
) -> RollPage:
    """Members on the meeting's roll whose name or number matches ``text`` (everyone when
    blank), by number, a page after member number ``after``: paged by key, so a page of
    a roll of 100,000 costs what a page of ten does."""
    query = (
        select(Member.id, Member.number, Member.name, MemberClass.name, Attendance.id)
        .join(RollEntry, RollEntry.member_id == Member.id)
        .join(MemberClass, MemberClass.id == RollEntry.class_id)
        .outerjoin(
            Attendance,
            (Attendance.meeting_id == RollEntry.meeting_id) & (Attendance.member_id == Member.id),
        )
        .where(RollEntry.meeting_id == meeting.id, RollEntry.is_primary.is_(True))
        .order_by(Member.number)
        .limit(per_page + 1)
    )
    conditions = name_or_number(text)
    if conditions:
        query = query.where(or_(*conditions))
    if after is not None:
        query = query.where(Member.number > after)
    rows = [
        RollMember(member_id, number, name, class_name, present is not None)
        for member_id, number, name, class_name, present in db.execute(query)
    ]
    more = len(rows) > per_page
    rows = rows[:per_page]
    return RollPage(rows, text, after, rows[-1].number if more else None)


def read_after(value: Any) -> int | None:
    """The ``after`` key of a roll page from a query string (anything else: the first)."""
    raw = str(value or "")
    return read_id(raw)


def member_by_number(db: Session, value: Any) -> Member:
    """The member whose number is written in ``value`` (422 when none is)."""
    raw = str(value or "").strip().removeprefix("#")
    if not DIGITS.fullmatch(raw):
        raise InvalidInput("Give the member's number (for example 1024).", field="member")
    member = db.scalar(select(Member).where(Member.number == read_id(raw)))
    if member is None:
        raise InvalidInput(f"No member has the number {int(raw)}.", field="member")
    return member


# -- show of hands -----------------------------------------------------------------------------


def _require_open_ballot(resolution: Resolution) -> None:
    if resolution.secret:
        raise InvalidState(
            f"Resolution {resolution.number} is a secret ballot: a show of hands would let "
            "the room see how each member voted. Enter each member's paper ballot instead."
        )


def hands_allowed(db: Session, resolution: Resolution) -> dict[int, int]:
    """Per class voting on ``resolution``: its members present who have not voted on it
    online, by proxy or on paper (the most hands the tellers may count)."""
    voted = (
        select(Participation.id)
        .where(
            Participation.resolution_id == resolution.id,
            Participation.member_id == Attendance.member_id,
        )
        .exists()
    )
    return dict(
        db.execute(
            select(RollEntry.class_id, func.count())
            .join(
                Attendance,
                (Attendance.meeting_id == RollEntry.meeting_id)
                & (Attendance.member_id == RollEntry.member_id),
            )
            .where(RollEntry.meeting_id == resolution.meeting_id, roll.voters(resolution), ~voted)
            .group_by(RollEntry.class_id)
        ).all()
    )


@dataclass(frozen=True)
class Hands:
    """The tellers' count in one class."""

    votes_for: int
    against: int
    abstain: int

    @property
    def total(self) -> int:
        return self.votes_for + self.against + self.abstain


def read_hands(values: Mapping[str, str], classes: list[roll.ClassRoll]) -> dict[int, Hands]:
    """The hands per class from a form (``for-<code>``, ``against-<code>``,
    ``abstain-<code>``; blank is none). 422 naming each field that is not a whole number."""
    errors: dict[str, str] = {}
    counts = {}
    for c in classes:
        numbers = []
        for choice in Choice:
            field = f"{choice.value}-{c.code}"
            raw = str(values.get(field, "") or "0").strip()
            if not DIGITS.fullmatch(raw) or int(raw) > HAND_LIMIT:
                errors[field] = f"{choice.label} in the {c.name} class: a whole number, 0 or more."
                numbers.append(0)
            else:
                numbers.append(int(raw))
        counts[c.class_id] = Hands(*numbers)
    if errors:
        raise InvalidFields(errors)
    return counts


def enter_hands(
    db: Session, resolution: Resolution, counts: Mapping[int, Hands], *, actor: User
) -> int:
    """Record (or replace) the tellers' count for each class on an open resolution, while
    voting is open; the hands counted. Refused for a secret resolution, and in a class
    whose hands outnumber its members present who have not voted (nothing written)."""
    _require_open_ballot(resolution)
    ballots.lock_for_voting(db, resolution)
    ballots.check_voting_open(db, resolution)
    classes = {c.class_id: c for c in roll.class_rolls(db, resolution)}
    allowed = hands_allowed(db, resolution)
    errors = {}
    for class_id, hands in counts.items():
        if class_id not in classes:
            raise InvalidInput("That class does not vote on this resolution.")
        most = allowed.get(class_id, 0)
        if hands.total > most:
            name = classes[class_id].name
            errors[f"for-{classes[class_id].code}"] = (
                f"The tellers counted {hands.total} hands in the {name} class, but only "
                f"{most} of its members present {'has' if most == 1 else 'have'} not "
                f"already voted on resolution {resolution.number} online, by proxy or on paper."
            )
    if errors:
        raise InvalidFields(errors)
    stored = {
        h.class_id: h
        for h in db.scalars(select(HandCount).where(HandCount.resolution_id == resolution.id))
    }
    for class_id, hands in counts.items():
        row = stored.get(class_id)
        if row is None and not hands.total:
            continue  # no hands in a class never counted: no row
        if row is None:
            row = HandCount(resolution_id=resolution.id, class_id=class_id)
            db.add(row)
        row.votes_for, row.against, row.abstain = hands.votes_for, hands.against, hands.abstain
        row.entered_by_id = actor.id
    db.flush()
    total = sum(h.total for h in counts.values())
    audit.record(
        db,
        actor=actor,
        action="vote.hands",
        target=resolution,
        summary=f"Show of hands on resolution {resolution.number}: "
        + "; ".join(
            f"{classes[cid].name} For {h.votes_for}, Against {h.against}, Abstain {h.abstain}"
            for cid, h in counts.items()
        ),
    )
    return total


def hand_counts(db: Session, resolution: Resolution) -> dict[int, HandCount]:
    """The tellers' counts entered for ``resolution``, by class."""
    return {
        h.class_id: h
        for h in db.scalars(select(HandCount).where(HandCount.resolution_id == resolution.id))
    }


# -- paper ballots -----------------------------------------------------------------------------


def read_channel(value: Any) -> Channel:
    channel = read_choice(
        Channel, value, "Say whether the ballot was cast in the room or by post.", field="channel"
    )
    if channel not in PAPER_CHANNELS:
        raise InvalidInput(
            "Say whether the ballot was cast in the room or by post.", field="channel"
        )
    return channel


def enter_paper_ballot(
    db: Session,
    resolution: Resolution,
    member: Member,
    choice: Choice | str,
    channel: Channel,
    *,
    actor: User,
) -> ballots.Vote:
    """Count a member's paper ballot, cast in the room or by post, while voting is open.

    Refused (nothing written): outside the voting window (409), for a member not on the
    roll or of another class (403), and for a member who voted already, online, by proxy
    or on paper (409, naming when and how). Revokes the member's proxy for the resolution.
    """
    choice = read_choice(Choice, choice, "Choose For, Against or Abstain.", field="choice")
    if channel not in PAPER_CHANNELS:
        raise InvalidInput("A paper ballot is cast in the room or by post.", field="channel")
    ballots.lock_for_voting(db, resolution)
    ballots.check_voting_open(db, resolution)
    entry = roll.voter_entry(db, resolution, member)
    if entry is None:
        if roll.on_roll(db, resolution.meeting, member) and resolution.member_class:
            raise NotAllowed(
                f"{member.name} is not in the {resolution.member_class.name} class, which "
                f"alone votes on resolution {resolution.number}."
            )
        raise _not_on_roll(resolution.meeting, member)
    earlier = db.scalar(
        select(Participation)
        .where(Participation.resolution_id == resolution.id, Participation.member_id == member.id)
        .with_for_update()
    )
    if earlier is not None:
        raise InvalidState(
            f"{ballots.how_voted(db, member, earlier)}: a member votes once, so this paper "
            "ballot was not counted."
        )
    if channel is Channel.IN_ROOM:  # a ballot handed in in the room: the member is there
        primary = _primary_entry(db, resolution.meeting, member)
        if primary is not None:
            _record_presence(
                db, resolution.meeting, member, primary, actor=actor, why=" (paper ballot)"
            )
    ballots.revoke_proxy_for(db, resolution, member)
    receipt = ballots.add_vote(db, resolution, member, entry.class_id, choice, channel=channel)
    db.flush()  # a concurrent entry for the same member fails here, as a whole
    how = "(secret ballot)" if resolution.secret else choice.label
    where = "in the room" if channel is Channel.IN_ROOM else "by post"
    audit.record(
        db,
        actor=actor,
        action="vote.entered",
        target=resolution,
        summary=f"Paper ballot of member no. {member.number} ({where}) entered on resolution "
        f"{resolution.number}: {how}",
    )
    return ballots.Vote(resolution.id, choice, receipt, resolution.secret)


@dataclass(frozen=True)
class PaperEntry:
    """A paper ballot as staff see it: whose, how, when; the choice only when open."""

    number: int
    name: str
    channel: Channel
    cast_at: datetime
    choice: Choice | None  # None on a secret ballot: staff see only that the member voted


def paper_entries(db: Session, resolution: Resolution, *, limit: int = 50) -> list[PaperEntry]:
    """The latest paper ballots entered on ``resolution`` (a secret one's without choice)."""
    rows = db.execute(
        select(
            Member.number,
            Member.name,
            Participation.channel,
            Participation.cast_at,
            Participation.choice,
        )
        .join(Member, Member.id == Participation.member_id)
        .where(
            Participation.resolution_id == resolution.id,
            Participation.channel.in_(PAPER_CHANNELS),
        )
        .order_by(Participation.cast_at.desc(), Participation.id.desc())
        .limit(limit)
    )
    return [PaperEntry(*row) for row in rows]
