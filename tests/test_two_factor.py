"""Two-factor sign-in (issue 17 §1): staff and admins must set it up before any staff page,
members may opt in; a code works once; recovery codes are stored hashed and work once; and
staff confirm it is them (password or code, within ten minutes) before changing the
register, closing a vote or publishing minutes."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from portal import demo, tokens
from portal.db import write_session
from portal.models import (
    AuditEvent,
    Certificate,
    LoginFailure,
    Meeting,
    MeetingState,
    OrderState,
    RecoveryCode,
    ShareOrder,
    User,
    utcnow,
)
from portal.presets import PRESETS
from portal.services.accounts import two_factor
from portal.services.accounts.users import AccountRules

from .conftest import PASSWORD
from .factories import HTMX, age_sessions, audit_actions, count, reading, today_iso
from .two_factor_codes import code_after, next_code, secret_of

ELEVEN_MINUTES = timedelta(minutes=11)
STAFF = "staff@example.org"


def stored_user(app, email):
    with reading(app) as db:
        return db.scalar(select(User).where(User.email == email))


def start_setup(client):
    """Begin set-up; the secret the page shows (as an app would read it from the QR code)."""
    assert client.post("/me/two-factor/start").status_code == 303
    page = client.get("/me/two-factor").get_data(as_text=True)
    key = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page)
    assert key, "no key on the set-up page"
    return page, key.group(1).replace(" ", "")


def enrol(client):
    """Set up two-factor sign-in through the pages; the secret and the recovery codes."""
    _page, secret = start_setup(client)
    answer = client.post("/me/two-factor/enable", data={"code": pyotp.TOTP(secret).now()})
    assert answer.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", answer.get_data(True))
    return secret, codes


def password_step(app, email):
    """A new client that has typed the right password and waits at the code step."""
    client = app.test_client()
    answer = client.login(email, code=False)
    assert answer.status_code == 303 and answer.headers["Location"] == "/login/code"
    return client


# -- setting it up ------------------------------------------------------------------------


def test_set_up_shows_a_qr_code_and_refuses_a_wrong_code(app, make_user, sign_in):
    make_user(email="ann@example.org")
    ann = sign_in("ann@example.org")
    page, secret = start_setup(ann)
    assert '<figure class="qr-code">' in page and "<svg" in page and "<path" in page
    assert "style=" not in page.split('<figure class="qr-code">')[1].split("</figure>")[0]
    wrong = ann.post("/me/two-factor/enable", data={"code": "000000"})
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(True)
    assert not stored_user(app, "ann@example.org").two_factor_enabled
    blank = ann.post("/me/two-factor/enable", data={"code": " "})
    assert blank.status_code == 422 and "Enter the code" in blank.get_data(True)
    right = ann.post("/me/two-factor/enable", data={"code": pyotp.TOTP(secret).now()})
    assert right.status_code == 200 and "Your recovery codes" in right.get_data(True)
    assert stored_user(app, "ann@example.org").two_factor_enabled
    assert "user.two_factor_enabled" in audit_actions(app)


def test_the_secret_is_encrypted_and_recovery_codes_are_stored_hashed(app, make_user, sign_in):
    make_user(email="ann@example.org")
    secret, codes = enrol(sign_in("ann@example.org"))
    assert len(codes) == len(set(codes)) == 10
    user = stored_user(app, "ann@example.org")
    assert secret not in user.totp_secret  # a copy of the table does not give the key
    with app.app_context():
        assert tokens.decrypt(user.totp_secret) == secret
    with reading(app) as db:
        hashes = list(db.scalars(select(RecoveryCode.code_hash)))
    assert len(hashes) == 10
    for code in codes:
        plain = code.replace("-", "")
        assert all(plain not in stored and code not in stored for stored in hashes)


def test_the_codes_are_shown_once(make_user, sign_in):
    make_user(email="ann@example.org")
    ann = sign_in("ann@example.org")
    _secret, codes = enrol(ann)
    page = ann.get("/me/two-factor").get_data(as_text=True)
    assert "<strong>10</strong> unused recovery codes" in page
    assert not any(code in page for code in codes)


# -- signing in ---------------------------------------------------------------------------


def test_sign_in_asks_for_the_code_after_the_password(app, make_user):
    make_user(email=STAFF, role="staff", name="Sam Staff")
    client = password_step(app, STAFF)
    assert client.get("/me").status_code in (302, 303)  # not signed in yet
    assert "user.logged_in" not in audit_actions(app)
    page = client.get("/login/code")
    assert page.status_code == 200 and "Enter your sign-in code" in page.get_data(True)
    wrong = client.post("/login/code", data={"code": "123456"})
    assert wrong.status_code == 422 and "not right" in wrong.get_data(True)
    assert count(app, LoginFailure) == 1  # counted like a wrong password
    right = client.post("/login/code", data={"code": next_code(app, STAFF)})
    assert right.status_code == 303
    assert client.get("/staff").status_code == 200
    assert audit_actions(app).count("user.logged_in") == 1
    assert count(app, LoginFailure) == 0


def test_a_code_cannot_be_used_twice(app, make_user):
    make_user(email=STAFF, role="staff")
    code = next_code(app, STAFF)
    first = password_step(app, STAFF)
    assert first.post("/login/code", data={"code": code}).status_code == 303
    second = password_step(app, STAFF)
    replayed = second.post("/login/code", data={"code": code})
    assert replayed.status_code == 422 and "used already" in replayed.get_data(True)
    assert second.get("/staff").status_code in (302, 303)


def test_an_earlier_code_is_refused_once_a_later_one_was_used(app, make_user):
    make_user(email=STAFF, role="staff")
    secret, _last = secret_of(app, STAFF)
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    client = password_step(app, STAFF)
    assert client.post("/login/code", data={"code": totp.generate_otp(now)}).status_code == 303
    other = password_step(app, STAFF)
    earlier = other.post("/login/code", data={"code": totp.generate_otp(now - 1)})
    assert earlier.status_code == 422


def test_a_recovery_code_signs_in_once(app, make_user, sign_in):
    make_user(email="ann@example.org")
    _secret, codes = enrol(sign_in("ann@example.org"))
    first = password_step(app, "ann@example.org")
    assert first.post("/login/code", data={"code": codes[3].upper()}).status_code == 303
    assert first.get("/me").status_code == 200
    again = password_step(app, "ann@example.org")
    assert again.post("/login/code", data={"code": codes[3]}).status_code == 422
    assert "user.recovery_code_used" in audit_actions(app)
    with reading(app) as db:
        assert db.scalar(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None)))


def test_the_code_step_expires(app, make_user):
    make_user(email=STAFF, role="staff")
    client = password_step(app, STAFF)
    with client.session_transaction() as cookie:
        pending = dict(cookie["two_factor_pending"])
        cookie["two_factor_pending"] = {**pending, "at": pending["at"] - 6 * 60}
    late = client.post("/login/code", data={"code": next_code(app, STAFF)})
    assert late.status_code == 303 and late.headers["Location"] == "/login"
    assert client.get("/login/code").headers["Location"] == "/login"


def test_without_the_password_step_there_is_no_code_step(client):
    assert client.post("/login/code", data={"code": "123456"}).headers["Location"] == "/login"


def test_wrong_codes_lock_the_account_like_wrong_passwords(app, make_user):
    make_user(email=STAFF, role="staff")
    client = password_step(app, STAFF)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/login/code", data={"code": "999999"}).status_code == 422
    locked = client.post("/login/code", data={"code": next_code(app, STAFF)})
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.get_data(True)


# -- the staff pages need it --------------------------------------------------------------


def staff_get_routes(app):
    """Every /staff page with no parameters in its URL."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/staff") and "GET" in rule.methods and not rule.arguments
    )


