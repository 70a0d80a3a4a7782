"""The voter roll: taken from the register as of the record date, and stored.

Who is on it (issue 13, DESIGN.md §2): members who were active on the record date and
held a paid membership share then (membership begins when that share is paid, rule 8.1),
once for each class they belonged to that day. They vote on the meeting's ordinary and
special resolutions in their primary class; on a class resolution, every member of that
class votes. A class meeting's roll holds only its class. Members admitted after the
record date, and lapsed or ceased members, are not on it; once frozen, later changes to
the register do not change it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ... import coop
from ...errors import InvalidState
from ...models import (
    ClassMembership,
    Meeting,
    Member,
    MemberClass,
    MemberStatus,
    MemberStatusChange,
    Resolution,
    ResolutionKind,
    RollClass,
    RollEntry,
    ShareType,
    User,
    utcnow,
)
from .. import audit
from ..shares import ledger


def roll_cutoff(meeting: Meeting, now: datetime, clock: coop.Clock) -> datetime:
    """The instant of the register the roll is taken from: the end of the record date
    (the co-op's date, ``CoopSettings.timezone``), or now while that day is still on."""
    return min(now, clock.end_of_day(meeting.record_date))


def _statuses_at(db: Session, member_ids: set[int], cutoff: datetime) -> dict[int, MemberStatus]:
    """Each member's status at ``cutoff``, from their status history (latest change first)."""
    statuses: dict[int, MemberStatus] = {}
    rows = db.execute(
        select(MemberStatusChange.member_id, MemberStatusChange.status)
        .where(MemberStatusChange.at < cutoff)
        .order_by(MemberStatusChange.at, MemberStatusChange.id)
    )
    for member_id, status in rows:
        if member_id in member_ids:
            statuses[member_id] = status  # the last one read is the latest
    return statuses


def eligible_entries(db: Session, meeting: Meeting, cutoff: datetime) -> list[RollEntry]:
    """The roll as the register stood at ``cutoff`` (on ``meeting.record_date``), unsaved.

    A member with no status history before the cutoff counts as active from admission.
    Their voting class is their primary class if they held it that day, else the class
    they joined first among those they held.
    """
    day = meeting.record_date
    members = db.scalars(
        select(Member)
        .options(selectinload(Member.class_memberships).joinedload(ClassMembership.member_class))
        .where(
            Member.admitted_on <= day,
            or_(Member.ceased_on.is_(None), Member.ceased_on > day),
        )
        .order_by(Member.number)
    ).all()
    voting_types = set(db.scalars(select(ShareType.id).where(ShareType.voting.is_(True))))
    held: Counter[int] = Counter()
    for (member_id, type_id), quantity in ledger.holdings(db, as_of=cutoff).items():
        if type_id in voting_types:
            held[member_id] += quantity
    statuses = _statuses_at(db, {m.id for m in members}, cutoff)
    entries = []
    for member in members:
        if statuses.get(member.id, MemberStatus.ACTIVE) is not MemberStatus.ACTIVE:
            continue
        if held[member.id] <= 0:
            continue
        classes = [
            cm
            for cm in member.class_memberships
            if cm.admitted_on <= day and (cm.ended_on is None or cm.ended_on > day)
        ]
        if meeting.class_id is not None:
            classes = [cm for cm in classes if cm.class_id == meeting.class_id]
        if not classes:
            continue
        classes.sort(key=lambda cm: (cm.admitted_on, cm.member_class.position, cm.class_id))
        primary = next((cm for cm in classes if cm.class_id == member.primary_class_id), classes[0])
        entries.extend(
            RollEntry(
                meeting_id=meeting.id,
                member_id=member.id,
                class_id=cm.class_id,
                weight=cm.member_class.voting_weight,
                is_primary=cm is primary,
            )
            for cm in classes
        )
    return entries


def freeze_roll(db: Session, meeting: Meeting, *, actor: User | None) -> int:
    """Take the meeting's roll from the register as of its record date and store it.

    Refused before the record date (``CoopSettings.timezone`` decides the day); a roll
    frozen once stays as it is (this returns its size again). Returns the members on it.
    """
    if meeting.roll_frozen_at is not None:
        return roll_size(db, meeting)
    clock = coop.clock(db)
    if meeting.record_date > clock.today():
        raise InvalidState(
            f"The roll is taken from the register on the record date, "
            f"{meeting.record_date:%-d %B %Y}; it cannot be frozen before that day."
        )
    now = clock.now()
    cutoff = roll_cutoff(meeting, now, clock)
    entries = eligible_entries(db, meeting, cutoff)
    db.add_all(entries)
    db.add_all(class_counts(meeting, entries))
    meeting.roll_as_of = cutoff
    meeting.roll_frozen_at = utcnow()
    size = sum(1 for e in entries if e.is_primary)
    audit.record(
        db,
        actor=actor,
        action="meeting.roll_frozen",
        target=meeting,
        summary=f"Voter roll frozen as of {meeting.record_date.isoformat()}: {size} members",
    )
    db.flush()
    return size


def class_counts(meeting: Meeting, entries: list[RollEntry]) -> list[RollClass]:
    """The roll's classes with how many vote in each, counted from its entries once."""
    counts: dict[int, RollClass] = {}
    for entry in entries:
        row = counts.setdefault(
            entry.class_id,
            RollClass(
                meeting_id=meeting.id, class_id=entry.class_id, weight=0, voters=0, members=0
            ),
        )
        row.weight = max(row.weight, entry.weight)
        row.members += 1
        row.voters += 1 if entry.is_primary else 0
    return list(counts.values())


def roll_size(db: Session, meeting: Meeting) -> int:
    """Members on the meeting's roll (from its counts per class, never the roll itself)."""
    return (
        db.scalar(select(func.sum(RollClass.voters)).where(RollClass.meeting_id == meeting.id)) or 0
    )


@dataclass(frozen=True)
class ClassRoll:
    """A class on a roll: its code, name, weight when frozen, and members voting in it."""

    class_id: int
    code: str
    name: str
    weight: int
    members: int


def voters(resolution: Resolution) -> Any:
    """The roll entries that vote on ``resolution``: its class's, or the primary ones."""
    if resolution.kind is ResolutionKind.CLASS:
        return RollEntry.class_id == resolution.class_id
    return RollEntry.is_primary.is_(True)


@dataclass(frozen=True)
class MeetingRoll:
    """A meeting's roll as counted at freezing: each class with its voters (primary
    entries) and all its members, in the classes' order; read in one statement."""

    classes: tuple[tuple[ClassRoll, ClassRoll], ...]  # (as voters, as all members)

    def voting_on(self, resolution: Resolution) -> list[ClassRoll]:
        """The classes voting on ``resolution`` with the size of each one's roll."""
        if resolution.kind is ResolutionKind.CLASS:
            return [
                every
                for _, every in self.classes
                if every.class_id == resolution.class_id and every.members
            ]
        return [primary for primary, _ in self.classes if primary.members]


def meeting_roll(db: Session, meeting_id: int) -> MeetingRoll:
    """The meeting's roll by class, from the counts kept when it was frozen."""
    rows = db.execute(
        select(
            MemberClass.id,
            MemberClass.code,
            MemberClass.name,
            RollClass.weight,
            RollClass.voters,
            RollClass.members,
        )
        .join(RollClass, RollClass.class_id == MemberClass.id)
        .where(RollClass.meeting_id == meeting_id)
        .order_by(MemberClass.position, MemberClass.id)
    )
    return MeetingRoll(
        tuple(
            (ClassRoll(i, code, name, weight, voters), ClassRoll(i, code, name, weight, members))
            for i, code, name, weight, voters, members in rows
        )
    )


def class_rolls(db: Session, resolution: Resolution) -> list[ClassRoll]:
    """The classes voting on ``resolution`` with the size of each one's roll."""
    return meeting_roll(db, resolution.meeting_id).voting_on(resolution)


def roll_counts(db: Session, meeting: Meeting) -> list[ClassRoll]:
    """The meeting's roll by voting class (each member once, in their primary class)."""
    return [primary for primary, _ in meeting_roll(db, meeting.id).classes if primary.members]


def voter_entry(db: Session, resolution: Resolution, member: Member) -> RollEntry | None:
    """The member's roll entry that votes on ``resolution``, if they may vote on it."""
    return db.scalar(
        select(RollEntry).where(
            RollEntry.meeting_id == resolution.meeting_id,
            RollEntry.member_id == member.id,
            voters(resolution),
        )
    )


def member_entries(db: Session, meeting_id: int, member: Member) -> list[RollEntry]:
    """The member's entries on the meeting's roll (none: not on it), in one statement."""
    return list(
        db.scalars(
            select(RollEntry)
            .where(RollEntry.meeting_id == meeting_id, RollEntry.member_id == member.id)
            .order_by(RollEntry.id)
        )
    )


def entry_voting_on(resolution: Resolution, entries: Sequence[RollEntry]) -> RollEntry | None:
    """Of a member's roll entries, the one that votes on ``resolution`` (as :func:`voters`)."""
    for entry in entries:
        if resolution.kind is ResolutionKind.CLASS:
            if entry.class_id == resolution.class_id:
                return entry
        elif entry.is_primary:
            return entry
    return None


def on_roll(db: Session, meeting: Meeting, member: Member) -> bool:
    """The member is on the meeting's roll (in any class)."""
    return (
        db.scalar(
            select(RollEntry.id)
            .where(RollEntry.meeting_id == meeting.id, RollEntry.member_id == member.id)
            .limit(1)
        )
        is not None
    )
