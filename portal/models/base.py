"""Declarative base, naming convention and column types shared by every model."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# While the demo co-op is seeded, its story is told at its own dates (``portal.demo``): time
# stands where ``told_at`` puts it. Nothing else sets it; None is the real time.
_TOLD_AT: ContextVar[datetime | None] = ContextVar("portal_told_at", default=None)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (while the demo is seeded, its story's)."""
    told = _TOLD_AT.get()
    return datetime.now(UTC) if told is None else told


@contextmanager
def told_at(instant: datetime | None) -> Iterator[None]:
    """Time stands at ``instant`` while the block runs (as usual for None): the demo seeds
    a co-op's past through the same services and the same clock the app uses."""
    if instant is not None and instant.tzinfo is None:
        raise ValueError("told_at needs a timezone-aware instant")
    token = _TOLD_AT.set(instant)
    try:
        yield
    finally:
        _TOLD_AT.reset(token)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, so values are normalised to UTC on the way in and marked
    UTC on the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, storing the values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
