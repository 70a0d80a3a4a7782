"""One structured log line per request, and no secret in any log line of a whole journey.

A visitor signs up, confirms their address by the mailed link, signs in, resets their
password by the mailed link; a member buys shares, staff record the payment, the member
votes in a secret ballot and another appoints a proxy. Every log record of every logger is
captured at INFO, SQLAlchemy's statements included (their parameters are hidden); none may
hold a password, a CSRF token, a session cookie, a mailed token, a TOTP secret or code, or
the secret ballot's choice or receipt.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.models import Ballot, ShareOrder, User

from .conftest import CSRF_RE, PASSWORD, CSRFClient, link_in
from .factories import reading
from .two_factor_codes import next_code, secret_of

NEW_PASSWORD = "a-fresh-melody-for-spring-77"
SIGNUP_PASSWORD = "saoirse-sings-at-dawn-2026"
SECRET_CHOICE = "against"  # on the secret resolution; said nowhere else in the journey
ORDER_KEY_RE = re.compile(r'name="order_key" value="([A-Za-z0-9_-]+)"')
CSRF_INPUT_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Journal:
    """Every response the journey's clients got, and every secret they saw on the way."""

    def __init__(self, app: Flask) -> None:
        self.responses: list[Any] = []
        self.secrets: set[str] = {PASSWORD, NEW_PASSWORD, SIGNUP_PASSWORD}
        journal = self

        class RecordingClient(CSRFClient):
            def open(self, *args: Any, **kwargs: Any) -> Any:
                response = super().open(*args, **kwargs)
                journal.record(self, response)
                return response

        app.test_client_class = RecordingClient

    def record(self, client: CSRFClient, response: Any) -> None:
        self.responses.append(response)
        cookie = client.get_cookie("portal_session")
        if cookie is not None and cookie.value:
            self.secrets.add(cookie.value)
        if response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            self.secrets.update(CSRF_RE.findall(page))
            self.secrets.update(CSRF_INPUT_RE.findall(page))


def token_of(link: str) -> str:
    """The token a mailed link carries (its last path segment)."""
    return link.rstrip("/").rsplit("/", 1)[1]


