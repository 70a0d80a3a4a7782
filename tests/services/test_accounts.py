"""The account rules, called directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import tokens
from portal.errors import InvalidInput, InvalidState
from portal.models import AuditEvent, LoginFailure, PasswordResetToken, utcnow
from portal.services.accounts import sessions, users

from ..conftest import PASSWORD

RULES = users.AccountRules()


def test_emails_are_normalised_and_unique(db, make_user):
    user = make_user(email="  Mixed.Case@Example.ORG ")
    assert user.email == "mixed.case@example.org"
    with pytest.raises(InvalidState, match="already exists"):
        make_user(email="mixed.case@example.org")


def test_an_invalid_email_names_its_field(db, make_user):
    with pytest.raises(InvalidInput) as caught:
        make_user(email="no-at-sign")
    assert caught.value.field == "email"


def test_every_new_account_is_audited(db, make_user):
    user = make_user(email="a@example.org", role="staff")
    event = db.scalar(select(AuditEvent).where(AuditEvent.object_id == str(user.id)))
    assert event.action == "user.created"
    assert "staff" in event.summary


def test_authenticate_throttles_after_ten_failures_until_the_oldest_ages_out(db, make_user):
    make_user(email="a@example.org")
    now = utcnow()
    for minutes_ago in range(10, 0, -1):
        db.add(LoginFailure(email="a@example.org", at=now - timedelta(minutes=minutes_ago)))
    db.flush()
    with pytest.raises(users.LoginThrottled) as caught:
        users.authenticate(db, email="a@example.org", password=PASSWORD, rules=RULES)
    # The oldest failure in the window was 10 minutes ago: retry once it is 15 old.
    expected = now - timedelta(minutes=10) + timedelta(minutes=15)
    assert abs(caught.value.retry_at - expected) < timedelta(seconds=2)


def test_a_success_clears_the_failures(db, make_user):
    make_user(email="a@example.org")
    with pytest.raises(users.InvalidCredentials):
        users.authenticate(db, email="a@example.org", password="wrong-password", rules=RULES)
    assert db.scalar(select(LoginFailure)) is not None
    users.authenticate(db, email="a@example.org", password=PASSWORD, rules=RULES)
    assert db.scalar(select(LoginFailure)) is None


def test_a_disabled_account_cannot_sign_in(db, make_user):
    user = make_user(email="a@example.org")
    user.disabled_at = utcnow()
    with pytest.raises(users.InvalidCredentials):
        users.authenticate(db, email="a@example.org", password=PASSWORD, rules=RULES)


def test_a_verification_token_for_an_old_address_is_refused(db, make_user):
    user = make_user(email="old@example.org")
    token = tokens.sign("verify-email", {"uid": user.id, "email": "old@example.org"})
    user.email = "new@example.org"
    with pytest.raises(InvalidInput):
        users.verify_email(db, token, max_age=timedelta(hours=1))


def _open(db, user, agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"):
    token = sessions.open_session(db, user, user_agent=agent, ip="192.0.2.1")
    return sessions.find_session(db, token)


def test_a_new_reset_link_replaces_the_old_one(db, make_user):
    make_user(email="a@example.org")
    users.request_password_reset(db, email="a@example.org", rules=RULES)
    first = db.scalar(select(PasswordResetToken)).token_hash
    users.request_password_reset(db, email="a@example.org", rules=RULES)
    [only] = db.scalars(select(PasswordResetToken)).all()
    assert only.token_hash != first


def test_a_reset_uses_up_the_link_and_ends_every_session(db, make_user):
    user = make_user(email="a@example.org")
    laptop = _open(db, user)
    users.request_password_reset(db, email="a@example.org", rules=RULES)
    link = db.scalar(select(PasswordResetToken))
    token = "known-token"
    link.token_hash = tokens.digest(token)
    users.reset_password(db, token=token, new="meadow-cobalt-ferry-52", rules=RULES)
    assert link.used_at is not None
    db.refresh(laptop)
    assert laptop.revoked_at is not None
    with pytest.raises(InvalidInput):
        users.reset_password(db, token=token, new="another-cobalt-ferry-53", rules=RULES)


def test_ending_other_sessions_keeps_only_this_one(db, make_user):
    user = make_user(email="a@example.org")
    here, there = _open(db, user), _open(db, user)
    users.end_other_sessions(db, user, keep=here)
    db.refresh(here)
    db.refresh(there)
    assert here.revoked_at is None and there.revoked_at is not None


def test_sessions_are_listed_for_their_owner_only(db, make_user):
    user, other = make_user(email="a@example.org"), make_user(email="b@example.org")
    here = _open(db, user)
    _open(db, user, agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari/604.1")
    theirs = _open(db, other)
    listed = sessions.open_sessions(db, user, current=here, absolute=timedelta(hours=12))
    assert sorted(entry.device for entry in listed) == ["Firefox on Linux", "Safari on iPhone"]
    assert [entry.current for entry in listed if entry.id == here.id] == [True]
    assert sessions.session_of(db, user, theirs.id) is None
    assert sessions.session_of(db, user, 2**63) is None
