"""The database layer: SQLite pragmas and locking, UTC times, the health check."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from portal.db import Database, database, make_engine
from portal.models import AuditEvent

sqlite_only = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="SQLite only")


@sqlite_only
def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(app):
    with database(app).engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15_000


@sqlite_only
def test_a_write_session_takes_the_write_lock_before_it_reads(app, tmp_path):
    url = str(database(app).engine.url)
    db = Database(make_engine(url, busy_timeout_ms=200))
    first = db.session(write=True)
    first.execute(select(AuditEvent)).all()  # only a read, but the lock is already held
    second = db.session(write=True)
    with pytest.raises(OperationalError, match="locked"):
        second.execute(select(AuditEvent)).all()
    second.close()
    reader = db.session(write=False)
    assert reader.execute(select(AuditEvent)).all() == []  # WAL: readers are not blocked
    reader.close()
    first.commit()
    first.close()
    db.engine.dispose()


def test_times_are_stored_in_utc_and_read_back_aware(app):
    dublin_summer = timezone(timedelta(hours=1))
    moment = datetime(2026, 7, 1, 12, 30, tzinfo=dublin_summer)
    with database(app).session(write=True) as session, session.begin():
        session.add(AuditEvent(action="t", object_type="t", summary="s", at=moment))
    with database(app).session(write=False) as session:
        stored = session.scalar(select(AuditEvent.at))
    assert stored == moment
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored.hour == 11


def test_a_naive_time_is_refused(app):
    with database(app).session(write=True) as session:
        session.add(AuditEvent(action="t", object_type="t", summary="s", at=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            session.flush()


def test_healthz_reports_the_database(client, app_factory, tmp_path):
    ok = client.get("/healthz")
    assert ok.status_code == 200
    assert ok.get_json() == {"status": "ok", "database": True}
    broken = app_factory(DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    down = broken.test_client().get("/healthz")
    assert down.status_code == 503
    assert down.get_json()["database"] is False


def test_sessions_do_not_expire_on_commit(app):
    with database(app).session(write=True) as session:
        event = AuditEvent(action="t", object_type="t", summary="kept", at=datetime.now(UTC))
        session.add(event)
        session.commit()
        session.execute(text("DELETE FROM audit_events"))
        session.commit()
        assert event.summary == "kept"


def test_a_full_connection_pool_answers_503_not_500(app_factory):
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    app = app_factory()

    @app.get("/_pool_exhausted")
    def exhausted():
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached")

    response = app.test_client().get("/_pool_exhausted")
    assert response.status_code == 503
    assert "cannot reach its database" in response.get_data(as_text=True)
