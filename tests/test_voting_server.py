"""Votes cast at once against a real gunicorn server: none lost, none counted twice.

A gunicorn server (several workers, each with several threads, as the README deploys it)
serves the app on a free port of 127.0.0.1 from this test's database: the SQLite file or,
with ``DATABASE_URL`` set, PostgreSQL. Two hundred members on the roll vote at once on an
open and on a secret resolution through the real vote endpoint (the htmx ballot partial,
CSRF and all), some posting twice at once and some changing their vote; then staff close
voting while another round is in flight. What each member was last told (the choice and
receipt in their ballot partial) is compared with what the database holds and with the
stored count: 0 lost, 0 counted twice, 0 server errors.

The members sign in through the session service (a session record and the signed cookie
naming it, as the sign-in form makes them) rather than by two hundred password checks.
"""

from __future__ import annotations

import os
import queue
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import coop, create_app
from portal.db import database, write_session
from portal.extensions import start_session
from portal.models import (
    Ballot,
    ClassMembership,
    LedgerKind,
    Member,
    MemberStatus,
    Participation,
    Resolution,
    ResolutionState,
    Role,
    User,
    utcnow,
)
from portal.services.accounts import passwords, sessions
from portal.services.counters import next_number
from portal.services.meetings import ballots, closing
from portal.services.register import members
from portal.services.register.classes import find_class
from portal.services.shares import ledger
from portal.services.shares.share_types import find_type

from .conftest import PASSWORD, base_config, fresh_database_url
from .factories import Factories, MeetingRef, MemberRef
from .test_concurrency import Browserless

ROOT = Path(__file__).resolve().parent.parent
VOTERS = 200
DUPLICATES = 50  # members whose vote is posted twice at once (a double click)
CHANGES = 20  # other members, who change their vote once the first is acknowledged
# Requests the server handles at once: WORKERS processes of THREADS threads each.
WORKERS = 4
THREADS = 4
CLIENTS = 50  # voters' browsers posting at once while voting closes
CLASSES = ("listener", "artist", "worker")  # the roll's classes; the members dealt round them
CHOICES = ("for", "against", "abstain")
HTMX = {"HX-Request": "true"}

RECORDED_RE = re.compile(r"is recorded: (For|Against|Abstain)\.")
RECEIPT_RE = re.compile(r"Receipt <code>([0-9A-Z-]+)</code>")
CLOSED = "has closed; your vote was not counted."


# -- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(app: Flask, base: str) -> dict[str, str]:
    """The environment that makes ``wsgi:app`` this test's app: its database, instance
    folder and secret key (so the cookies, CSRF tokens and voter tags made here hold there)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        SECRET_KEY=app.config["SECRET_KEY"],
        PORTAL_INSTANCE_PATH=app.instance_path,
        PORTAL_TESTING="true",
        PORTAL_PUBLIC_BASE_URL=base,
        PORTAL_PREFERRED_URL_SCHEME="http",
        PORTAL_SESSION_COOKIE_SECURE="false",
        PORTAL_HTMX_LOCAL="true",
    )
    return env


@dataclass
class Server:
    """A gunicorn server of the app, and what it wrote to its error log."""

    base: str
    log: Path
    pid: int = 0  # the master's

    def workers(self) -> list[int]:
        """The worker processes' ids: the master's children, as Linux lists them."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return sorted(int(pid) for pid in children.read_text().split())
        except OSError:
            return []

    def errors(self) -> list[str]:
        """Lines of the log that tell of a failure in a request (or a worker)."""
        text = self.log.read_text(errors="replace")
        return [
            line
            for line in text.splitlines()
            if "Traceback" in line or "[ERROR]" in line or "WORKER TIMEOUT" in line
        ]


