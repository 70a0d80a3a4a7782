"""Searching the register of members, and the statutory register as rows for its CSV."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    func,
    literal_column,
    select,
    type_coerce,
    union,
)
from sqlalchemy.orm import Session, joinedload, selectinload

from ...models import (
    ClassMembership,
    Member,
    MemberClass,
    User,
)
from ..inputs import read_id
from ..pagination import KeyPage, keyset_page


def name_or_number(text: str) -> list[ColumnElement[bool]]:
    """Conditions a member matches ``text`` by (any one): a part of their name, or their
    number (``#12`` or ``12``). None for blank text."""
    needle = text.strip().lower()
    if not needle:
        return []
    conditions = [func.lower(Member.name).contains(needle, autoescape=True)]
    number = needle.removeprefix("#")
    if read_id(number) is not None:
        conditions.append(Member.number == read_id(number))
    return conditions


# What the register search reads its text as (each a lookup by an index, never a scan of
# every name): a member number (``12`` or ``#12``), the start of the name ("aoife"), the
# start of the name after its first word ("byrne" finds Aoife Byrne), or the start of the
# e-mail address ("aoife@"). The expressions are those of the indexes of migration 0025;
# on PostgreSQL they compare by code point (COLLATE "C") so that a prefix is a range.
NAME_KEYS = {
    "sqlite": (
        "lower(members.name)",
        "substr(lower(members.name), instr(lower(members.name), ' ') + 1)",
        "users.email",
    ),
    "postgresql": (
        'lower(members.name) COLLATE "C"',
        "substr(lower(members.name), strpos(lower(members.name), ' ') + 1) COLLATE \"C\"",
        'users.email COLLATE "C"',
    ),
}
# Above every character: the end of a prefix's range.
LAST_CHARACTER = "\U0010ffff"


def _starting(db: Session, text: str) -> Select[Any] | None:
    """The ids of the members whose name, a later part of it, or e-mail starts with
    ``text``, or whose number it is; None for blank text."""
    needle = text.strip().lower()
    if not needle:
        return None
    name, later_name, email = (
        literal_column(k) for k in NAME_KEYS.get(db.get_bind().dialect.name, NAME_KEYS["sqlite"])
    )
    high = needle + LAST_CHARACTER
    found = [
        select(Member.id).where(name >= needle, name < high),
        select(Member.id).where(later_name >= needle, later_name < high),
        select(Member.id).join(Member.user).where(email >= needle, email < high),
    ]
    number = needle.removeprefix("#")
    if read_id(number) is not None:
        found.append(select(Member.id).where(Member.number == read_id(number)))
    return union(*found)  # type: ignore[return-value]


def search(
    db: Session,
    *,
    text: str = "",
    class_code: str = "",
    status: str = "",
    after: int | None = None,
    before: int | None = None,
    per_page: int = 25,
) -> KeyPage:
    """Members matching a number, the start of a name (any word after the first too) or of
    an e-mail address, a class and a status; by number, paged by key from the member
    ``after`` (or up to ``before``). One query for the page, each condition an index's."""
    query = select(Member).options(
        joinedload(Member.user),
        selectinload(Member.class_memberships).joinedload(ClassMembership.member_class),
    )
    matching = _starting(db, text)
    if matching is not None:
        query = query.where(Member.id.in_(matching))
    if class_code:
        query = query.where(
            Member.class_memberships.any(
                ClassMembership.member_class.has(MemberClass.code == class_code)
            )
        )
    if status:
        query = query.where(Member.status == status)
    return keyset_page(
        db, query, (Member.number, Member.id), after=after, before=before, per_page=per_page
    )


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


def register_rows(db: Session, *, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
    """The statutory register, one tuple per member by number, read from one server-side
    cursor (``batch`` rows at a time, constant memory): a row per member and class, joined
    in SQL and gathered here, never an object per member. Dates and the status are read as
    the database holds them (ISO dates, the status's value) and written as they come."""
    as_text = [
        type_coerce(column, String)
        for column in (Member.admitted_on, Member.ceased_on, Member.status)
    ]
    rows = db.connection().execute(
        select(
            Member.id,
            Member.number,
            Member.name,
            Member.address_line1,
            Member.address_line2,
            Member.town,
            Member.postcode,
            Member.country,
            User.email,
            *as_text,
            MemberClass.name,
        )
        .select_from(Member)
        .outerjoin(User, User.id == Member.user_id)
        .outerjoin(ClassMembership, ClassMembership.member_id == Member.id)
        .outerjoin(MemberClass, MemberClass.id == ClassMembership.class_id)
        .order_by(Member.number, ClassMembership.admitted_on, ClassMembership.id),
        execution_options={"stream_results": True, "max_row_buffer": batch},
    )
    held = None  # the member being gathered: their row, and their classes
    classes: list[str] = []
    for row in rows:
        if held is not None and row[0] == held[0]:
            classes.append(row[12])
            continue
        if held is not None:
            yield _register_row(held, classes)
        held, classes = row, [row[12]] if row[12] is not None else []
    if held is not None:
        yield _register_row(held, classes)


def _register_row(row: Any, classes: list[str]) -> tuple[Any, ...]:
    _, number, name, line1, line2, town, postcode, country, email, admitted, ceased, status = row[
        :12
    ]
    address = ", ".join(p for p in (line1, line2, town, postcode, country) if p)
    return (
        number,
        name,
        address,
        email or "",
        "; ".join(classes),
        str(admitted),
        str(ceased) if ceased else "",
        status,
    )
