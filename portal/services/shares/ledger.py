"""The share ledger: appending rows with a hash chain, holdings, and checking the chain.

Appends are serialised by the ``share_ledger`` counter row (bumped in the same
transaction), which also gives each row its gapless sequence number; the row's hash
covers the previous row's hash and every field that matters in law.

``append`` is the one writer of ledger rows (the bulk seed in benchmarks/ rebuilds the
derived tables after it); in the same transaction, under the same lock, it adds the row's
signed quantity to the member's ``holdings`` row and to the day's ``ledger_days`` row (in
time order: a row dated before a later day's rows restates its member's days), and keeps
the member's part of ``class_days`` (``register.class_days``). ``check_register`` compares
all three with the ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update
from sqlalchemy.orm import Session

from ... import coop, tasks
from ...db import write_session
from ...errors import InvalidInput
from ...models import (
    LEDGER_SIGN,
    ClassDay,
    Counter,
    Holding,
    LedgerDay,
    LedgerEntry,
    LedgerKind,
    Member,
    ShareType,
    User,
    utcnow,
)
from ..counters import next_number
from ..register import class_days

GENESIS = "0" * 64
LEDGER_COUNTER = "share_ledger"


def row_digest(entry: LedgerEntry) -> str:
    """The SHA-256 of a row's content and the previous row's hash."""
    content = {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "kind": entry.kind.value,
        "member_id": entry.member_id,
        "share_type_id": entry.share_type_id,
        "quantity": entry.quantity,
        "unit_price_minor": entry.unit_price_minor,
        "amount_minor": entry.amount_minor,
        "currency": entry.currency,
        "reference": entry.reference,
        "prev_hash": entry.prev_hash,
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def append(
    db: Session,
    *,
    kind: LedgerKind,
    member: Member,
    share_type: ShareType,
    quantity: int,
    currency: str,
    reference: str,
    actor: User | None,
) -> LedgerEntry:
    """Append one row to the register; the holding may never go below zero."""
    if quantity <= 0:
        raise InvalidInput("A ledger row moves a positive number of shares.")
    if LEDGER_SIGN[kind] < 0 and holding(db, member, share_type) < quantity:
        raise InvalidInput(
            f"Member no. {member.number} holds fewer than {share_type.count(quantity)}."
        )
    seq = next_number(db, LEDGER_COUNTER)
    # Read again under the counter's lock (another append may have committed since): the
    # holder counts kept in ledger_days move from these; holdings' CHECK keeps the floor.
    held = holding(db, member, share_type)
    member_held = db.scalar(
        select(func.coalesce(func.sum(Holding.quantity), 0)).where(Holding.member_id == member.id)
    )
    previous = db.scalar(select(LedgerEntry.hash).where(LedgerEntry.seq == seq - 1))
    latest = db.scalar(select(func.max(LedgerEntry.at)))
    entry = LedgerEntry(
        seq=seq,
        at=utcnow(),
        kind=kind,
        member_id=member.id,
        share_type_id=share_type.id,
        quantity=quantity,
        unit_price_minor=share_type.par_value_minor,
        amount_minor=quantity * share_type.par_value_minor,
        currency=currency,
        reference=reference[:120],
        actor_id=actor.id if actor else None,
        prev_hash=previous or GENESIS,
    )
    entry.hash = row_digest(entry)
    db.add(entry)
    db.flush()
    signed = entry.signed_quantity
    key = {"member_id": member.id, "share_type_id": share_type.id}
    if signed > 0:
        class_days.add_to(db, Holding, key, {"quantity": signed})
    else:  # the holding was checked above, so its row exists (and the CHECK would refuse
        # the negative row an upsert inserts before it finds the conflict)
        db.execute(
            update(Holding)
            .where(Holding.member_id == member.id, Holding.share_type_id == share_type.id)
            .values(quantity=Holding.quantity + signed)
        )
    clock = coop.clock(db)
    day = clock.day_of(entry.at)
    if latest is not None and clock.day_of(latest) > day:
        # A row dated before a later day's rows (a clock set back; tests that travel in
        # time): the member's holder changes from its day on are worked out again.
        _restate_member_days(db, clock, member.id, entry.seq)
    else:
        class_days.add_to(
            db,
            LedgerDay,
            {"day": day, "share_type_id": share_type.id},
            {
                "net_quantity": signed,
                "net_holders": _became(held, signed),
                "net_members": _became(member_held or 0, signed),
            },
        )
    class_days.row_added(db, member.id, entry.seq)
    return entry


def _restate_member_days(db: Session, clock: coop.Clock, member_id: int, seq: int) -> None:
    """Move ``ledger_days`` by what the member's row ``seq`` (already written) changes in
    the member's own days, their rows taken in time order: the days as they were without
    it, subtracted from the days with it. Other members' days do not depend on it."""
    rows = db.execute(
        select(LedgerEntry.seq, LedgerEntry.at, LedgerEntry.share_type_id, signed_quantity())
        .where(LedgerEntry.member_id == member_id)
        .order_by(LedgerEntry.at, LedgerEntry.seq)
    ).all()
    before, after = _DayWalk(clock), _DayWalk(clock)
    for row_seq, at, type_id, signed in rows:
        if row_seq != seq:
            before.add(at, member_id, type_id, signed)
        after.add(at, member_id, type_id, signed)
    was = before.finish()
    for key, now in after.finish().items():
        then = was.get(key, (0, 0, 0))
        if now != then or key not in was:
            class_days.add_to(
                db,
                LedgerDay,
                {"day": key[0], "share_type_id": key[1]},
                {
                    column: a - b
                    for column, a, b in zip(
                        ("net_quantity", "net_holders", "net_members"), now, then, strict=True
                    )
                },
            )


