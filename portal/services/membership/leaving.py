"""Leaving the co-op: a member's resignation, staff confirming it, and ceasing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import coop, mail
from ...errors import InvalidInput, InvalidState, NotAllowed
from ...models import (
    LedgerKind,
    Member,
    MemberStatus,
    Resignation,
    ResignationState,
    ShareType,
    User,
)
from .. import audit, transitions
from ..register import class_days
from ..register.members import record_status
from ..shares import certificates, ledger


def pending_resignation(db: Session, member: Member) -> Resignation | None:
    """The member's resignation awaiting staff confirmation, if any."""
    return db.scalar(
        select(Resignation).where(
            Resignation.member_id == member.id, Resignation.state == ResignationState.PENDING
        )
    )


def request_resignation(db: Session, member: Member, reason: str, *, actor: User) -> Resignation:
    """The member asks to resign; staff confirm it."""
    if member.user_id != actor.id:
        raise NotAllowed("Only the member can ask to resign.")
    if member.status is MemberStatus.CEASED:
        raise InvalidState("Your membership has already ceased.")
    if pending_resignation(db, member) is not None:
        raise InvalidState("You have already asked to resign; staff will confirm it.")
    if len(reason or "") > 2000:
        raise InvalidInput("Use at most 2000 characters.", field="reason")
    resignation = Resignation(member=member, reason=(reason or "").strip())
    db.add(resignation)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="member.resignation_requested",
        target=member,
        summary=f"Member no. {member.number} asked to resign",
    )
    return resignation


def withdraw_resignation(db: Session, resignation: Resignation, *, actor: User) -> None:
    """The member changes their mind before staff confirm."""
    if resignation.member.user_id != actor.id:
        raise NotAllowed("Only the member can withdraw their resignation.")
    transitions.move(
        db,
        resignation,
        ResignationState.WITHDRAWN,
        actor=actor,
        doing="withdrawn",
        stamp="decided_at",
        action="member.resignation_withdrawn",
        subject=resignation.member,
        summary="Withdrew the request to resign",
    )
    db.flush()


def confirm_resignation(db: Session, resignation: Resignation, *, actor: User) -> Member:
    """Staff confirm a resignation: the member ceases today."""
    resignation.decided_by_id = actor.id
    transitions.move(
        db,
        resignation,
        ResignationState.CONFIRMED,
        actor=actor,
        doing="confirmed",
        stamp="decided_at",
        action="member.resignation_confirmed",
        subject=resignation.member,
        summary=f"Resignation of member no. {resignation.member.number} confirmed",
    )
    member = cease_member(db, resignation.member, actor=actor, note="Resigned")
    if member.user is not None:
        mail.queue(db, "resignation_confirmed", to=member.user.email, member=member)
    return member


def cease_member(db: Session, member: Member, *, actor: User, note: str) -> Member:
    """End the membership today: every class ended, the shares that end with it cancelled."""
    today = coop.today(db)
    member.ceased_on = today
    transitions.move(
        db,
        member,
        MemberStatus.CEASED,
        field="status",
        actor=actor,
        doing="ended",
        action="member.ceased",
        summary=f"Member no. {member.number} ceased: {note}",
    )
    with class_days.member_changes(db, member.id):
        for membership in member.class_memberships:
            if membership.ended_on is None:
                membership.ended_on = today
    _cancel_membership_shares(db, member, actor)
    record_status(db, member, MemberStatus.CEASED, note, actor)
    db.flush()
    return member


def _cancel_membership_shares(db: Session, member: Member, actor: User | None) -> None:
    """Cancel, without repayment, the shares the rules end with membership (a ``cancel`` row)."""
    for share_type in db.scalars(select(ShareType).where(ShareType.cancelled_on_ceasing)):
        held = ledger.holding(db, member, share_type)
        if held <= 0:
            continue
        ledger.append(
            db,
            kind=LedgerKind.CANCEL,
            member=member,
            share_type=share_type,
            quantity=held,
            currency=coop.settings(db).currency,
            reference="Membership ceased",
            actor=actor,
        )
        # Nothing remains, so this cancels the certificates and renders nothing.
        certificates.replace_certificates(db, member, share_type, actor=actor, render=None)


def set_status(
    db: Session, member: Member, status: MemberStatus, note: str, *, actor: User
) -> Member:
    """Mark a member lapsed or active again (ceasing has its own path)."""
    if status is MemberStatus.CEASED:
        return cease_member(db, member, actor=actor, note=note)
    if member.status is MemberStatus.CEASED:
        raise InvalidState("A ceased member cannot be reinstated; they apply again.")
    if member.status is status:
        return member
    transitions.move(
        db,
        member,
        status,
        field="status",
        actor=actor,
        doing=f"marked {status.label.lower()}",
        action=f"member.{status.value}",
        summary=f"Member no. {member.number}: {note}",
    )
    record_status(db, member, status, note, actor)
    db.flush()
    return member