def test_staff_without_two_factor_are_sent_to_set_it_up_from_every_staff_page(
    app, make_user, sign_in
):
    make_user(email="new@example.org", role="admin", two_factor=False)
    client = sign_in("new@example.org")
    routes = staff_get_routes(app)
    assert len(routes) > 10
    for route in routes:
        plain = client.get(route)
        assert (plain.status_code, plain.headers.get("Location")) == (303, "/me/two-factor"), route
        htmx = client.get(route, headers=HTMX)
        assert htmx.headers.get("HX-Redirect") == "/me/two-factor", route
    posted = client.post("/staff/meetings", data={"title": "x"})
    assert posted.headers["Location"] == "/me/two-factor"
    page = client.get("/me/two-factor").get_data(as_text=True)
    assert "Staff pages need two-factor sign-in" in page


def test_staff_set_it_up_then_reach_the_staff_pages(app, make_user, sign_in):
    make_user(email="new@example.org", role="staff", two_factor=False)
    client = sign_in("new@example.org")
    enrol(client)
    assert client.get("/staff").status_code == 200


def test_staff_cannot_turn_it_off_but_members_can(app, make_user, sign_in, staff):
    refused = staff.post("/me/two-factor/disable")
    assert refused.status_code == 403 and "must keep" in refused.get_data(True)
    assert stored_user(app, STAFF).two_factor_enabled
    make_user(email="ann@example.org")
    ann = sign_in("ann@example.org")
    enrol(ann)
    assert ann.post("/me/two-factor/disable").status_code == 303
    user = stored_user(app, "ann@example.org")
    assert not user.two_factor_enabled and user.totp_secret is None
    assert count(app, RecoveryCode) == 0
    assert "user.two_factor_disabled" in audit_actions(app)
    plain = app.test_client().login("ann@example.org")
    assert plain.headers["Location"] != "/login/code"


