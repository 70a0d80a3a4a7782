"""The command-line tasks: init-db, create-user, seed-demo."""

from __future__ import annotations

import io
import os
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, select, text

from portal import migrations
from portal.db import database
from portal.models import AuditEvent, Role, User
from portal.presets import PRESETS, RESONATE
from portal.services.accounts import passwords

PEOPLE = RESONATE.demo.people


def users(app):
    with database(app).session(write=False) as session:
        return {u.email: u for u in session.scalars(select(User))}


def with_option(url: str, option: str) -> str:
    """``url`` with a server option added to its ``options`` (one parameter, not two: the
    driver would get a tuple)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = " ".join(filter(None, [query.get("options", ""), option]))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with no schema yet (PostgreSQL: a schema of its own, first on the path)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'new.sqlite3'}"
        return
    admin = create_engine("postgresql+psycopg://" + url.split("://", 1)[1])
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS init_db_check CASCADE"))
        conn.execute(text("CREATE SCHEMA init_db_check"))
    yield with_option(url, "-csearch_path=init_db_check")
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA init_db_check CASCADE"))
    admin.dispose()


def test_init_db_says_it_created_the_schema_then_that_it_was_already_there(
    app_factory, empty_database_url
):
    app = app_factory(DATABASE_URL=empty_database_url)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    head = migrations.current_revision(database(app).engine)
    assert first.output == f"Created the database schema at revision {head} (the newest).\n"
    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0, again.output
    assert again.output == f"The database schema was already at revision {head} (the newest).\n"


def test_init_db_says_from_which_revision_it_migrated(app_factory, empty_database_url):
    app = app_factory(DATABASE_URL=empty_database_url)
    engine = database(app).engine
    migrations.upgrade(engine)
    head = migrations.current_revision(engine)
    migrations.downgrade(engine, "-1")
    older = migrations.current_revision(engine)
    assert older not in (None, head)
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Migrated the database schema from revision {older} to {head} (the newest).\n"
    )
    assert migrations.current_revision(engine) == head


def test_create_user_makes_a_verified_staff_account(app, runner):
    result = runner.invoke(
        args=["create-user", "--role", "staff", "--name", "Bríd Staff", "Brid@Example.org"],
        input="lantern-quarry-mosaic-77\nlantern-quarry-mosaic-77\n",
    )
    assert result.exit_code == 0, result.output
    user = users(app)["brid@example.org"]
    assert user.role is Role.STAFF
    assert user.email_verified
    assert user.password_hash.startswith("$argon2id$")
    assert passwords.verify_password(user.password_hash, "lantern-quarry-mosaic-77")
    with database(app).session(write=False) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.created"))
        assert event.object_id == str(user.id)


def test_create_user_gives_a_staff_member_the_title_of_their_office(app, runner):
    result = runner.invoke(
        args=[
            "create-user",
            "--role",
            "staff",
            "--name",
            "Máire Secretary",
            "--title",
            " Secretary ",
            "--password",
            "lantern-quarry-mosaic-77",
            "maire@example.org",
        ]
    )
    assert result.exit_code == 0, result.output
    user = users(app)["maire@example.org"]
    assert (user.role, user.title, user.role_title) == (Role.STAFF, "Secretary", "Secretary")


def test_create_user_refuses_a_common_password_and_a_duplicate(app, runner, make_user):
    weak = runner.invoke(
        args=["create-user", "--name", "X", "--password", "password1234", "x@example.org"]
    )
    assert weak.exit_code != 0
    assert "less common password" in weak.output
    make_user(email="taken@example.org")
    dup = runner.invoke(
        args=[
            "create-user",
            "--name",
            "Y",
            "--password",
            "lantern-quarry-mosaic-77",
            "taken@example.org",
        ]
    )
    assert dup.exit_code != 0
    assert "already exists" in dup.output
    assert "x@example.org" not in users(app)


def test_seed_demo_creates_the_demo_people_once_and_prints_their_logins(app, runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Reverb Music Co-operative Society Ltd" in first.output
    for person in PEOPLE:
        assert person.email in first.output and person.password in first.output
    seeded = users(app)
    assert {p.email for p in PEOPLE} <= seeded.keys()
    assert seeded["admin@reverb.example"].role is Role.ADMIN
    assert seeded["secretary@reverb.example"].title == "Secretary"
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "nothing seeded" in second.output
    assert len(users(app)) == len(seeded)


@pytest.mark.parametrize("name", sorted(set(PRESETS) - {"resonate"}))
def test_seed_demo_prints_the_sign_ins_of_the_co_op_it_seeded_and_no_other(app, runner, name):
    preset = PRESETS[name]
    first = runner.invoke(args=["seed-demo", "--preset", name])
    assert first.exit_code == 0, first.output
    assert f"Demo sign-ins for {preset.settings['legal_name']}:" in first.output
    for person in preset.demo.people:
        assert person.email in first.output and person.password in first.output
    for other in PRESETS.values():
        if other is not preset:
            assert other.demo.domain not in first.output
            assert other.settings["legal_name"] not in first.output
    assert {p.email for p in preset.demo.people} <= users(app).keys()
    again = runner.invoke(args=["seed-demo"])  # the default preset, into a seeded database
    assert "nothing seeded" in again.output
    assert f"Demo sign-ins for {preset.settings['legal_name']}:" in again.output
    assert RESONATE.demo.domain not in again.output


def test_demo_logins_work(client, runner):
    runner.invoke(args=["seed-demo"])
    for person in PEOPLE:
        response = client.login(person.email, person.password)
        assert response.status_code == 303, person.email
        client.post("/logout")


@pytest.mark.pdf
def test_the_demo_register_has_shares_certificates_a_withdrawal_and_unpaid_orders(
    app, runner, client
):
    from portal.models import (
        Certificate,
        CertificateState,
        OrderState,
        ShareOrder,
        Withdrawal,
        WithdrawalState,
    )
    from portal.services.register import members
    from portal.services.shares import holdings, ledger

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.test_request_context("/"):
        db = database(app).session(write=False)
        listener = members.member_for_user(
            db, db.scalar(select(User).where(User.email == "listener@reverb.example"))
        )
        held = {h.share_type.code: h.quantity for h in holdings.summary(db, listener).holdings}
        assert held == {"membership": 1, "supporter": 25}
        certificates = db.scalars(
            select(Certificate).where(Certificate.member_id == listener.id)
        ).all()
        assert sorted(c.quantity for c in certificates) == [1, 25]
        assert {c.state for c in certificates} == {CertificateState.VALID}
        withdrawal = db.scalar(select(Withdrawal).where(Withdrawal.member_id == listener.id))
        assert withdrawal.state is WithdrawalState.REQUESTED
        unpaid = db.scalars(
            select(ShareOrder).where(ShareOrder.state == OrderState.PENDING_PAYMENT)
        ).all()
        assert len(unpaid) >= 3 and any(o.member_id == listener.id for o in unpaid)
        states = set(db.scalars(select(Certificate.state)))
        assert states == set(CertificateState)  # valid, superseded (chair), cancelled (ceased)
        assert ledger.check_register(db).ok
        db.close()
    client.login("listener@reverb.example", "velvet-tram-orchard-58")
    page = client.get("/shares").get_data(as_text=True)
    assert "With the board" in page and "Awaiting payment" in page
    numbers = sorted(c.number for c in certificates)
    assert client.get(f"/certificates/{numbers[-1]}.pdf").data.startswith(b"%PDF")


@pytest.mark.pdf
def test_the_demo_certificates_link_to_the_public_address_make_run_serves(app_factory):
    from pypdf import PdfReader

    from portal.models import Certificate

    app = app_factory(PUBLIC_BASE_URL="http://127.0.0.1:8123")  # as `make run PORT=8123`
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with database(app).session(write=False) as session:
        certificate = session.scalars(select(Certificate).order_by(Certificate.number)).first()
        pdf = certificate.pdf
        code = certificate.code
    text = re.sub(r"\s+", "", PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert f"http://127.0.0.1:8123/verify/{code}" in text


@pytest.mark.pdf
def test_in_the_demo_only_those_who_paid_the_membership_share_are_members(app, runner):
    from portal.models import Application, ApplicationState, Member, MemberStatus
    from portal.services.register import members
    from portal.services.shares import ledger
    from portal.services.shares.share_types import find_type

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.test_request_context("/"):
        db = database(app).session(write=False)
        unpaid = [f"member{n + 1}@reverb.example" for n in (6, 7)]
        assert [RESONATE.demo.extra_members[n].fate for n in (6, 7)] == ["unpaid", "unpaid"]
        for email in unpaid:  # approved, their membership share not paid
            user = db.scalar(select(User).where(User.email == email))
            assert members.member_for_user(db, user) is None, email
            [application] = db.scalars(select(Application).where(Application.user_id == user.id))
            assert application.state is ApplicationState.AWAITING_SHARE
            assert application.admission_order is not None
        membership = find_type(db, "membership")
        for member in db.scalars(select(Member)):
            held = ledger.holding(db, member, membership)
            assert held == (0 if member.status is MemberStatus.CEASED else 1), member.name
        db.close()
