"""Accounts: sign-up, e-mail verification, sign-in with throttling, passwords, sessions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ... import coop, mail, tokens
from ...errors import InvalidInput, InvalidState, TooManyAttempts
from ...models import LoginFailure, PasswordResetToken, Role, User, utcnow
from .. import audit
from ..inputs import read_all, read_given, read_text
from . import passwords

NAME_MAX = 120
TITLE_MAX = 60  # a staff member's office: "Secretary", "Membership officer"
EMAIL_MAX = 254
PASSWORD_MAX = 256  # what any password field may send, before the rules judge it


@dataclass(frozen=True)
class AccountRules:
    """The settings the account rules depend on (read from the app config by the caller)."""

    password_min_length: int = 12
    password_max_length: int = 256
    password_min_score: int = 3
    max_failures: int = 10
    failure_window: timedelta = timedelta(minutes=15)
    reset_max_age: timedelta = timedelta(hours=1)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AccountRules:
        """The rules as a deployment's configuration sets them."""
        return cls(
            password_min_length=config["PASSWORD_MIN_LENGTH"],
            password_max_length=config["PASSWORD_MAX_LENGTH"],
            password_min_score=config["PASSWORD_MIN_SCORE"],
            max_failures=config["LOGIN_MAX_FAILURES"],
            failure_window=timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]),
            reset_max_age=timedelta(minutes=config["PASSWORD_RESET_MAX_AGE_MINUTES"]),
        )


class InvalidCredentials(InvalidInput):
    """Wrong e-mail or password (deliberately not saying which)."""

    def __init__(self) -> None:
        super().__init__("That e-mail and password do not match an account.")


class LoginThrottled(TooManyAttempts):
    """Too many failures for this e-mail in the window; carries when to retry."""

    def __init__(self, retry_at: datetime, *, local_time: str) -> None:
        super().__init__(f"Too many failed sign-ins for this account. Try again at {local_time}.")
        self.retry_at = retry_at


def read_name(raw: str) -> str:
    """A person's name as typed, trimmed."""
    return read_given(raw, "Enter your name.", max_length=NAME_MAX, field="name")


def read_email(raw: str) -> str:
    """An e-mail address as typed, trimmed (``normalize_email`` checks its form)."""
    return read_given(raw, "Enter your e-mail address.", max_length=EMAIL_MAX, field="email")


def read_password(raw: str, missing: str) -> str:
    """A password exactly as typed; ``missing`` says which one to enter."""
    return read_given(raw, missing, max_length=PASSWORD_MAX, verbatim=True, field="password")


