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
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from ... import coop
from ...coop import Clock
from ...errors import InvalidInput
from ...models import (
    LEDGER_SIGN,
    ClassMembership,
    LedgerEntry,
    Member,
    MemberClass,
    ShareType,
)
from ..inputs import read_date
from ..register.classes import classes_on, find_class, in_class_on
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


def holder_rows(db: Session, flt: RegisterFilter, *, batch: int = 500) -> Iterator[RegisterRow]:
    """The register's rows by member number and share type, members read in batches."""
    held = ledger.holdings(db, as_of=flt.ends_at)
    types = list_share_types(db)
    if flt.share_type is not None:
        types = [t for t in types if t.id == flt.share_type.id]
    holder_ids = select(LedgerEntry.member_id).where(LedgerEntry.at < flt.ends_at)
    query = (
        select(Member)
        .options(selectinload(Member.class_memberships).joinedload(ClassMembership.member_class))
        .where(Member.id.in_(holder_ids))
    )
    if flt.member_class is not None:
        query = query.where(in_class_on(flt.member_class, flt.as_of))
    last = 0
    while True:
        members = db.scalars(
            query.where(Member.number > last).order_by(Member.number).limit(batch)
        ).all()
        if not members:
            return
        for member in members:
            for share_type in types:
                quantity = held.get((member.id, share_type.id), 0)
                if quantity:
                    yield RegisterRow(
                        member.id,
                        member.number,
                        member.name,
                        classes_on(member, flt.as_of),
                        share_type,
                        quantity,
                    )
        last = members[-1].number


def register(db: Session, flt: RegisterFilter) -> Register:
    """The register as of the filter's date, with totals per share type and of holders."""
    result = Register(filter=flt)
    totals = {t.id: TypeTotal(t) for t in list_share_types(db)}
    members: set[int] = set()
    for row in holder_rows(db, flt):
        result.rows.append(row)
        total = totals[row.share_type.id]
        total.shares += row.quantity
        total.capital_minor += row.value_minor
        total.holders += 1
        members.add(row.member_id)
    result.totals = [
        t for t in totals.values() if flt.share_type is None or t.share_type.id == flt.share_type.id
    ]
    result.holders = len(members)
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
    otherwise.
    """
    par = {t.id: t.par_value_minor for t in list_share_types(db)}
    query = _ledger_rows(flt).with_only_columns(
        LedgerEntry.at, LedgerEntry.kind, LedgerEntry.quantity, LedgerEntry.share_type_id
    )
    if member is not None:
        query = query.where(LedgerEntry.member_id == member.id)
    change: dict[date, int] = defaultdict(int)
    for at, kind, quantity, type_id in db.execute(query.execution_options(yield_per=1000)):
        change[flt.clock.day_of(at)] += LEDGER_SIGN[kind] * quantity * par[type_id]
    if not change:
        return CapitalHistory([], "month")
    first = min(change)
    period = "day" if (flt.as_of - first).days < DAILY_CHART_DAYS else "month"
    days = sorted(change)
    points, running, i = [], 0, 0
    for end in _period_ends(first, flt.as_of, period):
        while i < len(days) and days[i] <= end:
            running += change[days[i]]
            i += 1
        points.append((end, running))
    return CapitalHistory(points, period)
