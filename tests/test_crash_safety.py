"""Crash safety (issue 17 §6): a worker killed mid-request loses no acknowledged write.

A co-op grown by ``benchmarks/seed_large.py`` (in a process of its own, into a database of
this test's own: a SQLite file, or a PostgreSQL database named after the suite's) is served
by gunicorn, ``WORKERS`` sync workers on 127.0.0.1. ``BROWSERS`` browsers send 300 writes
in ``ROUNDS`` rounds of ``PER_ROUND`` through the real forms (CSRF and all): sign-ups,
e-mail verifications and applications; staff approvals; share orders; payments recorded
by staff (each issuing a numbered certificate, an applicant's also a member number); votes
on the open AGM's open and secret resolutions; proxy appointments and their acceptance. In
each round, at a moment drawn from ``random.Random(SEED)``, one worker gets SIGKILL and
gunicorn starts another.

A write is *acknowledged* when the server answered it as done (a 303 to where it leads, or
the ballot with its receipt); one whose connection the kill cut may or may not have landed,
and is never sent again. Afterwards, in this process: every acknowledged write is in the
database; no row is half-written (an order paid without its certificate or ledger row, an
approved applicant without a member number, a secret vote without its ballot); member,
certificate and ledger numbers run from 1 without a gap or a duplicate, as the counters
say; and ``check-register`` and ``check-votes`` are clean, as commands and as services.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import queue
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import coop, create_app, demo
from portal.db import database, write_session
from portal.mail import outbox_names, outbox_path, read_outbox
from portal.models import (
    Application,
    ApplicationState,
    Ballot,
    Certificate,
    ClassMembership,
    LedgerEntry,
    LedgerKind,
    Meeting,
    MeetingState,
    Member,
    MemberStatus,
    MemberStatusChange,
    Participation,
    ProxyAppointment,
    ProxyState,
    Resolution,
    RollEntry,
    ShareOrder,
    ShareType,
    User,
)
from portal.models import Counter as CounterRow
from portal.models.shares import Holding, OrderState
from portal.presets import RESONATE
from portal.services.counters import next_number
from portal.services.elections import voting
from portal.services.shares import ledger
from portal.services.shares.certificates import CERTIFICATE_COUNTER

from .conftest import POSTGRES_URL, base_config, database_beside
from .factories import MemberRef
from .figures import record
from .test_concurrency import Browserless
from .test_voting_server import HTMX, Server, Voter, cast, gunicorn

ROOT = Path(__file__).resolve().parent.parent
SEED = 17
ROUNDS, PER_ROUND = 10, 30
WORKERS = 2  # sync workers: one request each at a time, so a kill cuts the one in hand
BROWSERS = 4  # more browsers than workers: a worker is nearly always mid-request
SEEDED_MEMBERS = 160
SEED_PASSWORD = "seeded-member-lantern-2026"  # benchmarks/seed_large.py's
APPLICANT_PASSWORD = "harbour-lantern-crash-proof-2026"
# Cheap password hashes (seeded and served): sign-ins are not what is measured here.
CHEAP_HASHES = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8192"}
SERVER_CONFIG = {**CHEAP_HASHES, "LOGIN_RATE_LIMIT": "100000 per minute"}
CHOICES = ("for", "against", "abstain")
CUT = (OSError, http.client.HTTPException)  # a connection reset, refused or cut short
CSRF_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')
ORDER_RE = re.compile(r"/shares/orders/(\d+)$")
HOLDERS, GRANTORS, VOTERS, BUYERS = 6, 24, 45, 30


# -- the co-op, in a database of its own -------------------------------------------------------


def own_database_url(folder: Path) -> str:
    """A SQLite file in ``folder``; under DATABASE_URL, a PostgreSQL database of this test's
    own named after the suite's (``<name>_crash``), made empty: never the suite's own.

    Like the SQLite file in pytest's temporary folder, it is left after the run, to read
    after a failure; the next run drops it first (dropping costs seconds a run need not pay).
    """
    if not POSTGRES_URL:
        return f"sqlite:///{folder / 'portal.sqlite3'}"
    return database_beside(POSTGRES_URL, "crash", empty=True)


def clean_environment(url: str, instance: Path) -> dict[str, str]:
    """This process's environment with none of the suite's database or settings: the
    co-op's own database and instance folder instead."""
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PORTAL_")
    }
    env.update({f"PORTAL_{key}": value for key, value in CHEAP_HASHES.items()})
    env.update(DATABASE_URL=url, PORTAL_INSTANCE_PATH=str(instance))
    return env


