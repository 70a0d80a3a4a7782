"""Concurrent staff actions against a real server: numbers stay gapless, nothing is done twice.

Each test serves the app from a threaded Werkzeug server and fires requests from many
threads at once, on SQLite or, with ``DATABASE_URL`` set, on PostgreSQL. Payments are
served as a deployment serves them, WORKERS at a time, each rendering its real certificate.
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from portal.db import database
from portal.mail import read_outbox
from portal.models import (
    Application,
    ApplicationState,
    AuditEvent,
    Certificate,
    Counter,
    LedgerEntry,
    LedgerKind,
    Member,
    OrderState,
    ShareOrder,
    ShareType,
    User,
)
from portal.services.shares import certificates, ledger

from .conftest import CSRF_RE, PASSWORD
from .two_factor_codes import next_code

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

APPLICANTS = 20
PAYMENTS = 50
REPLAYS = 5
WORKERS = 4  # requests the payment tests' server handles at once, as gunicorn --workers 4

# An unpaid order: its id, the payment form staff would fill in, and the quantity ordered.
PayableOrder = tuple[int, dict[str, str], int]


class Browserless:
    """A minimal HTTP client keeping one session cookie, for talking to a live server."""

    def __init__(self, base: str, *, timeout: float = 60) -> None:
        self.base = base
        self.cookie = ""
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310
        if self.cookie:
            request.add_header("Cookie", self.cookie)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            morsel = SimpleCookie(header)
            for key, value in morsel.items():
                self.cookie = f"{key}={value.value}"
        body = response.read().decode()
        if 300 <= response.status < 400:  # a redirect answers with where it goes
            return response.status, response.headers.get("Location", "")
        return response.status, body

    def csrf_token(self) -> str:
        _, page = self.request("GET", "/")
        return CSRF_RE.search(page).group(1)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(base: str, email: str, app: Flask | None = None) -> tuple[Browserless, str]:
    """A client signed in as ``email``, and the CSRF token of its renewed session; staff
    also type the code of their two-factor sign-in (``app`` reads their secret)."""
    client = Browserless(base)
    status, where = client.request(
        "POST", "/login", {"email": email, "password": PASSWORD, "csrf_token": client.csrf_token()}
    )
    assert status == 303
    if where.endswith("/login/code"):
        assert app is not None, f"{email} has two-factor sign-in: pass the app"
        code = {"code": next_code(app, email), "csrf_token": client.csrf_token()}
        status, where = client.request("POST", "/login/code", code)
        assert status == 303, f"the code step answered {status}"
    return client, client.csrf_token()  # the session was renewed at sign-in


def post_at_once(
    base: str, cookie: str, posts: list[tuple[str, dict[str, str]]]
) -> list[tuple[int, str]]:
    """Send every (path, form) from a thread of its own, all released together.

    Returns (status, body) for each post in order (a redirect's Location for its body); a
    request that raised gives status 0 and the error, so the test fails with it rather than
    hiding it in a thread.
    """
    barrier = threading.Barrier(len(posts))
    answers: list[tuple[int, str]] = [(0, "no answer")] * len(posts)

    def post(index: int, path: str, form: dict[str, str]) -> None:
        # Long enough for the last of fifty payments, queued behind forty-nine renders.
        client = Browserless(base, timeout=240)
        client.cookie = cookie
        barrier.wait()
        try:
            answers[index] = client.request("POST", path, form)
        except Exception as error:  # reported through the answers
            answers[index] = (0, repr(error))

    threads = [
        threading.Thread(target=post, args=(index, path, form))
        for index, (path, form) in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return answers


def failures(answers: list[tuple[int, str]], expected: int = 303) -> list[tuple[int, str]]:
    """The answers whose status is not ``expected``, each with the start of its body."""
    return [(status, body[:300]) for status, body in answers if status != expected]


def at_most(count: int, app: WSGIApplication) -> WSGIApplication:
    """Let at most ``count`` requests into ``app`` at once; the others wait their turn.

    A deployment serves a few requests at a time (the README runs four gunicorn workers)
    and queues the rest. A thread for every request would put all fifty payments on the
    database at once; as each holds the certificate counter while its PDF renders, the
    last would wait out forty-nine renders, longer than SQLite's busy timeout (15 s) or a
    PostgreSQL pool checkout (30 s) allows.
    """
    slots = threading.BoundedSemaphore(count)

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with slots:  # Flask has closed the request's session when this returns
            return app(environ, start_response)

    return serve


@contextmanager
def serving(app: Flask, *, workers: int | None = None) -> Iterator[str]:
    """Serve ``app`` from a threaded server on a free port; yield its base URL."""
    server = make_server("127.0.0.1", 0, at_most(workers, app) if workers else app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_app(app_factory) -> Iterator[tuple[Flask, str]]:
    """The app behind a server with a thread for every request."""
    app = app_factory(SESSION_COOKIE_SECURE=False, PREFERRED_URL_SCHEME="http")
    with serving(app) as base:
        yield app, base


@pytest.fixture
def deployed_app(app_factory) -> Iterator[tuple[Flask, str]]:
    """The app behind a server that, like a deployment, handles WORKERS requests at once."""
    app = app_factory(SESSION_COOKIE_SECURE=False, PREFERRED_URL_SCHEME="http")
    with serving(app, workers=WORKERS) as base:
        yield app, base


def admission_orders(app) -> list[ShareOrder]:
    """Every admission order (one naming an application), by id."""
    with database(app).session(write=False) as session:
        return list(
            session.scalars(
                select(ShareOrder)
                .where(ShareOrder.application_id.is_not(None))
                .order_by(ShareOrder.id)
            )
        )


def payment_form(order: ShareOrder) -> dict[str, str]:
    """The payment form staff fill in for ``order``, its amount paid today, as confirmed."""
    return {
        "amount": f"{order.amount_minor / 100:.2f}",
        "paid_on": date.today().isoformat(),
        "method": "bank_transfer",
        "bank_reference": f"BOI-{order.payment_reference}",
        "confirm": "yes",
    }


def test_twenty_concurrent_approvals_each_place_one_admission_order(
    live_app, make_user, make_applicant
):
    app, base = live_app
    make_user(email="staff@example.org", role="staff", name="Staff")
    ids = [make_applicant().application_id for _ in range(APPLICANTS)]

    staff, token = sign_in(base, "staff@example.org", app)
    answers = post_at_once(
        base,
        staff.cookie,
        [(f"/staff/applications/{i}/approve", {"csrf_token": token}) for i in ids],
    )

    assert failures(answers) == []
    placed = admission_orders(app)
    assert sorted(order.application_id for order in placed) == sorted(ids)  # one each
    assert {(order.state, order.member_id) for order in placed} == {
        (OrderState.PENDING_PAYMENT, None)
    }
    assert len({order.payment_reference for order in placed}) == APPLICANTS
    with database(app).session(write=False) as session:
        states = set(session.scalars(select(Application.state)))
        assert session.scalars(select(Member.number)).all() == []  # members once they pay
    assert states == {ApplicationState.AWAITING_SHARE}
    # Replaying an approval changes nothing: it is refused as already decided.
    status, _ = staff.request(
        "POST", f"/staff/applications/{ids[0]}/approve", {"csrf_token": token}
    )
    assert status == 409
    assert len(admission_orders(app)) == APPLICANTS


ORDER_KEY_RE = re.compile(r'name="order_key" value="([A-Za-z0-9_-]+)"')


def test_one_buy_form_posted_fifty_times_at_once_places_one_order(live_app, make_member):
    """A double click, a reload, a script: one form's posts race; one order, the same answer."""
    app, base = live_app
    bea = make_member(email="buyer@example.org", name="Bea Buyer")
    buyer, token = sign_in(base, "buyer@example.org")
    status, page = buyer.request("GET", "/shares/buy")
    assert status == 200
    key = ORDER_KEY_RE.search(page).group(1)
    form = {"share_type": "supporter", "quantity": "10", "order_key": key, "csrf_token": token}

    answers = post_at_once(base, buyer.cookie, [("/shares/buy", form)] * PAYMENTS)

    assert failures(answers) == []
    with database(app).session(write=False) as session:
        placed = session.scalars(
            select(ShareOrder).where(
                ShareOrder.member_id == bea.id, ShareOrder.application_id.is_(None)
            )
        ).all()
        events = session.scalars(
            select(AuditEvent.summary).where(AuditEvent.action == "order.placed")
        ).all()
    assert [(o.quantity, o.order_key) for o in placed] == [(10, key)]
    assert [e for e in events if placed[0].payment_reference in e] != []
    assert sum(placed[0].payment_reference in e for e in events) == 1
    assert {body for _status, body in answers} == {f"/shares/orders/{placed[0].id}"}


@pytest.mark.pdf
def test_twenty_concurrent_admission_payments_get_gapless_unique_numbers(
    deployed_app, make_user, make_applicant
):
    app, base = deployed_app
    make_user(email="staff@example.org", role="staff", name="Cashier")
    applicants = [make_applicant(state="awaiting_share") for _ in range(APPLICANTS)]
    placed = admission_orders(app)
    assert len(placed) == APPLICANTS
    staff, token = sign_in(base, "staff@example.org", app)
    posts = [
        (f"/staff/orders/{order.id}/payment", {**payment_form(order), "csrf_token": token})
        for order in placed
    ]

    # Each payment posted twice at once, as two cashiers with the same statement would.
    assert failures(post_at_once(base, staff.cookie, posts * 2)) == []
    with database(app).session(write=False) as session:
        members = session.scalars(select(Member)).all()
        assert sorted(member.number for member in members) == list(range(1, APPLICANTS + 1))
        assert sorted(member.user_id for member in members) == sorted(
            applicant.user_id for applicant in applicants
        )
        states = set(session.scalars(select(Application.state)))
        paid = session.scalars(select(ShareOrder)).all()
        assert {order.state for order in paid} == {OrderState.ISSUED}
        assert {order.member_id for order in paid} == {member.id for member in members}
        issued = session.execute(select(Certificate.number, Certificate.member_id)).all()
        assert sorted(number for number, _member in issued) == list(range(1, APPLICANTS + 1))
        assert sorted(member for _number, member in issued) == sorted(m.id for m in members)
        admitted = session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.action == "application.admitted")
        ).all()
        assert sorted(int(target) for target in admitted) == sorted(
            applicant.application_id for applicant in applicants
        )
        check = ledger.check_register(session)
        assert check.ok, check.problems
    assert states == {ApplicationState.APPROVED}
    welcomed = [m.to for m in read_outbox(app) if m.subject.startswith("Welcome to")]
    assert sorted(welcomed) == sorted(applicant.email for applicant in applicants)