def test_members_opt_in_from_the_security_page(app, make_user, sign_in):
    make_user(email="ann@example.org")
    ann = sign_in("ann@example.org")
    page = ann.get("/me/security").get_data(as_text=True)
    assert "Set up two-factor sign-in" in page and 'href="/me/two-factor"' in page
    enrol(ann)
    assert "Signing in asks for a code" in ann.get("/me/security").get_data(True)
    assert password_step(app, "ann@example.org")  # the password alone is no longer enough


def test_new_recovery_codes_need_a_recent_sign_in_and_replace_the_old(app, staff):
    age_sessions(app, reauthenticated_at=ELEVEN_MINUTES)
    asked = staff.post("/me/two-factor/recovery-codes")
    assert asked.headers["Location"].startswith("/confirm-password")
    assert count(app, RecoveryCode) == 0  # the fixture's staff were enrolled without codes
    confirmed = staff.post("/confirm-password", data={"code": next_code(app, STAFF)})
    assert confirmed.status_code == 303
    made = staff.post("/me/two-factor/recovery-codes")
    assert made.status_code == 200 and count(app, RecoveryCode) == 10
    again = staff.post("/me/two-factor/recovery-codes")
    old = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", made.get_data(True))
    new = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", again.get_data(True))
    assert count(app, RecoveryCode) == 10 and not set(old) & set(new)
    assert "user.recovery_codes_regenerated" in audit_actions(app)


def test_an_operator_resets_a_lost_phone(app, runner, make_user):
    make_user(email=STAFF, role="staff")
    result = runner.invoke(args=["reset-two-factor", STAFF])
    assert result.exit_code == 0, result.output
    assert not stored_user(app, STAFF).two_factor_enabled
    assert "user.two_factor_reset" in audit_actions(app)


# -- confirming it is you before register changes, closing votes and publishing minutes --


@pytest.fixture
def cashier_and_order(make_member, make_order, sign_in, make_user):
    ada = make_member(name="Ada Okafor")
    make_user(email=STAFF, role="staff")
    return sign_in(STAFF), make_order(ada, "supporter", 10)


def pay(client, order, **headers):
    form = {
        "amount": f"{order.amount_minor / 100:.2f}",
        "paid_on": today_iso(),
        "method": "bank_transfer",
        "bank_reference": "TX-42",
        "confirm": "yes",
    }
    return client.post(
        f"/staff/orders/{order.id}/payment",
        data=form,
        headers={"Referer": "https://localhost/staff/orders?q=ada", **headers},
    )


def order_state(app, order):
    with reading(app) as db:
        return db.get(ShareOrder, order.id).state


def test_recording_a_payment_eleven_minutes_after_sign_in_asks_first(app, cashier_and_order):
    cashier, order = cashier_and_order
    age_sessions(app, reauthenticated_at=ELEVEN_MINUTES)
    events, certificates = count(app, AuditEvent), count(app, Certificate)
    asked = pay(cashier, order)
    assert asked.status_code == 303
    assert asked.headers["Location"] == "/confirm-password?next=/staff/orders?q%3Dada"
    assert order_state(app, order) is OrderState.PENDING_PAYMENT
    assert (count(app, AuditEvent), count(app, Certificate)) == (events, certificates)
    htmx = pay(cashier, order, **HTMX, **{"HX-Current-URL": "https://localhost/staff/orders"})
    assert htmx.headers["HX-Redirect"] == "/confirm-password?next=/staff/orders"
    page = cashier.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Nothing was changed yet" in page and "Code from your authenticator app" in page
    back = cashier.post(asked.headers["Location"], data={"code": next_code(app, STAFF)})
    assert back.headers["Location"] == "/staff/orders?q=ada"
    assert pay(cashier, order).status_code == 303
    assert order_state(app, order) is OrderState.ISSUED


