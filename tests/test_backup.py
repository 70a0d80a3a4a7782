"""Backups taken while twenty writers run restore to exactly the state they captured.

The backup is taken inside a read transaction that also records the register export (its
CSV's SHA-256) and the counts of orders, ledger rows and votes: on SQLite the backup API
copies through that transaction's snapshot, on PostgreSQL pg_dump reads the snapshot the
transaction exported. Restored into a database of its own, the backup must give the same
register export and counts, and check-register and check-votes must be clean. Writers run
before, during and after the backup, so a copy of any other moment (a file copied while
it is written, a dump that read its own later snapshot) would give another register.
"""

from __future__ import annotations

import hashlib
import itertools
import queue
import sqlite3
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask, g
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from portal import backup, coop, create_app
from portal.db import database, transaction, write_session
from portal.models import Ballot, LedgerEntry, Meeting, Member, Participation, ShareOrder, User
from portal.services.meetings import ballots, closing
from portal.services.shares import orders, payments, share_register
from portal.services.shares.share_types import find_type
from portal.views.downloads import streamed_csv

from .conftest import POSTGRES_URL, CSRFClient, base_config, database_beside
from .factories import REVIEWER, fake_certificate

WRITERS = {"order": 7, "payment": 7, "vote": 6}  # twenty in all
VOTERS = 12
# Writes each kind must have done before the backup, and again after it, before they stop.
WRITES_AROUND = 10
PAUSE = 0.03  # seconds between a writer's writes


def register_csv(app: Flask, db: Session) -> bytes:
    """The staff register export (``/staff/register.csv``, today, no filter) as ``db``
    reads it: the view's own stream, fed this session."""
    with app.test_request_context("/staff/register.csv"):
        g.db = db
        try:
            flt = share_register.register_filter(db)
            currency = coop.settings(db).currency
            response = streamed_csv(
                "register.csv",
                share_register.CSV_COLUMNS,
                lambda session: share_register.csv_rows(session, flt, currency),
            )
            return b"".join(response.iter_encoded())
        finally:
            g.pop("db")  # the caller's session: not for the request's teardown to close


def state_of(app: Flask, db: Session) -> dict[str, object]:
    """What the writers change, as ``db`` reads it: the register export's checksum, the
    orders and ledger rows, and every vote (changed votes included) as a checksum."""
    participations = db.execute(
        select(
            Participation.id,
            Participation.resolution_id,
            Participation.member_id,
            Participation.choice,
            Participation.cast_at,
        ).order_by(Participation.id)
    ).all()
    ballots_cast = db.execute(
        select(Ballot.id, Ballot.resolution_id, Ballot.choice, Ballot.receipt).order_by(Ballot.id)
    ).all()
    votes = repr([tuple(map(str, row)) for row in [*participations, *ballots_cast]])
    return {
        "register_sha256": hashlib.sha256(register_csv(app, db)).hexdigest(),
        "orders": db.scalar(select(func.count()).select_from(ShareOrder)),
        "ledger_rows": db.scalar(select(func.count()).select_from(LedgerEntry)),
        "votes_sha256": hashlib.sha256(votes.encode()).hexdigest(),
    }


@contextmanager
def snapshot_backup(app: Flask, path: Path) -> Iterator[dict[str, object]]:
    """Take the backup through backup.py inside a read transaction; yield the state that
    transaction read (before the backup, while writers go on)."""
    engine = database(app).engine
    with engine.connect() as conn:
        if backup.is_sqlite(engine):
            with conn.begin():
                recorded = state_of(app, Session(bind=conn))
                backup.backup_sqlite(conn.connection.dbapi_connection, path)
        else:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                name = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                recorded = state_of(app, Session(bind=conn))
                backup.backup_postgresql(engine, path, snapshot=name)
    yield recorded


