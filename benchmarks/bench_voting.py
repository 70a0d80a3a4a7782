"""Voting figures: votes per second through the real vote endpoint and the live turnout
partial, beside a bare Flask route, with 50 concurrent voters against gunicorn; and the
time to count 100,000 ballots.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_voting.py`). Uses a
temporary SQLite database, or PostgreSQL when DATABASE_URL is set. Prints figures; it
asserts nothing, so it never fails on a slow machine. Targets (issue 13): a vote POST at
least 40 % of the bare route's requests per second, the turnout partial at least 50 %,
and a count of 100,000 ballots within 0.5 s.

The server is `gunicorn` (WORKERS processes of THREADS threads, on 127.0.0.1) serving the
app with one extra route, /bare, that returns "ok". Each of the 50 voters is a thread
keeping one connection open; a vote is the htmx post (CSRF token, session cookie) that
answers the resolution's ballot partial. Every figure runs for SECONDS after a warm-up;
each request must answer 200, and errors are counted and printed.
"""

from __future__ import annotations

import http.client
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import coop, create_app
from portal.db import database, write_session
from portal.extensions import start_session
from portal.migrations import upgrade
from portal.models import (
    Ballot,
    Choice,
    Meeting,
    MeetingKind,
    Member,
    MemberClass,
    Participation,
    Resolution,
    ResolutionKind,
    Role,
    RollEntry,
    User,
)
from portal.presets import RESONATE
from portal.services import settings
from portal.services.accounts import passwords, sessions, users
from portal.services.meetings import ballots, closing, lifecycle
from portal.services.meetings.tally import ClassCount, Rules, tally_resolution

HERE = Path(__file__).resolve().parent
PASSWORD = "benchmark-lantern-quarry-77"
SECRET_KEY = "bench-voting"
VOTERS = 1_000  # on the roll of the meeting voted on; each client thread votes as 20 of them
CLIENTS = 50
SECONDS = 6.0
WARM_UP = 1.5
WORKERS = 4
THREADS = 4
BALLOTS = 100_000
HTMX = {"HX-Request": "true"}


def served_app() -> Flask:
    """The app gunicorn serves: the portal as configured by the environment, plus /bare."""
    app = create_app()

    @app.get("/bare")
    def bare() -> str:
        return "ok"

    return app


def config(instance: Path) -> dict[str, object]:
    """The configuration both this process and the server run with (CSRF on)."""
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": SECRET_KEY,
        "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "PREFERRED_URL_SCHEME": "http",
        "HTMX_LOCAL": True,
    }


def build_app(instance: Path) -> Flask:
    app = create_app(config(instance))
    engine = database(app).engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    return app


# -- seeding ----------------------------------------------------------------------------------


def insert_members(app: Flask, count: int, first_number: int, *, accounts: bool) -> list[int]:
    """``count`` members written in bulk (with accounts to sign in with, if asked); ids."""
    engine = database(app).engine
    password_hash = passwords.hash_password(PASSWORD)
    admitted_on = coop_today(app) - timedelta(days=400)
    with engine.begin() as conn:
        user_ids: list[int | None] = [None] * count
        if accounts:
            conn.execute(
                insert(User),
                [
                    {
                        "email": f"voter{first_number + i}@bench.example",
                        "name": f"Voter {first_number + i}",
                        "password_hash": password_hash,
                        "role": Role.MEMBER,
                    }
                    for i in range(count)
                ],
            )
            user_ids = list(
                conn.execute(
                    select(User.id).where(User.email.like("voter%@bench.example")).order_by(User.id)
                ).scalars()
            )[-count:]
        for low in range(0, count, 10_000):
            conn.execute(
                insert(Member),
                [
                    {
                        "number": first_number + i,
                        "user_id": user_ids[i],
                        "name": f"Voter {first_number + i}",
                        "address_line1": "1 Quay",
                        "town": "Cork",
                        "country": "Ireland",
                        "status": "active",
                        "admitted_on": admitted_on,
                    }
                    for i in range(low, min(low + 10_000, count))
                ],
            )
        return list(
            conn.execute(
                select(Member.id)
                .where(Member.number >= first_number, Member.number < first_number + count)
                .order_by(Member.number)
            ).scalars()
        )


