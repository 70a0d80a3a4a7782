"""Write and read the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from .. import coop
from ..models import AuditEvent, Member, User
from .inputs import read_each, read_optional_date
from .pagination import Page, paginate

ACTOR_MAX = 254  # an e-mail address at most


def record(
    db: Session,
    *,
    actor: User | None,
    action: str,
    target: Any,
    summary: str,
) -> AuditEvent:
    """Append an audit event for a state change of ``target`` (a model or a type name).

    The client's IP comes from the session's ``info`` (set per request), so services stay
    free of request objects.
    """
    if isinstance(target, str):
        object_type, object_id = target, None
    else:
        db.flush()  # the target needs its primary key
        object_type = type(target).__name__.lower()
        object_id = str(target.id)
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary[:500],
        ip=db.info.get("ip"),
    )
    db.add(event)
    db.flush()
    return event


@dataclass(frozen=True)
class AuditFilter:
    """What the staff audit page can narrow the log by."""

    action: str = ""
    actor: str = ""  # e-mail or name fragment
    object_type: str = ""
    since: date | None = None
    until: date | None = None


def read_filter(args: Mapping[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    """The filter a staff member asked for, and a message by each date it could not read.

    An unreadable date is left out, so the log still shows; the rest is taken as given
    (an action or object that never occurs matches nothing).
    """
    days, errors = read_each(
        since=lambda: read_optional_date(args.get("since"), "From"),
        until=lambda: read_optional_date(args.get("until"), "To"),
    )
    flt = AuditFilter(
        action=args.get("action", ""),
        actor=args.get("actor", "").strip()[:ACTOR_MAX],
        object_type=args.get("object_type", ""),
        since=days.get("since"),
        until=days.get("until"),
    )
    return flt, errors


def search_events(db: Session, flt: AuditFilter, *, page: int = 1, per_page: int = 50) -> Page:
    """Audit events matching the filter, newest first, one page of them.

    ``since`` and ``until`` are the co-op's dates (``CoopSettings.timezone``).
    """
    query = select(AuditEvent)
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.object_type:
        query = query.where(AuditEvent.object_type == flt.object_type)
    if flt.actor:
        needle = f"%{flt.actor.lower()}%"
        query = query.join(AuditEvent.actor).where(
            or_(func.lower(User.email).like(needle), func.lower(User.name).like(needle))
        )
    clock = coop.clock(db)
    if flt.since:
        query = query.where(AuditEvent.at >= clock.start_of_day(flt.since))
    if flt.until:
        query = query.where(AuditEvent.at < clock.end_of_day(flt.until))
    query = query.options(joinedload(AuditEvent.actor)).order_by(
        AuditEvent.at.desc(), AuditEvent.id.desc()
    )
    return paginate(db, query, page=page, per_page=per_page)


def trail_of(db: Session, member: Member, *, limit: int = 100) -> list[AuditEvent]:
    """The latest events about a member or their account, newest first."""
    about_member = (AuditEvent.object_type == "member") & (AuditEvent.object_id == str(member.id))
    about_account = (AuditEvent.object_type == "user") & (
        AuditEvent.object_id == str(member.user_id)
    )
    return list(
        db.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(about_member | about_account if member.user_id else about_member)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def action_names(db: Session) -> list[str]:
    """Every action that appears in the log, for the filter's choices."""
    return list(db.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def object_types(db: Session) -> list[str]:
    """Every kind of object that appears in the log, for the filter's choices."""
    return list(
        db.scalars(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type))
    )