class Writers:
    """Twenty threads writing through the services: members place orders, a cashier pays
    them as they come, members vote and change their votes."""

    def __init__(self, app: Flask, voters: list[int], meeting_id: int) -> None:
        self.app = app
        self.voters = voters
        self.meeting_id = meeting_id
        self.stop = threading.Event()
        self.placed: queue.Queue[int] = queue.Queue()
        self.done: Tally[str] = Tally()
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(kind, n), daemon=True)
            for kind, count in WRITERS.items()
            for n in range(count)
        ]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def wait_for(self, writes: int, timeout: float = 30) -> dict[str, int]:
        """Wait until each kind has done ``writes`` more writes; the counts at the start."""
        start = self.counts()
        deadline = time.monotonic() + timeout
        while any(self.counts()[kind] < start[kind] + writes for kind in WRITERS):
            assert not self.errors, self.errors[:3]
            assert time.monotonic() < deadline, f"writers too slow: {self.counts()}"
            time.sleep(0.05)
        return start

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {kind: self.done[kind] for kind in WRITERS}

    def _run(self, kind: str, n: int) -> None:
        step = {"order": self._order, "payment": self._payment, "vote": self._vote}[kind]
        for k in itertools.count():
            if self.stop.is_set():
                return
            try:
                # As a POST request does it: the request's write session is the one the
                # services find (coop.settings), so each writer holds one connection.
                with self.app.test_request_context("/", method="POST"), transaction() as db:
                    wrote = step(db, n, k)
            except Exception as exc:  # reported by wait_for and the test
                self.errors.append(f"{kind} {n}: {exc!r}")
                return
            if wrote:
                with self.lock:
                    self.done[kind] += 1
            # A client's pause between requests: twenty writers share fifteen pooled
            # connections, and one that has just written must not take its turn again at
            # once, ahead of those waiting for a connection.
            time.sleep(PAUSE)

    def _order(self, db: Session, n: int, _k: int) -> bool:
        member = db.get(Member, self.voters[n])
        order = orders.place_order(db, member, find_type(db, "supporter"), 5, actor=member.user)
        db.commit()  # before the cashier may see it
        self.placed.put(order.id)
        return True

    def _payment(self, db: Session, _n: int, _k: int) -> bool:
        try:
            order_id = self.placed.get(timeout=0.2)
        except queue.Empty:
            return False
        order = db.get(ShareOrder, order_id)
        cashier = db.scalar(select(User).where(User.email == REVIEWER))
        payment = payments.Payment(
            amount_minor=order.amount_minor,
            paid_on=coop.today(db),
            method="bank_transfer",
            reference=f"BANK-{order_id}",
        )
        payments.settle_order(db, order, payment, actor=cashier, render=fake_certificate)
        return True

    def _vote(self, db: Session, n: int, k: int) -> bool:
        voter = db.get(Member, self.voters[(2 * n + k) % len(self.voters)])
        meeting = db.get(Meeting, self.meeting_id)
        for resolution in meeting.resolutions:
            choice = ("for", "against", "abstain")[(n + k + resolution.number) % 3]
            ballots.cast_vote(db, resolution, voter, choice, actor=voter.user)
        return True


@pytest.fixture
def restore_target(tmp_path: Path) -> Iterator[Callable[[], Flask]]:
    """Build an app on a database of its own (empty, or left by an earlier run) to restore
    into: a new SQLite file, or on PostgreSQL the test database's ``_restore`` twin."""
    instance = tmp_path / "restored-instance"
    instance.mkdir()
    if POSTGRES_URL:
        url = database_beside(POSTGRES_URL, "restore")
    else:
        url = f"sqlite:///{instance / 'portal.sqlite3'}"
    apps: list[Flask] = []

    def build() -> Flask:
        app = create_app(base_config(instance, url))
        apps.append(app)
        return app

    yield build
    for app in apps:
        database(app).engine.dispose()


@pytest.fixture
def busy_coop(app, make_member, make_meeting, reviewer) -> tuple[list[int], int]:
    """Members on a meeting's roll (its voting open: an open and a secret resolution)."""
    voters = [make_member(name=f"Voter {n}").id for n in range(VOTERS)]
    meeting = make_meeting(
        resolutions=[
            {"title": "Adopt the annual accounts"},
            {"title": "Elect the auditor", "secret": True},
        ]
    )
    return voters, meeting.id