@pytest.fixture
def orders_to_pay(deployed_app, make_user, make_member, make_order):
    """The Reverb co-op with a cashier (staff@example.org), and members who ordered shares.

    ``orders_to_pay(k)`` makes k members, each with one unpaid supporter-share order, and
    returns (order id, payment form, quantity) for each.
    """
    make_user(email="staff@example.org", role="staff", name="Cashier")
    made = iter(range(1, 10_000))

    def make(count: int) -> list[PayableOrder]:
        orders = []
        for _ in range(count):
            n = next(made)
            quantity = 5 * (1 + n % 4)  # 5, 10, 15 or 20: holdings differ by member
            order = make_order(make_member(name=f"Supporter {n}"), "supporter", quantity)
            orders.append((order.id, payment_form(order), quantity))
        return orders

    return make


def certificate_counter(app) -> int:
    with database(app).session(write=False) as session:
        value = session.scalar(
            select(Counter.value).where(Counter.name == certificates.CERTIFICATE_COUNTER)
        )
    return value or 0


def assert_each_order_issued_once(app, orders: list[PayableOrder]) -> None:
    """Each order paid once: one issue row, certificate, set of audit events and mail.

    ``orders`` are all the orders paid so far besides the admission orders each member paid
    to be admitted (their membership share, certificate and all); the register must hold
    what they ordered and the membership shares.
    """
    order_ids = sorted(order_id for order_id, _form, _quantity in orders)
    with database(app).session(write=False) as session:
        paid = session.scalars(select(ShareOrder).where(ShareOrder.id.in_(order_ids))).all()
        assert {order.state for order in paid} == {OrderState.ISSUED}
        by_id = {order.id: order for order in paid}
        for order_id, form, _quantity in orders:
            assert by_id[order_id].bank_reference == form["bank_reference"]
        admissions = session.scalars(
            select(ShareOrder).where(ShareOrder.application_id.is_not(None))
        ).all()
        assert {order.state for order in admissions} == {OrderState.ISSUED}
        every = [*paid, *admissions]
        every_id = sorted(order.id for order in every)
        issue_rows = session.scalars(
            select(LedgerEntry.reference).where(LedgerEntry.kind == LedgerKind.ISSUE)
        ).all()
        assert sorted(issue_rows) == sorted(order.payment_reference for order in every)
        issued = session.execute(select(Certificate.id, Certificate.order_id)).all()
        assert sorted(order_id for _id, order_id in issued) == every_id
        events = session.execute(
            select(AuditEvent.action, AuditEvent.object_id).where(
                AuditEvent.action.in_(["order.paid", "order.issued", "certificate.issued"])
            )
        ).all()
        for move in ("order.paid", "order.issued"):
            assert sorted(int(target) for action, target in events if action == move) == every_id
        assert sorted(
            int(target) for action, target in events if action == "certificate.issued"
        ) == sorted(certificate_id for certificate_id, _order_id in issued)
        check = ledger.check_register(session)
        assert check.ok, check.problems
        supporter = session.scalar(select(ShareType).where(ShareType.code == "supporter"))
        membership = session.scalar(select(ShareType).where(ShareType.code == "membership"))
        ordered = {
            (by_id[order_id].member_id, supporter.id): quantity
            for order_id, _form, quantity in orders
        }
        held = {(order.member_id, membership.id): 1 for order in admissions}
        assert ledger.holdings(session) == {**ordered, **held}
        numbers = sorted(session.scalars(select(Certificate.number)))
        holders = session.scalars(
            select(User.email)
            .join(Member, Member.user_id == User.id)
            .where(Member.id.in_([order.member_id for order in paid]))
        ).all()
    assert numbers == list(range(1, len(every) + 1))  # gapless from the first
    certificate_mail = [
        m.to for m in read_outbox(app) if m.subject.startswith("Your share certificate")
    ]
    assert sorted(certificate_mail) == sorted(holders)