def normalize_email(raw: str) -> str:
    """A syntactically valid e-mail, lower-cased; InvalidInput otherwise."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"Enter a valid e-mail address ({exc}).", field="email") from exc
    return result.normalized.lower()


def find_user_by_email(db: Session, email: str) -> User | None:
    """The user with this e-mail (already normalised), if any."""
    return db.scalar(select(User).where(User.email == email))


def check_new_password(password: str, rules: AccountRules, *, name: str, email: str) -> None:
    """Refuse a password that breaks the length rule or is easy to guess."""
    passwords.check_strength(
        password,
        min_length=rules.password_min_length,
        max_length=rules.password_max_length,
        min_score=rules.password_min_score,
        user_inputs=[
            name,
            *name.split(),
            name.replace(" ", ""),
            email,
            email.split("@")[0],
            "reverb",
            "coop",
            "portal",
            "member",
        ],
    )


def create_user(
    db: Session,
    *,
    name: str,
    email: str,
    password: str,
    role: Role = Role.MEMBER,
    title: str | None = None,
    verified: bool = False,
    actor: User | None = None,
    rules: AccountRules | None = None,
) -> User:
    """Create an account (CLI, seeding, and sign-up use this); the e-mail must be new.

    ``title`` names the office a staff member holds ("Secretary"); the header shows it.
    """
    rules = rules or AccountRules()
    name = read_name(name)
    email = normalize_email(email)
    title = read_text(title, "Title", max_length=TITLE_MAX, required=False, field="title")
    check_new_password(password, rules, name=name, email=email)
    if find_user_by_email(db, email) is not None:
        raise InvalidState(f"An account with {email} already exists.")
    user = User(
        name=name,
        email=email,
        password_hash=passwords.hash_password(password),
        role=role,
        title=title or None,
        email_verified_at=utcnow() if verified else None,
    )
    db.add(user)
    audit.record(
        db,
        actor=actor or user,
        action="user.created",
        target=user,
        summary=f"Account created with role {role.label.lower()}"
        + (f" ({title})" if title else ""),
    )
    return user


def sign_up(db: Session, *, name: str, email: str, password: str, rules: AccountRules) -> None:
    """Sign up; the answer is the same whether or not the e-mail already has an account.

    A new address gets a verification link; a known one gets a note saying an account
    exists, so nobody learns from the page which addresses are registered. Missing,
    too long or malformed answers are refused together (InvalidFields).
    """
    given = read_all(
        name=lambda: read_name(name),
        email=lambda: normalize_email(read_email(email)),
        password=lambda: read_password(password, "Choose a password."),
    )
    name, email, password = given["name"], given["email"], given["password"]
    existing = find_user_by_email(db, email)
    if existing is not None:
        # Check and hash anyway so both paths take the same time and give the same errors.
        check_new_password(password, rules, name=name, email=email)
        passwords.hash_password(password)
        mail.queue(db, "account_exists", to=existing.email, user=existing)
        return
    user = create_user(db, name=name, email=email, password=password, rules=rules)
    send_verification(db, user)


def send_verification(db: Session, user: User) -> None:
    """Mail a signed link that confirms ``user.email``."""
    token = tokens.sign("verify-email", {"uid": user.id, "email": user.email})
    mail.queue(db, "verify_email", to=user.email, user=user, token=token)


def verify_email(db: Session, token: str, *, max_age: timedelta) -> User:
    """Confirm the address in a valid token: the account's own, or a new one it asked for."""
    payload = tokens.unsign("verify-email", token, max_age_seconds=int(max_age.total_seconds()))
    invalid = InvalidInput("This verification link is invalid or has expired.")
    if not isinstance(payload, dict):
        raise invalid
    user = db.get(User, payload.get("uid"))
    email = payload.get("email")
    if user is None or not user.is_active or email not in (user.email, user.pending_email):
        raise invalid
    if email == user.pending_email:
        if find_user_by_email(db, email) is not None:
            raise InvalidState(f"{email} is already used by another account.")
        old, user.email, user.pending_email = user.email, email, None
        user.email_verified_at = utcnow()
        audit.record(
            db,
            actor=user,
            action="user.email_changed",
            target=user,
            summary="E-mail address changed after verification",
        )
        mail.queue(db, "email_changed", to=old, user=user)
    elif user.email_verified_at is None:
        user.email_verified_at = utcnow()
        audit.record(
            db,
            actor=user,
            action="user.email_verified",
            target=user,
            summary="E-mail address verified",
        )
    return user


def request_email_change(db: Session, user: User, new_email: str) -> None:
    """Send a verification link to a new address; it replaces the old once confirmed."""
    email = normalize_email(new_email)
    if email == user.email:
        raise InvalidInput("That is already your e-mail address.", field="email")
    user.pending_email = email
    audit.record(
        db,
        actor=user,
        action="user.email_change_requested",
        target=user,
        summary="Asked to change the e-mail address",
    )
    if find_user_by_email(db, email) is not None:
        return  # say nothing that reveals another account; the link would be refused
    token = tokens.sign("verify-email", {"uid": user.id, "email": email})
    mail.queue(db, "verify_email", to=email, user=user, token=token)


def authenticate(
    db: Session, *, email: str, password: str, rules: AccountRules, ip: str | None = None
) -> User:
    """The user whose e-mail and password match; records failures and throttles them.

    At most ``rules.max_failures`` failures per e-mail in ``rules.failure_window``;
    the next attempt, right or wrong, is refused until the oldest failure ages out.
    Unknown e-mails are throttled and timed the same way, so the answer reveals nothing.
    A missing or too long answer is refused first (InvalidFields), and costs no attempt.
    """
    given = read_all(
        email=lambda: read_email(email),
        password=lambda: read_password(password, "Enter your password."),
    )
    password = given["password"]
    try:
        email = normalize_email(given["email"])
    except InvalidInput:
        passwords.spend_verify_time(password)
        raise InvalidCredentials() from None
    now = utcnow()
    since = now - rules.failure_window
    failures = db.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.email == email, LoginFailure.at > since)
        .order_by(LoginFailure.at)
    ).all()
    if len(failures) >= rules.max_failures:
        retry_at = failures[-rules.max_failures] + rules.failure_window
        raise LoginThrottled(retry_at, local_time=coop.local(retry_at, db).strftime("%H:%M"))

    user = find_user_by_email(db, email)
    if user is None:
        passwords.spend_verify_time(password)
        ok = False
    else:
        ok = passwords.verify_password(user.password_hash, password) and user.is_active
    if not ok:
        db.add(LoginFailure(email=email, ip=ip, at=now))
        db.flush()
        raise InvalidCredentials()

    assert user is not None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    db.execute(delete(LoginFailure).where(LoginFailure.email == email))
    user.previous_login_at = user.last_login_at
    user.last_login_at = now
    audit.record(db, actor=user, action="user.logged_in", target=user, summary="Signed in")
    return user


