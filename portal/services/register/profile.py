"""The member's own profile: name, postal address and consents, with their history."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InvalidInput
from ...models import (
    Consent,
    Member,
    User,
)
from .. import audit

PROFILE_LIMITS = {
    "name": ("Name", 120, True),
    "address_line1": ("Address", 120, True),
    "address_line2": ("Address line 2", 120, False),
    "town": ("Town or city", 80, True),
    "postcode": ("Postcode", 20, False),
    "country": ("Country", 60, True),
}


def update_profile(
    db: Session,
    user: User,
    member: Member | None,
    values: Mapping[str, str],
    *,
    news_opt_in: bool,
    name_on_verify: bool | None = None,
) -> list[str]:
    """Update name, address and the consents; returns what changed."""
    cleaned = {}
    for name, (label, limit, required) in PROFILE_LIMITS.items():
        if member is None and name != "name":
            continue
        value = (values.get(name) or "").strip()
        if required and not value:
            raise InvalidInput(f"Enter your {label.lower()}.", field=name)
        if len(value) > limit:
            raise InvalidInput(f"Use at most {limit} characters.", field=name)
        cleaned[name] = value
    changed = []
    if cleaned["name"] != user.name:
        user.name = cleaned["name"]
        changed.append("name")
    if member is not None:
        for name, value in cleaned.items():
            if getattr(member, name) != value:
                setattr(member, name, value)
                if name != "name" or "name" not in changed:
                    changed.append(name)
        if member.news_opt_in != news_opt_in:
            member.news_opt_in = news_opt_in
            db.add(Consent(user_id=user.id, topic="news", granted=news_opt_in))
            changed.append("news consent")
        if name_on_verify is not None and member.name_on_verify != name_on_verify:
            member.name_on_verify = name_on_verify
            db.add(Consent(user_id=user.id, topic="name_on_verify", granted=name_on_verify))
            changed.append("name on certificate checks")
    if changed:
        audit.record(
            db,
            actor=user,
            action="member.profile_changed",
            target=user,
            summary="Changed " + ", ".join(sorted(set(changed))),
        )
        db.flush()
    return changed


def consent_history(db: Session, user: User) -> list[Consent]:
    """Every consent given or withdrawn, newest first."""
    return list(
        db.scalars(
            select(Consent)
            .where(Consent.user_id == user.id)
            .order_by(Consent.at.desc(), Consent.id.desc())
        )
    )