@pytest.mark.pdf
def test_fifty_payments_at_once_get_consecutive_certificates_and_replays_issue_nothing(
    deployed_app, orders_to_pay
):
    app, base = deployed_app
    [earlier] = orders_to_pay(1)
    earlier_id, earlier_form, _quantity = earlier
    orders = orders_to_pay(PAYMENTS)
    staff, token = sign_in(base, "staff@example.org", app)
    # Certificates issued before the rush, so the counter does not start at zero: each
    # member's membership share (paid to be admitted), then an earlier order.
    assert certificate_counter(app) == 1 + PAYMENTS
    status, _ = staff.request(
        "POST", f"/staff/orders/{earlier_id}/payment", {**earlier_form, "csrf_token": token}
    )
    assert status == 303
    before = certificate_counter(app)
    assert before == 1 + PAYMENTS + 1
    posts = [
        (f"/staff/orders/{order_id}/payment", {**form, "csrf_token": token})
        for order_id, form, _quantity in orders
    ]

    assert failures(post_at_once(base, staff.cookie, posts)) == []
    with database(app).session(write=False) as session:
        numbers = sorted(
            session.scalars(
                select(Certificate.number).where(
                    Certificate.order_id.in_([order_id for order_id, _, _ in orders])
                )
            )
        )
    assert numbers == list(range(before + 1, before + PAYMENTS + 1))
    assert certificate_counter(app) == before + PAYMENTS

    # The bank statement is imported again, five times over, all at once: nothing new.
    assert failures(post_at_once(base, staff.cookie, posts * REPLAYS)) == []
    assert certificate_counter(app) == before + PAYMENTS
    assert_each_order_issued_once(app, [earlier, *orders])


@pytest.mark.pdf
def test_a_payment_posted_five_times_at_once_issues_once(deployed_app, orders_to_pay):
    app, base = deployed_app
    orders = orders_to_pay(REPLAYS)
    before = certificate_counter(app)
    assert before == REPLAYS  # each member's membership share, paid to be admitted
    staff, token = sign_in(base, "staff@example.org", app)
    posts = [
        (f"/staff/orders/{order_id}/payment", {**form, "csrf_token": token})
        for order_id, form, _quantity in orders
    ]

    # A double-clicked button, or two cashiers with the same statement: the posts race.
    assert failures(post_at_once(base, staff.cookie, posts * REPLAYS)) == []
    assert certificate_counter(app) == before + len(orders)
    assert_each_order_issued_once(app, orders)
