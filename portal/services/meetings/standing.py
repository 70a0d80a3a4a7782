"""Who counts as a member on a given day, for members' own motions (proposals, requisitions).

A member is on the register on a day when they were admitted by then, have not ceased,
and their status is active (a lapsed member, with an unpaid fee, has no say); a member of a
class on that day also holds that class (admitted to it by then, not ended). Read from the
register as it stands (``Member.status``), as the day's own fact, not a frozen roll.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from ...models import ClassMembership, Member, MemberClass, MemberStatus


def _of_class(day: date, class_id: int) -> Any:
    return exists().where(
        ClassMembership.member_id == Member.id,
        ClassMembership.class_id == class_id,
        ClassMembership.admitted_on <= day,
        or_(ClassMembership.ended_on.is_(None), ClassMembership.ended_on > day),
    )


def on_register(day: date, member_class: MemberClass | None = None) -> Any:
    """The SQL condition on ``Member``: on the register on ``day`` (of ``member_class``)."""
    condition = and_(
        Member.status == MemberStatus.ACTIVE,
        Member.admitted_on <= day,
        or_(Member.ceased_on.is_(None), Member.ceased_on > day),
    )
    if member_class is not None:
        condition = and_(condition, _of_class(day, member_class.id))
    return condition


def is_member_on(
    db: Session, member: Member, day: date, member_class: MemberClass | None = None
) -> bool:
    """``member`` is on the register on ``day`` (and in ``member_class``, when named)."""
    return (
        db.scalar(select(Member.id).where(Member.id == member.id, on_register(day, member_class)))
        is not None
    )


def count_members(db: Session, day: date, member_class: MemberClass | None = None) -> int:
    """Members on the register on ``day`` (of ``member_class``, when named), counted in SQL."""
    return db.scalar(select(func.count(Member.id)).where(on_register(day, member_class))) or 0
