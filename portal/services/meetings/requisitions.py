"""Members requisition a meeting (issue 14 §5; Resonate's rule 22).

A member on the register starts a requisition for a general meeting, or for a meeting of
a class they belong to, with its purpose and the resolutions it proposes. Members sign it
online, once each; a signer must be on the register on the day they sign (and, for a class
meeting, a member of that class that day: ``standing.on_register``). Its threshold is
``CoopSettings.requisition_percent`` of the members it counts (the class's, or all), counted
in SQL when it starts and rounded up; signatures are taken until
``CoopSettings.requisition_signing_days`` after it starts. When the threshold is reached
the board is told (mail to ``CoopSettings.contact_email``) and must call the meeting within
``CoopSettings.requisition_call_days``; staff record the meeting they called for it, and
the requisition shows whether that was in time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ... import coop, mail
from ...errors import InvalidInput, InvalidState, NotAllowed
from ...models import (
    Meeting,
    MeetingKind,
    MeetingState,
    Member,
    MemberClass,
    Requisition,
    RequisitionSignature,
    RequisitionState,
    User,
)
from .. import audit, transitions
from ..inputs import read_all, read_text
from ..register.classes import find_class
from . import standing

# What a requisition may ask for: a general meeting, or a meeting of one class.
KINDS = (MeetingKind.EGM, MeetingKind.CLASS)


@dataclass(frozen=True)
class RequisitionInput:
    kind: MeetingKind
    member_class: MemberClass | None
    purpose: str
    resolutions: str


def _read_kind(value: object) -> MeetingKind:
    raw = str(value or "")
    for kind in KINDS:
        if raw == kind.value:
            return kind
    raise InvalidInput("Choose a general meeting or a class meeting.", field="kind")


def read_requisition(db: Session, values: Mapping[str, str]) -> RequisitionInput:
    """The member's form: the kind, the class for a class meeting, purpose, resolutions."""

    def member_class() -> MemberClass | None:
        code = str(values.get("member_class") or "").strip()
        if not code:
            return None
        found = find_class(db, code[:40])
        if found is None:
            raise InvalidInput("Choose one of the co-op's member classes.", field="member_class")
        return found

    read = read_all(
        kind=lambda: _read_kind(values.get("kind")),
        member_class=member_class,
        purpose=lambda: read_text(
            values.get("purpose"), "Purpose", max_length=4000, field="purpose"
        ),
        resolutions=lambda: read_text(
            values.get("resolutions"),
            "Proposed resolutions",
            max_length=20_000,
            required=False,
            field="resolutions",
        ),
    )
    kind = read["kind"]
    if kind is MeetingKind.CLASS and read["member_class"] is None:
        raise InvalidInput("Choose the class whose meeting you call.", field="member_class")
    return RequisitionInput(
        kind=kind,
        member_class=read["member_class"] if kind is MeetingKind.CLASS else None,
        purpose=read["purpose"],
        resolutions=read["resolutions"],
    )