def _became(before: int, signed: int) -> int:
    """+1 when a holding of ``before`` shares starts being one (``before`` was 0), -1 when
    ``signed`` brings it to 0, else 0: how the number of holders moves."""
    return int(before + signed > 0) - int(before > 0)


def signed_quantity() -> Any:
    """A row's quantity with its sign (issued or transferred in adds, the rest takes off)."""
    return case(
        *(
            (LedgerEntry.kind == kind, LedgerEntry.quantity * sign)
            for kind, sign in LEDGER_SIGN.items()
        ),
        else_=0,
    )


def holding(db: Session, member: Member, share_type: ShareType) -> int:
    """How many shares of this type the member holds now (from ``holdings``)."""
    return (
        db.scalar(
            select(Holding.quantity).where(
                Holding.member_id == member.id, Holding.share_type_id == share_type.id
            )
        )
        or 0
    )


def capital(db: Session, member: Member) -> int:
    """The member's capital in shares at par (minor units), from ``holdings``."""
    return (
        db.scalar(
            select(func.coalesce(func.sum(Holding.quantity * ShareType.par_value_minor), 0))
            .select_from(Holding)
            .join(ShareType, ShareType.id == Holding.share_type_id)
            .where(Holding.member_id == member.id)
        )
        or 0
    )


def holdings(db: Session, *, as_of: datetime | None = None) -> dict[tuple[int, int], int]:
    """Every non-zero holding as {(member_id, share_type_id): quantity}, optionally as of a time."""
    query = select(
        LedgerEntry.member_id, LedgerEntry.share_type_id, func.sum(signed_quantity())
    ).group_by(LedgerEntry.member_id, LedgerEntry.share_type_id)
    if as_of is not None:
        query = query.where(LedgerEntry.at < as_of)
    return {(m, t): int(q) for m, t, q in db.execute(query) if q}


@dataclass(frozen=True)
class RegisterCheck:
    """What ``check-register`` found: rows read and every problem, in words."""

    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


# Rows read from the database at a time while the chain is walked (Core rows, not objects).
CHECK_BATCH = 5000


def check_register(db: Session) -> RegisterCheck:
    """Walk the chain in order: sequence, links, hashes and amounts; recompute every holding,
    each day's net change and each class's, and compare them with ``holdings``,
    ``ledger_days`` and ``class_days``.

    The rows are read as the driver gives them (a server-side cursor on PostgreSQL,
    ``CHECK_BATCH`` at a time), not as objects, and walked in one loop (``_ChainWalk``)
    that hashes each row's values written as the same text :func:`row_digest` hashes.
    """
    clock = coop.clock(db)
    # In the table's own order first (SQLite reads it straight through, not by the seq
    # index): append writes rows in sequence, so it is the same order unless something
    # is wrong, and then the rows are walked again by sequence number.
    for sql in (CHECK_ROWS + " ORDER BY id", CHECK_ROWS + " ORDER BY seq"):
        problems: list[str] = []
        chain = _ChainWalk(clock, problems)
        for batch in _raw_batches(db, sql):
            chain.walk(batch)
        if not chain.out_of_sequence:
            break
    problems += _compare(
        "holding",
        "member {} holds {} of share type {}",
        chain.holdings,
        {(m, t): q for batch in _raw_batches(db, HOLDING_ROWS) for m, t, q in batch},
    )
    problems += _compare(
        "day's net change",
        "on {} share type {} moved by {} (shares, holders, members)",
        chain.days() if chain.in_time_order else _days_in_time_order(db.connection(), clock),
        {
            (d, t): (q, h, m)
            for d, t, q, h, m in db.execute(
                select(
                    LedgerDay.day,
                    LedgerDay.share_type_id,
                    LedgerDay.net_quantity,
                    LedgerDay.net_holders,
                    LedgerDay.net_members,
                )
            )
        },
    )
    problems += _compare(
        "class's day",
        "on {} class {} share type {} moved by {} (shares, holders, members)",
        class_days.summed(
            chain.rows_by_member(), class_days.memberships_by_member(db.connection())
        ),
        {
            (d, c, t): (q, h, m)
            for d, c, t, q, h, m in db.execute(
                select(
                    ClassDay.day,
                    ClassDay.class_id,
                    ClassDay.share_type_id,
                    ClassDay.net_quantity,
                    ClassDay.net_holders,
                    ClassDay.net_members,
                )
            )
            if q or h or m
        },
    )
    return RegisterCheck(rows=chain.rows, problems=problems)


