"""The database: one engine per app, one session per request kept in ``g``.

SQLite is the embedded default. Python's sqlite3 driver delays BEGIN until the first
write, so a read-then-write would not be isolated; we take control of BEGIN instead and
open write transactions with BEGIN IMMEDIATE, which takes the write lock before the first
read (SQLAlchemy pysqlite dialect docs, "Serializable isolation / Savepoints").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def database_url(app: Flask) -> str:
    """The configured URL, or SQLite in the instance folder."""
    url = app.config.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{Path(app.instance_path) / 'portal.sqlite3'}"
    # Heroku-style URLs name the driver-less scheme; we always speak psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str, *, busy_timeout_ms: int = 15_000) -> Engine:
    """Create an engine; for SQLite, set the pragmas and take over BEGIN."""
    # Errors name the statement but never its parameters: they hold password hashes, token
    # digests and secret ballots' choices, and errors are logged (errors_http).
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    engine = create_engine(
        url, connect_args={"timeout": busy_timeout_ms / 1000}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver must not issue BEGIN itself
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # SQLite's busy handler is no queue: a writer that has waited long polls seldom (every
    # 100 ms), so in a burst the newcomers keep taking the lock until its wait times out.
    # Writers in this process therefore queue for a turn (for up to busy_timeout, then they
    # try anyway); busy_timeout still arbitrates between processes.
    write_turn = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE" and write_turn.acquire(timeout=busy_timeout_ms / 1000):
            conn.info[_WRITE_TURN] = write_turn
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _end_turn(conn)
            raise

    # The turn ends with the transaction, or, should a connection go back to the pool with
    # its transaction never ended (garbage-collected), then.
    event.listen(engine, "commit", _end_turn)
    event.listen(engine, "rollback", _end_turn)
    event.listen(engine, "checkin", lambda _dbapi, record: _release_turn(record.info))
    return engine


_WRITE_TURN = "portal.sqlite_write_turn"


def _end_turn(conn: Connection) -> None:
    """Let the next writer in this process begin (this one's transaction is ending)."""
    _release_turn(conn.info)


def _release_turn(info: dict[Any, Any]) -> None:
    turn = info.pop(_WRITE_TURN, None)
    if turn is not None:
        turn.release()


def lock_row(db: Session, instance: Any) -> None:
    """Lock ``instance``'s row until the transaction ends and re-read its columns.

    Two requests acting on one row at once (recording one payment twice) must take turns,
    or both see the old state. PostgreSQL locks the row; SQLite ignores FOR UPDATE, but its
    write transactions already take turns at BEGIN IMMEDIATE. The lock is taken by a plain
    select of the key, since FOR UPDATE cannot apply to the outer joins of eager loading.
    """
    mapper = inspect(instance).mapper
    keys = inspect(instance).identity
    key_columns = mapper.primary_key
    db.execute(
        select(*key_columns)
        .where(*(column == value for column, value in zip(key_columns, keys, strict=True)))
        .with_for_update()
    )
    db.refresh(instance, attribute_names=[c.key for c in mapper.column_attrs])


def init_app(app: Flask) -> None:
    """Create the engine and session factories and close the session after each request."""
    engine = make_engine(database_url(app), busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])
    app.extensions["portal.db"] = Database(engine)
    app.teardown_appcontext(_close_session)


class ReadOnlySessionError(RuntimeError):
    """A read session (a GET request) tried to write."""


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySessionError(
            "a read-only session tried to write; state changes belong in POST handlers"
        )


class Database:
    """Session factories for one engine: read sessions and write sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        # GET requests must not change anything (links are followed by crawlers and
        # mail scanners); a read session refuses to flush changes.
        event.listen(self._read, "before_flush", _refuse_writes)
        # On SQLite a write session opens with BEGIN IMMEDIATE; elsewhere the option is ignored.
        self._write = sessionmaker(
            bind=engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
        )

    def session(self, *, write: bool) -> Session:
        """A new session; ``write`` ones take the SQLite write lock when they begin."""
        session = (self._write if write else self._read)()
        session.info["write"] = write
        return session


def database(app: Flask | None = None) -> Database:
    """The app's Database."""
    return (app or current_app).extensions["portal.db"]


def get_db() -> Session:
    """The request's session, created on first use: a write session for unsafe methods."""
    if "db" not in g:
        write = not has_request_context() or request.method in WRITE_METHODS
        g.db = database().session(write=write)
        if has_request_context():
            g.db.info["ip"] = request.remote_addr
    return g.db


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


@contextmanager
def transaction(*, keep: tuple[type[BaseException], ...] = ()) -> Iterator[Session]:
    """The request's session for one action: committed when the block ends, rolled back
    when anything in it raises (a refused action), so a form shown again reads nothing
    half-done and nothing half-written is ever kept.

    ``keep`` names refusals that must still leave their record (a failed sign-in is
    counted): what was flushed before one of them is committed, and it is raised on.
    """
    session = get_db()
    try:
        yield session
    except keep:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    session.commit()


@contextmanager
def write_session(app: Flask | None = None) -> Iterator[Session]:
    """A write session for work outside a request (CLI, tests): commit on success."""
    session = database(app).session(write=True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