@pytest.mark.pdf
def test_each_request_logs_one_line_and_no_log_line_holds_a_secret(
    app, caplog, make_user, make_member, make_meeting, outbox
):
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement, too
    journal = Journal(app)
    cashier = make_user(email="cashier@example.org", role="staff", name="Cass Cashier")
    ann = make_member(email="ann@example.org", name="Ann Artist")
    cara = make_member(email="cara@example.org", name="Cara Grantor")
    hal = make_member(email="hal@example.org", name="Hal Holder")
    meeting = make_meeting(
        resolutions=[
            {"title": "Adopt the annual accounts"},
            {"title": "Elect the auditor", "secret": True},
        ]
    )
    caplog.clear()  # the journey's requests, from here

    # A visitor signs up, confirms the address by the mailed link, signs in.
    visitor = app.test_client()
    signed_up = visitor.post(
        "/signup",
        data={
            "name": "Saoirse Visitor",
            "email": "saoirse@example.org",
            "password": SIGNUP_PASSWORD,
        },
    )
    assert signed_up.status_code == 303
    verify = link_in(outbox()[0], "/verify-email/")
    journal.secrets.add(token_of(verify))
    assert visitor.get(verify).status_code == 200
    assert visitor.post(verify).status_code == 303
    assert visitor.login("saoirse@example.org", SIGNUP_PASSWORD).status_code == 303
    assert visitor.get("/me").status_code == 200
    assert visitor.post("/logout").status_code == 303

    # ... forgets the password and resets it by the mailed link.
    assert visitor.post("/reset-password", data={"email": "saoirse@example.org"}).status_code == 303
    reset = link_in(outbox()[0], "/reset-password/")
    journal.secrets.add(token_of(reset))
    assert visitor.get(reset).status_code == 200
    assert visitor.post(reset, data={"password": NEW_PASSWORD}).status_code == 303
    assert visitor.login("saoirse@example.org", NEW_PASSWORD).status_code == 303

    # A member buys shares; staff record the payment.
    buyer = app.test_client()
    assert buyer.login(ann.email).status_code == 303
    key = ORDER_KEY_RE.search(buyer.get("/shares/buy").get_data(as_text=True)).group(1)
    placed = buyer.post(
        "/shares/buy", data={"share_type": "supporter", "quantity": "10", "order_key": key}
    )
    assert placed.status_code == 303
    order_id = int(placed.headers["Location"].rsplit("/", 1)[1])
    with reading(app) as db:
        order = db.get(ShareOrder, order_id)
    # Staff sign in with a TOTP code: the secret and the code are secrets of the journey too.
    staff = app.test_client()
    assert staff.login(cashier.email, code=False).headers["Location"] == "/login/code"
    totp_secret, _ = secret_of(app, cashier.email)
    code = next_code(app, cashier.email)
    journal.secrets.update({totp_secret, code})
    assert staff.post("/login/code", data={"code": code}).status_code == 303
    paid = staff.post(
        f"/staff/orders/{order_id}/payment",
        data={
            "amount": f"{order.amount_minor / 100:.2f}",
            "paid_on": date.today().isoformat(),
            "method": "bank_transfer",
            "bank_reference": "TX-LOG-1",
            "confirm": "yes",
        },
    )
    assert paid.status_code == 303

    # The member votes in the secret ballot; another member appoints a proxy.
    open_one, secret_one = meeting.resolution_ids
    base = f"/meetings/{meeting.id}/resolutions"
    assert buyer.post(f"{base}/{open_one}/vote", data={"choice": "for"}).status_code == 303
    voted = buyer.post(f"{base}/{secret_one}/vote", data={"choice": SECRET_CHOICE})
    assert voted.status_code == 303
    grantor = app.test_client()
    assert grantor.login(cara.email).status_code == 303
    appointed = grantor.post(
        f"/meetings/{meeting.id}/proxy", data={"holder": str(hal.number), "kind": "discretionary"}
    )
    assert appointed.status_code == 303
    with reading(app) as db:
        journal.secrets.update(
            db.scalars(select(Ballot.receipt).where(Ballot.resolution_id == secret_one))
        )
        user_ids = dict(db.execute(select(User.email, User.id)).all())

    # One line per request, with its id (the response's header), route, status and user.
    lines = [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "portal.request"
    ]
    answered = [response.headers["X-Request-ID"] for response in journal.responses]
    assert Counter(line["request_id"] for line in lines) == Counter(answered)
    assert len(set(answered)) == len(answered) > 30
    by_id = {line["request_id"]: line for line in lines}
    for response in journal.responses:
        line = by_id[response.headers["X-Request-ID"]]
        assert line["status"] == response.status_code
        assert set(line) == {"request_id", "method", "route", "endpoint", "status", "ms", "user_id"}
    routes = {(line["method"], line["route"], line["user_id"]) for line in lines}
    assert ("POST", "/reset-password/<token>", None) in routes  # the rule, not the token
    assert ("POST", "/verify-email/<token>", None) in routes
    assert ("POST", "/shares/buy", user_ids[ann.email]) in routes
    assert ("POST", "/staff/orders/<int:order_id>/payment", user_ids[cashier.email]) in routes
    assert (
        "POST",
        "/meetings/<int:meeting_id>/resolutions/<int:resolution_id>/vote",
        user_ids[ann.email],
    ) in routes
    assert ("POST", "/meetings/<int:meeting_id>/proxy", user_ids[cara.email]) in routes
    assert not any("@" in json.dumps(line) for line in lines)  # ids, never addresses

    # No secret in any record of any logger, nor the secret ballot's choice.
    logged = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    assert len(journal.secrets) > 10
    leaked = sorted(secret for secret in journal.secrets if secret and secret in logged)
    assert leaked == []
    # The choice as a value (SQL names the column votes_against: not a choice).
    assert re.findall(rf"\b{SECRET_CHOICE}\b", logged, re.IGNORECASE) == []


def test_a_request_id_from_the_client_is_ignored_unless_a_proxy_is_trusted(app_factory, caplog):
    caplog.set_level(logging.INFO, logger="portal.request")
    sent = {"X-Request-ID": "chosen-by-the-client-123"}
    untrusted = app_factory().test_client().get("/healthz", headers=sent)
    assert untrusted.headers["X-Request-ID"] != "chosen-by-the-client-123"
    trusted = app_factory(REQUEST_ID_FROM_PROXY=True).test_client()
    assert trusted.get("/healthz", headers=sent).headers["X-Request-ID"] == sent["X-Request-ID"]
    garbage = trusted.get("/healthz", headers={"X-Request-ID": 'x" {"user_id": 1}'})
    assert re.fullmatch(r"[0-9a-f]{16}", garbage.headers["X-Request-ID"])
    ids = [json.loads(r.getMessage())["request_id"] for r in caplog.records]
    assert ids == [
        untrusted.headers["X-Request-ID"],
        sent["X-Request-ID"],
        garbage.headers["X-Request-ID"],
    ]