def seed_coop(url: str, instance: Path) -> None:
    """``benchmarks/seed_large.py`` at SEEDED_MEMBERS members, in a process of its own."""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "seed_large.py"),
            f"--members={SEEDED_MEMBERS}",
            f"--instance={instance}",
            f"--database-url={url}",
        ],
        cwd=ROOT,
        env=clean_environment(url, instance),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def flask_command(url: str, instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", *args],
        cwd=ROOT,
        env=clean_environment(url, instance),
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass(frozen=True)
class World:
    """What the browsers act on: the AGM open for voting, its resolutions, the members
    cast in each part (disjoint, none with a vote or proxy at that meeting yet)."""

    meeting_id: int
    secret: dict[int, bool]  # resolution id: secret?
    holders: list[MemberRef]
    grantors: list[MemberRef]
    voters: list[MemberRef]
    buyers: list[MemberRef]


def read_world(app: Flask) -> World:
    with database(app).session(write=False) as db:
        meeting = db.scalar(select(Meeting).where(Meeting.state == MeetingState.VOTING_OPEN))
        resolutions = db.scalars(select(Resolution).where(Resolution.meeting_id == meeting.id))
        secret = {r.id: r.secret for r in resolutions}
        busy = set(
            db.scalars(
                select(Participation.member_id).where(Participation.resolution_id.in_(secret))
            )
        )
        for grantor, holder in db.execute(
            select(ProxyAppointment.grantor_id, ProxyAppointment.holder_id).where(
                ProxyAppointment.meeting_id == meeting.id
            )
        ):
            busy |= {grantor, holder}
        on_roll = set(
            db.scalars(select(RollEntry.member_id).where(RollEntry.meeting_id == meeting.id))
        )
        free = [
            MemberRef(m.id, m.number, m.user.id, m.user.email, m.name)
            for m in db.scalars(
                select(Member)
                .join(User, Member.user_id == User.id)
                .where(Member.status == MemberStatus.ACTIVE)
                .order_by(Member.number)
            )
            if m.id not in busy
        ]
    voting_free = [m for m in free if m.id in on_roll]
    needed = HOLDERS + GRANTORS + VOTERS
    assert len(voting_free) >= needed, f"{len(voting_free)} free members on the roll"
    holders = voting_free[:HOLDERS]
    grantors = voting_free[HOLDERS : HOLDERS + GRANTORS]
    voters = voting_free[HOLDERS + GRANTORS : needed]
    shoppers = [m for m in free if m not in holders and m not in grantors]
    return World(meeting.id, secret, holders, grantors, voters, shoppers[:BUYERS])


# -- browsers ---------------------------------------------------------------------------------


@dataclass
class Browser:
    """A browser's session: its cookie and the CSRF token of that session."""

    client: Browserless
    csrf: str = ""

    def post(self, path: str, form: dict[str, str], *, htmx: bool = False) -> tuple[int, str]:
        """POST a form; (0, why) when the connection was cut (a request that hangs fails)."""
        try:
            return self.client.request(
                "POST", path, {**form, "csrf_token": self.csrf}, headers=HTMX if htmx else None
            )
        except TimeoutError:
            raise
        except CUT as error:
            return 0, repr(error)


def retried(action: Callable[[], tuple[int, str]], *, tries: int = 8) -> tuple[int, str]:
    """A read, or a sign-in, sent again while a kill cuts it (they write nothing counted)."""
    for attempt in range(tries):
        try:
            return action()
        except CUT:
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError(f"cut {tries} times in a row")


def anonymous(base: str) -> Browser:
    """A new browser that has opened a page: a session and its CSRF token."""
    client = Browserless(base, timeout=120)
    _, page = retried(lambda: client.request("GET", "/login"))
    return Browser(client, CSRF_RE.search(page).group(1))


def sign_in(base: str, email: str, password: str) -> Browser:
    """Sign in through the form, as a person does; the browser with its renewed session.

    The one place a sign-in happens: a second step (a staff member's TOTP code) goes here.
    """
    for attempt in range(5):
        browser = anonymous(base)
        form = {"email": email, "password": password, "csrf_token": browser.csrf}
        status, where = retried(lambda b=browser, f=form: b.client.request("POST", "/login", f))
        if status == 303 and where.endswith("/login/code"):
            status, where = type_code(browser, attempt)
        if status == 303:
            _, page = retried(lambda b=browser: b.client.request("GET", "/"))
            browser.csrf = CSRF_RE.search(page).group(1)
            return browser
    raise AssertionError(f"could not sign in as {email} (last answer {status})")


def type_code(browser: Browser, attempt: int) -> tuple[int, str]:
    """The code step of a staff sign-in: the seeded co-op's staff share the demo's public
    key. A code works once, so a sign-in tried again (its answer cut) takes a later step."""
    totp = pyotp.TOTP(demo.DEMO_TWO_FACTOR_SECRET)
    code = totp.generate_otp(totp.timecode(datetime.now(UTC)) + min(attempt, 1))
    form = {"code": code, "csrf_token": browser.csrf}
    return retried(lambda: browser.client.request("POST", "/login/code", form))


# -- the record of what was sent ---------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    round: int
    kind: str
    key: tuple
    outcome: str  # "acknowledged", "cut", or "refused" (any other answer)
    answer: str = ""


@dataclass
class Journal:
    """Every write sent, and how many each round has started (the killer waits on it)."""

    sent: list[Sent] = field(default_factory=list)
    started: Counter[int] = field(default_factory=Counter)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def write(
        self,
        round_: int,
        kind: str,
        key: tuple,
        send: Callable[[], tuple[int, str]],
        done: Callable[[int, str], bool],
    ) -> bool:
        with self.lock:
            self.started[round_] += 1
            self.lock.notify_all()
        status, answer = send()
        outcome = "cut" if status == 0 else "acknowledged" if done(status, answer) else "refused"
        with self.lock:
            self.sent.append(
                Sent(
                    round_,
                    kind,
                    key,
                    outcome,
                    "" if outcome != "refused" else f"{status} {said(answer)}",
                )
            )
        return outcome == "acknowledged"

    def wait_started(self, round_: int, count: int, timeout: float = 120) -> None:
        with self.lock:
            self.lock.wait_for(lambda: self.started[round_] >= count, timeout=timeout)

    def acknowledged(self, kind: str) -> list[tuple]:
        return [s.key for s in self.sent if s.kind == kind and s.outcome == "acknowledged"]


def said(page: str) -> str:
    """What a refusal says, in words: its page's main part (or the partial) without tags."""
    main = re.search(r"<main[^>]*>(.*?)</main>", page, re.S)
    words = " ".join(re.sub(r"<[^>]+>", " ", main.group(1) if main else page).split())
    return words[:400]


def redirected_to(prefix: str) -> Callable[[int, str], bool]:
    return lambda status, location: status == 303 and prefix in location


# -- the writes -------------------------------------------------------------------------------


class Crowd:
    """The browsers' state between rounds: who is signed in, and what waits for staff."""

    def __init__(self, app: Flask, server: Server, world: World, journal: Journal) -> None:
        self.app, self.base, self.world, self.journal = app, server.base, world, journal
        self.staff = sign_in(
            self.base, RESONATE.demo.acting_staff.email, RESONATE.demo.acting_staff.password
        )
        self.browsers: dict[int, Browser] = {}
        self.lock = threading.Lock()
        self.to_approve: list[str] = []  # applicants' e-mails
        self.to_admit: list[str] = []
        self.to_pay: list[int] = []  # order ids
        self.to_accept: list[tuple[MemberRef, MemberRef]] = []  # (grantor, holder)
        plan = random.Random(SEED)
        self.ballots = [(v, rid) for v in world.voters for rid in sorted(world.secret)]
        plan.shuffle(self.ballots)
        self.choices = {key: plan.choice(CHOICES) for key in self.ballots}
        self.grantors = list(world.grantors)
        self.applicants = 0
        self.bank_references = 0

    def sign_in_all(self) -> None:
        """Every member the rounds need, signed in before the first kill."""
        world = self.world
        people = {
            m.user_id: m for m in world.holders + world.grantors + world.voters + world.buyers
        }
        waiting: queue.SimpleQueue[MemberRef] = queue.SimpleQueue()
        for member in people.values():
            waiting.put(member)

        def browse() -> None:
            while True:
                try:
                    member = waiting.get_nowait()
                except queue.Empty:
                    return
                browser = sign_in(self.base, member.email, SEED_PASSWORD)
                with self.lock:
                    self.browsers[member.user_id] = browser

        run_threads([threading.Thread(target=browse) for _ in range(BROWSERS)])
        assert len(self.browsers) == len(people)

    def of(self, member: MemberRef) -> Browser:
        return self.browsers[member.user_id]

    def lookup(self, query):  # type: ignore[no-untyped-def]
        """What a page would show staff (an id, an amount): read from the database."""
        with database(self.app).session(write=False) as db:
            return db.execute(query).one()

    # Each job sends its writes in turn and stops at the first not acknowledged; the
    # writes it did not send are made up by votes, so every round sends PER_ROUND.

    def join(self, round_: int, n: int) -> int:
        """A newcomer signs up, verifies their address, signs in and applies (3 writes): as a
        listener (admitted automatically: the application waits for its share at once) or
        as an artist (staff review it first)."""
        email, name = f"applicant{n}@crash.example", f"Robin Crash{n}"
        journal = self.journal
        browser = anonymous(self.base)
        form = {"name": name, "email": email, "password": APPLICANT_PASSWORD}
        if not journal.write(
            round_,
            "signup",
            (email,),
            lambda: browser.post("/signup", form),
            redirected_to("/signup/check-inbox"),
        ):
            return 2
        token = verification_token(self.app, email)
        browser = anonymous(self.base)
        if not journal.write(
            round_,
            "verify",
            (email,),
            lambda: browser.post(f"/verify-email/{token}", {}),
            redirected_to("/login"),
        ):
            return 1
        browser = sign_in(self.base, email, APPLICANT_PASSWORD)
        reviewed = n % 2 == 0
        form = {
            "address_line1": f"{n} Quay Street",
            "town": "Galway",
            "country": "Ireland",
            "accept_rules": "y",
        }
        if reviewed:
            form |= {
                "answer-artist_name": f"The Crash Test {n}",
                "answer-release_url": f"https://music.example/crash-{n}",
            }
        if journal.write(
            round_,
            "apply",
            (email,),
            lambda: browser.post(f"/join/{'artist' if reviewed else 'listener'}", form),
            redirected_to("/application"),
        ):
            with self.lock:
                (self.to_approve if reviewed else self.to_admit).append(email)
        return 0

    def approve(self, round_: int, email: str) -> int:
        (application_id,) = self.lookup(
            select(Application.id)
            .join(User, Application.user_id == User.id)
            .where(User.email == email)
        )
        if self.journal.write(
            round_,
            "approve",
            (email,),
            lambda: self.staff.post(f"/staff/applications/{application_id}/approve", {}),
            redirected_to("/staff/applications"),
        ):
            with self.lock:
                self.to_admit.append(email)
        return 0

    def record_payment(self, round_: int, kind: str, order_id: int, *about: str) -> int:
        """Staff record the payment of an order in full (confirmed): its certificate."""
        (amount,) = self.lookup(select(ShareOrder.amount_minor).where(ShareOrder.id == order_id))
        with self.lock:
            self.bank_references += 1
            reference = f"CRASH-{self.bank_references}"
        with self.app.app_context(), database(self.app).session(write=False) as db:
            today = coop.today(db)
        form = {
            "amount": f"{amount // 100}.{amount % 100:02d}",
            "paid_on": today.isoformat(),
            "method": "bank_transfer",
            "bank_reference": reference,
            "confirm": "yes",
        }
        self.journal.write(
            round_,
            kind,
            (order_id, *about),
            lambda: self.staff.post(f"/staff/orders/{order_id}/payment", form),
            redirected_to("/staff/orders"),
        )
        return 0

    def admit(self, round_: int, email: str) -> int:
        (order_id,) = self.lookup(
            select(ShareOrder.id)
            .join(Application, ShareOrder.application_id == Application.id)
            .join(User, Application.user_id == User.id)
            .where(User.email == email, ShareOrder.state == OrderState.PENDING_PAYMENT)
        )
        return self.record_payment(round_, "admit", order_id, email)

    def buy(self, round_: int, member: MemberRef) -> int:
        key = secrets.token_urlsafe(24)
        form = {"share_type": "supporter", "quantity": "5", "order_key": key}
        answers: list[str] = []

        def send() -> tuple[int, str]:
            status, location = self.of(member).post("/shares/buy", form)
            answers.append(location)
            return status, location

        if self.journal.write(
            round_,
            "buy",
            (member.id, key),
            send,
            lambda s, where: s == 303 and bool(ORDER_RE.search(where)),
        ):
            with self.lock:
                self.to_pay.append(int(ORDER_RE.search(answers[0]).group(1)))
        return 0

    def vote(self, round_: int) -> int:
        with self.lock:
            if not self.ballots:
                raise AssertionError("no ballot left to cast: seed more members")
            voter_ref, rid = self.ballots.pop()
        choice = self.choices[voter_ref, rid]
        browser = self.of(voter_ref)
        voter = Voter(voter_ref, browser.client.cookie, browser.csrf)
        told: list[str] = []

        def send() -> tuple[int, str]:
            answer = cast(self.base, voter, self.world.meeting_id, rid, choice)
            if answer.status == 0 and not answer.body.startswith(
                ("URLError", "Remote", "Connection", "Incomplete")
            ):
                return -1, answer.body  # not a cut connection: refused, with why
            told.append(answer.receipt or "")
            return answer.status, answer.body if answer.choice != choice else "ok"

        self.journal.write(
            round_,
            "vote",
            (voter_ref.id, rid, choice, told),
            send,
            lambda s, body: s == 200 and body == "ok",
        )
        return 0

    def appoint(self, round_: int) -> int:
        with self.lock:
            grantor = self.grantors.pop()
            holder = self.world.holders[len(self.grantors) % HOLDERS]
        meeting = self.world.meeting_id
        form = {"holder": str(holder.number), "kind": "discretionary"}
        if self.journal.write(
            round_,
            "appoint",
            (grantor.id, holder.id),
            lambda: self.of(grantor).post(f"/meetings/{meeting}/proxy", form),
            redirected_to(f"/meetings/{meeting}/proxy"),
        ):
            with self.lock:
                self.to_accept.append((grantor, holder))
        return 0

    def accept(self, round_: int, grantor: MemberRef, holder: MemberRef) -> int:
        meeting = self.world.meeting_id
        (appointment_id,) = self.lookup(
            select(ProxyAppointment.id).where(
                ProxyAppointment.meeting_id == meeting, ProxyAppointment.grantor_id == grantor.id
            )
        )
        self.journal.write(
            round_,
            "accept",
            (grantor.id, holder.id),
            lambda: self.of(holder).post(
                f"/meetings/{meeting}/proxy/{appointment_id}/answer", {"answer": "accept"}
            ),
            redirected_to(f"/meetings/{meeting}/proxy"),
        )
        return 0

    # -- a round's plan --------------------------------------------------------------------

    def plan(self, round_: int) -> list[tuple[int, Callable[[], int]]]:
        """The round's jobs, (writes, job) each, PER_ROUND writes in all: what staff have
        waiting from earlier rounds first, then newcomers, orders and proxies, then votes."""
        jobs: list[tuple[int, Callable[[], int]]] = []

        def take(waiting: list, most: int) -> list:
            with self.lock:
                taken, waiting[:] = waiting[:most], waiting[most:]
            return taken

        for email in take(self.to_approve, 3):
            jobs.append((1, lambda e=email: self.approve(round_, e)))
        for email in take(self.to_admit, 3):
            jobs.append((1, lambda e=email: self.admit(round_, e)))
        for order_id in take(self.to_pay, 4):
            jobs.append((1, lambda o=order_id: self.record_payment(round_, "pay", o)))
        for grantor, holder in take(self.to_accept, 3):
            jobs.append((1, lambda g=grantor, h=holder: self.accept(round_, g, h)))
        for _ in range(2):
            self.applicants += 1
            jobs.append((3, lambda n=self.applicants: self.join(round_, n)))
        buyers = self.world.buyers
        for i in range(4):
            member = buyers[(round_ * 4 + i) % len(buyers)]
            jobs.append((1, lambda m=member: self.buy(round_, m)))
        for _ in range(min(2, len(self.grantors))):
            jobs.append((1, lambda: self.appoint(round_)))
        while sum(writes for writes, _ in jobs) < PER_ROUND:
            jobs.append((1, lambda: self.vote(round_)))
        assert sum(writes for writes, _ in jobs) == PER_ROUND
        random.Random(SEED * 100 + round_).shuffle(jobs)
        return jobs

    def run_round(self, round_: int) -> None:
        waiting: queue.SimpleQueue[Callable[[], int]] = queue.SimpleQueue()
        for _writes, job in self.plan(round_):
            waiting.put(job)

        failed: list[BaseException] = []

        def browse() -> None:
            while True:
                try:
                    job = waiting.get_nowait()
                except queue.Empty:
                    return
                try:
                    for _ in range(job()):  # the writes a broken job did not send
                        self.vote(round_)
                except Exception as error:  # a failure of the test's own, told in full below
                    failed.append(error)
                    raise

        run_threads([threading.Thread(target=browse) for _ in range(BROWSERS)])
        if failed:
            raise failed[0]


def verification_token(app: Flask, email: str) -> str:
    """The token of the verification link mailed to ``email`` (written before the answer)."""
    for message in read_outbox(app):
        if message.to == email:
            found = re.search(r"/verify-email/([^\s/]+)", message.text)
            if found:
                return found.group(1)
    raise AssertionError(f"no verification mail to {email}")


def run_threads(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not [t for t in threads if t.is_alive()], "a browser never finished"


# -- the killer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kill:
    round: int
    after: int  # writes started in the round when the worker was killed
    pid: int
    mid_request: bool  # it held a browser's connection


def busy_workers(server: Server) -> list[int]:
    """The workers holding a browser's connection now (mid-request): those with a socket
    open on an established connection to the server's port (Linux's /proc/net/tcp)."""
    port = int(server.base.rsplit(":", 1)[1])
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
            established.add(f"socket:[{fields[9]}]")
    busy = []
    for pid in server.workers():
        try:
            fds = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        except OSError:  # it ended meanwhile
            continue
        if fds & established:
            busy.append(pid)
    return busy


def kill_a_worker(server: Server, journal: Journal, round_: int, dice: random.Random) -> Kill:
    """Wait for the round's ``after``-th write to start, a moment more, then SIGKILL a
    worker in the middle of a request (any worker if none is): both drawn from ``dice``."""
    after = dice.randint(2, PER_ROUND - 4)
    pause = dice.uniform(0.005, 0.08)
    pick = dice.random()
    journal.wait_started(round_, after)
    time.sleep(pause)
    busy = busy_workers(server)
    workers = busy or server.workers()
    assert workers, "gunicorn has no worker"
    pid = workers[int(pick * len(workers))]
    os.kill(pid, signal.SIGKILL)
    return Kill(round_, after, pid, bool(busy))


def wait_for_workers(server: Server, killed: int) -> None:
    """Until gunicorn has replaced the killed worker and answers again."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = server.workers()
        if len(workers) == WORKERS and killed not in workers:
            try:
                status, _ = Browserless(server.base, timeout=10).request("GET", "/healthz")
            except CUT:
                status = 0
            if status == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not replace worker {killed} within 60 s")


# -- the checks -------------------------------------------------------------------------------


def gapless(numbers: list[int]) -> bool:
    return sorted(numbers) == list(range(1, len(numbers) + 1))


def check_acknowledged(db: Session, journal: Journal, world: World) -> None:
    """Every acknowledged write is there, as the answer said."""
    users = {u.email: u for u in db.scalars(select(User).where(User.email.like("%@crash.example")))}
    for (email,) in journal.acknowledged("signup"):
        assert email in users, f"signed up but missing: {email}"
    for (email,) in journal.acknowledged("verify"):
        assert users[email].email_verified_at is not None, email

    def application(email: str) -> Application:
        found = db.scalars(select(Application).where(Application.user_id == users[email].id)).all()
        assert len(found) == 1, (email, found)
        return found[0]

    for (email,) in journal.acknowledged("apply"):
        assert application(email).state is not ApplicationState.DRAFT, email
    for (email,) in journal.acknowledged("approve"):
        assert application(email).state in (
            ApplicationState.AWAITING_SHARE,
            ApplicationState.APPROVED,
        ), email
    for kind in ("admit", "pay"):
        for order_id, *_ in journal.acknowledged(kind):
            order = db.get(ShareOrder, order_id)
            assert order.state is OrderState.ISSUED, (kind, order_id, order.state)
            assert db.scalar(select(Certificate).where(Certificate.order_id == order_id))
    for _order_id, email in journal.acknowledged("admit"):
        assert application(email).state is ApplicationState.APPROVED, email
        member = db.scalar(select(Member).where(Member.user_id == users[email].id))
        assert member is not None and member.number > 0, email
    for member_id, key in journal.acknowledged("buy"):
        order = db.scalar(
            select(ShareOrder).where(ShareOrder.member_id == member_id, ShareOrder.order_key == key)
        )
        assert order is not None and order.quantity == 5, (member_id, key)
    for member_id, rid, choice, told in journal.acknowledged("vote"):
        (receipt,) = told
        participation = db.scalar(
            select(Participation).where(
                Participation.member_id == member_id, Participation.resolution_id == rid
            )
        )
        assert participation is not None, (member_id, rid)
        if world.secret[rid]:
            ballot = db.scalar(
                select(Ballot).where(Ballot.resolution_id == rid, Ballot.receipt == receipt)
            )
            assert ballot is not None and ballot.choice.value == choice, (rid, receipt)
        else:
            assert (participation.choice.value, participation.receipt) == (choice, receipt)
    appointments = {
        (a.grantor_id, a.holder_id): a
        for a in db.scalars(
            select(ProxyAppointment).where(ProxyAppointment.meeting_id == world.meeting_id)
        )
    }
    for key in journal.acknowledged("appoint"):
        assert key in appointments, key
    for key in journal.acknowledged("accept"):
        assert appointments[key].state is ProxyState.ACCEPTED, key


@dataclass(frozen=True)
class Seeded:
    """Where the seeded rows end: the checks of rows written together look past them (the
    seed makes rows in every state, a paid order left unissued among them)."""

    order: int
    application: int
    member: int
    certificate: int


def seeded(db: Session) -> Seeded:
    return Seeded(
        db.scalar(select(func.max(ShareOrder.id))) or 0,
        db.scalar(select(func.max(Application.id))) or 0,
        db.scalar(select(func.max(Member.number))) or 0,
        db.scalar(select(func.max(Certificate.number))) or 0,
    )


def half_written(db: Session, before: Seeded) -> list[str]:
    """Rows one transaction writes together, found apart (among the rows the rounds
    wrote): each, in words."""
    problems = []
    certificates_of = Counter(
        db.scalars(select(Certificate.order_id).where(Certificate.order_id.is_not(None)))
    )
    issues_of = Counter(
        db.scalars(select(LedgerEntry.reference).where(LedgerEntry.kind == LedgerKind.ISSUE))
    )
    for order in db.scalars(select(ShareOrder).where(ShareOrder.id > before.order)):
        name = f"order {order.id} ({order.state.value})"
        if order.state is OrderState.PAID:
            problems.append(f"{name}: paid, its shares never issued")
        issued = order.state is OrderState.ISSUED
        if certificates_of[order.id] != (1 if issued else 0):
            problems.append(f"{name}: {certificates_of[order.id]} certificates")
        if issued and (
            order.member_id is None or order.paid_at is None or not order.bank_reference
        ):
            problems.append(f"{name}: issued without its member or payment")
        if issued and issues_of[order.payment_reference] != 1:
            problems.append(f"{name}: {issues_of[order.payment_reference]} ledger issue rows")
    for application in db.scalars(select(Application).where(Application.id > before.application)):
        name = f"application {application.id} ({application.state.value})"
        member = db.scalar(select(Member).where(Member.user_id == application.user_id))
        if application.state is ApplicationState.APPROVED:
            if member is None:
                problems.append(f"{name}: approved, no member")
            elif not db.scalar(
                select(func.count())
                .select_from(ClassMembership)
                .where(
                    ClassMembership.member_id == member.id,
                    ClassMembership.class_id == application.class_id,
                )
            ):
                problems.append(f"{name}: member no. {member.number} not in the class")
        if application.state is ApplicationState.AWAITING_SHARE and not db.scalar(
            select(func.count())
            .select_from(ShareOrder)
            .where(
                ShareOrder.application_id == application.id,
                ShareOrder.state == OrderState.PENDING_PAYMENT,
            )
        ):
            problems.append(f"{name}: awaits a share no order asks for")
    membership = db.scalar(select(ShareType.id).where(ShareType.code == "membership"))
    for member in db.scalars(select(Member).where(Member.number > before.member)):
        if not db.scalar(
            select(func.count())
            .select_from(MemberStatusChange)
            .where(MemberStatusChange.member_id == member.id)
        ):
            problems.append(f"member no. {member.number}: no status history")
        held = db.scalar(
            select(Holding.quantity).where(
                Holding.member_id == member.id, Holding.share_type_id == membership
            )
        )
        if held != 1:
            problems.append(f"member no. {member.number}: holds {held} membership shares")
    return problems


def check_numbers(db: Session) -> None:
    """Member, certificate and ledger numbers run 1..n, and each counter stands at n."""
    counters = {
        name: value for name, value in db.execute(select(CounterRow.name, CounterRow.value))
    }
    for counter, numbers in (
        ("member_number", db.scalars(select(Member.number)).all()),
        ("certificate_number", db.scalars(select(Certificate.number)).all()),
        ("share_ledger", db.scalars(select(LedgerEntry.seq)).all()),
    ):
        assert gapless(numbers), f"{counter}: a gap or a duplicate"
        assert counters[counter] == len(numbers), (counter, counters[counter], len(numbers))


def check_pdfs(db: Session, before: Seeded) -> None:
    """The certificates issued under fire hold whole PDFs, as their hashes say."""
    for number, pdf, sha256 in db.execute(
        select(Certificate.number, Certificate.pdf, Certificate.sha256).where(
            Certificate.number > before.certificate
        )
    ):
        assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-64:], number
        assert hashlib.sha256(pdf).hexdigest() == sha256, number


def check_outbox(app: Flask) -> int:
    """Every message in the outbox is whole (text and HTML, its closing boundary written):
    a worker killed while writing one leaves at most a ``.part`` file beside them."""
    names = outbox_names(app)
    for name in names:
        data = (outbox_path(app) / f"{name}.eml").read_bytes()
        assert data.rstrip().endswith(b"--"), f"{name}: cut short"
    return len(names)


# -- the test ---------------------------------------------------------------------------------


@pytest.fixture
def crash_coop(tmp_path: Path) -> Iterator[tuple[Flask, str, Path]]:
    """The seeded co-op: this process's app on it, its database URL and instance folder."""
    instance = tmp_path / "instance"
    instance.mkdir()
    url = own_database_url(instance)
    seed_coop(url, instance)
    config = {k: v for k, v in base_config(instance, url).items() if k != "SECRET_KEY"}
    app = create_app(config)  # the secret key the seed made, from the instance folder
    yield app, url, instance
    database(app).engine.dispose()


@pytest.mark.slow
@pytest.mark.pdf
def test_workers_killed_mid_request_lose_no_acknowledged_write(crash_coop, tmp_path):
    app, url, instance = crash_coop
    world = read_world(app)
    with database(app).session(write=False) as db:
        before = seeded(db)
    journal = Journal()
    kills: list[Kill] = []
    dice = random.Random(SEED)
    started = time.monotonic()
    with gunicorn(
        app, tmp_path, workers=WORKERS, threads=1, name="crash", config=SERVER_CONFIG
    ) as server:
        crowd = Crowd(app, server, world, journal)
        crowd.sign_in_all()
        for round_ in range(ROUNDS):
            killer: list[Kill] = []
            thread = threading.Thread(
                target=lambda r=round_, k=killer: k.append(kill_a_worker(server, journal, r, dice))
            )
            thread.start()
            crowd.run_round(round_)
            thread.join(timeout=120)
            assert killer, f"round {round_}: no worker was killed"
            kills.extend(killer)
            wait_for_workers(server, killer[0].pid)
        # Voting closes with no kill: check-votes then recounts every resolution written to.
        status, _ = crowd.staff.post(f"/staff/meetings/{world.meeting_id}/close", {})
        assert status == 303
        errors = [line for line in server.errors() if "SIGKILL" not in line]
    elapsed = time.monotonic() - started

    outcomes = Counter(s.outcome for s in journal.sent)
    kinds = Counter(s.kind for s in journal.sent if s.outcome == "acknowledged")
    figures = (
        f"crash safety ({'PostgreSQL' if POSTGRES_URL else 'SQLite'}): {ROUNDS} rounds, "
        f"{len(journal.sent)} writes sent, {outcomes['acknowledged']} acknowledged, "
        f"{outcomes['cut']} cut, {len(kills)} workers killed "
        f"({sum(k.mid_request for k in kills)} mid-request), {elapsed:.0f} s; "
        f"acknowledged: {dict(sorted(kinds.items()))}"
    )
    print(f"\n{figures}")
    assert [s for s in journal.sent if s.outcome == "refused"] == []
    assert len(journal.sent) == ROUNDS * PER_ROUND
    assert len(kills) == ROUNDS and len({k.pid for k in kills}) == ROUNDS
    assert outcomes["cut"] >= 1, "no kill cut a write: the rounds proved nothing"
    assert errors == []
    assert kinds["admit"] and kinds["pay"] and kinds["vote"] and kinds["accept"]

    with app.app_context(), database(app).session(write=False) as db:
        check_acknowledged(db, journal, world)
        assert half_written(db, before) == []
        check_numbers(db)
        check_pdfs(db, before)
        assert check_outbox(app) >= len(journal.acknowledged("signup"))
        register = ledger.check_register(db)
        assert register.problems == []
        resolutions, elections = voting.check_votes(db)
        assert resolutions.problems == [] and elections.problems == []
        assert resolutions.checked >= len(world.secret)
    for command in ("check-register", "check-votes"):
        done = flask_command(url, instance, command)
        assert done.returncode == 0, done.stdout + done.stderr
    record(
        "crash-safety",
        f"{figures}; every acknowledged write present, nothing half-written, numbers "
        "gapless, check-register and check-votes clean",
    )


def test_the_end_checks_find_a_number_taken_without_its_row_and_an_order_paid_halfway(
    app, make_member, make_order, pay
):
    """The slow test's checks can fail: a certificate number a transaction took but whose
    certificate never landed, and an order left paid with no shares issued."""
    member = make_member()
    pay(make_order(member, "supporter", 5))
    order = make_order(member, "supporter", 5)
    nothing_seeded = Seeded(0, 0, 0, 0)
    with database(app).session(write=False) as db:
        check_numbers(db)
        assert half_written(db, nothing_seeded) == []

    with app.app_context(), write_session(app) as db:
        next_number(db, CERTIFICATE_COUNTER)
    with database(app).session(write=False) as db, pytest.raises(AssertionError):
        check_numbers(db)

    with write_session(app) as db:
        db.get(ShareOrder, order.id).state = OrderState.PAID
    with database(app).session(write=False) as db:
        assert half_written(db, nothing_seeded) == [
            f"order {order.id} (paid): paid, its shares never issued"
        ]