def coop_today(app: Flask):
    with app.test_request_context("/"), write_session(app) as db:
        return coop.today(db)


def class_weights(app: Flask) -> list[tuple[int, str, int]]:
    with app.test_request_context("/"), write_session(app) as db:
        return [
            tuple(row)
            for row in db.execute(
                select(MemberClass.id, MemberClass.code, MemberClass.voting_weight).order_by(
                    MemberClass.position
                )
            )
        ]


def open_meeting(
    app: Flask, member_ids: list[int], resolutions: list[tuple[str, bool]]
) -> tuple[int, list[int]]:
    """An AGM open for voting on ``resolutions`` (title, secret), its roll the members
    given (dealt round the classes, written in bulk before notice freezes it)."""
    classes = class_weights(app)
    with app.test_request_context("/"), write_session(app) as db:
        staff = users.find_user_by_email(db, "staff@bench.example")
        clock = coop.clock(db)
        meeting = lifecycle.create_meeting(
            db,
            lifecycle.MeetingInput(
                kind=MeetingKind.AGM,
                title="Benchmark AGM",
                starts_at=clock.now() + timedelta(days=30),
                record_date=clock.today(),
                place="Cork",
            ),
            actor=staff,
        )
        if not meeting.agenda:
            lifecycle.add_agenda_item(db, meeting, title="Resolutions", actor=staff)
        for title, secret in resolutions:
            lifecycle.add_resolution(
                db,
                meeting,
                title=title,
                text=f"RESOLVED that {title.lower()}.",
                kind=ResolutionKind.ORDINARY,
                secret=secret,
                actor=staff,
            )
        db.flush()
        meeting_id = meeting.id
    rows = [
        {
            "meeting_id": meeting_id,
            "member_id": member_id,
            "class_id": classes[i % len(classes)][0],
            "weight": classes[i % len(classes)][2],
            "is_primary": True,
        }
        for i, member_id in enumerate(member_ids)
    ]
    with database(app).engine.begin() as conn:
        for low in range(0, len(rows), 20_000):
            conn.execute(insert(RollEntry), rows[low : low + 20_000])
        conn.execute(text("ANALYZE"))
    with app.test_request_context("/"), write_session(app) as db:
        staff = users.find_user_by_email(db, "staff@bench.example")
        meeting = db.get(Meeting, meeting_id)
        meeting.roll_frozen_at = coop.clock(db).now()  # the roll is the one written above
        meeting.roll_as_of = meeting.roll_frozen_at
        lifecycle.send_notice(db, meeting, actor=staff, short_notice_reason="Benchmark")
        lifecycle.open_voting(db, meeting, actor=staff)
        return meeting_id, [r.id for r in meeting.resolutions]


def signed_in(app: Flask, member_ids: list[int]) -> list[tuple[str, str]]:
    """A session cookie and its CSRF token for each member's account, opened through the
    session service as signing in does."""
    serializer = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    made = []
    with write_session(app) as db:
        for member_id in member_ids:
            with app.test_request_context("/"):
                user = db.get(Member, member_id).user
                token = sessions.open_session(db, user, user_agent="bench", ip="127.0.0.1")
                start_session(user, token)
                csrf = generate_csrf()
                made.append((f"{name}={serializer.dumps(dict(session))}", csrf))
    return made


# -- load -------------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: Counter[str]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


