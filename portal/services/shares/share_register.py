"""The register of shares as of a date: holders, totals, and capital over time.

Everything is derived from the share ledger (DESIGN.md §2): "as of D" means every row
before the end of day D in the co-op's time zone. A holder is a member with a non-zero
holding of a share type; a member in a class is one whose membership of it had begun
by D and not ended by then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ... import coop
from ...coop import Clock
from ...errors import InvalidInput
from ...models import (
    LEDGER_SIGN,
    ClassDay,
    ClassMembership,
    Holding,
    LedgerDay,
    LedgerEntry,
    Member,
    MemberClass,
    ShareType,
)
from ..inputs import read_date
from ..register.classes import find_class, in_class_on
from . import ledger
from .share_types import find_type, list_share_types

# A register covering fewer days than this is charted day by day, else month by month.
DAILY_CHART_DAYS = 92


@dataclass(frozen=True)
class RegisterFilter:
    """Which register: as of a day in the co-op's zone, optionally one share type and class."""

    as_of: date
    clock: Clock
    share_type: ShareType | None = None
    member_class: MemberClass | None = None

    @property
    def ends_at(self) -> datetime:
        """The first instant after ``as_of`` in the co-op's zone: rows before it count."""
        return self.clock.end_of_day(self.as_of)

    @property
    def args(self) -> dict[str, str]:
        """The filter as query arguments (for links to the same register)."""
        args = {"as_of": self.as_of.isoformat()}
        if self.share_type is not None:
            args["type"] = self.share_type.code
        if self.member_class is not None:
            args["class"] = self.member_class.code
        return args


@dataclass(frozen=True)
class RegisterRow:
    """One holding on the register: a member's shares of one type."""

    member_id: int
    member_number: int
    name: str
    classes: str
    share_type: ShareType
    quantity: int

    @property
    def value_minor(self) -> int:
        return self.quantity * self.share_type.par_value_minor


@dataclass
class TypeTotal:
    """The shares of one type on the register, their capital and how many hold them."""

    share_type: ShareType
    shares: int = 0
    capital_minor: int = 0
    holders: int = 0


@dataclass
class Register:
    """The register as of a date: its rows (by member number) and totals."""

    filter: RegisterFilter
    rows: list[RegisterRow] = field(default_factory=list)
    totals: list[TypeTotal] = field(default_factory=list)
    holders: int = 0  # distinct members

    @property
    def capital_minor(self) -> int:
        return sum(t.capital_minor for t in self.totals)

    @property
    def shares(self) -> int:
        return sum(t.shares for t in self.totals)


@dataclass(frozen=True)
class CapitalHistory:
    """Capital at the end of each month (or day) from the first ledger row to the as-of date."""

    points: list[tuple[date, int]]
    period: str  # "month" or "day"


def register_filter(
    db: Session, *, as_of: str = "", type_code: str = "", class_code: str = ""
) -> RegisterFilter:
    """Read the filter from its text form; a bad date or an unknown code is refused."""
    clock = coop.clock(db)
    current = clock.today()
    day = current
    if as_of.strip():
        day = read_date(as_of, "That is not a date", field="as_of", latest=date.max)
        if day > current:
            raise InvalidInput(
                "The register cannot be shown for a future date; choose today or earlier.",
                field="as_of",
            )
    share_type = None
    if type_code:
        share_type = find_type(db, type_code)
        if share_type is None:
            raise InvalidInput(f"There is no share type “{type_code[:32]}”.", field="type")
    member_class = None
    if class_code:
        member_class = find_class(db, class_code)
        if member_class is None:
            raise InvalidInput(f"There is no member class “{class_code[:32]}”.", field="class")
    return RegisterFilter(day, clock, share_type, member_class)


def _ledger_rows(flt: RegisterFilter) -> Select[Any]:
    """Conditions shared by the register and the chart: rows up to the date, type, class."""
    query = select(LedgerEntry).where(LedgerEntry.at < flt.ends_at)
    if flt.share_type is not None:
        query = query.where(LedgerEntry.share_type_id == flt.share_type.id)
    if flt.member_class is not None:
        query = query.where(
            LedgerEntry.member_id.in_(
                select(Member.id).where(in_class_on(flt.member_class, flt.as_of))
            )
        )
    return query


def _quantity(db: Session, flt: RegisterFilter) -> Any:
    """The holding at the end of the filter's day, as an expression on a ``holdings`` row:
    the holding now, less the rows of that member and type since (none for today's
    register, so then no ledger row is read; else one range of the ledger's index)."""
    later = db.scalar(select(LedgerEntry.id).where(LedgerEntry.at >= flt.ends_at).limit(1))
    if later is None:
        return Holding.quantity
    since = (
        select(func.coalesce(func.sum(ledger.signed_quantity()), 0))
        .where(
            LedgerEntry.member_id == Holding.member_id,
            LedgerEntry.share_type_id == Holding.share_type_id,
            LedgerEntry.at >= flt.ends_at,
        )
        .scalar_subquery()
    )
    return Holding.quantity - since


