"""Write and read the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from .. import coop
from ..errors import InvalidInput
from ..models import AuditEvent, Member, Role, User
from .inputs import MAX_INTEGER, read_each, read_optional_date, read_whole
from .pagination import KeyPage, keyset_page

# No user's id is larger; a larger one is read as no actor chosen.
MAX_ID = MAX_INTEGER


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
    actor: int | None = None  # a staff user's id (the page offers the staff as choices)
    object_type: str = ""
    since: date | None = None
    until: date | None = None


# The query parameters the log's filter reads: only these are carried into its pager's
# links (url_for takes ``_method``, ``_anchor`` or ``_external`` as its own arguments).
FILTER_NAMES = ("action", "actor", "object_type", "since", "until")


def read_filter(args: Mapping[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    """The filter a staff member asked for, and a message by each date it could not read.

    An unreadable date is left out, so the log still shows, and so is an actor that is not
    a user's id; the rest is taken as given (an action or object that never occurs matches
    nothing).
    """
    days, errors = read_each(
        since=lambda: read_optional_date(args.get("since"), "From"),
        until=lambda: read_optional_date(args.get("until"), "To"),
    )
    flt = AuditFilter(
        action=args.get("action", ""),
        actor=_user_id(args.get("actor", "")),
        object_type=args.get("object_type", ""),
        since=days.get("since"),
        until=days.get("until"),
    )
    return flt, errors


def _user_id(raw: str) -> int | None:
    try:
        return read_whole(raw, "Actor", low=1, high=MAX_ID)
    except InvalidInput:
        return None


def search_events(
    db: Session,
    flt: AuditFilter,
    *,
    after: int | None = None,
    before: int | None = None,
    per_page: int = 50,
) -> KeyPage:
    """Audit events matching the filter, newest first, one page of them, paged by key
    (``at``, ``id``) from the event ``after`` (or up to ``before``).

    ``since`` and ``until`` are the co-op's dates (``CoopSettings.timezone``). Each filter
    has an index leading with it and ending in the page's key (``ix_audit_events_*``).
    """
    query = select(AuditEvent)
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.object_type:
        query = query.where(AuditEvent.object_type == flt.object_type)
    if flt.actor:
        query = query.where(AuditEvent.actor_id == flt.actor)
    clock = coop.clock(db)
    if flt.since:
        query = query.where(AuditEvent.at >= clock.start_of_day(flt.since))
    if flt.until:
        query = query.where(AuditEvent.at < clock.end_of_day(flt.until))
    return keyset_page(
        db,
        query.options(joinedload(AuditEvent.actor)),
        (AuditEvent.at, AuditEvent.id),
        after=after,
        before=before,
        per_page=per_page,
        descending=True,
    )


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
    return _distinct(db, AuditEvent.action)


def object_types(db: Session) -> list[str]:
    """Every kind of object that appears in the log, for the filter's choices."""
    return _distinct(db, AuditEvent.object_type)


def _distinct(db: Session, column: Any) -> list[str]:
    """The distinct values of an indexed column of the log, in order, read by skipping
    through its index: one probe per value (a hundred or so), not a read of every event as
    ``SELECT DISTINCT`` makes on SQLite and PostgreSQL alike."""
    first = select(func.min(column).label("value"))
    found = first.cte("found", recursive=True)
    following: Select[Any] = (
        select(select(func.min(column)).where(column > found.c.value).scalar_subquery())
        .select_from(found)
        .where(found.c.value.is_not(None))
    )
    found = found.union_all(following)
    return list(db.scalars(select(found.c.value).where(found.c.value.is_not(None))))


def staff_actors(db: Session) -> list[User]:
    """The staff and admins, by name: the actors the log can be narrowed to (members act
    on their own records; their events are found by the object)."""
    return list(
        db.scalars(select(User).where(User.role.in_((Role.STAFF, Role.ADMIN))).order_by(User.name))
    )
