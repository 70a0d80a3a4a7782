"""The board record: who sits for each class, and whose terms end at a given AGM.

A director sits from the first day of their term to its last (``Director.term_ends_on``,
the day of the AGM their term runs to). A class never has more directors sitting on a day
than its ``MemberClass.board_seats``; staff record directors in office (those elected
before the portal, on ``/staff/board``), and a declared election records its winners.
A director who resigns has their term ended early (:func:`end_term`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ... import coop
from ...errors import InvalidInput, InvalidState
from ...models import Director, Election, Meeting, Member, MemberClass, User
from .. import audit
from ..inputs import read_all, read_date, read_text, read_whole
from ..meetings import standing


@dataclass(frozen=True)
class ClassBoard:
    """A class's seats and the directors sitting for it, soonest term end first."""

    member_class: MemberClass
    directors: list[Director]

    @property
    def vacant_seats(self) -> int:
        return max(self.member_class.board_seats - len(self.directors), 0)


def _sitting(day: date) -> object:
    return (Director.term_started_on <= day) & (Director.term_ends_on >= day)


def current_board(db: Session, day: date | None = None) -> list[ClassBoard]:
    """Every class with board seats (or a sitting director), and who sits for it on ``day``
    (today in the co-op's zone unless given), in the classes' order."""
    day = day or coop.today(db)
    directors = db.scalars(
        select(Director)
        .options(joinedload(Director.member))
        .where(_sitting(day))
        .order_by(Director.class_id, Director.term_ends_on, Director.id)
    ).all()
    by_class: dict[int, list[Director]] = {}
    for director in directors:
        by_class.setdefault(director.class_id, []).append(director)
    classes = db.scalars(select(MemberClass).order_by(MemberClass.position, MemberClass.id))
    return [
        ClassBoard(member_class, by_class.get(member_class.id, []))
        for member_class in classes
        if member_class.board_seats > 0 or member_class.id in by_class
    ]


def _seats_taken(db: Session, member_class: MemberClass, day: date) -> int:
    """Seats of ``member_class`` taken for a term starting on ``day``: by the directors
    sitting then whose terms run past it (a term ending on an AGM's day hands its seat to
    the director elected at that AGM, whose term starts that day)."""
    return (
        db.scalar(
            select(func.count(Director.id)).where(
                Director.class_id == member_class.id,
                Director.term_started_on <= day,
                Director.term_ends_on > day,
            )
        )
        or 0
    )


def continuing_count(db: Session, member_class: MemberClass, meeting: Meeting) -> int:
    """How many directors of ``member_class`` sit through the meeting: their terms run
    past its day, so their seats are not up at it."""
    return _seats_taken(db, member_class, coop.clock(db).day_of(meeting.starts_at))


def terms_ending_at(
    db: Session, meeting: Meeting, member_class: MemberClass | None = None
) -> list[Director]:
    """The directors whose terms end at this meeting: their last day is the meeting's day
    or earlier, and they still sit the day before it (a term that ran out at an earlier
    AGM is not up again)."""
    day = coop.clock(db).day_of(meeting.starts_at)
    query = (
        select(Director)
        .options(joinedload(Director.member), joinedload(Director.member_class))
        .where(Director.term_ends_on <= day, Director.term_ends_on >= coop.today(db))
        .order_by(Director.class_id, Director.term_ends_on, Director.id)
    )
    if member_class is not None:
        query = query.where(Director.class_id == member_class.id)
    return list(db.scalars(query))


@dataclass(frozen=True)
class DirectorInput:
    member_number: int
    term_started_on: date
    term_ends_on: date
    class_code: str = ""


def read_director(values: Mapping[str, str]) -> DirectorInput:
    """The staff form: the member's number, the class they sit for (its code) and the
    term's first and last days."""
    read = read_all(
        member_number=lambda: read_whole(
            values.get("member_number"), "Member number", low=1, high=10**9, field="member_number"
        ),
        term_started_on=lambda: read_date(
            values.get("term_started_on"), "Term starts", field="term_started_on"
        ),
        term_ends_on=lambda: read_date(
            values.get("term_ends_on"), "Term ends", field="term_ends_on"
        ),
    )
    return DirectorInput(
        read["member_number"],
        read["term_started_on"],
        read["term_ends_on"],
        str(values.get("class_code", ""))[:40],
    )


