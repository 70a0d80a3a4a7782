"""Signed-in sessions: one record per sign-in, listed for their owner, revoked one by one
or all at once (sign-out, "sign out everywhere else", a password change or reset)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ... import tokens
from ...models import User, UserSession, utcnow
from .. import audit
from ..inputs import MAX_INTEGER

USER_AGENT_MAX = 255

# The first name found in the user agent wins: Edge and Opera also say "Chrome", Chrome
# also says "Safari", and Android also says "Linux".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


@dataclass(frozen=True)
class ListedSession:
    """A session as its owner's security page shows it."""

    id: int
    device: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    current: bool


def describe_device(user_agent: str) -> str:
    """ "Firefox on Linux" from a user agent; the agent itself when it names neither."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:60] or "An unknown browser"


def open_session(
    db: Session, user: User, *, user_agent: str, ip: str | None, replacing: str | None = None
) -> str:
    """Record a new session for ``user`` and return the token its cookie carries.

    The session the same browser had before (its token ``replacing``), if any, is ended:
    signing in again never leaves the old one open.
    """
    if replacing:
        previous = find_session(db, replacing)
        if previous is not None and previous.revoked_at is None:
            previous.revoked_at = utcnow()
    token, token_hash = tokens.random_token()
    now = utcnow()
    db.add(
        UserSession(
            user=user,
            token_hash=token_hash,
            created_at=now,
            last_seen_at=now,
            reauthenticated_at=now,
            user_agent=user_agent[:USER_AGENT_MAX],
            ip=ip,
        )
    )
    db.flush()
    return token


def find_session(db: Session, token: str) -> UserSession | None:
    """The session record a cookie's token names, if any (open or not)."""
    return db.scalar(select(UserSession).where(UserSession.token_hash == tokens.digest(token)))


def end_session(db: Session, record: UserSession, *, signing_out: bool) -> None:
    """Revoke one session: this browser's (``signing_out``), or one its owner ends from
    another."""
    if record.revoked_at is not None:
        return
    record.revoked_at = utcnow()
    device = describe_device(record.user_agent)
    audit.record(
        db,
        actor=record.user,
        action="user.signed_out" if signing_out else "user.session_ended",
        target=record.user,
        summary=f"Signed out ({device})" if signing_out else f"Ended a session ({device})",
    )


def end_other_sessions(db: Session, user: User, *, keep: UserSession | None) -> int:
    """Revoke every open session of ``user`` but ``keep``; how many were ended."""
    where = [UserSession.user_id == user.id, UserSession.revoked_at.is_(None)]
    if keep is not None:
        where.append(UserSession.id != keep.id)
    ended = db.execute(update(UserSession).where(*where).values(revoked_at=utcnow()))
    return ended.rowcount or 0  # type: ignore[attr-defined]


def end_all_sessions(db: Session, user: User) -> int:
    """Revoke every session of ``user`` (a reset password, a cancelled e-mail change)."""
    return end_other_sessions(db, user, keep=None)


def open_sessions(
    db: Session, user: User, *, current: UserSession | None, absolute: timedelta
) -> list[ListedSession]:
    """``user``'s sessions not revoked and within the absolute limit, latest first.

    Reading pages leaves no trace on the server, so one that ended by being idle is
    listed until its absolute limit: ending it from here is always safe.
    """
    since = utcnow() - absolute
    records = db.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.created_at > since,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return [
        ListedSession(
            id=record.id,
            device=describe_device(record.user_agent),
            ip=record.ip,
            created_at=record.created_at,
            last_seen_at=record.last_seen_at,
            current=current is not None and record.id == current.id,
        )
        for record in records
    ]


def session_of(db: Session, user: User, session_id: int) -> UserSession | None:
    """``user``'s own session with this id, or None (another's is never found)."""
    if not 0 < session_id <= MAX_INTEGER:  # beyond an id column's integers: no such row
        return None
    record = db.get(UserSession, session_id)
    if record is None or record.user_id != user.id:
        return None
    return record
