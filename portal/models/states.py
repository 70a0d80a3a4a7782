"""Enums that carry their words: a label and a tone, and for states the moves they allow.

A state machine is written once, here beside its model: each state says how it is shown
(``state.label``, ``state.tone`` for the status badge) and :func:`transitions` declares
which states each may move to. Services move state through one helper that reads the
table (``portal.services.transitions``); templates ask the object or the enum.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, Self, TypeVar

# The tones a status badge can take (static/css/portal.css: .status-<tone>).
TONES = frozenset({"neutral", "info", "success", "warning", "danger"})


class Labelled(enum.StrEnum):
    """A stored value with the words shown for it: ``DRAFT = "draft", "Draft", "neutral"``."""

    label: str
    tone: str

    def __new__(cls, value: str, label: str | None = None, tone: str = "neutral") -> Self:
        if tone not in TONES:
            raise ValueError(f"unknown tone {tone!r} for {value!r}")
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value.replace("_", " ").capitalize()
        member.tone = tone
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """``(value, label)`` pairs, for a select."""
        return [(member.value, member.label) for member in cls]


class State(Labelled):
    """A state of a state machine; the table of allowed moves is set by :func:`transitions`."""

    @classmethod
    def _table(cls) -> Mapping[Any, frozenset[Any]]:
        table = cls.__dict__.get("__transitions__")
        if table is None:
            raise TypeError(f"{cls.__name__} declares no transitions")
        return table

    @classmethod
    def noun(cls) -> str:
        """What the machine's object is called in messages ("application")."""
        return cls.__dict__.get("__noun__", cls.__name__.removesuffix("State").lower())

    def can_become(self, target: State) -> bool:
        """Whether the table allows a move from this state to ``target``."""
        return target in self._table()[self]

    @property
    def next_states(self) -> frozenset[Any]:
        """Every state this one may move to."""
        return self._table()[self]

    @property
    def is_final(self) -> bool:
        """No move leads out of this state."""
        return not self._table()[self]


S = TypeVar("S", bound=State)


def transitions(state: type[S], noun: str, table: Mapping[S, Iterable[S]]) -> type[S]:
    """Declare the moves each state of ``state`` allows; a state not named is final."""
    unknown = [s for s in table if not isinstance(s, state)]
    if unknown:
        raise TypeError(f"{state.__name__}: not its states: {unknown}")
    state.__transitions__ = {s: frozenset(table.get(s, ())) for s in state}  # type: ignore[attr-defined]
    state.__noun__ = noun  # type: ignore[attr-defined]
    return state