def wait_until_serving(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn stopped (exit {process.returncode}):\n{log.read_text()}")
        try:
            status, _ = Browserless(base, timeout=5).request("GET", "/healthz")
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within 60 s:\n{log.read_text()}")


@contextmanager
def gunicorn(
    app: Flask,
    folder: Path,
    *,
    workers: int = WORKERS,
    threads: int = THREADS,
    name: str = "gunicorn",
    config: dict[str, str] | None = None,
) -> Iterator[Server]:
    """``gunicorn wsgi:app`` on a free port, on ``app``'s database, until the block ends
    (``config``: more settings, as PORTAL_<key> variables; its log is ``<name>.log``)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--bind=127.0.0.1:{port}",
        "--graceful-timeout=5",
        "wsgi:app",
    ]
    env = server_environment(app, base)
    env.update({f"PORTAL_{key}": value for key, value in (config or {}).items()})
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(process, base, log)
        yield Server(base, log, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -- the voters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voter:
    """A member signed in: their session cookie and its CSRF token."""

    member: MemberRef
    cookie: str
    csrf: str


def signed_in(app: Flask, user_ids: list[int]) -> dict[int, tuple[str, str]]:
    """For each user, a session opened through the session service: the cookie naming it
    and the CSRF token of that browser session, as after signing in."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    name = app.config["SESSION_COOKIE_NAME"]
    made = {}
    with write_session(app) as db:
        for user_id in user_ids:
            with app.test_request_context("/"):
                user = db.get(User, user_id)
                token = sessions.open_session(
                    db, user, user_agent="voting server test", ip="127.0.0.1"
                )
                start_session(user, token)
                csrf = generate_csrf()
                made[user_id] = (f"{name}={serializer.dumps(dict(session))}", csrf)
    return made


@dataclass(frozen=True)
class Served:
    """The app, its gunicorn server, the voters signed in, and a secretary's browser."""

    app: Flask
    server: Server
    voters: list[Voter]
    staff: Browserless
    staff_csrf: str

    def meeting(self) -> MeetingRef:
        """An AGM open for voting on an open and a secret resolution, every voter on its
        roll (frozen from the register as the notice goes out)."""
        return Factories(self.app).meeting(
            resolutions=[
                {"title": "Adopt the budget"},
                {"title": "Elect the board", "secret": True},
            ]
        )


def register_members(db: Session, count: int) -> list[MemberRef]:
    """``count`` members put straight on the register, dealt round CLASSES: an account,
    the member row, their class, their status history and their paid membership share in
    the ledger (its hash chain and all), as admission leaves them, without the
    application, the mail and the certificate each admission also makes. Enough for the
    roll (``roll.eligible_entries``) and for signing in; hundreds in a second or two."""
    today = coop.today(db)
    currency = coop.settings(db).currency
    membership = find_type(db, "membership")
    classes = [find_class(db, code) for code in CLASSES]
    password_hash = passwords.hash_password(PASSWORD)  # one hash: nobody types it here
    made = []
    for i in range(count):
        member_class = classes[i % len(classes)]
        name = f"Voter Number{i + 1}"
        user = User(
            name=name,
            email=f"voter{i + 1}@example.org",
            password_hash=password_hash,
            role=Role.MEMBER,
            email_verified_at=utcnow(),
        )
        member = Member(
            number=next_number(db, members.MEMBER_NUMBER),
            user=user,
            name=name,
            address_line1="1 Main Street",
            town="Cork",
            country="Ireland",
            status=MemberStatus.ACTIVE,
            admitted_on=today,
            primary_class=member_class,
        )
        db.add(member)
        db.flush()
        members.record_status(db, member, MemberStatus.ACTIVE, "Admitted", None)
        db.add(ClassMembership(member=member, member_class=member_class, admitted_on=today))
        ledger.append(
            db,
            kind=LedgerKind.ISSUE,
            member=member,
            share_type=membership,
            quantity=1,
            currency=currency,
            reference=f"VOTER-{i + 1}",
            actor=None,
        )
        made.append(MemberRef(member.id, member.number, user.id, user.email, name))
    return made


@pytest.fixture(scope="module")
def served(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """VOTERS members of the Reverb co-op, each signed in, and a gunicorn server of the
    app, made once for the module's tests (each test holds a meeting of its own)."""
    folder = tmp_path_factory.mktemp("voting-server")
    instance = folder / "instance"
    instance.mkdir()
    app = create_app(base_config(instance, fresh_database_url(migrated_template, instance)))
    factories = Factories(app)
    factories.coop()
    secretary = factories.user(role="staff", name="Sam Secretary")
    with app.test_request_context("/"), write_session(app) as db:
        voting = register_members(db, VOTERS)
    cookies = signed_in(app, [m.user_id for m in voting] + [secretary.id])
    try:
        with gunicorn(app, folder) as server:
            staff_cookie, staff_csrf = cookies[secretary.id]
            staff = Browserless(server.base, timeout=120)
            staff.cookie = staff_cookie
            voters = [Voter(m, *cookies[m.user_id]) for m in voting]
            yield Served(app, server, voters, staff, staff_csrf)
    finally:
        database(app).engine.dispose()


# -- voting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the server answered a vote: its status, and the choice and receipt it showed."""

    status: int
    choice: str | None
    receipt: str | None
    body: str

    @property
    def acknowledged(self) -> bool:
        return self.status == 200 and self.choice is not None and self.receipt is not None

    @property
    def refused_as_closed(self) -> bool:
        return self.status == 409 and CLOSED in self.body and self.choice is None


def cast(base: str, voter: Voter, meeting_id: int, resolution_id: int, choice: str) -> Answer:
    """Post the vote as htmx does, and read the ballot partial the server answers."""
    client = Browserless(base, timeout=120)
    client.cookie = voter.cookie
    try:
        status, body = client.request(
            "POST",
            f"/meetings/{meeting_id}/resolutions/{resolution_id}/vote",
            {"choice": choice, "csrf_token": voter.csrf},
            headers=HTMX,
        )
    except Exception as error:  # reported through the answer, not lost in a thread
        return Answer(0, None, None, repr(error))
    recorded = RECORDED_RE.search(body)
    receipt = RECEIPT_RE.search(body)
    return Answer(
        status,
        recorded.group(1).lower() if recorded else None,
        receipt.group(1) if receipt else None,
        body,
    )


def run_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not [thread for thread in threads if thread.is_alive()], "a request never returned"


def unexpected(answers: list[Answer], allowed: Callable[[Answer], bool]) -> list[tuple]:
    return [(a.status, a.choice, a.receipt, a.body[:300]) for a in answers if not allowed(a)]


def close_meeting(served: Served, meeting: MeetingRef) -> int:
    """Staff close voting on the meeting, as the meeting page's button does."""
    status, _ = served.staff.request(
        "POST", f"/staff/meetings/{meeting.id}/close", {"csrf_token": served.staff_csrf}
    )
    return status


def stored_open_votes(app: Flask, resolution_id: int) -> dict[int, tuple[str, str]]:
    """The open resolution's participations: member id to (choice, receipt)."""
    with write_session(app) as db:
        rows = db.execute(
            select(Participation.member_id, Participation.choice, Participation.receipt).where(
                Participation.resolution_id == resolution_id
            )
        ).all()
    assert len(rows) == len({member_id for member_id, _, _ in rows})  # one per member
    return {member_id: (choice.value, receipt) for member_id, choice, receipt in rows}


def participants(app: Flask, resolution_id: int) -> list[int]:
    with write_session(app) as db:
        return list(
            db.scalars(
                select(Participation.member_id).where(Participation.resolution_id == resolution_id)
            )
        )


def stored_ballots(app: Flask, resolution_id: int) -> list[tuple[str, str, str | None]]:
    """The secret resolution's ballots: (choice, receipt, voter tag) each."""
    with write_session(app) as db:
        return [
            (choice.value, receipt, tag)
            for choice, receipt, tag in db.execute(
                select(Ballot.choice, Ballot.receipt, Ballot.voter_tag).where(
                    Ballot.resolution_id == resolution_id
                )
            )
        ]


def stored_count(app: Flask, resolution_id: int) -> tuple[ResolutionState, Counter[str]]:
    with write_session(app) as db:
        resolution = db.get(Resolution, resolution_id)
        counted = Counter(
            {
                "for": resolution.votes_for,
                "against": resolution.votes_against,
                "abstain": resolution.abstentions,
            }
        )
        return resolution.state, +counted


def check_votes_ok(app: Flask) -> None:
    with app.test_request_context("/"), write_session(app) as db:
        check = closing.check_votes(db)
    assert check.ok, check.problems
    assert check.checked >= 2


# -- the tests --------------------------------------------------------------------------------

# The test without a server comes first: on PostgreSQL each test's own database is emptied
# as it starts, which must not happen while the module's server (``served``) is in use.


def test_a_secret_vote_counted_as_voting_closes_still_shows_its_receipt(
    app, make_member, make_meeting, sign_in, monkeypatch
):
    """Closing seals a secret ballot (it no longer names the voter); a vote counted just
    before must still answer with its receipt, which the member checks the results with."""
    member = make_member(classes=["listener"])
    meeting = make_meeting(resolutions=[{"title": "Elect the board", "secret": True}])
    [resolution_id] = meeting.resolution_ids
    browser = sign_in(member.email)
    cast_vote = ballots.cast_vote

    def counted_as_it_closes(db, resolution, *args, **kwargs):
        vote = cast_vote(db, resolution, *args, **kwargs)
        closing.close_resolution(db, resolution, actor=None)  # staff's close, just after
        return vote

    monkeypatch.setattr(ballots, "cast_vote", counted_as_it_closes)
    response = browser.post(
        f"/meetings/{meeting.id}/resolutions/{resolution_id}/vote",
        data={"choice": "against"},
        headers=HTMX,
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert RECORDED_RE.search(page).group(1) == "Against"
    receipt = RECEIPT_RE.search(page)
    assert receipt, page
    assert stored_ballots(app, resolution_id) == [("against", receipt.group(1), None)]


@pytest.mark.slow
def test_two_hundred_members_voting_at_once_with_duplicates_and_changes_count_exactly_once(
    served,
):
    app, gunicorn, voters = served.app, served.server, served.voters
    meeting = served.meeting()
    open_id, secret_id = meeting.resolution_ids
    first = {
        (v.member.id, rid): CHOICES[(i + offset) % 3]
        for i, v in enumerate(voters)
        for rid, offset in ((open_id, 0), (secret_id, 1))
    }
    doubled = voters[:DUPLICATES]
    changers = voters[DUPLICATES : DUPLICATES + CHANGES]
    changed = {
        (v.member.id, rid): CHOICES[(CHOICES.index(first[v.member.id, rid]) + 1) % 3]
        for v in changers
        for rid in (open_id, secret_id)
    }
    posts = [(v, rid) for v in voters for rid in (open_id, secret_id)]
    posts += [(v, rid) for v in doubled for rid in (open_id, secret_id)]
    answers: dict[tuple[int, int], list[tuple[str, Answer]]] = {key: [] for key in first}
    barrier = threading.Barrier(len(posts))

    def vote(voter: Voter, resolution_id: int) -> None:
        key = (voter.member.id, resolution_id)
        barrier.wait()
        answer = cast(gunicorn.base, voter, meeting.id, resolution_id, first[key])
        answers[key].append((first[key], answer))
        if key in changed and answer.acknowledged:  # the member changes their mind
            again = cast(gunicorn.base, voter, meeting.id, resolution_id, changed[key])
            answers[key].append((changed[key], again))

    run_all([threading.Thread(target=vote, args=post) for post in posts])

    everything = [answer for told in answers.values() for _sent, answer in told]
    assert len(everything) == len(posts) + len(changed)
    assert unexpected(everything, lambda a: a.acknowledged) == []  # every post answered 200
    assert gunicorn.errors() == []
    for told in answers.values():
        assert [answer.choice for sent, answer in told] == [sent for sent, _ in told]
        assert len({answer.receipt for _sent, answer in told}) == 1  # one receipt, kept
    last = {key: told[-1][1] for key, told in answers.items()}
    assert {key: answer.choice for key, answer in last.items()} == {**first, **changed}

    # The open resolution: one participation per member, holding their last choice.
    expected_open = {
        member_id: (answer.choice, answer.receipt)
        for (member_id, rid), answer in last.items()
        if rid == open_id
    }
    assert stored_open_votes(app, open_id) == expected_open
    # The secret one: each member took part once; their ballot (found through the voter
    # tag only the app can compute) holds their last choice and receipt; no other ballot.
    assert sorted(participants(app, secret_id)) == sorted(v.member.id for v in voters)
    boxed = {tag: (choice, receipt) for choice, receipt, tag in stored_ballots(app, secret_id)}
    assert len(boxed) == VOTERS
    with app.test_request_context("/"):
        assert boxed == {
            ballots.voter_tag(secret_id, member_id): (answer.choice, answer.receipt)
            for (member_id, rid), answer in last.items()
            if rid == secret_id
        }

    assert close_meeting(served, meeting) == 303
    for rid in (open_id, secret_id):
        state, counted = stored_count(app, rid)
        assert state is ResolutionState.CLOSED
        assert counted == Counter(a.choice for (_m, r), a in last.items() if r == rid)
    sealed = stored_ballots(app, secret_id)
    assert {tag for _choice, _receipt, tag in sealed} == {None}
    assert sorted((c, r) for c, r, _tag in sealed) == sorted(boxed.values())
    check_votes_ok(app)
    assert gunicorn.errors() == []


@pytest.mark.slow
def test_closing_while_votes_are_in_flight_counts_every_acknowledged_vote(served):
    app, gunicorn, voters = served.app, served.server, served.voters
    meeting = served.meeting()
    open_id, secret_id = meeting.resolution_ids
    sent = {
        (v.member.id, rid): CHOICES[(i + offset) % 3]
        for i, v in enumerate(voters)
        for rid, offset in ((open_id, 0), (secret_id, 2))
    }
    by_id = {v.member.id: v for v in voters}
    waiting = queue.SimpleQueue()
    for key in random.Random(13).sample(sorted(sent), len(sent)):
        waiting.put(key)
    answers: dict[tuple[int, int], Answer] = {}
    # Staff close once a third of the votes are answered: CLIENTS more are in flight (more
    # than the server's WORKERS x THREADS), and the rest are sent while and after it closes.
    a_third_in = threading.Semaphore(0)
    closed: list[int] = []

    def voter_browser() -> None:
        while True:
            try:
                member_id, rid = waiting.get_nowait()
            except queue.Empty:
                return
            answer = cast(gunicorn.base, by_id[member_id], meeting.id, rid, sent[member_id, rid])
            answers[member_id, rid] = answer
            a_third_in.release()

    def close() -> None:
        for _ in range(len(sent) // 3):
            a_third_in.acquire(timeout=120)
        closed.append(close_meeting(served, meeting))

    run_all(
        [threading.Thread(target=close)]
        + [threading.Thread(target=voter_browser) for _ in range(CLIENTS)]
    )

    assert closed == [303]
    assert len(answers) == len(sent)
    refused_or_counted = unexpected(
        list(answers.values()), lambda a: a.acknowledged or a.refused_as_closed
    )
    assert refused_or_counted == []  # no 5xx, no other refusal: counted, or a clear 409
    assert gunicorn.errors() == []
    acknowledged = {key: a for key, a in answers.items() if a.acknowledged}
    refused = {key for key, a in answers.items() if a.refused_as_closed}
    assert acknowledged and refused, "the close did not land while votes were in flight"
    for key, answer in acknowledged.items():
        assert answer.choice == sent[key]

    for rid in (open_id, secret_id):
        told = {m: a for (m, r), a in acknowledged.items() if r == rid}
        state, counted = stored_count(app, rid)
        assert state is ResolutionState.CLOSED
        assert counted == Counter(a.choice for a in told.values())
        assert sorted(participants(app, rid)) == sorted(told)  # refused ones wrote nothing
        if rid == open_id:
            assert stored_open_votes(app, rid) == {
                m: (a.choice, a.receipt) for m, a in told.items()
            }
        else:  # sealed: no tag left, but every receipt shown is there with its choice
            assert sorted(stored_ballots(app, rid)) == sorted(
                (a.choice, a.receipt, None) for a in told.values()
            )
    check_votes_ok(app)
