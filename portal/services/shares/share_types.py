"""Share types as data: admins change how each kind of share may be bought and held.

What a share *is* in law stays fixed once shares of the type exist: the par value can
only change while none has been issued, and whether it carries the vote or ends with
membership comes from the rules (the preset), not from a settings form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput
from ...models import LedgerEntry, Member, ShareType, User
from .. import audit
from ..inputs import read_flag, read_money, read_optional_whole, read_text, read_whole
from . import ledger

SHARE_TYPE_FIELDS: dict[str, Any] = {
    "name": lambda v: read_text(v, "Name", max_length=80),
    "description": lambda v: read_text(v, "Description", max_length=500, required=False),
    "min_quantity": lambda v: read_whole(v, "Minimum", low=1, high=1_000_000),
    "step": lambda v: read_whole(v, "Bought in multiples of", low=1, high=1_000_000),
    # Empty: no maximum.
    "max_quantity": lambda v: read_optional_whole(v, "Maximum per member", low=1, high=100_000_000),
}
SHARE_TYPE_FLAGS = ("transferable", "withdrawable")


def list_share_types(db: Session) -> list[ShareType]:
    """Every share type, in display order."""
    return list(db.scalars(select(ShareType).order_by(ShareType.position)))


def find_type(db: Session, code: str) -> ShareType | None:
    """The share type with this code, if any."""
    return db.scalar(select(ShareType).where(ShareType.code == code))


def buyable_types(db: Session, member: Member) -> list[ShareType]:
    """Share types the member can still order: not those already held to their maximum."""
    return [
        t
        for t in list_share_types(db)
        if t.max_quantity is None or ledger.holding(db, member, t) < t.max_quantity
    ]


def has_been_issued(db: Session, share_type: ShareType) -> bool:
    """Whether any share of this type was ever put on the register."""
    return bool(db.scalar(select(exists().where(LedgerEntry.share_type_id == share_type.id))))


def update_share_type(
    db: Session, share_type: ShareType, values: Mapping[str, Any], *, actor: User
) -> ShareType:
    """Change a share type's terms; each value is checked, the whole change audited."""
    parsed: dict[str, Any] = {}
    for name, parse in SHARE_TYPE_FIELDS.items():
        if name in values:
            try:
                parsed[name] = parse(values[name])
            except InvalidInput as exc:
                raise InvalidInput(exc.message, field=name) from None
    for flag in SHARE_TYPE_FLAGS:
        if flag in values:
            parsed[flag] = read_flag(values[flag])
    if "par_value_minor" in values:
        par = read_money(values["par_value_minor"], "Par value", high_minor=10**7)
        if par != share_type.par_value_minor:
            if has_been_issued(db, share_type):
                raise InvalidInput(
                    "The par value cannot change once shares of this type are on the register.",
                    field="par_value_minor",
                )
            if par <= 0:
                raise InvalidInput("The par value must be above zero.", field="par_value_minor")
            parsed["par_value_minor"] = par
    minimum = parsed.get("min_quantity", share_type.min_quantity)
    maximum = parsed.get("max_quantity", share_type.max_quantity)
    if maximum is not None and maximum < minimum:
        raise InvalidInput("The maximum cannot be below the minimum.", field="max_quantity")
    if share_type.voting and parsed.get("transferable"):
        raise InvalidInput(
            "Membership shares carry the vote and cannot be transferable.", field="transferable"
        )
    changes = [name for name, value in parsed.items() if getattr(share_type, name) != value]
    for name in changes:
        setattr(share_type, name, parsed[name])
    if changes:
        audit.record(
            db,
            actor=actor,
            action="share_type.changed",
            target=share_type,
            summary=f"{share_type.name}: changed {', '.join(changes)}",
        )
        db.flush()
    return share_type
