"""Each member class's holdings day by day (``class_days``), kept beside the ledger.

A member's holdings count in a class from the day their membership of it begins until the
day it ends (``in_class_on``). A member's part of ``class_days`` is a function of their own
ledger rows (in time order) and class memberships alone, so every change to either is kept
by working the member's part out before and after it and adding the difference: a ledger
row (``ledger.append`` calls :func:`row_added`), a membership begun or ended (wrapped in
:func:`member_changes`). Summed up to a day, a class's rows give its register's shares,
holders and members holding any share that day, and its chart, without reading the
ledger. ``check-register`` compares them with the ledger; :func:`rebuild` fills them afresh.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ... import coop
from ...models import LEDGER_SIGN, ClassDay, ClassMembership, Counter, LedgerEntry

# The ledger's counter (``shares.ledger.LEDGER_COUNTER``; the register area is below shares).
LEDGER_COUNTER = "share_ledger"

# (day, class id, share type id) → (net shares, net holders, net members holding any share)
Changes = dict[tuple[date, int, int], tuple[int, int, int]]


def changes(
    rows: Iterable[tuple[date, int, int]],
    memberships: Iterable[tuple[int, date, date | None]],
    into: dict[tuple[date, int, int], list[int]] | None = None,
) -> Changes:
    """One member's part of ``class_days``: ``rows`` their ledger rows as (day, share type,
    signed quantity) in time order, ``memberships`` (class, admitted on, ended on). Added
    into ``into`` when given (many members summed: what it returns is then not final).

    From the rows, each day's step (per type the change in shares and holders; the
    change in holding any share).
    A membership from B to E adds the holdings at the end of B on B, each step after B and
    before E, and takes the holdings at the end of E's day before away on E."""
    out: dict[tuple[date, int, int], list[int]] = {} if into is None else into
    steps: list[tuple[date, list[tuple[int, int, int]], int]] = []
    held: dict[int, int] = {}
    before: dict[int, int] = {}  # the day's types, as held before the day
    holds_any, current = False, None
    for day, type_id, signed in rows:
        if day != current:
            if current is not None:
                holds_any = _step(steps, current, before, held, holds_any)
            current, before = day, {}
        was = held.get(type_id, 0)
        if type_id not in before:
            before[type_id] = was
        held[type_id] = was + signed
    if current is None:
        return {}
    _step(steps, current, before, held, holds_any)
    anchor = min(held)  # the type a member's start or stop of holding any share counts on
    days = [step[0] for step in steps]
    for class_id, begins, ends in memberships:
        if ends is not None and ends <= begins:
            continue
        first = bisect_right(days, begins)  # the steps after the day it begins
        if first:
            _snapshot(out, begins, class_id, anchor, _state(steps, first), 1)
        for day, moved, member_step in steps[first:] if first else steps:
            if ends is not None and day >= ends:
                break
            for type_id, shares, holders in moved:
                key = (day, class_id, type_id)
                row = out.get(key)
                if row is None:
                    out[key] = [shares, holders, 0]
                else:
                    row[0] += shares
                    row[1] += holders
            if member_step:
                _bump(out, (day, class_id, anchor), 0, 0, member_step)
        if ends is not None:
            last = bisect_left(days, ends)  # the steps before the day it ends
            if last:
                _snapshot(out, ends, class_id, anchor, _state(steps, last), -1)
    if into is not None:
        return {}
    return {key: (q, h, m) for key, (q, h, m) in out.items() if q or h or m}


def _step(
    steps: list[tuple[date, list[tuple[int, int, int]], int]],
    day: date,
    before: dict[int, int],
    held: dict[int, int],
    held_any: bool,
) -> bool:
    """Add the day's step (what it moved, per type and in holding any share) from the
    holdings of its types ``before`` it and ``held`` after; whether any share is held."""
    moved = [
        (type_id, held[type_id] - was, (held[type_id] > 0) - (was > 0))
        for type_id, was in before.items()
        if held[type_id] != was
    ]
    holds_any = any(q > 0 for q in held.values())
    steps.append((day, moved, holds_any - held_any))
    return holds_any


