"""The share ledger: appending rows with a hash chain, holdings, and checking the chain.

Appends are serialised by the ``share_ledger`` counter row (bumped in the same
transaction), which also gives each row its gapless sequence number; the row's hash
covers the previous row's hash and every field that matters in law.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput
from ...models import (
    LEDGER_SIGN,
    LedgerEntry,
    LedgerKind,
    Member,
    ShareType,
    User,
    utcnow,
)
from ..counters import next_number

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
    previous = db.scalar(select(LedgerEntry.hash).where(LedgerEntry.seq == seq - 1))
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
    return entry


def _signed_quantity():
    return case(
        *(
            (LedgerEntry.kind == kind, LedgerEntry.quantity * sign)
            for kind, sign in LEDGER_SIGN.items()
        ),
        else_=0,
    )


def holding(db: Session, member: Member, share_type: ShareType) -> int:
    """How many shares of this type the member holds now."""
    return (
        db.scalar(
            select(func.coalesce(func.sum(_signed_quantity()), 0)).where(
                LedgerEntry.member_id == member.id, LedgerEntry.share_type_id == share_type.id
            )
        )
        or 0
    )


def capital(db: Session, member: Member) -> int:
    """The member's capital in shares at par (minor units)."""
    return (
        db.scalar(
            select(func.coalesce(func.sum(_signed_quantity() * ShareType.par_value_minor), 0))
            .select_from(LedgerEntry)
            .join(ShareType, ShareType.id == LedgerEntry.share_type_id)
            .where(LedgerEntry.member_id == member.id)
        )
        or 0
    )


def holdings(db: Session, *, as_of: datetime | None = None) -> dict[tuple[int, int], int]:
    """Every non-zero holding as {(member_id, share_type_id): quantity}, optionally as of a time."""
    query = select(
        LedgerEntry.member_id, LedgerEntry.share_type_id, func.sum(_signed_quantity())
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


def check_register(db: Session) -> RegisterCheck:
    """Walk the chain: sequence, links and hashes; and recompute every holding."""
    problems: list[str] = []
    previous_hash, expected_seq = GENESIS, 1
    totals: dict[tuple[int, int], int] = defaultdict(int)
    rows = 0
    for entry in db.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)).yield_per(500):
        rows += 1
        if entry.seq != expected_seq:
            problems.append(f"row {entry.seq}: expected sequence number {expected_seq}")
        if entry.prev_hash != previous_hash:
            problems.append(f"row {entry.seq}: does not link to the row before it")
        if row_digest(entry) != entry.hash:
            problems.append(f"row {entry.seq}: its content does not match its hash")
        if entry.amount_minor != entry.quantity * entry.unit_price_minor:
            problems.append(f"row {entry.seq}: amount is not quantity × unit price")
        key = (entry.member_id, entry.share_type_id)
        totals[key] += entry.signed_quantity
        if totals[key] < 0:
            problems.append(f"row {entry.seq}: member {entry.member_id} holds a negative number")
        previous_hash, expected_seq = entry.hash, entry.seq + 1
    derived = {k: v for k, v in totals.items() if v}
    if derived != holdings(db):
        problems.append("holdings computed row by row differ from the database's sums")
    return RegisterCheck(rows=rows, problems=problems)
