"""The staff lists do constant work (issue 16 §3): each page runs the same number of SQL
statements for a co-op of 10 members as for one of 1,000 (benchmarks/seed_large.py makes
both: about 150 and 15,000 audit events, 2,700 orders, 1,000 applications), and on
PostgreSQL the paginated pages' queries read an index, never a whole big table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select, text

from portal import create_app
from portal.db import database
from portal.models import AuditEvent, Member, User
from portal.presets import RESONATE
from tests.conftest import POSTGRES_URL, CSRFClient, base_config, fresh_database_url
from tests.factories import sql_statements
from tests.test_seed_large import seed_large

STAFF = RESONATE.demo.acting_staff

# Every staff list, with each of its filters; "{...}" filled from the co-op.
PAGES = (
    "/staff/members",
    "/staff/members?q=a",
    "/staff/members?q={surname}",
    "/staff/members?q={email}",
    "/staff/members?q=%23{number}",
    "/staff/members?status=ceased",
    "/staff/members?class=artist&status=active",
    "/staff/applications",
    "/staff/applications?state=all",
    "/staff/applications?state=approved",
    "/staff/applications?state=awaiting_share&class=worker",
    "/staff/orders",
    "/staff/orders?state=all",
    "/staff/orders?state=paid&q={surname}",
    "/staff/audit",
    "/staff/audit?action=member.admitted",
    "/staff/audit?object_type=member",
    "/staff/audit?actor={staff}",
    "/staff/audit?since=2020-01-01&until=2099-12-31",
    "/staff/withdrawals",
    "/staff/transfers",
    "/staff/meetings",
    "/staff/documents",
    "/staff/outbox",
    "/staff/register",
    "/staff/register?type=supporter",
    "/staff/register?class=listener",
    "/staff/register?as_of=2025-06-30",
)
NEXT = re.compile(r'<a href="([^"]+)" rel="next"')


def _work(seen: list[str]) -> int:
    """The statements a page ran, but for its count: bounded (``LIMIT``), it is run once a
    list has a second page, so a co-op of 10 has none where one of 1,000 has one."""
    counts = [s for s in seen if s.lstrip().startswith("SELECT count(*)")]
    assert len(counts) <= 1 and all("LIMIT" in s for s in counts), counts
    return len(seen) - len(counts)


@pytest.fixture
def seeded(tmp_path: Path, migrated_template: str) -> Iterator[Callable[[int], Flask]]:
    """Seed a co-op of N members (benchmarks/seed_large.py) on a database of its own (on
    PostgreSQL the same database, emptied: one at a time); engines closed at the end."""
    apps: list[Flask] = []

    def seed(members: int) -> Flask:
        instance = tmp_path / f"seeded-{members}"
        instance.mkdir()
        app = create_app(base_config(instance, fresh_database_url(migrated_template, instance)))
        app.test_client_class = CSRFClient
        apps.append(app)
        lines: list[str] = []
        ok, _ = seed_large.seed(app, members, out=lines.append)
        assert ok, "\n".join(lines)
        return app

    yield seed
    for app in apps:
        database(app).engine.dispose()


def _facts(app: Flask) -> dict[str, str]:
    with app.app_context(), database(app).session(write=False) as db:
        member = db.scalars(select(Member).where(Member.user_id.is_not(None))).first()
        assert member is not None and member.user is not None
        staff = db.scalar(select(User.id).where(User.email == STAFF.email))
        return {
            "surname": member.name.split()[-1].lower(),
            "email": member.user.email[:8],
            "number": str(member.number),
            "staff": str(staff),
        }


def _statements(app: Flask) -> Iterator[tuple[str, int]]:
    """Each page's statement count, then its second page's (when it has one)."""
    client = app.test_client()
    assert client.login(STAFF.email, STAFF.password).status_code == 303
    facts = _facts(app)
    for page in PAGES:
        url = page.format(**facts)
        client.get(url)  # warm: the settings, the session's user
        with sql_statements(app) as seen:
            response = client.get(url)
        assert response.status_code == 200, url
        yield url, _work(seen)
        found = NEXT.search(response.get_data(as_text=True))
        if found:
            later = found.group(1).replace("&amp;", "&")
            with sql_statements(app) as seen:
                assert client.get(later).status_code == 200, later
            yield f"{page} (a later page)", _work(seen)


def test_every_staff_list_runs_the_same_statements_at_10_and_at_1000_members(
    seeded: Callable[[int], Flask],
) -> None:
    small_app = seeded(10)
    small = dict(_statements(small_app))
    database(small_app).engine.dispose()  # on PostgreSQL the next seed empties its tables
    large_app = seeded(1000)
    with large_app.app_context(), database(large_app).session(write=False) as db:
        assert db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())) > 10_000
    large = dict(_statements(large_app))
    client = large_app.test_client()
    assert client.login(STAFF.email, STAFF.password).status_code == 303
    register = client.get("/staff/register").get_data(as_text=True)
    assert re.search(r"of \d,\d{3} holders", register), "counts past 999 are grouped: 1,024"
    grown = {url: (small.get(url), n) for url, n in large.items() if n > small.get(url, n)}
    assert not grown, f"statements grew (10 members, 1,000 members): {grown}"
    # A few, whatever the size: the register's page adds its totals, chart and classes.
    over = {u: n for u, n in large.items() if n > (20 if u.startswith("/staff/register") else 16)}
    assert not over, over


# The paginated pages, whose queries must each read an index of the big tables.
PAGINATED = tuple(
    page
    for page in PAGES
    if page.split("?")[0]
    in {"/staff/members", "/staff/applications", "/staff/orders", "/staff/audit"}
)
BIG_TABLES = re.compile(r"Seq Scan on (share_ledger|members|share_orders|audit_events)\b")


@pytest.mark.skipif(not POSTGRES_URL, reason="EXPLAIN plans are PostgreSQL's (CI runs it)")
def test_the_paginated_pages_never_read_a_big_table_whole_on_postgresql(
    seeded: Callable[[int], Flask],
) -> None:
    app = seeded(60)
    client = app.test_client()
    assert client.login(STAFF.email, STAFF.password).status_code == 303
    facts = _facts(app)
    engine = database(app).engine
    run: list[tuple[str, str, object]] = []

    def keep(_conn: object, _cursor: object, statement: str, parameters: object, *_: object):
        if statement.lstrip().upper().startswith("SELECT"):
            run.append((url, statement, parameters))

    for page in PAGINATED:
        url = page.format(**facts)
        event.listen(engine, "before_cursor_execute", keep)
        try:
            response = client.get(url)
            found = NEXT.search(response.get_data(as_text=True))
            if found:  # a later page too: its cursor's conditions
                client.get(found.group(1).replace("&amp;", "&"))
        finally:
            event.remove(engine, "before_cursor_execute", keep)
    read = " ".join(statement for _, statement, _ in run)
    assert all(f"FROM {table}" in read for table in ("members", "share_orders", "audit_events"))
    scans = []
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        for url, statement, parameters in run:
            plan = "\n".join(
                row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)
            )
            if BIG_TABLES.search(plan):
                scans.append(f"{url}: {statement}\n{plan}")
    assert not scans, "\n\n".join(scans)
