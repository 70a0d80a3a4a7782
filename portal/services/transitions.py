"""Moving an object from one state to the next: the one way services change a state.

The allowed moves are the state enum's table (``portal.models.states``); a move the table
does not allow is refused with the object's state in words, the time of the move is
stamped where the model keeps it, and the audit event is written.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidState
from ..models import User, utcnow
from ..models.states import State
from . import audit


def move(
    db: Any,
    obj: Any,
    target: State,
    *,
    actor: User | None,
    doing: str,
    summary: str,
    stamp: str | None = None,
    action: str | None = None,
    field: str = "state",
    subject: Any = None,
) -> None:
    """Move ``obj`` to ``target`` if its state allows it; stamp the time; audit the move.

    ``doing`` names the act in the refusal ("This withdrawal is repaid; it cannot be
    cancelled."); ``stamp`` names the column that records when it happened; ``action``
    is the audit action, ``<noun>.<new state>`` unless given; ``field`` is the column
    holding the state (a member's is ``status``); ``subject`` is what the audit event is
    about when that is not ``obj`` itself (a resignation is about its member).
    """
    current: State = getattr(obj, field)
    require(current, target, doing=doing)
    setattr(obj, field, target)
    if stamp is not None:
        setattr(obj, stamp, utcnow())
    audit.record(
        db,
        actor=actor,
        action=action or f"{current.noun()}.{target.value}",
        target=obj if subject is None else subject,
        summary=summary,
    )


def require(current: State, target: State, *, doing: str) -> None:
    """Refuse unless the table allows ``current`` to become ``target``."""
    if not current.can_become(target):
        raise InvalidState(
            f"This {current.noun()} is {current.label.lower()}; it cannot be {doing}."
        )