def hammer(
    port: int, name: str, make: Callable[[int, int], Request], *, seconds: float = SECONDS
) -> Figure:
    """CLIENTS threads, each on its own kept-alive connection, sending ``make(client, n)``
    as fast as answers come for ``seconds`` after a warm-up; answers other than 200 are
    counted as errors."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    done = [0]
    start_at = time.perf_counter() + WARM_UP
    stop_at = start_at + seconds

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        n, mine, seen = 0, [], Counter()
        while (now := time.perf_counter()) < stop_at:
            method, path, body, headers = make(index, n)
            n += 1
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = type(error).__name__
            if now >= start_at:
                mine.append(time.perf_counter() - now)
                if status != 200:
                    seen[str(status)] += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            errors.update(seen)
            done[0] += len(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Figure(name, done[0], seconds, latencies, errors)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(app: Flask, instance: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=app.config["DATABASE_URL"] or "",
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_RATELIMIT_ENABLED="false",
        PORTAL_SESSION_COOKIE_SECURE="false",
        PORTAL_PREFERRED_URL_SCHEME="http",
        PORTAL_HTMX_LOCAL="true",
        PORTAL_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
    )
    if not env["DATABASE_URL"]:
        del env["DATABASE_URL"]
    log = instance / "gunicorn.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                f"--workers={WORKERS}",
                f"--threads={THREADS}",
                f"--bind=127.0.0.1:{port}",
                f"--pythonpath={HERE}",
                "bench_voting:served_app()",
            ],
            cwd=HERE.parent,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped:\n{log.read_text()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/bare")
            if connection.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.2)
    return process, port, log


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def requests_per_second(app: Flask, instance: Path) -> None:
    voter_ids = insert_members(app, VOTERS, 1, accounts=True)
    meeting_id, resolution_ids = open_meeting(
        app,
        voter_ids,
        [
            ("Approve the 2025 minutes", False),
            ("Set the listener fee", False),
            ("Lower the platform's share", True),
            ("Elect the board", True),
        ],
    )
    cookies = signed_in(app, voter_ids)
    choices = [c.value for c in Choice]
    process, port, log = start_server(app, instance)
    try:

        def bare(_client: int, _n: int) -> Request:
            return "GET", "/bare", None, {}

        def turnout(client: int, n: int) -> Request:
            cookie, _csrf = cookies[(client + CLIENTS * n) % VOTERS]
            return "GET", f"/meetings/{meeting_id}/turnout", None, {**HTMX, "Cookie": cookie}

        def vote(client: int, n: int) -> Request:
            # Each client votes as its own 20 members in turn, on each resolution, changing
            # its choice each round: first votes, then changes (the last vote counts).
            voter = (client + CLIENTS * (n % (VOTERS // CLIENTS))) % VOTERS
            rounds = n // (VOTERS // CLIENTS)
            resolution_id = resolution_ids[rounds % len(resolution_ids)]
            choice = choices[(voter + rounds // len(resolution_ids)) % len(choices)]
            cookie, csrf = cookies[voter]
            body = urllib.parse.urlencode({"choice": choice, "csrf_token": csrf}).encode()
            headers = {
                **HTMX,
                "Cookie": cookie,
                "Content-Type": "application/x-www-form-urlencoded",
            }
            path = f"/meetings/{meeting_id}/resolutions/{resolution_id}/vote"
            return "POST", path, body, headers

        figures = [
            hammer(port, "bare Flask route (baseline)", bare),
            hammer(port, "vote POST (htmx ballot partial)", vote),
            hammer(port, "turnout partial (htmx poll)", turnout),
            hammer(port, "bare Flask route (again)", bare),
        ]
    finally:
        stop_server(process)
    baseline = statistics.mean(f.per_second for f in figures if f.name.startswith("bare"))
    print(
        f"gunicorn {WORKERS} workers x {THREADS} threads, {CLIENTS} concurrent clients, "
        f"{SECONDS:.0f} s each, {VOTERS:,} members on the roll, "
        f"{len(resolution_ids)} resolutions (2 secret)"
    )
    print(f"{'request':<36} {'req/s':>8} {'% bare':>7} {'median ms':>10} {'p95 ms':>8}  errors")
    for f in figures:
        ordered = sorted(f.latencies) or [0.0]
        p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) > 1 else ordered[0]
        print(
            f"{f.name:<36} {f.per_second:>8.0f} {100 * f.per_second / baseline:>6.0f}% "
            f"{1000 * statistics.median(ordered):>10.1f} {1000 * p95:>8.1f}  "
            f"{dict(f.errors) or 'none'}"
        )
    failures = [line for line in log.read_text().splitlines() if "Traceback" in line]
    print(f"server tracebacks: {len(failures)}")
    with app.test_request_context("/"), write_session(app) as db:
        counted = db.scalar(select(func.count()).select_from(Participation))
    print(f"participations stored: {counted:,} (at most {VOTERS * len(resolution_ids):,})")


# -- counting ---------------------------------------------------------------------------------


def tally_times(app: Flask) -> None:
    classes = class_weights(app)
    rng = random.Random(13)
    with app.test_request_context("/"), write_session(app) as db:
        rules = Rules.from_settings(coop.settings(db), ResolutionKind.SPECIAL)
    plain = [(rng.randrange(len(classes)), rng.choice(list(Choice))) for _ in range(BALLOTS)]

    def count_plain() -> None:
        by_class = Counter(plain)
        roll = BALLOTS // len(classes) + 1
        tally_resolution(
            rules,
            [
                ClassCount(
                    code,
                    roll=roll,
                    weight=weight,
                    votes_for=by_class[i, Choice.FOR],
                    against=by_class[i, Choice.AGAINST],
                    abstain=by_class[i, Choice.ABSTAIN],
                )
                for i, (_id, code, weight) in enumerate(classes)
            ],
        )

    samples = []
    for _ in range(5):
        start = time.perf_counter()
        count_plain()
        samples.append(time.perf_counter() - start)
    print(
        f"\ntally of {BALLOTS:,} plain ballots (count + tally_resolution): "
        f"{1000 * statistics.median(samples):.1f} ms (median of 5)"
    )

    member_ids = insert_members(app, BALLOTS, 100_001, accounts=False)
    meeting_id, [resolution_id] = open_meeting(app, member_ids, [("Adopt the rules", True)])
    with database(app).engine.begin() as conn:
        roll = {
            member_id: class_id
            for member_id, class_id in conn.execute(
                select(RollEntry.member_id, RollEntry.class_id).where(
                    RollEntry.meeting_id == meeting_id
                )
            )
        }
        choices = [rng.choice(list(Choice)) for _ in member_ids]
        for low in range(0, BALLOTS, 20_000):
            chunk = member_ids[low : low + 20_000]
            conn.execute(
                insert(Participation),
                [
                    {"resolution_id": resolution_id, "member_id": m, "class_id": roll[m]}
                    for m in chunk
                ],
            )
            conn.execute(
                insert(Ballot),
                [
                    {
                        "id": ballots.new_ballot_id(),
                        "resolution_id": resolution_id,
                        "class_id": roll[m],
                        "choice": choices[low + i],
                        "receipt": f"R{low + i:011d}",
                        "voter_tag": f"{low + i:064d}",
                    }
                    for i, m in enumerate(chunk)
                ],
            )
        conn.execute(text("ANALYZE"))
    with app.test_request_context("/"), write_session(app) as db:
        resolution = db.get(Resolution, resolution_id)
        start = time.perf_counter()
        closing.count_resolution(db, resolution)
        counted = time.perf_counter() - start
    with app.test_request_context("/"), write_session(app) as db:
        staff = users.find_user_by_email(db, "staff@bench.example")
        resolution = db.get(Resolution, resolution_id)
        start = time.perf_counter()
        tally = closing.close_resolution(db, resolution, actor=staff)
        db.commit()
        closed = time.perf_counter() - start
    print(
        f"count_resolution over {BALLOTS:,} stored ballots (query + tally): {1000 * counted:.0f} ms"
    )
    print(
        f"close_resolution over {BALLOTS:,} stored ballots (count, store, seal, commit): "
        f"{1000 * closed:.0f} ms  -> {tally.result.label}, turnout {tally.turnout:,}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        app = build_app(instance)
        with app.test_request_context("/"), write_session(app) as db:
            settings.apply_preset(db, RESONATE)
            users.create_user(
                db,
                name="Bench Staff",
                email="staff@bench.example",
                password=PASSWORD,
                role=Role.STAFF,
                verified=True,
            )
        print(f"database: {database(app).engine.dialect.name}")
        requests_per_second(app, instance)
        tally_times(app)
        database(app).engine.dispose()


if __name__ == "__main__":
    main()
