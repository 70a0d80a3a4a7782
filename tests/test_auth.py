"""The account journey over HTTP: sign up, verify, sign in and out, reset, throttling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.db import database
from portal.extensions import SEEN_AT
from portal.models import AuditEvent, LoginFailure, PasswordResetToken, User, utcnow

from .conftest import PASSWORD, link_in
from .factories import age_sessions, audit_actions, count, reading

NEW_PASSWORD = "orchid-tandem-glacier-35"


def get_user(app, email):
    with reading(app) as db:
        return db.scalar(select(User).where(User.email == email))


def test_sign_up_verify_sign_in_and_out(app, client, outbox):
    response = client.post(
        "/signup",
        data={
            "name": "Saoirse Ní Bhriain",
            "email": "Saoirse@Example.ORG",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/signup/check-inbox"
    assert "Check your inbox" in client.get("/signup/check-inbox").get_data(as_text=True)

    [message] = outbox()
    assert message.to == "saoirse@example.org"
    assert message.subject == "Confirm your e-mail address"
    link = link_in(message, "/verify-email/")
    assert not get_user(app, "saoirse@example.org").email_verified

    # Following the link only shows a button: a GET never writes.
    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm my e-mail address" in page.get_data(as_text=True)
    assert not get_user(app, "saoirse@example.org").email_verified
    confirmed = client.post(link)
    assert confirmed.status_code == 303
    assert get_user(app, "saoirse@example.org").email_verified

    signed_in = client.login("saoirse@example.org")
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == "/me"
    dashboard = client.get("/me").get_data(as_text=True)
    assert "Hello, Saoirse Ní Bhriain" in dashboard
    assert "Please confirm your e-mail address" not in dashboard

    assert client.post("/logout").status_code == 303
    after = client.get("/me")
    assert after.status_code == 303
    assert after.headers["Location"].startswith("/login?next=/me")


def test_verification_link_is_refused_when_tampered_or_expired(app, client, outbox):
    client.post("/signup", data={"name": "A", "email": "a@example.org", "password": PASSWORD})
    link = link_in(outbox()[0], "/verify-email/")
    tampered = client.post(link[:-3] + "xyz")
    assert tampered.status_code == 400
    assert "invalid or has expired" in tampered.get_data(as_text=True)
    app.config["EMAIL_VERIFY_MAX_AGE_HOURS"] = -1
    assert client.post(link).status_code == 400
    assert not get_user(app, "a@example.org").email_verified


def test_an_unverified_user_can_sign_in_and_ask_for_a_new_link(client, make_user, outbox):
    make_user(email="new@example.org", verified=False)
    client.login("new@example.org")
    assert "Please confirm your e-mail address" in client.get("/me").get_data(as_text=True)
    assert client.post("/verify-email/resend").status_code == 303
    assert outbox()[0].subject == "Confirm your e-mail address"


def test_sign_up_with_a_known_address_answers_the_same_and_warns_the_owner(
    app, client, make_user, outbox
):
    make_user(email="owner@example.org", name="Owner")
    known = client.post(
        "/signup",
        data={
            "name": "Someone",
            "email": "owner@example.org",
            "password": NEW_PASSWORD,
        },
    )
    unknown = client.post(
        "/signup",
        data={
            "name": "Someone",
            "email": "nobody@example.org",
            "password": NEW_PASSWORD,
        },
    )
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    subjects = {m.to: m.subject for m in outbox()}
    assert subjects["owner@example.org"] == "You already have an account"
    assert subjects["nobody@example.org"] == "Confirm your e-mail address"
    assert get_user(app, "owner@example.org").name == "Owner"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw", "at least 12 characters"),
        ("password1234", "less common password"),
        ("aaaaaaaaaaaaaaaa", "less common password"),
        ("x" * 257, "at most 256 characters"),
    ],
)
def test_sign_up_refuses_short_long_and_common_passwords(app, client, password, message):
    response = client.post(
        "/signup",
        data={
            "name": "Weak",
            "email": "weak@example.org",
            "password": password,
        },
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert get_user(app, "weak@example.org") is None


def test_sign_up_refuses_a_password_built_from_the_name(client):
    response = client.post(
        "/signup",
        data={
            "name": "Fionnuala Gallagher",
            "email": "fg@example.org",
            "password": "fionnualagallagher",
        },
    )
    assert response.status_code == 422


def test_reset_password_by_mail_is_single_use(app, client, make_user, outbox):
    make_user(email="forgot@example.org")
    response = client.post("/reset-password", data={"email": "forgot@example.org"})
    assert response.status_code == 303
    [message] = outbox()
    assert message.subject == "Reset your password"
    link = link_in(message, "/reset-password/")
    assert client.get(link).status_code == 200

    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 303
    assert client.login("forgot@example.org", PASSWORD).status_code == 422
    assert client.login("forgot@example.org", NEW_PASSWORD).status_code == 303
    client.post("/logout")

    again = client.post(link, data={"password": "another-fresh-melody-90"})
    assert again.status_code == 422
    assert "invalid, used or expired" in again.get_data(as_text=True)
    assert client.get(link).status_code == 400
    assert outbox()[0].subject == "Your password was changed"


def test_reset_request_answers_the_same_for_an_unknown_address(client, make_user, outbox):
    make_user(email="known@example.org")
    known = client.post("/reset-password", data={"email": "known@example.org"})
    flash_known = client.get("/login").get_data(as_text=True)
    unknown = client.post("/reset-password", data={"email": "unknown@example.org"})
    flash_unknown = client.get("/login").get_data(as_text=True)
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert "If an account uses that address" in flash_known
    assert "If an account uses that address" in flash_unknown
    # Both are mailed (inline, after the commit), so neither answers sooner.
    subjects = {m.to: m.subject for m in outbox()}
    assert subjects == {
        "known@example.org": "Reset your password",
        "unknown@example.org": "Reset your password",
    }
    [no_account] = [m for m in outbox() if m.to == "unknown@example.org"]
    assert "no account uses it" in no_account.text


def test_an_expired_reset_link_is_refused(app, client, make_user, outbox):
    make_user(email="late@example.org")
    app.config["PASSWORD_RESET_MAX_AGE_MINUTES"] = 0
    client.post("/reset-password", data={"email": "late@example.org"})
    link = link_in(outbox()[0], "/reset-password/")
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 422


def test_the_eleventh_failure_is_refused_and_the_owner_gets_in_after_the_window(
    app, client, make_user
):
    make_user(email="target@example.org")
    for _ in range(10):
        wrong = client.login("target@example.org", "not-the-password-at-all")
        assert wrong.status_code == 422
        assert "do not match an account" in wrong.get_data(as_text=True)

    throttled = client.login("target@example.org", PASSWORD)  # right password, still refused
    assert throttled.status_code == 429
    text = throttled.get_data(as_text=True)
    assert "Too many failed sign-ins" in text
    assert "Try again at " in text
    assert count(app, LoginFailure, LoginFailure.email == "target@example.org") == 10

    # Age the failures past the 15-minute window, as time would.
    with database(app).session(write=True) as session, session.begin():
        session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    assert client.login("target@example.org", PASSWORD).status_code == 303
    assert count(app, LoginFailure, LoginFailure.email == "target@example.org") == 0


def test_unknown_addresses_are_throttled_alike(client):
    for _ in range(10):
        assert client.login("ghost@example.org", "whatever-it-may-be").status_code == 422
    assert client.login("ghost@example.org", "whatever-it-may-be").status_code == 429


def test_failures_for_known_and_unknown_addresses_read_the_same(client, make_user):
    make_user(email="real@example.org")
    known = client.login("real@example.org", "wrong-password-here")
    unknown = client.login("fake@example.org", "wrong-password-here")
    assert known.status_code == unknown.status_code == 422
    assert without_tokens(known, "real@") == without_tokens(unknown, "fake@")


def without_tokens(response, address: str) -> str:
    """The page without the address typed and the CSRF tokens (they carry the time)."""
    page = response.get_data(as_text=True).replace(address, "X@")
    return re.sub(r'(X-CSRFToken": "|name="csrf_token"[^>]*?value=")[^"]+', r"\1", page)


def test_sign_in_is_rate_limited_per_ip(app_factory, make_user):
    app = app_factory(LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    token = client.csrf_token()
    for n in range(3):
        response = client.post(
            "/login",
            data={
                "email": f"p{n}@example.org",
                "password": "x",
                "csrf_token": token,
            },
        )
        assert response.status_code == 422
    limited = client.post(
        "/login",
        data={
            "email": "p9@example.org",
            "password": "x",
            "csrf_token": token,
        },
    )
    assert limited.status_code == 429
    assert "Too many requests" in limited.get_data(as_text=True)


def test_sign_out_everywhere_ends_the_other_sessions(app, make_user):
    make_user(email="two@example.org")
    laptop, phone = app.test_client(), app.test_client()
    laptop.login("two@example.org")
    phone.login("two@example.org")
    assert laptop.get("/me").status_code == 200

    assert phone.post("/me/security/sessions").status_code == 303
    assert phone.get("/me").status_code == 200  # this one stays signed in
    refused = laptop.get("/me")
    assert refused.status_code == 303
    assert refused.headers["Location"].startswith("/login")


def test_a_password_change_ends_the_other_sessions(app, make_user, outbox):
    make_user(email="pw@example.org")
    laptop, phone = app.test_client(), app.test_client()
    laptop.login("pw@example.org")
    phone.login("pw@example.org")
    changed = phone.post("/me/security/password", data={"current": PASSWORD, "new": NEW_PASSWORD})
    assert changed.status_code == 303
    assert phone.get("/me").status_code == 200
    assert laptop.get("/me").status_code == 303
    assert outbox()[0].subject == "Your password was changed"


def test_a_password_change_needs_the_current_password(client, make_user):
    make_user(email="cur@example.org")
    client.login("cur@example.org")
    response = client.post(
        "/me/security/password", data={"current": "not-my-password-1", "new": NEW_PASSWORD}
    )
    assert response.status_code == 422
    assert "current password is not right" in response.get_data(as_text=True)


def test_sign_in_rotates_the_session(client, make_user):
    make_user(email="rot@example.org")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = client.csrf_token()
    client.login("rot@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session
    assert client.csrf_token() != before


def test_an_idle_session_ends(app, client, make_user):
    make_user(email="idle@example.org")
    client.login("idle@example.org")
    with client.session_transaction() as session:
        session[SEEN_AT] = session[SEEN_AT] - 2 * 3600
    age_sessions(app, last_seen_at=timedelta(hours=2), created_at=timedelta(hours=2))
    response = client.get("/me")
    assert response.status_code == 303
    assert "Your session ended" in client.get("/login").get_data(as_text=True)


def test_reading_pages_keeps_a_session_from_going_idle(app, client, make_user):
    make_user(email="reader@example.org")
    client.login("reader@example.org")
    # The record was last written long ago, but this browser has been reading since.
    age_sessions(app, last_seen_at=timedelta(hours=2), created_at=timedelta(hours=2))
    assert client.get("/me").status_code == 200


def test_a_session_ends_at_its_absolute_limit(app, client, make_user):
    make_user(email="old@example.org")
    client.login("old@example.org")
    age_sessions(app, created_at=timedelta(hours=13))
    response = client.get("/me")
    assert response.status_code == 303
    assert "Your session ended" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%09/evil.example",
        "\t//evil.example",
        "http:/evil.example",
    ],
)
def test_open_redirect_attempts_land_on_the_dashboard(client, make_user, target):
    make_user(email="nx@example.org")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "nx@example.org", "password": PASSWORD},
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == "/me" or (
        location.startswith("/")
        and not location.startswith("//")
        and "evil" not in location.split("?")[0].split("/")[1]
    )


def test_a_safe_next_is_followed(client, make_user):
    make_user(email="next@example.org")
    response = client.post(
        "/login",
        query_string={"next": "/me/security"},
        data={"email": "next@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/me/security"


def test_sign_in_records_an_audit_event_with_the_ip(app, client, make_user):
    user = make_user(email="aud@example.org")
    client.login("aud@example.org")
    with database(app).session(write=False) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.logged_in"))
    assert event.actor_id == user.id
    assert event.ip == "127.0.0.1"
    assert PASSWORD not in event.summary


def test_passwords_are_stored_as_argon2id(app, make_user):
    make_user(email="hash@example.org")
    stored = get_user(app, "hash@example.org").password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


# --- Reset and "account exists" mails: one link, a limit per address ------------------------


def test_twenty_reset_requests_send_three_mails_and_leave_one_valid_link(
    app, client, make_user, outbox
):
    make_user(email="flood@example.org")
    for _ in range(20):
        assert (
            client.post("/reset-password", data={"email": "flood@example.org"}).status_code == 303
        )
    mails = [m for m in outbox() if m.to == "flood@example.org"]
    assert len(mails) == 3  # ACCOUNT_MAILS_PER_HOUR
    assert count(app, PasswordResetToken) == 1
    newest, *older = [link_in(m, "/reset-password/") for m in mails]
    for link in older:  # a new link replaced each older one
        assert client.get(link).status_code == 400
    assert client.get(newest).status_code == 200


def test_reset_mails_to_an_unknown_address_are_limited_alike(client, outbox):
    for _ in range(5):
        client.post("/reset-password", data={"email": "stranger@example.org"})
    assert len(outbox()) == 3


def test_sign_up_for_a_known_address_mails_its_owner_within_the_limit(client, make_user, outbox):
    make_user(email="owner@example.org")
    for _ in range(5):
        response = client.post(
            "/signup",
            data={"name": "Someone", "email": "owner@example.org", "password": NEW_PASSWORD},
        )
        assert response.status_code == 303
    assert [m.subject for m in outbox()] == ["You already have an account"] * 3


def test_known_and_unknown_reset_requests_do_the_same_work(app, client, make_user, monkeypatch):
    """Each path counts a mail, writes an audit event and queues one message (sent after
    the commit, inline), so the time taken does not tell them apart."""
    from portal import mail

    queued: list[str] = []
    real_queue = mail.queue
    monkeypatch.setattr(
        mail,
        "queue",
        lambda db, template, **kw: queued.append(template) or real_queue(db, template, **kw),
    )
    make_user(email="known@example.org")
    client.post("/reset-password", data={"email": "known@example.org"})
    client.post("/reset-password", data={"email": "unknown@example.org"})
    assert queued == ["reset_password", "reset_no_account"]
    assert audit_actions(app)[-2:] == [
        "user.password_reset_requested",
        "user.password_reset_unknown",
    ]


# --- The per-address lock lets the owner in by the mailed link -------------------------------


def lock_out(client, email):
    for _ in range(10):
        client.login(email, "not-the-password-at-all")


def test_the_owner_of_a_locked_account_gets_in_by_the_mailed_link(app, client, make_user, outbox):
    make_user(email="target@example.org")
    attacker = app.test_client()
    lock_out(attacker, "target@example.org")
    refused = client.login("target@example.org", PASSWORD)
    assert refused.status_code == 429
    assert "e-mailed its address a link" in refused.get_data(as_text=True)  # the page says so

    [mail] = [m for m in outbox() if m.subject == "Sign-in to your account is paused"]
    assert mail.to == "target@example.org"
    link = link_in(mail, "/login/unlock/")
    assert "target@example.org" in client.get(link).get_data(as_text=True)
    wrong = client.post(link, data={"password": "still-not-the-password"})
    assert wrong.status_code == 422  # the link lets the owner try, not guess freely
    signed_in = client.post(link, data={"password": PASSWORD})
    assert signed_in.status_code == 303
    assert client.get("/me").status_code == 200


def test_an_unlock_link_dies_with_the_password_and_is_for_its_account_only(
    app, client, make_user, outbox
):
    make_user(email="target@example.org")
    make_user(email="other@example.org")
    lock_out(client, "target@example.org")
    lock_out(client, "other@example.org")
    [mail] = [m for m in outbox() if m.to == "target@example.org"]
    link = link_in(mail, "/login/unlock/")
    assert client.get(link.replace("/unlock/", "/unlock/x")).status_code == 400
    with database(app).session(write=True) as db, db.begin():
        user = db.scalar(select(User).where(User.email == "target@example.org"))
        user.password_hash = "changed"
    assert client.get(link).status_code == 400
    assert client.post(link, data={"password": PASSWORD}).status_code == 400
    assert "unlock" not in " ".join(m.text for m in outbox() if m.to == "ghost@example.org")


def test_unknown_addresses_get_no_unlock_mail(client, outbox):
    lock_out(client, "ghost@example.org")
    assert outbox() == []


# --- The per-IP limit is shared by every worker ----------------------------------------------


def test_the_per_ip_limit_holds_across_workers(app_factory):
    """Two apps on one database stand for two gunicorn workers: they count together."""
    first = app_factory(LOGIN_RATE_LIMIT="3 per minute")
    second = app_factory(LOGIN_RATE_LIMIT="3 per minute")
    clients = [first.test_client(), second.test_client()]
    statuses = [
        clients[n % 2]
        .post("/login", data={"email": f"p{n}@example.org", "password": "x"})
        .status_code
        for n in range(4)
    ]
    assert statuses == [422, 422, 422, 429]


def test_the_limiter_counts_in_the_database_by_default(app):
    from portal.extensions import DatabaseStorage, limiter

    assert app.config["RATELIMIT_STORAGE_URI"] == "database://"
    with app.app_context():
        assert isinstance(limiter.storage, DatabaseStorage)
