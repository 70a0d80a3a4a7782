"""Staff finding orders at scale: /staff/orders searched by reference, member number and
name, paged by key, and a member's page, with 100,000 members and 200,000 orders.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_orders.py`). Uses a
temporary SQLite database, or PostgreSQL when DATABASE_URL is set. Prints figures; it
asserts nothing, so it never fails on a slow machine. Target (issue 11, 3): every search
and page under 100 ms median.
"""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_foundation import build_app, make_staff, per_request, sign_in_staff

from portal.db import database, write_session
from portal.models import Member, OrderState, ShareOrder, ShareType
from portal.presets import RESONATE
from portal.services import settings
from portal.services.shares.orders import payment_reference

MEMBERS = 100_000
ORDERS_EACH = 2
FIRST = ["Ada", "Ben", "Cara", "Dara", "Eoin", "Fiona", "Gus", "Hana", "Ivo", "Jane"]
LAST = ["Okafor", "Byrne", "Murphy", "Kelly", "Walsh", "Ryan", "Doyle", "Nolan", "Quinn"]


def seed(app) -> tuple[str, int]:
    """The members and their orders, written in bulk; a reference and a member's id to find."""
    rng = random.Random(11)
    with app.test_request_context("/"), write_session(app) as db:
        settings.apply_preset(db, RESONATE)
        make_staff(db)
        supporter = db.scalar(select(ShareType.id).where(ShareType.code == "supporter"))
    engine = database(app).engine
    start = datetime(2024, 1, 1, tzinfo=UTC)
    references: set[str] = set()
    with engine.begin() as conn:
        for low in range(1, MEMBERS + 1, 10_000):
            conn.execute(
                insert(Member),
                [
                    {
                        "number": n,
                        "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}",
                        "address_line1": "1 Quay",
                        "town": "Cork",
                        "country": "Ireland",
                        "status": "active",
                        "admitted_on": date(2024, 1, 1),
                    }
                    for n in range(low, min(low + 10_000, MEMBERS + 1))
                ],
            )
        ids = conn.execute(select(Member.id).order_by(Member.id)).scalars().all()
        rows = []
        for i, member_id in enumerate(ids):
            for j in range(ORDERS_EACH):
                reference = payment_reference()
                while reference in references:
                    reference = payment_reference()
                references.add(reference)
                rows.append(
                    {
                        "member_id": member_id,
                        "share_type_id": supporter,
                        "quantity": 5,
                        "amount_minor": 500,
                        "currency": "EUR",
                        "payment_reference": reference,
                        # One order in twenty waits for its payment; the rest are issued.
                        "state": "pending_payment" if (i + j) % 20 == 0 else "issued",
                        "created_at": start + timedelta(minutes=i * ORDERS_EACH + j),
                    }
                )
        for low in range(0, len(rows), 20_000):
            conn.execute(insert(ShareOrder), rows[low : low + 20_000])
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
        wanted = conn.execute(
            select(ShareOrder.payment_reference, ShareOrder.member_id)
            .where(ShareOrder.state == OrderState.PENDING_PAYMENT)
            .order_by(ShareOrder.id.desc())
            .limit(1)
        ).one()
    return wanted[0], wanted[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Path(tmp))
        reference, member_id = seed(app)
        client = app.test_client()
        sign_in_staff(client)
        page = client.get("/staff/orders").get_data(as_text=True)
        after = page.split("after=")[1].split("&")[0].split('"')[0] if "after=" in page else ""
        number = MEMBERS - 7
        cases = [
            ("awaiting payment, first page", "/staff/orders"),
            ("awaiting payment, next page (key)", f"/staff/orders?after={after}"),
            ("any state, first page", "/staff/orders?state=all"),
            ("whole reference", f"/staff/orders?q={reference}&state=all"),
            (
                "reference without dashes, lower",
                f"/staff/orders?q={reference.lower().replace('-', '')}",
            ),
            ("half a reference", f"/staff/orders?q={reference[-4:]}&state=all"),
            ("member number", f"/staff/orders?q={number}&state=all"),
            ("one word of a name", "/staff/orders?q=okafor"),
            ("two words of a name", "/staff/orders?q=ada+okafor&state=all"),
            ("nothing found", "/staff/orders?q=zzzzqqqq&state=all"),
            ("one member's orders", f"/staff/orders?member={member_id}&state=all"),
            ("a member's page", f"/staff/members/{member_id}"),
        ]
        print(
            f"database: {database(app).engine.dialect.name}, {MEMBERS:,} members, "
            f"{MEMBERS * ORDERS_EACH:,} orders"
        )
        print(f"{'request':<40} {'median ms':>10}")
        for name, path in cases:
            print(f"{name:<40} {per_request(client, 'get', path, 15):>10.1f}")
        database(app).engine.dispose()


if __name__ == "__main__":
    main()
