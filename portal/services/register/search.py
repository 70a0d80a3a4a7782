"""Searching the register of members, and the statutory register as rows for its CSV."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ...models import (
    ClassMembership,
    Member,
    MemberClass,
    User,
)
from ..inputs import DIGITS
from ..pagination import Page, paginate


def name_or_number(text: str) -> list[ColumnElement[bool]]:
    """Conditions a member matches ``text`` by (any one): a part of their name, or their
    number (``#12`` or ``12``). None for blank text."""
    needle = text.strip().lower()
    if not needle:
        return []
    conditions = [func.lower(Member.name).contains(needle, autoescape=True)]
    number = needle.removeprefix("#")
    if DIGITS.fullmatch(number):  # at most 18 digits: always a database integer
        conditions.append(Member.number == int(number))
    return conditions


def search(
    db: Session,
    *,
    text: str = "",
    class_code: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = 25,
) -> Page:
    """Members matching a name, e-mail or number, a class and a status; by number."""
    query = (
        select(Member)
        .outerjoin(Member.user)
        .options(
            joinedload(Member.user),
            selectinload(Member.class_memberships).joinedload(ClassMembership.member_class),
        )
    )
    if text.strip():
        query = query.where(
            or_(
                *name_or_number(text),
                func.lower(User.email).contains(text.strip().lower(), autoescape=True),
            )
        )
    if class_code:
        query = query.where(
            Member.class_memberships.any(
                ClassMembership.member_class.has(MemberClass.code == class_code)
            )
        )
    if status:
        query = query.where(Member.status == status)
    return paginate(db, query.order_by(Member.number), page=page, per_page=per_page)


REGISTER_COLUMNS = (
    "member_number",
    "name",
    "address",
    "email",
    "classes",
    "date_admitted",
    "date_ceased",
    "status",
)


def register_rows(db: Session, *, batch: int = 500) -> Iterator[tuple[Any, ...]]:
    """The statutory register, one tuple per member, read in batches (for streaming)."""
    last = 0
    while True:
        rows = db.scalars(
            select(Member)
            .outerjoin(Member.user)
            .options(
                joinedload(Member.user),
                selectinload(Member.class_memberships).joinedload(ClassMembership.member_class),
            )
            .where(Member.number > last)
            .order_by(Member.number)
            .limit(batch)
        ).all()
        if not rows:
            return
        for member in rows:
            yield (
                member.number,
                member.name,
                ", ".join(member.address_lines),
                member.user.email if member.user else "",
                "; ".join(cm.member_class.name for cm in member.class_memberships),
                member.admitted_on.isoformat(),
                member.ceased_on.isoformat() if member.ceased_on else "",
                member.status.value,
            )
        last = rows[-1].number