def threshold_for(base: int, percent: int) -> int:
    """``percent`` % of ``base`` members, rounded up, and at least one signature
    (``CoopSettings.requisition_percent``)."""
    return max(1, -(-base * percent // 100))


def _require_signer(db: Session, member: Member | None, member_class: MemberClass | None) -> Member:
    """A member on the register today, of ``member_class`` when named (403 otherwise)."""
    today = coop.today(db)
    if member is None or not standing.is_member_on(db, member, today):
        raise NotAllowed("Only members on the register sign a requisition.")
    if member_class is not None and not standing.is_member_on(db, member, today, member_class):
        raise NotAllowed(
            f"Only members of the {member_class.name} class sign a requisition for its meeting."
        )
    return member


def start_requisition(
    db: Session, member: Member | None, given: RequisitionInput, *, actor: User
) -> Requisition:
    """Start a requisition, signed by its starter; its threshold and signing deadline are
    fixed now (``CoopSettings.requisition_percent``, ``requisition_signing_days``)."""
    starter = _require_signer(db, member, given.member_class)
    settings = coop.settings(db)
    today = coop.today(db)
    base = standing.count_members(db, today, given.member_class)
    requisition = Requisition(
        kind=given.kind,
        member_class=given.member_class,
        purpose=given.purpose,
        resolutions=given.resolutions,
        started_by_id=starter.id,
        sign_by=today + timedelta(days=settings.requisition_signing_days),
        base_members=base,
        threshold=threshold_for(base, settings.requisition_percent),
        state=RequisitionState.COLLECTING,
    )
    db.add(requisition)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="requisition.started",
        target=requisition,
        summary=f"{describe(requisition)} requisitioned by member {starter.number}: "
        f"{requisition.threshold} of {base} members needed",
    )
    _add_signature(db, requisition, starter, actor=actor)
    return requisition


def describe(requisition: Requisition) -> str:
    """ "A general meeting" / "A meeting of the Worker class"."""
    if requisition.member_class is not None:
        return f"A meeting of the {requisition.member_class.name} class"
    return "A general meeting"


def signature_count(db: Session, requisition: Requisition) -> int:
    return (
        db.scalar(
            select(func.count(RequisitionSignature.id)).where(
                RequisitionSignature.requisition_id == requisition.id
            )
        )
        or 0
    )


def signature_of(
    db: Session, requisition: Requisition, member: Member
) -> RequisitionSignature | None:
    return db.scalar(
        select(RequisitionSignature).where(
            RequisitionSignature.requisition_id == requisition.id,
            RequisitionSignature.member_id == member.id,
        )
    )


def _add_signature(
    db: Session, requisition: Requisition, member: Member, *, actor: User
) -> RequisitionSignature:
    signature = RequisitionSignature(requisition_id=requisition.id, member_id=member.id)
    try:
        with db.begin_nested():
            db.add(signature)
            db.flush()
    except IntegrityError as exc:  # a concurrent signature by the same member
        raise InvalidState("You have already signed this requisition.") from exc
    audit.record(
        db,
        actor=actor,
        action="requisition.signed",
        target=requisition,
        summary=f"Signed by member {member.number}",
    )
    count = signature_count(db, requisition)
    if requisition.state is RequisitionState.COLLECTING and count >= requisition.threshold:
        _reached(db, requisition, count, actor=actor)
    return signature


def _reached(db: Session, requisition: Requisition, count: int, *, actor: User) -> None:
    """The threshold is reached: the board must call the meeting within
    ``CoopSettings.requisition_call_days``; it is told by mail (``contact_email``)."""
    settings = coop.settings(db)
    requisition.call_by = coop.today(db) + timedelta(days=settings.requisition_call_days)
    transitions.move(
        db,
        requisition,
        RequisitionState.REACHED,
        actor=actor,
        doing="marked reached",
        stamp="reached_at",
        summary=f"{count} of {requisition.threshold} signatures: the board must call "
        f"the meeting by {requisition.call_by.isoformat()}",
    )
    if settings.contact_email:
        mail.queue(
            db,
            "requisition_reached",
            to=settings.contact_email,
            requisition=requisition,
            description=describe(requisition),
            signatures=count,
            call_days=settings.requisition_call_days,
        )


def sign_requisition(
    db: Session, requisition: Requisition, member: Member | None, *, actor: User
) -> RequisitionSignature:
    """A member signs, once (409 the second time); on the register that day, of the class
    for a class meeting (403); not after the signing deadline, ``sign_by`` (409)."""
    db.refresh(requisition, with_for_update=True)  # signers take turns on the count
    signer = _require_signer(db, member, requisition.member_class)
    if signature_of(db, requisition, signer) is not None:
        raise InvalidState("You have already signed this requisition.")
    if requisition.state not in (RequisitionState.COLLECTING, RequisitionState.REACHED):
        raise InvalidState(
            f"This requisition is {requisition.state.label.lower()}; it takes no more signatures."
        )
    if coop.today(db) > requisition.sign_by:
        raise InvalidState(
            f"The deadline to sign this requisition was {requisition.sign_by:%-d %B %Y}."
        )
    return _add_signature(db, requisition, signer, actor=actor)


def lapse_if_due(db: Session, requisition: Requisition, *, actor: User | None = None) -> bool:
    """Mark a requisition lapsed once its signing deadline has passed short of its
    threshold (``sign_by``); True when it did. Re-read under its row lock first: another
    request may have lapsed it since it was found due."""
    db.refresh(requisition, with_for_update=True)
    if requisition.state is not RequisitionState.COLLECTING:
        return False
    if coop.today(db) <= requisition.sign_by:
        return False
    transitions.move(
        db,
        requisition,
        RequisitionState.LAPSED,
        actor=actor,
        doing="lapsed",
        stamp="lapsed_at",
        summary=f"Lapsed with {signature_count(db, requisition)} of "
        f"{requisition.threshold} signatures",
    )
    return True


def _due_to_lapse(today: date) -> Any:
    """Requisitions still collecting past their signing deadline (the co-op's date)."""
    return and_(Requisition.state == RequisitionState.COLLECTING, Requisition.sign_by < today)


def is_lapse_due(db: Session) -> bool:
    """Some requisition is due to lapse: one small read."""
    return bool(db.scalar(select(exists().where(_due_to_lapse(coop.today(db))))))


def lapse_due(db: Session) -> list[Requisition]:
    """Lapse every requisition whose signing deadline has passed short of its threshold.

    Run in a write transaction of its own by the requisition pages that find one due
    (``is_lapse_due``), so a requisition lapses on the next request after its deadline as
    well as by ``lapse-requisitions``. The requisitions it lapsed."""
    due = db.scalars(
        select(Requisition).where(_due_to_lapse(coop.today(db))).order_by(Requisition.id)
    ).all()
    return [requisition for requisition in due if lapse_if_due(db, requisition)]


def shown_state(db: Session, requisition: Requisition) -> RequisitionState:
    """The state to show: a collecting requisition past its deadline reads as lapsed even
    before ``lapse_if_due`` records it."""
    if requisition.state is RequisitionState.COLLECTING and coop.today(db) > requisition.sign_by:
        return RequisitionState.LAPSED
    return requisition.state


def record_meeting(
    db: Session, requisition: Requisition, meeting: Meeting, *, actor: User
) -> Requisition:
    """Staff record the meeting the board called for a reached requisition: of its kind (a
    class meeting of its class, or a general meeting), created after it started, not
    cancelled. The day it was called is the day that meeting was created (the co-op's
    date); it is in time when on or before ``call_by`` (``CoopSettings.requisition_call_days``)."""
    transitions.require(requisition.state, RequisitionState.CALLED, doing="marked called")
    if requisition.member_class is not None:
        fits = meeting.kind is MeetingKind.CLASS and meeting.class_id == requisition.class_id
    else:
        fits = meeting.kind is not MeetingKind.CLASS
    if not fits:
        raise InvalidInput(
            f"{describe(requisition)} was requisitioned; choose a meeting of that kind.",
            field="meeting",
        )
    if meeting.state is MeetingState.CANCELLED or meeting.created_at < requisition.started_at:
        raise InvalidInput(
            "Choose a meeting called after the requisition started, and not cancelled.",
            field="meeting",
        )
    requisition.meeting_id = meeting.id
    requisition.called_on = coop.clock(db).day_of(meeting.created_at)
    transitions.move(
        db,
        requisition,
        RequisitionState.CALLED,
        actor=actor,
        doing="marked called",
        stamp="called_at",
        summary=f"Meeting called: {meeting.title}, on {requisition.called_on.isoformat()} "
        f"({'in time' if requisition.call_met else 'late'}; due by {requisition.call_by})",
    )
    return requisition


# -- reading --------------------------------------------------------------------------------


def requisitions(db: Session) -> list[Requisition]:
    """Every requisition, latest first."""
    return list(
        db.scalars(
            select(Requisition)
            .options(joinedload(Requisition.member_class), joinedload(Requisition.started_by))
            .order_by(Requisition.started_at.desc(), Requisition.id.desc())
        )
    )


def signature_counts(db: Session) -> dict[int, int]:
    """Signatures per requisition, in one query."""
    rows = db.execute(
        select(RequisitionSignature.requisition_id, func.count(RequisitionSignature.id)).group_by(
            RequisitionSignature.requisition_id
        )
    )
    return {requisition_id: count for requisition_id, count in rows}


def signatures(db: Session, requisition: Requisition) -> list[RequisitionSignature]:
    return list(
        db.scalars(
            select(RequisitionSignature)
            .options(joinedload(RequisitionSignature.member))
            .where(RequisitionSignature.requisition_id == requisition.id)
            .order_by(RequisitionSignature.id)
        )
    )


def meetings_to_link(db: Session, requisition: Requisition) -> list[Meeting]:
    """The meetings staff may record as called for it (of its kind, since it started)."""
    query = select(Meeting).where(
        Meeting.created_at >= requisition.started_at, Meeting.state != MeetingState.CANCELLED
    )
    if requisition.class_id is not None:
        query = query.where(Meeting.class_id == requisition.class_id)
    else:
        query = query.where(Meeting.kind != MeetingKind.CLASS)
    return list(db.scalars(query.order_by(Meeting.created_at.desc())))


def days_left(db: Session, day: date | None) -> int | None:
    """Days from today (the co-op's date) to ``day``; negative once past."""
    return None if day is None else (day - coop.today(db)).days