def _state(steps: list[tuple[date, list[tuple[int, int, int]], int]], count: int) -> dict[int, int]:
    """The holdings after the first ``count`` steps."""
    state: dict[int, int] = {}
    for _, moved, _ in steps[:count]:
        for type_id, shares, _ in moved:
            state[type_id] = state.get(type_id, 0) + shares
    return state


def _snapshot(
    out: dict[tuple[date, int, int], list[int]],
    day: date,
    class_id: int,
    anchor: int,
    state: dict[int, int],
    sign: int,
) -> None:
    """Add (``sign`` 1) or take away (-1) the holdings ``state`` on ``day`` in the class."""
    for type_id, quantity in state.items():
        if quantity:
            _bump(out, (day, class_id, type_id), sign * quantity, sign * (quantity > 0), 0)
    if any(q > 0 for q in state.values()):
        _bump(out, (day, class_id, anchor), 0, 0, sign)


def _bump(
    out: dict[tuple[date, int, int], list[int]], key: tuple[date, int, int], *amounts: int
) -> None:
    row = out.setdefault(key, [0, 0, 0])
    for i, amount in enumerate(amounts):
        row[i] += amount


def _member_inputs(
    db: Session, member_id: int
) -> tuple[list[tuple[int, date, int, int]], list[Any]]:
    """The member's ledger rows as (sequence number, day, share type, signed quantity) in
    time order, and their memberships (class, admitted on, ended on): two queries."""
    memberships = db.execute(
        select(ClassMembership.class_id, ClassMembership.admitted_on, ClassMembership.ended_on)
        .where(ClassMembership.member_id == member_id)
        .order_by(ClassMembership.id)
    ).all()
    if not memberships:
        return [], []
    clock = coop.clock(db)
    rows = [
        (seq, clock.day_of(at), type_id, LEDGER_SIGN[kind] * quantity)
        for seq, at, kind, type_id, quantity in db.execute(
            select(
                LedgerEntry.seq,
                LedgerEntry.at,
                LedgerEntry.kind,
                LedgerEntry.share_type_id,
                LedgerEntry.quantity,
            )
            .where(LedgerEntry.member_id == member_id)
            .order_by(LedgerEntry.at, LedgerEntry.seq)
        )
    ]
    return rows, memberships


def member_part(db: Session, member_id: int) -> Changes:
    """The member's part of ``class_days`` as the database holds them now."""
    rows, memberships = _member_inputs(db, member_id)
    return changes(((d, t, q) for _, d, t, q in rows), memberships)


def row_added(db: Session, member_id: int, seq: int) -> None:
    """Keep ``class_days`` after the member's ledger row ``seq`` was written (flushed)."""
    rows, memberships = _member_inputs(db, member_id)
    if memberships:
        before = changes(((d, t, q) for s, d, t, q in rows if s != seq), memberships)
        _apply(db, before, changes(((d, t, q) for _, d, t, q in rows), memberships))


@contextmanager
def member_changes(db: Session, member_id: int) -> Iterator[None]:
    """Keep ``class_days`` across a change to the member's class memberships made inside
    the block (flushed at its end)."""
    # Under the ledger's lock (its counter row, as ledger.append takes it): no row is
    # appended for the member between the two readings.
    db.execute(update(Counter).where(Counter.name == LEDGER_COUNTER).values(value=Counter.value))
    before = member_part(db, member_id)
    yield
    db.flush()
    _apply(db, before, member_part(db, member_id))


def _apply(db: Session, before: Changes, after: Changes) -> None:
    for key in before.keys() | after.keys():
        was, now = before.get(key, (0, 0, 0)), after.get(key, (0, 0, 0))
        if was != now:
            day, class_id, type_id = key
            add_to(
                db,
                ClassDay,
                {"day": day, "class_id": class_id, "share_type_id": type_id},
                {
                    "net_quantity": now[0] - was[0],
                    "net_holders": now[1] - was[1],
                    "net_members": now[2] - was[2],
                },
            )


