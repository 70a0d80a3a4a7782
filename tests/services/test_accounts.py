"""The account rules, called directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import tokens
from portal.errors import InvalidInput, InvalidState
from portal.models import AuditEvent, LoginFailure, PasswordResetToken, utcnow
from portal.services.accounts import users

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


def test_a_reset_uses_up_every_outstanding_link_and_ends_sessions(db, make_user):
    user = make_user(email="a@example.org")
    users.request_password_reset(db, email="a@example.org", rules=RULES)
    users.request_password_reset(db, email="a@example.org", rules=RULES)
    first, second = db.scalars(select(PasswordResetToken)).all()
    token = "known-token"
    first.token_hash = tokens.digest(token)
    version = user.session_version
    users.reset_password(db, token=token, new="meadow-cobalt-ferry-52", rules=RULES)
    assert first.used_at is not None and second.used_at is not None
    assert user.session_version == version + 1
    with pytest.raises(InvalidInput):
        users.reset_password(db, token=token, new="another-cobalt-ferry-53", rules=RULES)


def test_ending_other_sessions_bumps_the_version(db, make_user):
    user = make_user(email="a@example.org")
    before = user.get_id()
    users.end_other_sessions(db, user)
    assert user.get_id() != before