def record_director_in_office(db: Session, given: DirectorInput, *, actor: User) -> Director:
    """Record a director already in office, as staff give them (``/staff/board``): the
    member by number and the class by code (422 when unknown), then :func:`record_director`."""
    member_class = db.scalar(
        select(MemberClass).where(MemberClass.code == given.class_code, MemberClass.board_seats > 0)
    )
    if member_class is None:
        raise InvalidInput("Choose a class with board seats.", field="class_code")
    member = db.scalar(select(Member).where(Member.number == given.member_number))
    if member is None:
        raise InvalidInput(
            f"There is no member number {given.member_number}.", field="member_number"
        )
    return record_director(
        db, member, member_class, given.term_started_on, given.term_ends_on, actor=actor
    )


def record_director(
    db: Session,
    member: Member,
    member_class: MemberClass,
    term_started_on: date,
    term_ends_on: date,
    *,
    actor: User,
    election: Election | None = None,
) -> Director:
    """Record a director of ``member_class`` for a term (staff, or a declared election).

    Refused: a term that ends before it starts, a member not in the class on the term's
    first day (``standing.is_member_on``), a member already on the board for part of the
    term, and a class whose seats are all taken that day.
    """
    if term_ends_on <= term_started_on:
        raise InvalidInput("The term must end after it starts.", field="term_ends_on")
    overlapping = db.scalar(
        select(Director).where(
            Director.member_id == member.id,
            Director.term_started_on <= term_ends_on,
            Director.term_ends_on >= term_started_on,
        )
    )
    if overlapping is not None:
        raise InvalidInput(
            f"Member {member.number} is on the board from "
            f"{overlapping.term_started_on:%-d %B %Y} to {overlapping.term_ends_on:%-d %B %Y}; "
            "a director holds one seat at a time.",
            field="member_number",
        )
    if not standing.is_member_on(db, member, term_started_on, member_class):
        raise InvalidInput(
            f"Member {member.number} is not in the {member_class.name} class on "
            f"{term_started_on:%-d %B %Y}; a director sits for a class they belong to.",
            field="member_number",
        )
    if _seats_taken(db, member_class, term_started_on) >= member_class.board_seats:
        raise InvalidInput(
            f"The {member_class.name} class has {member_class.board_seats} board seat(s), "
            f"all taken on {term_started_on:%-d %B %Y}.",
            field="member_number",
        )
    director = Director(
        member_id=member.id,
        class_id=member_class.id,
        term_started_on=term_started_on,
        term_ends_on=term_ends_on,
        election_id=election.id if election is not None else None,
    )
    db.add(director)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="director.recorded",
        target=director,
        summary=f"Member {member.number} director for {member_class.name} "
        f"{term_started_on} to {term_ends_on}",
    )
    return director


def end_term(
    db: Session, director: Director, last_day: date, *, actor: User, reason: str = ""
) -> Director:
    """End a director's term early (a resignation, say): ``last_day`` is their last day in
    office, after the term started and before it would have ended; the seat is vacant from
    the next day. The reason, if given, is recorded in the audit log."""
    why = read_text(reason, "The reason", max_length=500, required=False, field="reason")
    if director.term_ends_on < coop.today(db):
        raise InvalidState("This term has already ended.")
    if not director.term_started_on < last_day < director.term_ends_on:
        raise InvalidInput(
            f"The last day in office must fall after the term started "
            f"({director.term_started_on:%-d %B %Y}) and before it would end "
            f"({director.term_ends_on:%-d %B %Y}).",
            field="last_day",
        )
    was = director.term_ends_on
    director.term_ends_on = last_day
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="director.term_ended",
        target=director,
        summary=f"Member {director.member.number}'s term for {director.member_class.name} "
        f"ended on {last_day} (was {was})" + (f": {why}" if why else ""),
    )
    return director