def add_to(
    db: Session | Connection, model: type, key: dict[str, object], amounts: dict[str, int]
) -> None:
    """Add ``amounts`` to the columns of the row of ``model`` with primary key ``key``,
    inserting the row when there is none: one INSERT … ON CONFLICT DO UPDATE, on SQLite
    and PostgreSQL."""
    bind = db.get_bind() if isinstance(db, Session) else db
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**key, **amounts)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={c: getattr(model, c) + statement.excluded[c] for c in amounts},
        )
    )


# Rows read at a time when every member's part is worked out.
BATCH = 5000


def memberships_by_member(connection: Connection) -> dict[int, list[Any]]:
    """Every class membership as {member id: [(class, admitted on, ended on), …]}."""
    rows = connection.execute(
        select(
            ClassMembership.member_id,
            ClassMembership.class_id,
            ClassMembership.admitted_on,
            ClassMembership.ended_on,
        ).order_by(ClassMembership.member_id, ClassMembership.id)
    )
    return {m: [row[1:] for row in group] for m, group in groupby(rows, lambda r: r[0])}


def summed(
    rows_of: Iterable[tuple[int, Iterable[tuple[date, int, int]]]],
    memberships: dict[int, list[Any]],
) -> Changes:
    """Every member's part added up: ``rows_of`` gives each member's ledger rows as (day,
    share type, signed quantity) in time order, ``memberships`` their memberships."""
    total: dict[tuple[date, int, int], list[int]] = {}
    for member_id, rows in rows_of:
        classes = memberships.get(member_id)
        if classes:
            changes(rows, classes, total)
    return {key: (q, h, m) for key, (q, h, m) in total.items() if q or h or m}


def computed(connection: Connection, clock: coop.Clock) -> Changes:
    """``class_days`` as the ledger and the memberships make them: every member's part
    added up, their rows read in one pass by member and time (days in ``clock``'s zone)."""
    memberships = memberships_by_member(connection)
    rows = connection.execute(
        select(
            LedgerEntry.member_id,
            LedgerEntry.at,
            LedgerEntry.kind,
            LedgerEntry.share_type_id,
            LedgerEntry.quantity,
        )
        .order_by(LedgerEntry.member_id, LedgerEntry.at, LedgerEntry.seq)
        .execution_options(yield_per=BATCH)
    )
    cache: dict[tuple[Any, ...], date] = {}

    def day_of(at: datetime) -> date:
        key = (at.year, at.month, at.day, at.hour, at.minute // 15)
        day = cache.get(key)
        if day is None:
            day = cache[key] = clock.day_of(at)
        return day

    return summed(
        (
            (member_id, [(day_of(at), t, LEDGER_SIGN[kind] * q) for _, at, kind, t, q in group])
            for member_id, group in groupby(rows, lambda r: r[0])
        ),
        memberships,
    )


def rebuild(connection: Connection, clock: coop.Clock) -> None:
    """``class_days`` afresh from the ledger and the memberships (days in ``clock``'s zone)."""
    replace_all(
        connection, ClassDay, ("day", "class_id", "share_type_id"), computed(connection, clock)
    )


NET_COLUMNS = ("net_quantity", "net_holders", "net_members")


def replace_all(
    connection: Connection,
    model: type,
    key: tuple[str, ...],
    rows: dict[Any, tuple[int, int, int]],
) -> None:
    """Fill the table of ``model`` (a day table: ``key`` columns, then the three
    ``NET_COLUMNS``) afresh with ``rows``: {key values: net values}."""
    connection.execute(model.__table__.delete())  # type: ignore[attr-defined]
    if rows:
        connection.execute(
            insert(model),
            [
                dict(zip(key, keys, strict=True)) | dict(zip(NET_COLUMNS, nets, strict=True))
                for keys, nets in rows.items()
            ],
        )
