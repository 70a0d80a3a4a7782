"""Sessions kept on the server, and sensitive account actions that ask for the password.

Issue 12: a copy of the cookie taken before sign-out kept working; a session alone could
change the e-mail address (and so take the account) or download the member's data.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from portal.models import LoginFailure, User, UserSession

from .conftest import PASSWORD, link_in
from .factories import age_sessions, count, reading

LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Version/18.0 Mobile Safari/604.1"


def copy_of(app, client):
    """A second client carrying a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("portal_session", client.get_cookie("portal_session").value)
    return thief


def age_reauthentication(app):
    age_sessions(app, reauthenticated_at=timedelta(minutes=11))


# --- Sign-out ends the session on the server ------------------------------------------------


def test_a_copied_cookie_stops_working_after_sign_out(app, make_member, sign_in):
    make_member(email="ann@example.org")
    owner = sign_in("ann@example.org")
    thief = copy_of(app, owner)
    assert thief.get("/me").status_code == 200  # a copy works while the session is open...
    assert owner.post("/logout").status_code == 303
    for path in ("/me", "/me/export", "/me/profile"):
        refused = thief.get(path)
        assert refused.status_code == 303, path  # ...and not once it is signed out
        assert refused.headers["Location"].startswith("/login")
    with reading(app) as db:
        assert db.scalar(select(UserSession.revoked_at)) is not None


def test_a_copied_cookie_is_refused_after_sign_out_everywhere(app, make_user):
    make_user(email="cookie@example.org")
    owner = app.test_client()
    owner.login("cookie@example.org")
    thief = copy_of(app, owner)
    phone = app.test_client()
    phone.login("cookie@example.org")
    assert phone.post("/me/security/sessions").status_code == 303
    assert thief.get("/me").status_code == 303
    assert owner.get("/me").status_code == 303
    assert phone.get("/me").status_code == 200


def test_the_security_page_lists_each_session_and_signs_one_out(app, make_user):
    make_user(email="two@example.org")
    laptop, phone = app.test_client(), app.test_client()
    laptop.environ_base["HTTP_USER_AGENT"] = LAPTOP
    phone.environ_base["HTTP_USER_AGENT"] = PHONE
    laptop.login("two@example.org")
    phone.login("two@example.org")

    page = laptop.get("/me/security").get_data(as_text=True)
    assert "Firefox on Linux" in page and "(this session)" in page
    assert "Safari on iPhone" in page
    with reading(app) as db:
        phone_id = db.scalar(select(UserSession.id).where(UserSession.user_agent == PHONE))

    ended = laptop.post(f"/me/security/sessions/{phone_id}/end")
    assert ended.status_code == 303
    assert phone.get("/me").status_code == 303  # the phone is signed out
    assert laptop.get("/me").status_code == 200  # this one is not
    assert "Safari on iPhone" not in laptop.get("/me/security").get_data(as_text=True)


def test_signing_out_this_session_from_the_list_signs_this_browser_out(app, make_user):
    make_user(email="self@example.org")
    client = app.test_client()
    client.login("self@example.org")
    with reading(app) as db:
        own = db.scalar(select(UserSession.id))
    response = client.post(f"/me/security/sessions/{own}/end")
    assert response.status_code == 303
    assert client.get("/me").status_code == 303


def test_nobody_can_sign_out_another_persons_session(app, make_user, sign_in):
    make_user(email="ann@example.org")
    make_user(email="bob@example.org")
    ann = sign_in("ann@example.org")
    bob = sign_in("bob@example.org")
    with reading(app) as db:
        bobs = db.scalar(select(UserSession.id).join(User).where(User.email == "bob@example.org"))
    assert ann.post(f"/me/security/sessions/{bobs}/end").status_code == 404
    assert bob.get("/me").status_code == 200


def test_an_expired_session_cannot_be_revived_by_its_cookie(app, make_user):
    make_user(email="late@example.org")
    client = app.test_client()
    client.login("late@example.org")
    thief = copy_of(app, client)
    age_sessions(app, created_at=timedelta(hours=13))
    assert thief.get("/me").status_code == 303
    assert client.get("/me").status_code == 303


