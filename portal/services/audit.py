"""Write and read the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from ..models import AuditEvent, User
from .pagination import Page, paginate


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


def search_events(
    db: Session, flt: AuditFilter, *, page: int = 1, per_page: int = 50, tz: str = "UTC"
) -> Page:
    """Audit events matching the filter, newest first, one page of them."""
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
    zone = ZoneInfo(tz)
    if flt.since:
        query = query.where(AuditEvent.at >= datetime.combine(flt.since, time(), zone))
    if flt.until:
        end = datetime.combine(flt.until + timedelta(days=1), time(), zone)
        query = query.where(AuditEvent.at < end)
    query = query.options(joinedload(AuditEvent.actor)).order_by(
        AuditEvent.at.desc(), AuditEvent.id.desc()
    )
    return paginate(db, query, page=page, per_page=per_page)


def action_names(db: Session) -> list[str]:
    """Every action that appears in the log, for the filter's choices."""
    return list(db.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def object_types(db: Session) -> list[str]:
    """Every kind of object that appears in the log, for the filter's choices."""
    return list(
        db.scalars(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type))
    )
