"""Members on the register: finding them, admitting them to a class, their primary class,
and their status history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ... import coop
from ...errors import InvalidInput, InvalidState
from ...models import (
    Application,
    ApplicationState,
    ClassMembership,
    Member,
    MemberClass,
    MemberStatus,
    MemberStatusChange,
    User,
)
from .. import audit, transitions
from ..counters import next_number
from . import class_days

MEMBER_NUMBER = "member_number"


def member_for_user(db: Session, user: User) -> Member | None:
    """The user's entry on the register, if they are or were a member."""
    return db.scalar(
        select(Member)
        .options(selectinload(Member.class_memberships).joinedload(ClassMembership.member_class))
        .where(Member.user_id == user.id)
    )


def member_by_number(db: Session, number: int) -> Member | None:
    """The member with this number on the register, if any."""
    return db.scalar(select(Member).where(Member.number == number))


def record_status(
    db: Session, member: Member, status: MemberStatus, note: str, actor: User | None
) -> None:
    """Add a line to the member's status history (admitted, lapsed, reinstated, ceased)."""
    db.add(
        MemberStatusChange(
            member_id=member.id, status=status, note=note, actor_id=actor.id if actor else None
        )
    )


def status_history(db: Session, member: Member) -> list[MemberStatusChange]:
    """The member's status changes, newest first."""
    return list(
        db.scalars(
            select(MemberStatusChange)
            .where(MemberStatusChange.member_id == member.id)
            .order_by(MemberStatusChange.at.desc(), MemberStatusChange.id.desc())
        )
    )


def awaiting_share(db: Session, user: User) -> list[Application]:
    """The person's approved applications that wait for their membership share."""
    return list(
        db.scalars(
            select(Application)
            .where(
                Application.user_id == user.id,
                Application.state == ApplicationState.AWAITING_SHARE,
            )
            .order_by(Application.id)
        )
    )


def admit_applicant(
    db: Session, application: Application, *, actor: User | None, note: str
) -> Member:
    """Admit an approved applicant: on the register, in the class; the application closes.

    A person becomes a member once their application is approved and their membership
    share is paid (rule 8.1): the caller has seen to both. ``note`` says how ("Membership
    share paid", "Joined a further class").
    """
    member = admit(db, application, actor=actor, note=note)
    application.member_id = member.id
    transitions.move(
        db,
        application,
        ApplicationState.APPROVED,
        actor=actor,
        doing="approved",
        action="application.admitted",
        summary=f"{note}: member no. {member.number}, {application.member_class.name} class",
    )
    return member


def admit(db: Session, application: Application, *, actor: User | None, note: str) -> Member:
    """Put the applicant on the register (a new member number) or add the class to them."""
    user = application.user
    member_class = application.member_class
    today = coop.today(db)
    member = member_for_user(db, user)
    if member is None:
        member = Member(
            number=next_number(db, MEMBER_NUMBER),
            user=user,
            name=user.name,
            address_line1=application.address_line1,
            address_line2=application.address_line2,
            town=application.town,
            postcode=application.postcode,
            country=application.country,
            status=MemberStatus.ACTIVE,
            admitted_on=today,
            primary_class=member_class,
        )
        db.add(member)
        db.flush()
        record_status(
            db, member, MemberStatus.ACTIVE, f"Admitted: {member_class.name} ({note})", actor
        )
        audit.record(
            db,
            actor=actor,
            action="member.admitted",
            target=member,
            summary=f"Member no. {member.number} admitted ({member_class.name})",
        )
    elif member.status is MemberStatus.CEASED:
        raise InvalidState(
            "This person's membership has ceased; they cannot be admitted to another class."
        )
    else:
        audit.record(
            db,
            actor=actor,
            action="member.class_added",
            target=member,
            summary=f"Member no. {member.number} joined the {member_class.name} class",
        )
    with class_days.member_changes(db, member.id):
        db.add(ClassMembership(member=member, member_class=member_class, admitted_on=today))
    db.refresh(member, ["class_memberships"])
    return member


def set_primary_class(
    db: Session, member: Member, member_class: MemberClass, *, actor: User
) -> Member:
    """Choose the class in which the member votes; it must be one they belong to."""
    if member_class not in member.active_classes:
        raise InvalidInput("Choose one of your own member classes.", field="primary_class")
    if member.primary_class_id != member_class.id:
        member.primary_class = member_class
        audit.record(
            db,
            actor=actor,
            action="member.primary_class",
            target=member,
            summary=f"Primary (voting) class set to {member_class.name}",
        )
        db.flush()
    return member