# --- Sensitive actions ask for the password -------------------------------------------------


def test_an_email_change_needs_the_current_password(app, make_member, sign_in, outbox):
    ann = make_member(email="ann@example.org")
    client = sign_in("ann@example.org")
    for given in ("", "not-my-password-at-all"):
        response = client.post(
            "/me/profile/email", data={"email": "thief@evil.example", "current": given}
        )
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert 'id="f-current-error"' in page
        assert 'value="thief@evil.example"' in page  # what was typed is kept, not the password
    with reading(app) as db:
        assert db.get(User, ann.user_id).pending_email is None
    assert [m for m in outbox() if m.to == "thief@evil.example"] == []
    # The wrong one counts against the sign-in throttle, like a failed sign-in.
    assert count(app, LoginFailure, LoginFailure.email == "ann@example.org") == 1


def test_the_old_address_can_cancel_an_email_change_for_72_hours(app, make_member, sign_in, outbox):
    ann = make_member(email="ann@example.org")
    thief = sign_in("ann@example.org")
    thief.post("/me/profile/email", data={"email": "thief@evil.example", "current": PASSWORD})
    [notice] = [m for m in outbox() if m.subject == "Your e-mail address is about to change"]
    assert notice.to == "ann@example.org"
    assert "thief@evil.example" in notice.text and "72 hours" in notice.text
    cancel = link_in(notice, "/email-change/cancel/")
    [verify] = [m for m in outbox() if m.to == "thief@evil.example"]
    thief.post(link_in(verify, "/verify-email/"))
    with reading(app) as db:
        assert db.get(User, ann.user_id).email == "thief@evil.example"

    owner = app.test_client()
    page = owner.get(cancel)
    assert page.status_code == 200 and "Cancel the change" in page.get_data(as_text=True)
    assert owner.post(cancel).status_code == 303
    with reading(app) as db:
        user = db.get(User, ann.user_id)
        assert (user.email, user.pending_email) == ("ann@example.org", None)
    assert thief.get("/me").status_code == 303  # every session is signed out
    assert sign_in("ann@example.org")


def test_a_cancel_link_is_refused_after_72_hours(app, make_member, sign_in, outbox):
    make_member(email="ann@example.org")
    sign_in("ann@example.org").post(
        "/me/profile/email", data={"email": "new@example.org", "current": PASSWORD}
    )
    [notice] = [m for m in outbox() if m.subject == "Your e-mail address is about to change"]
    cancel = link_in(notice, "/email-change/cancel/")
    with time_machine.travel(timedelta(hours=73)):
        assert app.test_client().get(cancel).status_code == 400
        assert app.test_client().post(cancel).status_code == 422


def test_the_export_asks_for_the_password_once_it_is_not_recent(app, make_member, sign_in):
    make_member(email="ann@example.org")
    client = sign_in("ann@example.org")
    assert client.get("/me/export").status_code == 200  # typed at sign-in, just now
    age_reauthentication(app)
    asked = client.get("/me/export")
    assert asked.status_code == 303
    assert asked.headers["Location"].startswith("/confirm-password?next=/me/export")
    wrong = client.post("/confirm-password?next=/me/export", data={"password": "nope-nope-nope"})
    assert wrong.status_code == 422
    confirmed = client.post("/confirm-password?next=/me/export", data={"password": PASSWORD})
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == "/me/export"
    assert client.get("/me/export").status_code == 200


def test_resigning_asks_for_the_password_once_it_is_not_recent(app, make_member, sign_in):
    make_member(email="ann@example.org")
    client = sign_in("ann@example.org")
    age_reauthentication(app)
    assert client.get("/me/resign").headers["Location"].startswith("/confirm-password")
    refused = client.post("/me/resign", data={"reason": "x", "action": "resign"})
    assert refused.headers["Location"].startswith("/confirm-password")
