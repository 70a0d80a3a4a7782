"""Gapless counters (member numbers, certificate numbers) kept in a row.

PostgreSQL sequences leave gaps on rollback; a counter row bumped inside the caller's
transaction does not: the row lock (PostgreSQL) or the write lock taken at BEGIN
IMMEDIATE (SQLite) makes concurrent transactions take turns.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Counter


def next_number(db: Session, name: str) -> int:
    """Advance the counter ``name`` by one in this transaction and return the new value."""
    for _ in range(2):
        value = db.scalar(
            update(Counter)
            .where(Counter.name == name)
            .values(value=Counter.value + 1)
            .returning(Counter.value)
        )
        if value is not None:
            return value
        try:
            with db.begin_nested():
                db.execute(insert(Counter).values(name=name, value=1))
            return 1
        except IntegrityError:
            continue  # another transaction created it first; bump that one
    raise RuntimeError(f"counter {name!r} could not be advanced")


def peek_next(db: Session, name: str) -> int:
    """The number ``next_number`` would give now, without taking it (for a preview).

    Another transaction may take it first: say it as what will most likely happen.
    """
    value = db.scalar(select(Counter.value).where(Counter.name == name))
    return (value or 0) + 1