def test_a_backup_taken_while_twenty_writers_run_restores_the_state_it_captured(
    app, busy_coop, restore_target, tmp_path
):
    voters, meeting_id = busy_coop
    path = tmp_path / "portal.backup"

    with Writers(app, voters, meeting_id) as writers:
        writers.wait_for(WRITES_AROUND)
        with snapshot_backup(app, path) as recorded:
            during = writers.counts()
        writers.wait_for(WRITES_AROUND)
    assert writers.errors == []
    assert sum(writers.counts().values()) - sum(during.values()) > 0
    with database(app).session(write=False) as live:
        now = state_of(app, live)
    # The writers went on after the snapshot: a copy of any later moment differs from it.
    assert now["register_sha256"] != recorded["register_sha256"]
    assert now["votes_sha256"] != recorded["votes_sha256"]
    assert now["orders"] != recorded["orders"]

    restored = restore_target()
    result = restored.test_cli_runner().invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    with database(restored).session(write=False) as db:
        assert state_of(restored, db) == recorded
    # The export as staff download it from the restored portal is the one recorded.
    restored.test_client_class = CSRFClient
    client = restored.test_client()
    assert client.login(REVIEWER).status_code == 303
    export = client.get("/staff/register.csv")
    assert export.status_code == 200
    assert hashlib.sha256(export.data).hexdigest() == recorded["register_sha256"]

    with restored.test_request_context("/"), write_session(restored) as db:
        closing.close_voting(db, db.get(Meeting, meeting_id), actor=None)
    runner = restored.test_cli_runner()
    for check in ("check-register", "check-votes"):
        result = runner.invoke(args=[check])
        assert result.exit_code == 0, result.output
    assert "2 resolutions" in result.output


def test_restore_asks_first_and_refuses_a_newer_releases_backup(app, make_member, tmp_path):
    make_member(name="Kept Member")
    path = tmp_path / "portal.backup"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0

    answered_no = runner.invoke(args=["restore", str(path)], input="n\n")
    assert answered_no.exit_code == 1
    assert "This replaces everything in the database" in answered_no.output

    if POSTGRES_URL:
        pytest.skip("editing a pg_dump archive's data is not done here; the SQLite case covers it")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.close()
    refused = runner.invoke(args=["restore", str(path), "--yes"])
    assert refused.exit_code == 1
    assert "9999_from_the_future" in refused.output
    assert "newer release" in refused.output
    with database(app).session(write=False) as db:
        assert db.scalar(select(Member.name)) == "Kept Member"


def test_a_truncated_backup_is_refused_and_the_database_kept(app, make_member, tmp_path):
    make_member(name="Kept Member")
    path = tmp_path / "portal.backup"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) * 2 // 3])

    refused = runner.invoke(args=["restore", str(path), "--yes"])

    assert refused.exit_code == 1, refused.output
    engine = database(app).engine
    if not backup.is_sqlite(engine):
        # Past the reading of its schema revision, the load itself breaks off part way:
        # the schema was already dropped in the transaction that is rolled back.
        with pytest.raises(backup.BackupError, match="Could not read the backup"):
            backup.restore_postgresql(engine, path)
    with database(app).session(write=False) as db:
        assert db.scalar(select(Member.name)) == "Kept Member"
    assert runner.invoke(args=["check-register"]).exit_code == 0


def test_backup_refuses_a_folder_and_leaves_no_partial_file(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path)])
    assert result.exit_code != 0
    assert list(tmp_path.glob(".*partial")) == []


def test_pg_programs_are_told_the_server_and_password_by_the_environment():
    url = create_engine("postgresql+psycopg://portal:s3cret-pw@db.internal:5433/portal").url
    env = backup.pg_environment(url)
    assert (env["PGPASSWORD"], env["PGHOST"], env["PGPORT"]) == ("s3cret-pw", "db.internal", "5433")
    assert env["PGDATABASE"] == "portal"
