"""Flask extensions: CSRF protection, sign-in sessions and the per-IP rate limiter.

A signed-in browser's cookie carries the random token of a session record (``UserSession``);
a request is signed in only while that record is open, so signing out (which revokes it)
ends every copy of the cookie too. The per-IP limiter keeps its counts in the database
(``database://``, the default) so that every worker and instance counts together.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, flash, g, has_request_context, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from limits.storage import Storage
from sqlalchemy import case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from . import coop, tokens
from .db import WRITE_METHODS, database, get_db
from .models import CoopSettings, RateLimitCount, User, UserSession, utcnow

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

# Keys this app keeps in the signed session cookie beside Flask-Login's: the token that
# names the session record, and when this browser last made a request (epoch seconds).
SESSION_TOKEN = "sid"  # noqa: S105 (a key's name, not a secret)
SEEN_AT = "seen_at"

# The last-seen times move at most this often (the cookie's, and the record's on writes).
SEEN_RESOLUTION = timedelta(minutes=1)

SESSION_ENDED = "Your session ended. Please sign in again."


def init_app(app: Flask) -> None:
    """Initialise the extensions."""
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the session record does this job, portably


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user whose open session this browser's cookie names (checked once a request)."""
    record = current_session()
    if record is None or str(record.user_id) != user_id:
        return None
    return record.user


def current_session() -> UserSession | None:
    """This request's session record, if the cookie names one that is still open.

    A revoked, idle or too old session ends here: the cookie is emptied and the person
    is asked to sign in again. Reading a page writes nothing: the record's last-seen time
    moves only on requests that may write; on reads the cookie keeps the time instead.
    """
    if not has_request_context():
        return None
    if "session_record" not in g:
        g.session_record = None  # an error page asking again must not query again
        g.session_record = _open_session_record()
    return g.session_record


def _open_session_record() -> UserSession | None:
    token = session.get(SESSION_TOKEN)
    if not isinstance(token, str):
        if "_user_id" in session:  # a cookie from before session records: sign in again
            end_browser_session(SESSION_ENDED)
        return None
    db = get_db()
    # One statement for what every signed-in page needs first: the session record, its
    # user, and the co-op's settings row (kept for coop.settings, read fresh each request).
    row = db.execute(
        select(UserSession, CoopSettings)
        .options(joinedload(UserSession.user, innerjoin=True))
        .outerjoin(CoopSettings, CoopSettings.id == coop.SETTINGS_ID)
        .where(UserSession.token_hash == tokens.digest(token))
    ).first()
    record = row[0] if row is not None else None
    if row is not None and row[1] is not None:
        coop.keep_settings(db, row[1])
    now = utcnow()
    config = current_app.config
    seen = session.get(SEEN_AT)
    seen_by_cookie = datetime.fromtimestamp(seen, UTC) if isinstance(seen, int | float) else None
    if (
        record is None
        or not record.user.is_active
        or not record.is_open(
            now,
            idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            absolute=config["PERMANENT_SESSION_LIFETIME"],
            seen_by_cookie=seen_by_cookie,
        )
    ):
        end_browser_session(SESSION_ENDED)
        return None
    if seen_by_cookie is None or now - seen_by_cookie > SEEN_RESOLUTION:
        session[SEEN_AT] = now.timestamp()
    if request.method in WRITE_METHODS and now - record.last_seen_at > SEEN_RESOLUTION:
        record.last_seen_at = now  # saved with the request's own transaction
    return record


def start_session(user: User, token: str) -> None:
    """Begin a fresh browser session for ``user`` on the session record ``token`` names:
    nothing from before sign-in survives in the cookie."""
    next_flashes = session.get("_flashes")
    session.clear()
    if next_flashes:
        session["_flashes"] = next_flashes
    session[SESSION_TOKEN] = token
    session[SEEN_AT] = utcnow().timestamp()
    session.permanent = True
    g.pop("session_record", None)
    login_user(user)


def end_browser_session(message: str | None = None) -> None:
    """Forget the sign-in in this browser's cookie (the record is revoked by the caller)."""
    logout_user()
    session.clear()
    g.session_record = None
    if message:
        flash(message, "info")


def recently_authenticated() -> bool:
    """The password was typed in this session within REAUTHENTICATION_MINUTES."""
    record = current_session()
    within = timedelta(minutes=current_app.config["REAUTHENTICATION_MINUTES"])
    return record is not None and record.recently_authenticated(utcnow(), within)


class DatabaseStorage(Storage):
    """The rate limiter's counts in the portal's own database (``rate_limits``).

    Flask-Limiter's fixed window: one row per key, counted up by an atomic upsert that
    starts a new window once the old one has expired. It runs on a connection of its own,
    committed at once, so a refused request is still counted. The ``limits`` library has
    no SQL storage of its own; Redis (``redis://``) is the alternative across machines.
    """

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    @staticmethod
    def _key(key: str) -> str:
        return key if len(key) <= 255 else hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def _engine() -> Any:
        return database().engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` more hits on ``key``; its window lasts ``expiry`` seconds."""
        engine = self._engine()
        _refuse_inside_a_sqlite_write(engine)
        now = time.time()
        table = RateLimitCount.__table__
        insert = (postgresql if engine.dialect.name == "postgresql" else sqlite).insert
        expired = table.c.expires_at <= now
        statement = (
            insert(table)
            .values(key=self._key(key), count=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "count": case((expired, amount), else_=table.c.count + amount),
                    "expires_at": case((expired, now + expiry), else_=table.c.expires_at),
                },
            )
            .returning(table.c.count)
        )
        with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as conn:
            conn.execute(delete(table).where(table.c.expires_at < now - 3600))
            return int(conn.execute(statement).scalar_one())

    def get(self, key: str) -> int:
        """The hits on ``key`` in its current window."""
        table = RateLimitCount.__table__
        with self._engine().connect() as conn:
            count = conn.execute(
                select(table.c.count).where(
                    table.c.key == self._key(key), table.c.expires_at > time.time()
                )
            ).scalar()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends (now, if it has none)."""
        table = RateLimitCount.__table__
        with self._engine().connect() as conn:
            expires_at = conn.execute(
                select(table.c.expires_at).where(table.c.key == self._key(key))
            ).scalar()
        return float(expires_at) if expires_at and expires_at > time.time() else time.time()

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            with self._engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every count."""
        with self._engine().begin() as conn:
            return conn.execute(delete(RateLimitCount.__table__)).rowcount

    def clear(self, key: str) -> None:
        """Forget ``key``'s count."""
        table = RateLimitCount.__table__
        with self._engine().begin() as conn:
            conn.execute(delete(table).where(table.c.key == self._key(key)))


def _refuse_inside_a_sqlite_write(engine: Any) -> None:
    """On SQLite a second connection cannot write while this request's own transaction
    holds the write lock (it would wait out the busy timeout): the limit is counted
    before the request's first query, by the decorator on the view."""
    own = g.get("db") if has_request_context() else None
    if (
        engine.dialect.name == "sqlite"
        and own is not None
        and own.info.get("write")
        and own.in_transaction()
    ):
        raise RuntimeError(
            "the rate limit must be counted before the request's write transaction begins"
        )
