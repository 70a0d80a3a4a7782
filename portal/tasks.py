"""Background work: a task queue (huey), queued after the transaction that asks for it commits.

Work too long for a request (a notice mailed to thousands) runs in a worker process,
never in a thread started by a request (DESIGN.md §4). The queue is huey, chosen because it
is small, maintained, and has an embedded store: ``TASK_QUEUE`` chooses where tasks wait.

* unset: a SQLite file, ``instance/tasks.sqlite3``, read by ``flask --app portal worker``
  (``make run`` starts one beside the server); unset under ``TESTING``: ``immediate``;
* ``immediate``: a task runs at once, in the process that queues it, after the commit;
* ``redis://host:6379/0``: Redis, for production (``pip install redis``);
* ``postgresql://…``: a PostgreSQL database, in huey's own tables (keep them out of the
  portal's database, whose schema Alembic owns).

Services name a job and queue it with :func:`after_commit`: like mail, it is queued only
when the transaction commits and dropped when it rolls back. A job may run twice, or
never (a queue lost with its file): each one is idempotent and resumable, reading what is
left to do from the database, and a command can always finish it (``send-notices``).
A job registered with ``sweep=True`` also runs every few minutes in the worker, with no
arguments, to pick up work a stopped worker left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.storage import PostgresStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session

from .config import public_base_url

log = logging.getLogger(__name__)

_QUEUED = "portal.queued_jobs"
# How often the worker runs the sweeping jobs.
SWEEP_MINUTES = 5

# One queue per process; init_app points it at the configured store.
queue = Huey("portal", results=False, immediate=True)
_jobs: dict[str, Callable[..., None]] = {}
_worker_app: dict[str, Flask] = {}


def job(name: str, *, sweep: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``function`` as the job ``name`` (run inside the app's context)."""

    def register(function: Callable[..., None]) -> Callable[..., None]:
        _jobs[name] = function
        if sweep:
            queue.periodic_task(crontab(minute=f"*/{SWEEP_MINUTES}"), name=f"sweep.{name}")(
                lambda: _run_job(name, [])
            )
        return function

    return register


def _run_job(name: str, args: list[Any]) -> None:
    """Run the job ``name`` in the app that queued it, or the worker's app.

    It runs in a context of its own, as a command does (links made against the public
    address), never in the request that queued it: run at once after that request's
    commit, it must not see its user, its session or its write transaction.
    """
    app = current_app._get_current_object() if has_app_context() else _worker_app["app"]  # type: ignore[attr-defined]
    with app.test_request_context("/", base_url=public_base_url(app.config)):
        _jobs[name](*args)


@queue.task(name="portal.job")
def _queued(name: str, args: list[Any]) -> None:
    _run_job(name, args)


def after_commit(db: Session, name: str, *args: Any) -> None:
    """Queue the job ``name`` with ``args`` once ``db`` commits (never if it rolls back)."""
    if name not in _jobs:
        raise KeyError(f"no job called {name!r}")
    if not db.in_transaction():
        db.begin()  # so that a rollback, even before any query, drops the job
    queued = db.info.setdefault(_QUEUED, [])
    if (name, args) not in queued:
        queued.append((name, args))


def _queue_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: the transaction itself has not committed yet
    for name, args in session.info.pop(_QUEUED, []):
        try:
            _queued(name, list(args))
        except Exception:  # the commit stands; the job's work waits for a sweep or a command
            log.exception("could not queue the job %s%r", name, args)


def _drop_after_rollback(session: Session, _previous: object = None) -> None:
    session.info.pop(_QUEUED, None)


def configure(app: Flask) -> None:
    """Point the queue at the store ``TASK_QUEUE`` names (see the module's docstring)."""
    setting = app.config.get("TASK_QUEUE") or (
        "immediate" if app.testing else f"sqlite:///{Path(app.instance_path) / 'tasks.sqlite3'}"
    )
    if setting == "immediate":
        queue.immediate = True
        return
    if setting.startswith("sqlite:///"):
        storage: Any = SqliteStorage(queue.name, filename=setting.removeprefix("sqlite:///"))
    elif setting.startswith(("redis://", "rediss://")):
        storage = RedisStorage(queue.name, url=setting)
    elif setting.startswith(("postgresql://", "postgres://")):
        storage = PostgresStorage(queue.name, dsn=setting)
    else:
        raise RuntimeError(f"TASK_QUEUE: cannot use {setting!r} (see portal/tasks.py)")
    queue._immediate = False  # the setter would make a store of its own kind
    queue.storage = storage


def is_immediate() -> bool:
    """Tasks run at once where they are queued: there is nothing for a worker to do."""
    return queue.immediate


def run_worker(app: Flask, *, workers: int) -> None:
    """Run queued tasks (and the sweeps) until stopped: ``flask --app portal worker``."""
    _worker_app["app"] = app
    # An idle worker looks for new tasks at least every 2 s (huey's default backs off to 10).
    consumer = queue.create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=2.0
    )
    consumer.run()


def init_app(app: Flask) -> None:
    """Configure the queue and hook queuing to every session's commit (once per process)."""
    configure(app)
    if not event.contains(Session, "after_commit", _queue_after_commit):
        event.listen(Session, "after_commit", _queue_after_commit)
        event.listen(Session, "after_soft_rollback", _drop_after_rollback)
