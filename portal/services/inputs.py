"""Reading typed input: every number, amount, date, flag and choice a person types.

One reader per kind of value, each with bounds, each refusing with a message fit to show
beside the field; ``read_all`` reads a whole form and reports every problem at once.
Numbers are ASCII digits only: ``str.isdigit()`` accepts ``²`` and ``int()`` accepts
``١٢`` and ``1_000``; dates are ``YYYY-MM-DD`` only, where ``date.fromisoformat`` also
takes ``2026-W01`` and ``20261206`` (DESIGN.md §6).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any, TypeVar

from ..errors import InvalidFields, InvalidInput

E = TypeVar("E", bound=Enum)
T = TypeVar("T")

DIGITS = re.compile(r"[0-9]{1,18}")
AMOUNT = re.compile(r"([0-9]{1,12})(?:\.([0-9]{1,2}))?")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TRUE_WORDS = frozenset({"1", "true", "on", "y", "yes"})
# The largest value an id or number column holds: SQLAlchemy's Integer is PostgreSQL's
# 4-byte ``integer``, which refuses a larger value outright (a server error) where SQLite
# would merely find no row. Every id, number or cursor read from a request is bounded by it.
MAX_INTEGER = 2**31 - 1


def read_text(
    value: Any, label: str, *, max_length: int, required: bool = True, field: str | None = None
) -> str:
    """Text with surrounding space removed, not longer than ``max_length``."""
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput(f"{label} cannot be empty.", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{label}: use at most {max_length} characters.", field=field)
    return text


def read_given(
    value: Any, missing: str, *, max_length: int, verbatim: bool = False, field: str | None = None
) -> str:
    """Text that must be given: ``missing`` ("Enter your name.") when blank.

    Surrounding space is removed unless ``verbatim`` (a password is what was typed).
    """
    text = str(value or "")
    if not text.strip():
        raise InvalidInput(missing, field=field)
    if not verbatim:
        text = text.strip()
    if len(text) > max_length:
        raise InvalidInput(f"Use at most {max_length} characters.", field=field)
    return text


def read_whole(value: Any, label: str, *, low: int, high: int, field: str | None = None) -> int:
    """A whole number between ``low`` and ``high``, written in ASCII digits."""
    raw = str(value if value is not None else "").strip()
    if not DIGITS.fullmatch(raw):
        raise InvalidInput(f"{label} must be a whole number.", field=field)
    number = int(raw)
    if not low <= number <= high:
        raise InvalidInput(f"{label} must be between {low:,} and {high:,}.", field=field)
    return number


def read_id(value: Any) -> int | None:
    """A row's id or number as typed (ASCII digits, 1 to MAX_INTEGER), or None: no row has
    any other, so it is looked up as nothing rather than sent to the database."""
    raw = str(value if value is not None else "").strip()
    if not DIGITS.fullmatch(raw):
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_INTEGER else None


def read_optional_whole(
    value: Any, label: str, *, low: int, high: int, field: str | None = None
) -> int | None:
    """A whole number, or None when left empty."""
    if str(value or "").strip() == "":
        return None
    return read_whole(value, label, low=low, high=high, field=field)


def read_money(value: Any, label: str, *, high_minor: int, field: str | None = None) -> int:
    """An amount typed in major units (``12.50``, ``1,025``) as integer minor units."""
    raw = str(value or "").strip().replace(",", "")
    match = AMOUNT.fullmatch(raw)
    if match is None:
        raise InvalidInput(f"{label} must be an amount like 10 or 10.50.", field=field)
    whole, cents = match.group(1), match.group(2) or ""
    minor = int(whole) * 100 + int((cents + "00")[:2])
    if minor > high_minor:
        raise InvalidInput(f"{label} is too large.", field=field)
    return minor


# No date the portal keeps lies outside these: a year like 9999 or 0001 is a typing slip.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def read_date(
    value: Any,
    label: str,
    *,
    field: str | None = None,
    earliest: date = EARLIEST_DATE,
    latest: date = LATEST_DATE,
) -> date:
    """A date written ``YYYY-MM-DD``, as a date picker sends it, from ``earliest`` to
    ``latest``."""
    raw = str(value or "").strip()
    try:
        if not ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"{label}: choose a day, or write it as YYYY-MM-DD (2026-03-31).", field=field
        ) from None
    if not earliest <= day <= latest:
        raise InvalidInput(
            f"{label}: choose a day from {earliest:%-d %B %Y} to {latest:%-d %B %Y}.", field=field
        )
    return day


def read_optional_date(value: Any, label: str, *, field: str | None = None) -> date | None:
    """A date, or None when left empty."""
    if str(value or "").strip() == "":
        return None
    return read_date(value, label, field=field)


def read_flag(value: Any) -> bool:
    """A checkbox or yes/no value: ticked when ``y``, ``on``, ``true``, ``yes`` or ``1``."""
    return str(value or "").strip().lower() in TRUE_WORDS


def read_choice(choices: type[E], value: Any, message: str, *, field: str | None = None) -> E:
    """One of an enum's values, or ``message``."""
    try:
        return choices(str(value or ""))
    except ValueError:
        raise InvalidInput(message, field=field) from None


def read_each(**readers: Callable[[], T]) -> tuple[dict[str, T], dict[str, str]]:
    """Run every reader: the values read, and each refused field's message, by field name."""
    values: dict[str, T] = {}
    errors: dict[str, str] = {}
    for name, read in readers.items():
        try:
            values[name] = read()
        except InvalidInput as exc:
            errors[name] = exc.message
    return values, errors


def read_all(**readers: Callable[[], T]) -> dict[str, T]:
    """The values of every reader, or InvalidFields with each refused field's message."""
    values, errors = read_each(**readers)
    if errors:
        raise InvalidFields(errors)
    return values