class _ChainWalk:
    """The ledger's rows, as the driver gives them (``CHECK_ROWS``), checked in order: the
    sequence, each link and hash and amount; and added up: each holding, each (day, type)'s
    net change in shares, holders and members, and each member's rows as (day, type,
    signed quantity) for ``class_days``. One loop with everything in local names: it runs a
    million times."""

    def __init__(self, clock: coop.Clock, problems: list[str]) -> None:
        self.clock = clock
        self.problems = problems
        self.rows = 0
        self.holdings: dict[tuple[int, int], int] = defaultdict(int)
        self.members: dict[int, int] = defaultdict(int)
        self.changes: dict[tuple[date, int], list[int]] = {}
        self.of_member: dict[int, list[tuple[date, int, int]]] = defaultdict(list)
        self.in_time_order = True
        self.out_of_sequence = False
        self._latest = date.min
        self._previous = GENESIS
        self._expected = 1
        self._sign = {kind.value: s for kind, s in LEDGER_SIGN.items()}
        self._quoted: dict[str, str] = {}
        self._splits: dict[Any, tuple[Any, date, date]] = {}

    def walk(self, batch: list[tuple[Any, ...]]) -> None:
        problems, holdings, members, changes = (
            self.problems,
            self.holdings,
            self.members,
            self.changes,
        )
        of_member, sign, quoted, splits = self.of_member, self._sign, self._quoted, self._splits
        previous, expected, latest = self._previous, self._expected, self._latest
        sha256, json_text = hashlib.sha256, _json
        self.rows += len(batch)
        for (
            seq,
            at,
            kind,
            member_id,
            type_id,
            quantity,
            unit,
            amount,
            currency,
            reference,
            prev_hash,
            hash_,
        ) in batch:
            if type(at) is str and len(at) == 26:  # SQLite: "YYYY-MM-DD HH:MM:SS.ffffff" UTC
                stamp = f"{at[:10]}T{at[11:]}+00:00"
                split = splits.get(at[:10])
                if split is None:
                    split = splits[at[:10]] = self._split(_utc(at[:10] + " 00:00:00.000000"))
                day = split[1] if at < split[0] else split[2]
            else:
                instant = _utc(at)
                stamp = instant.isoformat(timespec="microseconds")
                split = splits.get(instant.date())
                if split is None:
                    split = splits[instant.date()] = self._split(
                        instant.replace(hour=0, minute=0, second=0, microsecond=0), text=False
                    )
                day = split[1] if instant < split[0] else split[2]
            if day < latest:
                self.in_time_order = False
            else:
                latest = day
            if seq != expected:
                problems.append(f"row {seq}: expected sequence number {expected}")
                self.out_of_sequence = True
            if prev_hash != previous:
                problems.append(f"row {seq}: does not link to the row before it")
            kind_text = quoted.get(kind) or quoted.setdefault(kind, json_text(kind))
            currency_text = quoted.get(currency) or quoted.setdefault(currency, json_text(currency))
            # The text row_digest hashes; prev_hash unescaped: it is the row before's hash (hex)
            # or the link is reported wrong above.
            text = (
                f'{{"amount_minor":{amount},"at":"{stamp}",'
                f'"currency":{currency_text},"kind":{kind_text},"member_id":{member_id},'
                f'"prev_hash":"{prev_hash}","quantity":{quantity},'
                f'"reference":{json_text(reference)},"seq":{seq},"share_type_id":{type_id},'
                f'"unit_price_minor":{unit}}}'
            )
            if sha256(text.encode()).hexdigest() != hash_:
                problems.append(f"row {seq}: its content does not match its hash")
            if amount != quantity * unit:
                problems.append(f"row {seq}: amount is not quantity × unit price")
            signed = sign.get(kind, 0) * quantity
            key = (member_id, type_id)
            held = holdings[key]
            holdings[key] = now = held + signed
            member_held = members[member_id]
            members[member_id] = member_now = member_held + signed
            change = changes.get((day, type_id))
            if change is None:
                change = changes[day, type_id] = [0, 0, 0]
            change[0] += signed
            if (held > 0) is not (now > 0):
                change[1] += 1 if now > 0 else -1
            if (member_held > 0) is not (member_now > 0):
                change[2] += 1 if member_now > 0 else -1
            if now < 0:
                problems.append(f"row {seq}: member {member_id} holds a negative number")
            of_member[member_id].append((day, type_id, signed))
            previous, expected = hash_, seq + 1
        self._previous, self._expected, self._latest = previous, expected, latest

    def _split(self, midnight: datetime, *, text: bool = True) -> tuple[Any, date, date]:
        """For the UTC day starting at ``midnight``: the instant the co-op's day changes in
        it (as SQLite's text, or an instant), and the co-op's days before and from it."""
        before = self.clock.day_of(midnight)
        after = self.clock.day_of(midnight + timedelta(days=1, microseconds=-1))
        switch: Any = midnight + timedelta(days=1)
        if after != before:
            switch = self.clock.start_of_day(after)
        if text:
            switch = switch.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return switch, before, after

    def days(self) -> dict[tuple[date, int], tuple[int, int, int]]:
        """Each (day, type)'s net (shares, holders, members), the rows in the order walked."""
        return {key: (q, h, m) for key, (q, h, m) in self.changes.items()}

    def rows_by_member(self) -> Iterator[tuple[int, list[tuple[date, int, int]]]]:
        """Each member's rows in time order (by day: the order within a day does not move
        a day's totals)."""
        for member_id, rows in self.of_member.items():
            if not self.in_time_order:
                rows.sort(key=lambda row: row[0])
            yield member_id, rows