def end_other_sessions(db: Session, user: User) -> None:
    """Invalidate every session of ``user``; the caller signs the current one in again."""
    user.session_version += 1
    audit.record(
        db, actor=user, action="user.sessions_ended", target=user, summary="Signed out everywhere"
    )


def change_password(
    db: Session, user: User, *, current: str, new: str, rules: AccountRules
) -> None:
    """Change the password after checking the current one; ends every other session.

    Every problem with either answer is reported at once (InvalidFields, by ``current``
    and ``new``).
    """

    def current_password() -> str:
        given = read_password(current, "Enter your current password.")
        if not passwords.verify_password(user.password_hash, given):
            raise InvalidInput("Your current password is not right.")
        return given

    def new_password() -> str:
        given = read_password(new, "Choose a new password.")
        check_new_password(given, rules, name=user.name, email=user.email)
        return given

    given = read_all(current=current_password, new=new_password)
    _replace_password(
        db,
        user,
        given["new"],
        action="user.password_changed",
        summary="Password changed; other sessions ended",
    )


def _replace_password(db: Session, user: User, new: str, *, action: str, summary: str) -> None:
    """Store a new (checked) password, end every session, audit it and tell the owner."""
    user.password_hash = passwords.hash_password(new)
    user.session_version += 1
    audit.record(db, actor=user, action=action, target=user, summary=summary)
    mail.queue(db, "password_changed", to=user.email, user=user)


def request_password_reset(db: Session, *, email: str, rules: AccountRules) -> None:
    """Mail a single-use reset link if the account exists; do the same work either way."""
    email = read_email(email)
    try:
        email = normalize_email(email)
    except InvalidInput:
        return
    user = find_user_by_email(db, email)
    token, token_hash = tokens.random_token()
    if user is None or not user.is_active:
        return
    now = utcnow()
    db.add(
        PasswordResetToken(
            user=user, token_hash=token_hash, created_at=now, expires_at=now + rules.reset_max_age
        )
    )
    audit.record(
        db,
        actor=None,
        action="user.password_reset_requested",
        target=user,
        summary="Password reset link sent",
    )
    mail.queue(
        db,
        "reset_password",
        to=user.email,
        user=user,
        token=token,
        minutes=int(rules.reset_max_age.total_seconds() // 60),
    )


def find_reset_token(db: Session, token: str) -> PasswordResetToken:
    """The unused, unexpired reset token; InvalidInput otherwise."""
    record = db.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == tokens.digest(token))
    )
    if record is None or record.used_at is not None or record.expires_at <= utcnow():
        raise InvalidInput("This reset link is invalid, used or expired. Ask for a new one.")
    return record


def reset_password(db: Session, *, token: str, new: str, rules: AccountRules) -> User:
    """Set a new password with a reset token, using it up and ending every session."""
    new = read_password(new, "Choose a new password.")
    record = find_reset_token(db, token)
    user = record.user
    check_new_password(new, rules, name=user.name, email=user.email)
    _replace_password(
        db,
        user,
        new,
        action="user.password_reset",
        summary="Password reset by e-mailed link; sessions ended",
    )
    now = utcnow()
    # This link, and any other outstanding one for the account, is used up.
    for link in user.reset_tokens:
        if link.used_at is None:
            link.used_at = now
    if user.email_verified_at is None:
        user.email_verified_at = now  # the link reached the inbox, which proves it
    db.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    return user


def count_users(db: Session) -> int:
    """How many accounts exist."""
    return db.scalar(select(func.count()).select_from(User)) or 0
