"""The register at scale (issue 16 §4): holdings and each day's net change kept beside the
ledger in the same transaction, checked by ``check-register``; the register page from them
in a constant number of statements; the CSV streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from portal.db import database
from portal.models import Holding, LedgerDay, LedgerEntry, LedgerKind, Member, ShareType
from portal.services.shares import ledger, share_register

from .factories import reading, sql_statements
from .services.test_ledger import ON_POSTGRES
from .services.test_ledger import tamper as tamper_ledger


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


def stored_holdings(app) -> dict[tuple[int, int], int]:
    with reading(app) as db:
        return {
            (m, t): q
            for m, t, q in db.execute(
                select(Holding.member_id, Holding.share_type_id, Holding.quantity)
            )
        }


def ledger_sums(app) -> dict[tuple[int, int], int]:
    with reading(app) as db:
        return ledger.holdings(db)


def test_each_ledger_row_moves_the_holding_in_the_same_transaction(
    app, make_member, make_ledger_row
):
    ann = make_member(name="Ann")
    make_ledger_row(ann, "supporter", 30, at("2026-03-02T12:00"))
    make_ledger_row(ann, "supporter", 12, at("2026-04-02T12:00"), LedgerKind.REDEEM)
    assert {k: v for k, v in stored_holdings(app).items() if v} == ledger_sums(app)
    with reading(app) as db:
        supporter = db.scalar(select(ShareType).where(ShareType.code == "supporter"))
        assert ledger.holding(db, db.get(Member, ann.id), supporter) == 18


def test_a_refused_row_leaves_the_holding_as_it_was(app, db, make_member):
    ann = make_member(name="Ann").load(db)
    supporter = db.scalar(select(ShareType).where(ShareType.code == "supporter"))
    with pytest.raises(Exception, match="holds fewer"):
        ledger.append(
            db,
            kind=LedgerKind.REDEEM,
            member=ann,
            share_type=supporter,
            quantity=1,
            currency="EUR",
            reference="t",
            actor=None,
        )
    assert (
        db.scalar(select(Holding.quantity).filter_by(member_id=ann.id, share_type_id=supporter.id))
        is None
    )


def test_each_day_s_net_change_is_kept_in_the_co_ops_zone(app, make_member, make_ledger_row):
    ann = make_member(name="Ann", admitted_on=date(2026, 1, 15))
    make_ledger_row(ann, "supporter", 25, at("2026-06-30T23:30"))  # 1 July in Dublin
    make_ledger_row(ann, "supporter", 5, at("2026-07-01T10:00"), LedgerKind.REDEEM)
    with reading(app) as db:
        supporter = db.scalar(select(ShareType.id).where(ShareType.code == "supporter"))
        days = dict(
            db.execute(
                select(LedgerDay.day, LedgerDay.net_quantity).where(
                    LedgerDay.share_type_id == supporter
                )
            ).all()
        )
    assert days == {date(2026, 7, 1): 20}


def tamper(app, statement: str) -> None:
    with database(app).engine.begin() as conn:
        conn.execute(text(statement))


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ("UPDATE holdings SET quantity = quantity + 7", "holding differs from the ledger"),
        ("DELETE FROM holdings", "holding differs from the ledger"),
        ("UPDATE ledger_days SET net_quantity = 99", "day's net change differs from the ledger"),
    ],
)
def test_check_register_fails_when_a_derived_table_is_tampered_with(
    app, make_member, make_ledger_row, runner, statement, found
):
    ann = make_member(name="Ann")
    make_ledger_row(ann, "supporter", 30, at("2026-03-02T12:00"))
    clean = runner.invoke(args=["check-register"])
    assert clean.exit_code == 0, clean.output
    tamper(app, statement)
    result = runner.invoke(args=["check-register"])
    assert result.exit_code == 1
    assert found in result.output


def test_rebuilding_the_derived_tables_gives_what_the_appends_kept(
    app, make_member, make_ledger_row
):
    ann = make_member(name="Ann")
    make_ledger_row(ann, "supporter", 30, at("2026-03-02T12:00"))
    make_ledger_row(ann, "supporter", 30, at("2026-03-02T23:59"), LedgerKind.CANCEL)
    before = stored_holdings(app)
    with reading(app) as db:
        days = db.execute(select(LedgerDay).order_by(LedgerDay.day)).scalars().all()
        days = [(d.day, d.share_type_id, d.net_quantity) for d in days]
    from portal import coop

    with app.app_context(), database(app).engine.begin() as conn:
        ledger.rebuild_derived(conn, coop.Clock.named("Europe/Dublin"))
    assert stored_holdings(app) == before
    with reading(app) as db:
        again = [
            (d.day, d.share_type_id, d.net_quantity)
            for d in db.execute(select(LedgerDay).order_by(LedgerDay.day)).scalars()
        ]
        assert again == days
        assert db.scalar(select(LedgerEntry.id).limit(1)) is not None


def holders_by_brute_force(app, day: date) -> tuple[dict[int, int], int]:
    """Holders per type and members holding anything at the end of ``day``, summed from
    every ledger row before its end (the definition, read the slow way)."""
    from portal import coop

    with reading(app) as db:
        held = ledger.holdings(db, as_of=coop.clock(db).end_of_day(day))
    per_type: dict[int, int] = {}
    for (_, type_id), quantity in held.items():
        if quantity > 0:
            per_type[type_id] = per_type.get(type_id, 0) + 1
    return per_type, len({m for (m, _), q in held.items() if q > 0})


def test_holders_as_of_a_day_are_exact_when_rows_are_appended_out_of_time_order(
    app, make_member, make_ledger_row, runner, staff
):
    ann, bob, cid = (make_member(name=n) for n in ("Ann", "Bob", "Cid"))
    make_ledger_row(ann, "supporter", 10, at("2026-05-01T12:00"))
    make_ledger_row(bob, "supporter", 5, at("2026-05-02T12:00"))
    make_ledger_row(ann, "supporter", 3, at("2026-03-01T12:00"))  # back in time
    make_ledger_row(ann, "supporter", 3, at("2026-04-01T12:00"), LedgerKind.REDEEM)
    make_ledger_row(cid, "supporter", 4, at("2026-02-01T12:00"))  # further back
    make_ledger_row(cid, "supporter", 4, at("2026-06-10T12:00"), LedgerKind.REDEEM)
    make_ledger_row(bob, "supporter", 2, at("2026-05-02T08:00"))  # earlier the same day
    days = [date(2026, 1, 31), date(2026, 2, 1), date(2026, 3, 1), date(2026, 3, 31)]
    days += [date(2026, 4, 1), date(2026, 5, 1), date(2026, 5, 2), date(2026, 6, 10)]
    days += [date(2026, 6, 11), date.today()]
    with reading(app) as db:
        supporter = db.scalar(select(ShareType).where(ShareType.code == "supporter"))
        for day in days:
            expected_types, expected_members = holders_by_brute_force(app, day)
            totals = share_register.register_totals(
                db, share_register.register_filter(db, as_of=day.isoformat())
            )
            got = {t.share_type.id: t.holders for t in totals.totals if t.holders}
            assert (got, totals.holders) == (expected_types, expected_members), day
            typed = share_register.register_totals(
                db,
                share_register.register_filter(db, as_of=day.isoformat(), type_code="supporter"),
            )
            assert typed.holders == expected_types.get(supporter.id, 0), day
    result = runner.invoke(args=["check-register"])
    assert result.exit_code == 0, result.output
    # Cid held supporter shares on 1 March and holds none now: still on that day's register.
    then = staff.get("/staff/register?as_of=2026-03-01&type=supporter").get_data(as_text=True)
    assert "Cid" in then and "Ann" in then and "Bob" not in then
    now = staff.get("/staff/register?type=supporter").get_data(as_text=True)
    assert "Cid" not in now and "Ann" in now and "Bob" in now


def test_check_register_reads_days_in_time_order_and_still_finds_a_tampered_day(
    app, make_member, make_ledger_row, runner
):
    ann = make_member(name="Ann")
    make_ledger_row(ann, "supporter", 10, at("2026-05-01T12:00"))
    make_ledger_row(ann, "supporter", 3, at("2026-03-01T12:00"))  # back in time
    assert runner.invoke(args=["check-register"]).exit_code == 0
    tamper(app, "UPDATE ledger_days SET net_holders = net_holders + 1 WHERE day = '2026-05-01'")
    result = runner.invoke(args=["check-register"])
    assert result.exit_code == 1
    assert "day's net change differs from the ledger" in result.output


def class_by_brute_force(app, code: str, day: date) -> tuple[dict[int, int], dict[int, int], int]:
    """Shares and holders per type, and members holding any share, of the class's members on
    ``day`` (their memberships read as ``in_class_on`` does), from every ledger row."""
    from portal import coop
    from portal.models import ClassMembership, MemberClass

    with reading(app) as db:
        class_id = db.scalar(select(MemberClass.id).where(MemberClass.code == code))
        members = {
            m
            for m, begins, ends in db.execute(
                select(
                    ClassMembership.member_id,
                    ClassMembership.admitted_on,
                    ClassMembership.ended_on,
                ).where(ClassMembership.class_id == class_id)
            )
            if begins <= day and (ends is None or ends > day)
        }
        held = ledger.holdings(db, as_of=coop.clock(db).end_of_day(day))
    shares: dict[int, int] = {}
    holders: dict[int, int] = {}
    for (m, t), q in held.items():
        if m in members and q > 0:
            shares[t] = shares.get(t, 0) + q
            holders[t] = holders.get(t, 0) + 1
    return shares, holders, len({m for (m, _), q in held.items() if m in members and q > 0})


def test_a_class_s_register_follows_memberships_begun_and_ended_and_rows_out_of_order(
    app, make_member, make_ledger_row, cease, runner, staff
):
    ann = make_member(name="Ann", classes=("artist",), admitted_on=date(2026, 2, 1))
    bob = make_member(name="Bob", classes=("listener",), admitted_on=date(2026, 2, 10))
    cid = make_member(name="Cid", classes=("artist", "listener"), admitted_on=date(2026, 3, 5))
    make_ledger_row(ann, "supporter", 10, at("2026-04-01T12:00"))
    make_ledger_row(cid, "supporter", 4, at("2026-04-02T12:00"))
    make_ledger_row(bob, "supporter", 7, at("2026-02-20T12:00"))  # back in time
    make_ledger_row(ann, "supporter", 3, at("2026-01-15T12:00"))  # before Ann was admitted
    make_ledger_row(cid, "supporter", 4, at("2026-05-01T12:00"), LedgerKind.REDEEM)
    cease(ann, on=date(2026, 6, 1))
    make_ledger_row(bob, "supporter", 2, at("2026-06-15T12:00"))
    days = [date(2026, 1, 15), date(2026, 2, 1), date(2026, 2, 20), date(2026, 3, 5)]
    days += [date(2026, 4, 1), date(2026, 4, 2), date(2026, 5, 1), date(2026, 5, 31)]
    days += [date(2026, 6, 1), date(2026, 6, 15), date.today()]
    with reading(app) as db:
        for code in ("artist", "listener"):
            for day in days:
                shares, holders, members = class_by_brute_force(app, code, day)
                flt = share_register.register_filter(db, as_of=day.isoformat(), class_code=code)
                totals = share_register.register_totals(db, flt)
                got = (
                    {t.share_type.id: t.shares for t in totals.totals if t.shares},
                    {t.share_type.id: t.holders for t in totals.totals if t.holders},
                    totals.holders,
                )
                assert got == (shares, holders, members), (code, day)
                chart = share_register.capital_history(db, flt)
                par = {t.share_type.id: t.share_type.par_value_minor for t in totals.totals}
                expected = sum(q * par[t] for t, q in shares.items())
                assert (chart.points[-1][1] if chart.points else 0) == expected, (code, day)
                for total in totals.totals:
                    typed = share_register.register_totals(
                        db,
                        share_register.register_filter(
                            db,
                            as_of=day.isoformat(),
                            class_code=code,
                            type_code=total.share_type.code,
                        ),
                    )
                    assert typed.holders == holders.get(total.share_type.id, 0), (code, day)
    result = runner.invoke(args=["check-register"])
    assert result.exit_code == 0, result.output
    page = staff.get("/staff/register?class=artist&as_of=2026-05-31").get_data(as_text=True)
    assert "Ann" in page and "Cid" in page and "Bob" not in page
    tamper(app, "UPDATE class_days SET net_holders = net_holders + 1")
    result = runner.invoke(args=["check-register"])
    assert result.exit_code == 1
    assert "class's day differs from the ledger" in result.output


# --- The register page ---------------------------------------------------------------------


def register_statements(app, staff, url: str) -> int:
    staff.get(url)  # warm: settings, the session
    with sql_statements(app) as seen:
        response = staff.get(url)
    assert response.status_code == 200
    return len(seen)


def test_the_register_page_runs_the_same_statements_for_10_holders_as_for_121(
    app, staff, make_member, make_ledger_row
):
    for n in range(10):
        make_member(name=f"Holder {n}", classes=("listener",))
    urls = (
        "/staff/register",
        "/staff/register?as_of=2026-01-01",
        "/staff/register?class=listener",
        "/staff/register?class=listener&as_of=2026-01-01&type=supporter",
        "/staff/register?type=supporter&as_of=2026-01-01",
    )
    small = [register_statements(app, staff, url) for url in urls]
    make_ledger_row(make_member(name="Late"), "supporter", 5, datetime.now(UTC))
    for n in range(110):  # past two pages; 1,000 seeded members: test_staff_lists_scale
        make_member(name=f"Holder {n + 10}", classes=("listener",))
    large = [register_statements(app, staff, url) for url in urls]
    assert small == large
    page = staff.get("/staff/register").get_data(as_text=True)
    assert "of 121 holders" in page and 'rel="next"' in page


# --- The CSV ---------------------------------------------------------------------------------


def test_the_csv_streams_the_register_in_batches_with_each_member_s_classes(
    app, staff, make_member, make_ledger_row, monkeypatch
):
    monkeypatch.setattr(share_register, "STREAM_BATCH", 2)  # many batches for a few rows
    classes = ("listener",), ("artist",), ("worker",), ("listener", "artist"), ("artist",)
    people = [make_member(name=f"Holder {n}", classes=c) for n, c in enumerate(classes)]
    for person in people[::2]:
        make_ledger_row(person, "supporter", 5, at("2026-03-02T12:00"))
    response = staff.get("/staff/register.csv")
    assert response.is_streamed and isinstance(response.response, Iterator)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    response.close()
    body = [(r[0], r[1], r[2], r[3], r[4]) for r in rows[1:]]
    expected = []
    for person, held in zip(people, classes, strict=True):
        names = ", ".join(c.capitalize() + ("*" if i == 0 else "") for i, c in enumerate(held))
        expected.append((str(person.number), person.name, names, "Membership share", "1"))
        if person in people[::2]:
            expected.append((str(person.number), person.name, names, "Supporter share", "5"))
    assert body == expected


# --- check-register at a million rows --------------------------------------------------------


def test_check_register_walks_by_sequence_when_the_table_s_order_is_another(
    app, make_member, make_ledger_row, runner
):
    ann = make_member(name="Ann")
    make_ledger_row(ann, "supporter", 30, at("2026-03-02T12:00"))
    tamper_ledger(app, "UPDATE share_ledger SET id = id + 1000 WHERE seq = 1")
    result = runner.invoke(args=["check-register"])
    assert result.exit_code == 0, result.output
    again = tamper_ledger if ON_POSTGRES else tamper  # SQLite's trigger is gone already
    again(app, "UPDATE share_ledger SET seq = 7 WHERE seq = 2")
    result = runner.invoke(args=["check-register"])
    assert result.exit_code == 1
    assert "expected sequence number 2" in result.output


REFERENCES = ["", "ORD-1", 'say "hi" \\ back', "Zoë’s order ✓", "a\nb\tc"]


def test_check_register_hashes_every_reference_as_the_row_digest(app, db, make_member, runner):
    ann = make_member(name="Ann").load(db)
    supporter = db.scalar(select(ShareType).where(ShareType.code == "supporter"))
    for reference in REFERENCES:
        ledger.append(
            db,
            kind=LedgerKind.ISSUE,
            member=ann,
            share_type=supporter,
            quantity=1,
            currency="EUR",
            reference=reference,
            actor=None,
        )
    db.commit()
    clean = runner.invoke(args=["check-register"])
    assert clean.exit_code == 0, clean.output
    tamper_ledger(app, "UPDATE share_ledger SET reference = 'Zoe’s order ✓' WHERE seq = 5")
    result = runner.invoke(args=["check-register"])
    assert result.exit_code == 1
    assert "its content does not match its hash" in result.output


def test_a_new_time_zone_moves_each_day_s_totals_and_the_register_stays_clean(
    app, make_member, make_ledger_row, runner, admin
):
    ann = make_member(name="Ann", admitted_on=date(2026, 1, 15))
    make_ledger_row(ann, "supporter", 25, at("2026-06-30T23:30"))  # 1 July in Dublin
    response = admin.post("/staff/settings/timezone", data={"value": "America/New_York"})
    assert response.status_code == 303
    with reading(app) as db:
        supporter = db.scalar(select(ShareType.id).where(ShareType.code == "supporter"))
        days = dict(
            db.execute(
                select(LedgerDay.day, LedgerDay.net_quantity).where(
                    LedgerDay.share_type_id == supporter
                )
            ).all()
        )
    assert days == {date(2026, 6, 30): 25}  # 19:30 on 30 June in New York
    result = runner.invoke(args=["check-register"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("seed", range(40))
def test_a_member_s_class_days_add_up_to_their_holdings_in_each_class_on_each_day(seed):
    import random
    from datetime import timedelta

    from portal.services.register import class_days

    rng = random.Random(seed)
    start = date(2026, 1, 1)
    held: dict[int, int] = {}
    rows = []
    for offset in sorted(rng.choices(range(30), k=rng.randint(0, 12))):
        type_id = rng.choice((1, 2))
        signed = rng.randint(1, 5)
        if held.get(type_id, 0) and rng.random() < 0.4:
            signed = -rng.randint(1, held[type_id])
        held[type_id] = held.get(type_id, 0) + signed
        rows.append((start + timedelta(days=offset), type_id, signed))
    memberships = []
    for class_id in rng.sample((1, 2, 3), rng.randint(0, 3)):
        begins = start + timedelta(days=rng.randint(-3, 30))
        ends = begins + timedelta(days=rng.randint(0, 20)) if rng.random() < 0.5 else None
        memberships.append((class_id, begins, ends))
    found = class_days.changes(rows, memberships)
    for offset in range(-5, 40):
        day = start + timedelta(days=offset)
        state: dict[int, int] = {}
        for row_day, type_id, signed in rows:
            if row_day <= day:
                state[type_id] = state.get(type_id, 0) + signed
        for class_id in (1, 2, 3):
            member = any(
                c == class_id and begins <= day and (ends is None or ends > day)
                for c, begins, ends in memberships
            )
            sums = [0, 0, 0]
            per_type = {1: [0, 0], 2: [0, 0]}
            for (d, c, t), (q, h, m) in found.items():
                if c == class_id and d <= day:
                    per_type[t][0] += q
                    per_type[t][1] += h
                    sums[2] += m
            for type_id in (1, 2):
                quantity = state.get(type_id, 0) if member else 0
                assert per_type[type_id] == [quantity, int(quantity > 0)], (seed, day, class_id)
            holds_any = member and any(q > 0 for q in state.values())
            assert sums[2] == int(holds_any), (seed, day, class_id)