def _utc(at: datetime | str) -> datetime:
    """A row's time as the driver gives it (SQLite: text in UTC) as an aware UTC instant."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# A string as ``json.dumps`` writes it (ASCII, escaped): the function it calls, without it.
_json = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


HOLDING_ROWS = "SELECT member_id, share_type_id, quantity FROM holdings"

# The columns the check reads, in this order.
CHECK_ROWS = (
    "SELECT seq, at, kind, member_id, share_type_id, quantity, unit_price_minor, amount_minor,"
    " currency, reference, prev_hash, hash FROM share_ledger"
)

# More differences than this are counted, not listed.
LISTED_DIFFERENCES = 20


def _compare(what: str, words: str, derived: dict[Any, Any], stored: dict[Any, Any]) -> list[str]:
    """Each key where the table kept beside the ledger (``stored``) differs from the sums of
    the ledger's rows (``derived``; zero where a key is missing from either)."""
    wrong = sorted(
        (
            key
            for key in derived.keys() | stored.keys()
            if derived.get(key, 0) != stored.get(key, 0)
        ),
        key=str,
    )
    problems = [
        f"{what} differs from the ledger: "
        + words.format(*key, stored.get(key, 0))
        + f" but the rows add up to {derived.get(key, 0)}"
        for key in wrong[:LISTED_DIFFERENCES]
    ]
    if len(wrong) > LISTED_DIFFERENCES:
        problems.append(f"… and {len(wrong) - LISTED_DIFFERENCES} more {what} differences")
    return problems


def rebuild_derived(connection: Connection, clock: coop.Clock) -> None:
    """Fill ``holdings`` and ``ledger_days`` afresh from the ledger (after a bulk load that
    wrote rows without ``append``): holdings in one INSERT … SELECT … GROUP BY, days by
    one pass over the rows' times."""
    connection.execute(Holding.__table__.delete())
    connection.execute(
        insert(Holding).from_select(
            ["member_id", "share_type_id", "quantity"],
            select(
                LedgerEntry.member_id, LedgerEntry.share_type_id, func.sum(signed_quantity())
            ).group_by(LedgerEntry.member_id, LedgerEntry.share_type_id),
        )
    )
    rebuild_ledger_days(connection, clock)
    class_days.rebuild(connection, clock)


def rebuild_ledger_days(connection: Connection, clock: coop.Clock) -> None:
    """``ledger_days`` afresh from one pass over the ledger, its days in ``clock``'s zone."""
    class_days.replace_all(
        connection, LedgerDay, ("day", "share_type_id"), _days_in_time_order(connection, clock)
    )


