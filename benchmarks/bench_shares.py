"""Shares figures: how long a share certificate takes to render, and how fast a stored
certificate downloads, each beside a bare Flask route measured in the same run.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_shares.py`). Uses a
temporary SQLite database, or PostgreSQL when DATABASE_URL is set. Prints figures; it
asserts nothing, so it never fails on a slow machine. Targets (issue 4): a warm render
of at most 100 ms median, and downloads at 70 % or more of the bare route's rate.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_foundation import PASSWORD, build_app

from portal import coop, pdf
from portal.db import database, write_session
from portal.models import Certificate, Member, MemberStatus, Role, ShareType
from portal.presets import RESONATE
from portal.services import settings
from portal.services.accounts import users
from portal.services.shares import certificates

OWNER = "owner@bench.example"


class TimedRender:
    """A certificate renderer that keeps how long each call took, in ms: wall and CPU.

    CPU time (all the process's threads: WeasyPrint works in a worker thread) tells the
    render's own cost apart from waiting for a busy machine.
    """

    def __init__(self, render: Callable[[Any, Any], bytes]) -> None:
        self.render = render
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __call__(self, certificate: Any, coop: Any) -> bytes:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return self.render(certificate, coop)
        finally:
            self.wall.append((time.perf_counter() - wall) * 1000)
            self.cpu.append((time.process_time() - cpu) * 1000)


def issue_certificate(app: Flask, render: TimedRender) -> None:
    """Put a member on the register and issue them a real certificate, rendered by ``render``."""
    with app.test_request_context("/"), write_session(app) as db:
        settings.apply_preset(db, RESONATE)
        owner, staff = (
            users.create_user(
                db, name=name, email=email, password=PASSWORD, role=role, verified=True
            )
            for name, email, role in (
                ("Aoife Ní Bhriain", OWNER, Role.MEMBER),
                ("Bench Staff", "staff@bench.example", Role.STAFF),
            )
        )
        member = Member(
            number=1,
            user_id=owner.id,
            name=owner.name,
            address_line1="1 Quay",
            town="Cork",
            country="Ireland",
            status=MemberStatus.ACTIVE,
            admitted_on=date(2026, 1, 1),
        )
        db.add(member)
        db.flush()
        supporter = db.scalar(select(ShareType).where(ShareType.code == "supporter"))
        certificates.issue_shares(
            db, member, supporter, 25, actor=staff, render=render, reference="BENCH-1"
        )


def render_samples(app: Flask, render: TimedRender, n: int) -> int:
    """Render certificate no. 1 again ``n`` times (timed by ``render``); return its PDF size."""
    with app.test_request_context("/"), write_session(app) as db:
        certificate = db.scalar(select(Certificate).where(Certificate.number == 1))
        for _ in range(n):
            data = render(certificate, coop.settings(db))
        return len(data)


def percentile(values: list[float], p: int) -> float:
    """The ``p``th percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)]


def requests_per_second(
    client: FlaskClient, path: str, n: int, *, etag: str | None = None
) -> float:
    """Requests per second over ``n`` back-to-back GETs of ``path`` (naming ``etag`` as the
    copy the browser has, when given: each answered 304)."""
    headers = {"If-None-Match": etag} if etag else {}
    start = time.perf_counter()
    for _ in range(n):
        response = client.get(path, headers=headers)
        assert response.status_code == (304 if etag else 200), (path, response.status_code)
    return n / (time.perf_counter() - start)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Path(tmp))

        @app.get("/bare")
        def bare() -> str:
            return "ok"

        render = TimedRender(pdf.render_certificate)
        issue_certificate(app, render)  # the process's first render: fonts load cold
        size = render_samples(app, render, 20)
        wall, cpu = render.wall[1:], render.cpu[1:]

        rows = [
            ("first in the process (cold)", render.wall[0], render.cpu[0]),
            ("median of the next 20 (warm)", statistics.median(wall), statistics.median(cpu)),
            ("p95 of the 20", percentile(wall, 95), percentile(cpu, 95)),
            ("fastest of the 20", min(wall), min(cpu)),
            ("slowest of the 20", max(wall), max(cpu)),
        ]
        print(f"database: {database(app).engine.dialect.name}")
        print(f"{'certificate render':<40} {'wall ms':>10} {'CPU ms':>8}")
        for name, wall_ms, cpu_ms in rows:
            print(f"  {name:<38} {wall_ms:>10.1f} {cpu_ms:>8.1f}")
        print(f"  {'PDF size':<38} {size / 1024:>7.1f} kB")

        client = app.test_client()
        client.post("/login", data={"email": OWNER, "password": PASSWORD})
        for path in ("/bare", "/certificates/1.pdf"):  # warm both routes up
            requests_per_second(client, path, 50)
        # Alternate the two in rounds so a noisy neighbour slows both alike.
        etag = client.get("/certificates/1.pdf").headers["ETag"]
        bare_rates, download_rates, revalidated_rates = [], [], []
        for _ in range(5):
            bare_rates.append(requests_per_second(client, "/bare", 300))
            download_rates.append(requests_per_second(client, "/certificates/1.pdf", 300))
            revalidated_rates.append(
                requests_per_second(client, "/certificates/1.pdf", 300, etag=etag)
            )
        bare_rate, download_rate = statistics.median(bare_rates), statistics.median(download_rates)
        revalidated_rate = statistics.median(revalidated_rates)
        print(f"\n{'request (median of 5 rounds of 300)':<40} {'req/s':>10} {'x bare':>8}")
        print(f"{'bare Flask route (baseline)':<40} {bare_rate:>10.0f} {1:>8.2f}")
        print(
            f"{'GET /certificates/1.pdf (owner)':<40} {download_rate:>10.0f} "
            f"{download_rate / bare_rate:>8.2f}"
        )
        print(
            f"{'  the same, If-None-Match (304)':<40} {revalidated_rate:>10.0f} "
            f"{revalidated_rate / bare_rate:>8.2f}"
        )
        database(app).engine.dispose()


if __name__ == "__main__":
    os.environ.setdefault("PORTAL_HTMX_LOCAL", "true")
    main()