def _holdings(flt: RegisterFilter, quantity: Any) -> Select[Any]:
    """The non-zero holdings on the filter's register, joined to their members."""
    query = (
        select(Member.id, Member.number, Member.name, Holding.share_type_id, quantity)
        .join(Holding, Holding.member_id == Member.id)
        .where(quantity != 0)
    )
    if flt.share_type is not None:
        query = query.where(Holding.share_type_id == flt.share_type.id)
    if flt.member_class is not None:
        query = query.where(in_class_on(flt.member_class, flt.as_of))
    return query


def _class_names(
    db: Session, flt: RegisterFilter, members: Select[Any]
) -> Iterator[tuple[int, str]]:
    """(member number, their classes on the filter's day as the register writes them) for
    the members ``members`` selects (their ids), by member number: one query."""
    query = (
        select(
            Member.number,
            Member.primary_class_id,
            ClassMembership.class_id,
            ClassMembership.admitted_on,
            ClassMembership.ended_on,
            MemberClass.name,
        )
        .join(ClassMembership, ClassMembership.member_id == Member.id)
        .join(MemberClass, MemberClass.id == ClassMembership.class_id)
        .where(Member.id.in_(members), ClassMembership.admitted_on <= flt.as_of)
        .order_by(Member.number, ClassMembership.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    for number, group in groupby(db.execute(query), key=lambda row: row[0]):
        memberships = list(group)
        current = [m for m in memberships if m.ended_on is None or m.ended_on > flt.as_of]
        if current:
            text = ", ".join(
                m.name + ("*" if m.class_id == m.primary_class_id else "") for m in current
            )
        else:
            text = ", ".join(f"{m.name} (ended)" for m in memberships)
        yield number, text


# Rows fetched from the database at a time when the whole register is read (CSV, PDF).
STREAM_BATCH = 2000


def holder_rows(db: Session, flt: RegisterFilter) -> Iterator[RegisterRow]:
    """The whole register's rows by member number and share type, streamed: one query for
    the holdings and one for the members' classes, read side by side (each by member number,
    ``STREAM_BATCH`` rows at a time), in constant memory."""
    types = {t.id: t for t in list_share_types(db)}
    holdings = _holdings(flt, _quantity(db, flt))
    ordered = holdings.join(ShareType, ShareType.id == Holding.share_type_id).order_by(
        Member.number, ShareType.position, ShareType.id
    )
    classes = _class_names(db, flt, holdings.with_only_columns(Member.id))
    number, names = next(classes, (None, ""))
    for member_id, member_number, name, type_id, quantity in db.execute(
        ordered.execution_options(yield_per=STREAM_BATCH)
    ):
        while number is not None and number < member_number:
            number, names = next(classes, (None, ""))
        yield RegisterRow(
            member_id,
            member_number,
            name,
            names if number == member_number else "",
            types[type_id],
            int(quantity),
        )


@dataclass(frozen=True)
class HolderPage:
    """One page of the register's rows, whole members only, with the keys of the pages
    either side (member numbers): ``?after=`` the next, ``?before=`` the previous."""

    rows: list[RegisterRow]
    previous_before: int | None
    next_after: int | None


def holder_page(
    db: Session,
    flt: RegisterFilter,
    *,
    after: int | None = None,
    before: int | None = None,
    per_page: int = 50,
) -> HolderPage:
    """About ``per_page`` rows of the register after member number ``after`` (or before
    ``before``), never splitting a member's holdings: one grouped query over ``holdings``
    (adjusted back to the day by its own rows since), and one for those members' classes."""
    types = {t.id: t for t in list_share_types(db)}
    backwards = before is not None
    holdings = _holdings(flt, _quantity(db, flt))
    if backwards:
        holdings = holdings.where(Member.number < before)
    elif after is not None:
        holdings = holdings.where(Member.number > after)
    number = Member.number.desc() if backwards else Member.number
    found = db.execute(
        holdings.order_by(number, Holding.share_type_id).limit(per_page + len(types) + 1)
    ).all()
    if not found and backwards:
        return holder_page(db, flt, per_page=per_page)  # nothing before it: the first page
    members = [list(group) for _, group in groupby(found, key=lambda row: row[1])]
    if len(found) > per_page + len(types):
        members.pop()  # the last member's rows may run on past the limit
        more = True
    else:
        more = False
    taken: list[list[Any]] = []
    for group in members:
        if taken and sum(map(len, taken)) + len(group) > per_page:
            more = True
            break
        taken.append(group)
    if backwards:
        taken.reverse()
    chosen = [row[0] for group in taken for row in group]
    names = dict(_class_names(db, flt, select(Member.id).where(Member.id.in_(chosen))))
    rows = [
        RegisterRow(m_id, num, name, names.get(num, ""), types[type_id], int(quantity))
        for group in taken
        for m_id, num, name, type_id, quantity in sorted(
            group, key=lambda row: (types[row[3]].position, row[3])
        )
    ]
    if not rows:
        return HolderPage([], None, None)
    first, last = rows[0].member_number, rows[-1].member_number
    has_previous = more if backwards else after is not None
    has_next = True if backwards else more
    return HolderPage(rows, first if has_previous else None, last if has_next else None)


def register_totals(db: Session, flt: RegisterFilter) -> Register:
    """The register's totals per share type and its number of holders (no rows).

    One aggregate over ``ledger_days`` up to the day (or a class's ``class_days``): its
    changes in shares, holders and members add up to those at the end of the day
    (``ledger.append`` keeps them in time order, whatever order rows are appended in)."""
    result = Register(filter=flt)
    table: Any = LedgerDay if flt.member_class is None else ClassDay
    query = (
        select(
            table.share_type_id,
            func.sum(table.net_quantity),
            func.sum(table.net_holders),
            func.sum(table.net_members),
        )
        .where(table.day <= flt.as_of)
        .group_by(table.share_type_id)
    )
    if flt.member_class is not None:
        query = query.where(ClassDay.class_id == flt.member_class.id)
    sums, members = {}, 0
    for type_id, shares, holders, type_members in db.execute(query):
        sums[type_id] = (int(shares), int(holders))
        members += int(type_members)
    for share_type in list_share_types(db):
        if flt.share_type is not None and share_type.id != flt.share_type.id:
            continue
        shares, holders = sums.get(share_type.id, (0, 0))
        result.totals.append(
            TypeTotal(share_type, shares, shares * share_type.par_value_minor, holders)
        )
    if flt.share_type is not None:
        members = result.totals[0].holders  # a type's holders are the members holding it
    result.holders = members
    return result


def register(db: Session, flt: RegisterFilter) -> Register:
    """The whole register as of the filter's date: its rows, totals per share type and the
    number of holders (for the PDF; the page shows one page of rows)."""
    result = register_totals(db, flt)
    result.rows = list(holder_rows(db, flt))
    return result


CSV_COLUMNS = (
    "member_number",
    "name",
    "classes",
    "share_type",
    "quantity",
    "par_value",
    "value",
    "currency",
)


def csv_rows(db: Session, flt: RegisterFilter, currency: str) -> Iterator[tuple[Any, ...]]:
    """The register's rows for a CSV file (amounts in major units, with two decimals)."""

    def amount(minor: int) -> str:
        return f"{minor // 100}.{minor % 100:02d}"

    for row in holder_rows(db, flt):
        yield (
            row.member_number,
            row.name,
            row.classes,
            row.share_type.name,
            row.quantity,
            amount(row.share_type.par_value_minor),
            amount(row.value_minor),
            currency,
        )


def _period_ends(first: date, last: date, period: str) -> list[date]:
    """Each day from ``first`` to ``last``, or each month's last day (``last`` ends the list)."""
    if period == "day":
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]
    ends = []
    year, month = first.year, first.month
    while (year, month) < (last.year, last.month):
        following = date(year + month // 12, month % 12 + 1, 1)
        ends.append(following - timedelta(days=1))
        year, month = following.year, following.month
    ends.append(last)
    return ends


def capital_history(
    db: Session, flt: RegisterFilter, *, member: Member | None = None
) -> CapitalHistory:
    """The capital of the filtered register (or one member's) at the end of each period.

    Capital is counted at par value, as on the register. The periods run from the day of
    the first ledger row to the as-of date: days when that is under three months, months
    otherwise. The register's chart adds up ``ledger_days`` (a row per share type and day
    with rows: thousands for years of ledger, not the ledger's million), a class's its
    ``class_days``; a member's reads their own ledger rows.
    """
    par = {t.id: t.par_value_minor for t in list_share_types(db)}
    change: dict[date, int] = defaultdict(int)
    if member is None:
        table: Any = LedgerDay if flt.member_class is None else ClassDay
        days = select(table.day, table.share_type_id, table.net_quantity).where(
            table.day <= flt.as_of
        )
        if flt.member_class is not None:
            days = days.where(ClassDay.class_id == flt.member_class.id)
        if flt.share_type is not None:
            days = days.where(table.share_type_id == flt.share_type.id)
        for day, type_id, quantity in db.execute(days):
            change[day] += quantity * par[type_id]
    else:
        query = _ledger_rows(flt).with_only_columns(
            LedgerEntry.at, LedgerEntry.kind, LedgerEntry.quantity, LedgerEntry.share_type_id
        )
        if member is not None:
            query = query.where(LedgerEntry.member_id == member.id)
        for at, kind, quantity, type_id in db.execute(query.execution_options(yield_per=1000)):
            change[flt.clock.day_of(at)] += LEDGER_SIGN[kind] * quantity * par[type_id]
    if not change:
        return CapitalHistory([], "month")
    first = min(change)
    period = "day" if (flt.as_of - first).days < DAILY_CHART_DAYS else "month"
    days_with_change = sorted(change)
    points, running, i = [], 0, 0
    for end in _period_ends(first, flt.as_of, period):
        while i < len(days_with_change) and days_with_change[i] <= end:
            running += change[days_with_change[i]]
            i += 1
        points.append((end, running))
    return CapitalHistory(points, period)