def _days_in_time_order(
    connection: Connection, clock: coop.Clock
) -> dict[tuple[date, int], tuple[int, int, int]]:
    """Each (day, type)'s net (shares, holders, members) from the ledger's rows in time
    order (as ``ledger_days`` keeps them whatever order the rows were appended in)."""
    walk = _DayWalk(clock)
    rows = connection.execute(
        select(LedgerEntry.at, LedgerEntry.member_id, LedgerEntry.share_type_id, signed_quantity())
        .order_by(LedgerEntry.at, LedgerEntry.seq)
        .execution_options(yield_per=CHECK_BATCH)
    )
    for at, member_id, type_id, quantity in rows:
        walk.add(at, member_id, type_id, quantity)
    return walk.finish()


# Queued by the settings service when the co-op's time zone changes (by name: the two
# service areas do not import each other): each day's row moves with the zone's midnight.
DAYS_IN_ZONE_JOB = "shares.ledger_days_in_zone"


def rebuild_days(db: Session) -> None:
    """``ledger_days`` afresh in the co-op's present time zone (``CoopSettings.timezone``),
    under the ledger's lock (an append waits for it: no row counted twice or missed)."""
    db.execute(update(Counter).where(Counter.name == LEDGER_COUNTER).values(value=Counter.value))
    rebuild_ledger_days(db.connection(), coop.clock(db))
    class_days.rebuild(db.connection(), coop.clock(db))


@tasks.job(DAYS_IN_ZONE_JOB)
def _days_in_zone_job() -> None:
    with write_session() as db:
        rebuild_days(db)


def _raw_batches(db: Session, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``sql`` as the driver gives them, ``CHECK_BATCH`` at a time (on
    PostgreSQL from a server-side cursor): no result objects in between."""
    raw = db.connection().connection.driver_connection
    postgres = db.get_bind().dialect.name == "postgresql"
    cursor = raw.cursor(name="check_register") if postgres else raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(CHECK_BATCH):
            yield batch
    finally:
        cursor.close()


# A minute's quarter of the hour, by the minute's two digits.
_QUARTER = {f"{minute:02d}": str(minute // 15) for minute in range(60)}


class _DayWalk:
    """The ledger's rows added up in order: each holding, each member's shares, and each
    day's net change of each type in shares, holders and members (as ``append`` keeps them)."""

    def __init__(self, clock: coop.Clock) -> None:
        self.clock = clock
        self.holdings: dict[tuple[int, int], int] = defaultdict(int)
        self.members: dict[int, int] = defaultdict(int)
        self.days: dict[tuple[date, int], tuple[int, int, int]] = {}
        self._changes: dict[tuple[date, int], list[int]] = {}
        self._days: dict[Any, date] = {}

    def stamp(self, at: datetime | str) -> tuple[str, date]:
        """A row's time as the driver gives it (SQLite: UTC text with microseconds) as
        ``row_digest`` writes it, and its day in the co-op's zone (remembered per quarter
        hour: every zone's offset is a multiple of 15 minutes)."""
        if isinstance(at, str) and len(at) == 26 and at[10] == " ":
            key: Any = at[:14] + _QUARTER[at[14:16]]
            stamp = f"{at[:10]}T{at[11:]}+00:00"
            day = self._days.get(key)
            if day is None:
                day = self._days[key] = self.clock.day_of(_utc(at))
            return stamp, day
        instant = _utc(at)
        key = (instant.date(), instant.hour, instant.minute // 15)
        day = self._days.get(key)
        if day is None:
            day = self._days[key] = self.clock.day_of(instant)
        return instant.isoformat(timespec="microseconds"), day

    def add(self, day: date | datetime, member_id: int, type_id: int, signed: int) -> int:
        """Add one row (on ``day``, or at an instant); the holding it leaves."""
        if isinstance(day, datetime):
            day = self.stamp(day)[1]
        key = (member_id, type_id)
        held = self.holdings[key]
        self.holdings[key] = held + signed
        member_held = self.members[member_id]
        self.members[member_id] = member_held + signed
        change = self._changes.get((day, type_id))
        if change is None:
            change = self._changes[day, type_id] = [0, 0, 0]
        change[0] += signed
        if not held or not held + signed:
            change[1] += _became(held, signed)
        if not member_held or not member_held + signed:
            change[2] += _became(member_held, signed)
        return held + signed

    def finish(self) -> dict[tuple[date, int], tuple[int, int, int]]:
        """Each (day, type)'s net (shares, holders, members)."""
        self.days = {key: (q, h, m) for key, (q, h, m) in self._changes.items()}
        return self.days