def test_the_password_confirms_too_and_a_wrong_one_does_not(app, cashier_and_order):
    cashier, order = cashier_and_order
    age_sessions(app, reauthenticated_at=ELEVEN_MINUTES)
    assert pay(cashier, order).status_code == 303
    wrong = cashier.post("/confirm-password", data={"password": "not-my-password-at-all"})
    assert wrong.status_code == 422
    wrong_code = cashier.post("/confirm-password", data={"code": "000000"})
    assert wrong_code.status_code == 422
    assert pay(cashier, order).headers["Location"].startswith("/confirm-password")
    assert cashier.post("/confirm-password", data={"password": PASSWORD}).status_code == 303
    pay(cashier, order)
    assert order_state(app, order) is OrderState.ISSUED


def test_a_fresh_sign_in_counts_as_recent(app, cashier_and_order):
    cashier, order = cashier_and_order
    assert pay(cashier, order).status_code == 303
    assert order_state(app, order) is OrderState.ISSUED


def test_closing_a_vote_eleven_minutes_after_sign_in_asks_first(app, make_meeting, staff):
    meeting = make_meeting()
    age_sessions(app, reauthenticated_at=ELEVEN_MINUTES)
    asked = staff.post(f"/staff/meetings/{meeting.id}/close")
    assert asked.headers["Location"].startswith("/confirm-password")
    with reading(app) as db:
        assert db.get(Meeting, meeting.id).state is MeetingState.VOTING_OPEN
    staff.post("/confirm-password", data={"code": next_code(app, STAFF)})
    assert staff.post(f"/staff/meetings/{meeting.id}/close").status_code == 303
    with reading(app) as db:
        assert db.get(Meeting, meeting.id).state is MeetingState.VOTING_CLOSED


def test_publishing_minutes_eleven_minutes_after_sign_in_asks_first(
    app, make_member, make_meeting, factories, staff
):
    for n in range(3):
        make_member(email=f"voter{n}@example.org", classes=["listener"])
    meeting = make_meeting()
    factories.close_meeting(meeting)
    url = f"/staff/meetings/{meeting.id}/minutes/publish"
    form = {"chair": "Jo Chair", "body": "The meeting was held.", "confirm": "yes"}
    age_sessions(app, reauthenticated_at=ELEVEN_MINUTES)
    asked = staff.post(url, data=form)
    assert asked.headers["Location"].startswith("/confirm-password")
    with reading(app) as db:
        assert db.get(Meeting, meeting.id).state is MeetingState.VOTING_CLOSED
    staff.post("/confirm-password", data={"password": PASSWORD})
    assert staff.post(url, data=form).status_code == 303
    with reading(app) as db:
        assert db.get(Meeting, meeting.id).state is MeetingState.MINUTES_PUBLISHED


# -- the service ---------------------------------------------------------------------------


def test_two_requests_with_one_code_cannot_both_pass(app, make_user):
    """The step moves by a conditional UPDATE: the second use of a step finds it taken."""
    make_user(email=STAFF, role="staff")
    secret, last = secret_of(app, STAFF)
    code = code_after(secret, last)
    with app.app_context(), write_session(app) as db:
        user = db.scalar(select(User).where(User.email == STAFF))
        two_factor.check_code(db, user, code, AccountRules())
    with pytest.raises(two_factor.WrongCode), app.app_context(), write_session(app) as db:
        user = db.scalar(select(User).where(User.email == STAFF))
        two_factor.check_code(db, user, code, AccountRules())


def test_the_demo_prints_how_its_staff_get_a_code(runner):
    text = demo.logins_text(PRESETS["resonate"])
    assert "demo-code" in text and demo.DEMO_TWO_FACTOR_SECRET in text
    printed = runner.invoke(args=["demo-code"]).output
    assert printed.split()[0] == pyotp.TOTP(demo.DEMO_TWO_FACTOR_SECRET).now()
