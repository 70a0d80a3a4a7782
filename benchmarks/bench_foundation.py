"""Foundation figures: request cost of the portal's pages against a bare Flask route,
and sign-in timing for known versus unknown e-mail addresses.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_foundation.py`). Uses a
temporary SQLite database, or PostgreSQL when DATABASE_URL is set. Prints figures; it
asserts nothing, so it never fails on a slow machine.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app, demo
from portal.db import database, write_session
from portal.migrations import upgrade
from portal.models import AuditEvent, Role
from portal.services.accounts import two_factor, users

PASSWORD = "benchmark-lantern-quarry-77"
STAFF = "staff@bench.example"


def build_app(instance: Path) -> Flask:
    config = {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "PREFERRED_URL_SCHEME": "http",
        "HTMX_LOCAL": True,
    }
    app = create_app(config)
    engine = database(app).engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    return app


def make_staff(db: Session) -> None:
    """The bench's staff member, with two-factor sign-in on the demo's public key (the staff
    pages need it)."""
    staff = users.create_user(
        db,
        name="Bench Staff",
        email=STAFF,
        password=PASSWORD,
        role=Role.STAFF,
        verified=True,
    )
    db.flush()
    two_factor.enrol_with_secret(db, staff, demo.DEMO_TWO_FACTOR_SECRET)


def sign_in_staff(client: FlaskClient) -> None:
    """Sign the bench's staff member in: the password, then the code of the demo's key."""
    client.post("/login", data={"email": STAFF, "password": PASSWORD})
    answer = client.post("/login/code", data={"code": demo.two_factor_code()[0]})
    assert answer.status_code == 303, f"the staff sign-in answered {answer.status_code}"


def seed(app: Flask, events: int) -> None:
    with app.test_request_context("/"), write_session(app) as db:
        make_staff(db)
        db.add_all(
            AuditEvent(
                action=f"bench.{i % 7}",
                object_type="thing",
                object_id=str(i),
                summary=f"benchmark event {i}",
            )
            for i in range(events)
        )


def per_request(client, method: str, path: str, n: int, **kwargs) -> float:
    """Median milliseconds per request over n runs (after one warm-up)."""
    getattr(client, method)(path, **kwargs)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = getattr(client, method)(path, **kwargs)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code < 400, (path, response.status_code)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Path(tmp))

        @app.get("/bare")
        def bare() -> str:
            return "ok"

        seed(app, events=20_000)
        client = app.test_client()
        baseline = per_request(client, "get", "/bare", 300)
        rows = [("bare Flask route (baseline)", baseline)]
        rows.append(("landing page /", per_request(client, "get", "/", 200)))
        rows.append(("healthz (database ping)", per_request(client, "get", "/healthz", 200)))
        sign_in_staff(client)
        rows.append(("dashboard /me (session check)", per_request(client, "get", "/me", 200)))
        rows.append(
            ("audit log, 20k events, page 1", per_request(client, "get", "/staff/audit", 50))
        )
        rows.append(
            (
                "audit log filtered (htmx partial)",
                per_request(
                    client,
                    "get",
                    "/staff/audit?action=bench.3&page=40",
                    50,
                    headers={"HX-Request": "true"},
                ),
            )
        )

        print(f"database: {database(app).engine.dialect.name}")
        print(f"{'request':<40} {'median ms':>10} {'x baseline':>11}")
        for name, ms in rows:
            print(f"{name:<40} {ms:>10.2f} {ms / baseline:>11.1f}")

        # Sign-in failures: a known and an unknown address should cost the same
        # (both run one argon2id verification), so timing reveals no accounts.
        anon = app.test_client()
        known, unknown = [], []
        for i in range(20):
            for email, bucket in (
                ("staff@bench.example", known),
                (f"nobody{i}@bench.example", unknown),
            ):
                start = time.perf_counter()
                anon.post("/login", data={"email": email, "password": f"wrong-{i}"})
                bucket.append((time.perf_counter() - start) * 1000)
            if i % 8 == 7:  # stay under the per-account throttle
                with write_session(app) as db:
                    db.execute(text("DELETE FROM login_failures"))
        k, u = statistics.median(known), statistics.median(unknown)
        print(f"\nfailed sign-in, known e-mail:   {k:8.1f} ms (median of 20, argon2id defaults)")
        print(f"failed sign-in, unknown e-mail: {u:8.1f} ms (ratio {k / u:.2f})")
        database(app).engine.dispose()


if __name__ == "__main__":
    os.environ.setdefault("PORTAL_HTMX_LOCAL", "true")
    main()
