"""Beyond one machine (issue 16 §8): two instances of the app against one PostgreSQL.

Two gunicorn servers, each on its own port, as two machines behind one proxy would run
them: the same database and the same SECRET_KEY, nothing else shared. A browser signed in
on one is signed in on the other (the session is a record in the database named by a
cookie both can verify); a member's votes sent through both are one vote, counted once;
and the per-IP rate limit counts requests to both together, in the database (the default,
``database://``) or in Redis (``RATELIMIT_STORAGE_URI=redis://…``, with a redis-server
started for the test when the binary is there).

PostgreSQL only: SQLite is a file on one machine, which two machines cannot share.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from flask import Flask

from portal.models import ResolutionState

from .conftest import POSTGRES_URL
from .requirements import missing
from .test_concurrency import Browserless, sign_in
from .test_voting_server import (
    HTMX,
    RECEIPT_RE,
    RECORDED_RE,
    Server,
    free_port,
    gunicorn,
    stored_count,
    stored_open_votes,
)

pytestmark = [
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="two instances share one database server: PostgreSQL only (DATABASE_URL "
        "unset; SQLite is a file on one machine)",
    ),
    pytest.mark.slow,  # two servers started per test: 25-40 s each on a busy 2-core machine
]

REDIS_SERVER = shutil.which("redis-server")
CLOSED = "has closed; your vote was not counted."


@contextmanager
def two_instances(app: Flask, folder: Path, **config: str) -> Iterator[tuple[Server, Server]]:
    with ExitStack() as stack:
        # One sync worker each: two processes that share nothing but the database.
        first = stack.enter_context(
            gunicorn(app, folder, workers=1, threads=1, name="a", config=config)
        )
        second = stack.enter_context(
            gunicorn(app, folder, workers=1, threads=1, name="b", config=config)
        )
        yield first, second
        assert first.errors() == [] and second.errors() == []


def on(server: Server, browser: Browserless) -> Browserless:
    """The same browser (its cookie) talking to another instance."""
    moved = Browserless(server.base, timeout=60)
    moved.cookie = browser.cookie
    return moved


def test_a_session_made_on_one_instance_works_on_the_other(app, make_member, tmp_path):
    member = make_member()
    with two_instances(app, tmp_path) as (a, b):
        browser, csrf = sign_in(a.base, member.email)
        assert browser.request("GET", "/me")[0] == 200
        assert on(b, browser).request("GET", "/me")[0] == 200  # signed in there too
        # The CSRF token made on A is accepted on B (the same secret key signs both).
        status, where = on(b, browser).request("POST", "/logout", {"csrf_token": csrf})
        assert status == 303, where
        # Signing out on B closed the session record: A no longer lets the cookie in.
        status, where = browser.request("GET", "/me")
        assert status in (302, 303) and "/login" in where


def vote(server: Server, browser: Browserless, path: str, csrf: str, choice: str):
    status, body = on(server, browser).request(
        "POST", path, {"choice": choice, "csrf_token": csrf}, headers=HTMX
    )
    recorded = RECORDED_RE.search(body)
    receipt = RECEIPT_RE.search(body)
    return status, recorded and recorded.group(1).lower(), receipt and receipt.group(1), body


def test_votes_sent_through_both_instances_count_once(
    app, make_member, make_user, make_meeting, tmp_path
):
    member = make_member(classes=["listener"])
    make_user(email="staff@example.org", role="staff", name="Sam Staff")
    meeting = make_meeting()
    [rid] = meeting.resolution_ids
    path = f"/meetings/{meeting.id}/resolutions/{rid}/vote"
    with two_instances(app, tmp_path) as (a, b):
        browser, csrf = sign_in(a.base, member.email)
        status, choice, receipt, _ = vote(a, browser, path, csrf, "for")
        assert (status, choice) == (200, "for") and receipt
        # The same member on the other instance changes it: still one vote, one receipt.
        status, choice, again, _ = vote(b, browser, path, csrf, "against")
        assert (status, choice, again) == (200, "against", receipt)
        # Both at once, one through each: one participation remains, holding one of them.
        answers = []
        threads = [
            threading.Thread(
                target=lambda s=server, c=c: answers.append(vote(s, browser, path, csrf, c))
            )
            for server, c in ((a, "abstain"), (b, "for"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(answer[0] for answer in answers) == [200, 200]
        [(choice, kept)] = stored_open_votes(app, rid).values()
        assert kept == receipt and choice in ("abstain", "for")

        staff, staff_csrf = sign_in(b.base, "staff@example.org", app)
        closing = staff.request(
            "POST", f"/staff/meetings/{meeting.id}/close", {"csrf_token": staff_csrf}
        )
        assert closing[0] == 303
        # Closed through B: A refuses a vote at once (409), and writes nothing.
        status, choice, _, body = vote(a, browser, path, csrf, "against")
        assert status == 409 and CLOSED in body and choice is None
    [(kept_choice, _)] = stored_open_votes(app, rid).values()
    state, counted = stored_count(app, rid)
    assert state is ResolutionState.CLOSED
    assert counted == Counter({kept_choice: 1})  # one member, one vote, counted once


def failed_sign_ins(server: Server, count: int) -> list[int]:
    browser = Browserless(server.base, timeout=60)
    token = browser.csrf_token()
    return [
        browser.request(
            "POST", "/login", {"email": "nobody@example.org", "password": "x", "csrf_token": token}
        )[0]
        for _ in range(count)
    ]


def limits_are_shared(app: Flask, folder: Path, storage: str) -> None:
    """Four sign-ins a minute from an address: two on A and two on B use them up, and the
    fifth is refused (429) on either."""
    config = {"RATELIMIT_STORAGE_URI": storage, "LOGIN_RATE_LIMIT": "4 per minute"}
    with two_instances(app, folder, **config) as (a, b):
        statuses = failed_sign_ins(a, 2) + failed_sign_ins(b, 2)
        assert 429 not in statuses, statuses  # refused as a wrong password, not limited
        assert failed_sign_ins(a, 1) == [429]
        assert failed_sign_ins(b, 1) == [429]


def test_rate_limits_are_shared_between_instances_in_the_database(app, tmp_path):
    limits_are_shared(app, tmp_path, "database://")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of the test's own on a free port (no disk, no other clients)."""
    if REDIS_SERVER is None:
        missing("redis-server is not installed (make system-packages installs it)")
    pytest.importorskip("redis", reason="the redis client is not installed (pip: .[test])")
    port = free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.1)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_rate_limits_are_shared_between_instances_in_redis(app, tmp_path, redis_url):
    limits_are_shared(app, tmp_path, redis_url)
