"""Accounts: sign-up, e-mail verification, sign-in with throttling, passwords, sessions.

Anyone can make the portal mail an address (a reset link, "you already have an account",
the unlock link): each kind goes at most ``account_mails_per_hour`` times an hour to one
address, counted in the database, and the page answers the same either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ... import coop, mail, tokens
from ...errors import InvalidFields, InvalidInput, InvalidState, TooManyAttempts
from ...models import (
    AccountMail,
    AccountMailKind,
    LoginFailure,
    PasswordResetToken,
    Role,
    User,
    UserSession,
    utcnow,
)
from .. import audit
from ..inputs import read_all, read_given, read_text
from . import passwords, sessions

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
    # The mails anyone can have sent to an address: at most this many of each kind an hour.
    account_mails_per_hour: int = 3
    # How long the old address may undo a change of e-mail address.
    email_change_cancel_window: timedelta = timedelta(hours=72)
    # How long the link mailed to a locked account's owner lets them sign in anyway.
    unlock_max_age: timedelta = timedelta(hours=24)

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
            account_mails_per_hour=config["ACCOUNT_MAILS_PER_HOUR"],
            email_change_cancel_window=timedelta(hours=config["EMAIL_CHANGE_CANCEL_HOURS"]),
            unlock_max_age=timedelta(hours=config["LOGIN_UNLOCK_MAX_AGE_HOURS"]),
        )


class InvalidCredentials(InvalidInput):
    """Wrong e-mail or password (deliberately not saying which)."""

    def __init__(self) -> None:
        super().__init__("That e-mail and password do not match an account.")


class WrongPassword(InvalidFields):
    """The current password, asked for before a sensitive change, is not right; the failure
    is counted by the sign-in throttle (so the view keeps it, as it keeps a failed sign-in).
    """


class LoginThrottled(TooManyAttempts):
    """Too many failures for this e-mail in the window; carries when to retry."""

    def __init__(self, retry_at: datetime, *, local_time: str) -> None:
        super().__init__(
            f"Too many failed sign-ins for this account. Try again at {local_time}. "
            "If the account is yours, we have e-mailed its address a link that lets you "
            "sign in now with your password."
        )
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


def may_mail(db: Session, address: str, kind: AccountMailKind, rules: AccountRules) -> bool:
    """Count one ``kind`` of mail to ``address``; False once this hour's allowance is spent.

    Kept in the database (by a keyed digest of the address), so every worker counts
    together; rows older than an hour are dropped on the way.
    """
    now = utcnow()
    since = now - timedelta(hours=1)
    digest = tokens.keyed_digest(address)
    db.execute(delete(AccountMail).where(AccountMail.at <= since))
    sent = db.scalar(
        select(func.count())
        .select_from(AccountMail)
        .where(
            AccountMail.address_digest == digest,
            AccountMail.kind == kind,
            AccountMail.at > since,
        )
    )
    if (sent or 0) >= rules.account_mails_per_hour:
        return False
    db.add(AccountMail(address_digest=digest, kind=kind, at=now))
    return True


def sign_up(db: Session, *, name: str, email: str, password: str, rules: AccountRules) -> None:
    """Sign up; the answer is the same whether or not the e-mail already has an account.

    A new address gets a verification link; a known one gets a note saying an account
    exists, so nobody learns from the page which addresses are registered. Either mail goes
    to one address at most ``rules.account_mails_per_hour`` times an hour. Missing, too long
    or malformed answers are refused together (InvalidFields).
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
        if may_mail(db, email, AccountMailKind.SIGN_UP, rules):
            mail.queue(db, "account_exists", to=existing.email, user=existing)
        return
    user = create_user(db, name=name, email=email, password=password, rules=rules)
    if may_mail(db, email, AccountMailKind.SIGN_UP, rules):
        send_verification(db, user)


def send_verification(db: Session, user: User) -> None:
    """Mail a signed link that confirms ``user.email``."""
    token = tokens.sign("verify-email", {"uid": user.id, "email": user.email})
    mail.queue(db, "verify_email", to=user.email, user=user, token=token)


def verify_email(db: Session, token: str, *, max_age: timedelta) -> User:
    """Confirm the address in a valid token: the account's own, or a new one it asked for.

    A new address replaces the old one, which is told, with a link that undoes the change.
    """
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
        mail.queue(
            db, "email_changed", to=old, user=user, token=_cancel_token(user, old=old, new=email)
        )
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


def request_email_change(
    db: Session, user: User, *, new_email: str, current_password: str, rules: AccountRules
) -> None:
    """Send a verification link to a new address; it replaces the old once confirmed.

    The current password must be given (a session alone is not enough), and the old
    address is told at once, with a link that cancels the change for
    ``rules.email_change_cancel_window``.
    """
    email = normalize_email(read_email(new_email))
    check_current_password(db, user, current_password, rules)
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
    mail.queue(
        db,
        "email_change_requested",
        to=user.email,
        user=user,
        new_email=email,
        token=_cancel_token(user, old=user.email, new=email),
        hours=int(rules.email_change_cancel_window.total_seconds() // 3600),
    )
    if find_user_by_email(db, email) is not None:
        return  # say nothing that reveals another account; the link would be refused
    token = tokens.sign("verify-email", {"uid": user.id, "email": email})
    mail.queue(db, "verify_email", to=email, user=user, token=token)


def _cancel_token(user: User, *, old: str, new: str) -> str:
    return tokens.sign("cancel-email-change", {"uid": user.id, "old": old, "new": new})


def read_cancel_token(db: Session, token: str, rules: AccountRules) -> tuple[User, str, str]:
    """The account, old and new address of a valid link that cancels an e-mail change."""
    payload = tokens.unsign(
        "cancel-email-change",
        token,
        max_age_seconds=int(rules.email_change_cancel_window.total_seconds()),
    )
    invalid = InvalidInput("This link is invalid or has expired.")
    if not isinstance(payload, dict):
        raise invalid
    user = db.get(User, payload.get("uid"))
    old, new = payload.get("old"), payload.get("new")
    if user is None or not user.is_active or not isinstance(old, str) or not isinstance(new, str):
        raise invalid
    return user, old, new


def cancel_email_change(db: Session, token: str, *, rules: AccountRules) -> User:
    """Undo a change of e-mail address from the link mailed to the old address.

    The old address is restored (or the waiting change dropped), every session ends and any
    reset link is used up, so whoever made the change is out; the owner then signs in with
    their password, or resets it through the restored address.
    """
    user, old, new = read_cancel_token(db, token, rules)
    if user.email != old:
        other = find_user_by_email(db, old)
        if other is not None and other.id != user.id:
            raise InvalidState(f"{old} is now used by another account; write to us for help.")
        user.email = old
        user.email_verified_at = utcnow()  # the link reached the old inbox
    user.pending_email = None
    sessions.end_all_sessions(db, user)
    _use_up_reset_link(user)
    audit.record(
        db,
        actor=user,
        action="user.email_change_cancelled",
        target=user,
        summary=f"Change of e-mail address cancelled from the old address; sessions ended "
        f"(the change was to {new})",
    )
    return user


def throttle(db: Session, email: str, rules: AccountRules) -> tuple[datetime, int]:
    """Now, and how many failures ``email`` has in the window; LoginThrottled once they
    reach ``rules.max_failures``."""
    now = utcnow()
    failures = db.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.email == email, LoginFailure.at > now - rules.failure_window)
        .order_by(LoginFailure.at)
    ).all()
    if len(failures) >= rules.max_failures:
        retry_at = failures[-rules.max_failures] + rules.failure_window
        raise LoginThrottled(retry_at, local_time=coop.local(retry_at, db).strftime("%H:%M"))
    return now, len(failures)


def count_failure(
    db: Session,
    email: str,
    user: User | None,
    *,
    earlier: int,
    rules: AccountRules,
    ip: str | None,
) -> None:
    """Record a failed password for ``email``; the one that starts the lock mails the
    account's owner a link that lets them in with their password all the same."""
    db.add(LoginFailure(email=email, ip=ip, at=utcnow()))
    db.flush()
    starts_lock = earlier + 1 == rules.max_failures
    if (
        starts_lock
        and user is not None
        and user.is_active
        and may_mail(db, email, AccountMailKind.UNLOCK, rules)
    ):
        mail.queue(
            db,
            "sign_in_unlock",
            to=user.email,
            user=user,
            token=tokens.sign("unlock", {"uid": user.id, "pw": _password_stamp(user)}),
            hours=int(rules.unlock_max_age.total_seconds() // 3600),
        )


def _password_stamp(user: User) -> str:
    """A short digest of the password hash: a link carrying it dies with the password."""
    return tokens.digest(user.password_hash)[:16]


def unlocked_user(db: Session, token: str, rules: AccountRules) -> User:
    """The account a valid unlock link names; InvalidInput otherwise."""
    payload = tokens.unsign(
        "unlock", token, max_age_seconds=int(rules.unlock_max_age.total_seconds())
    )
    user = db.get(User, payload.get("uid")) if isinstance(payload, dict) else None
    if user is None or not user.is_active or payload.get("pw") != _password_stamp(user):
        raise InvalidInput(
            "This link is invalid or has expired. Sign in as usual, or reset your password."
        )
    return user


def authenticate(
    db: Session,
    *,
    email: str,
    password: str,
    rules: AccountRules,
    ip: str | None = None,
    unlock: str | None = None,
) -> User:
    """The user whose e-mail and password match; records failures and throttles them.

    At most ``rules.max_failures`` failures per e-mail in ``rules.failure_window``;
    the next attempt, right or wrong, is refused until the oldest failure ages out,
    unless it comes with the unlock link mailed to the owner when the lock began
    (``unlock``): the lock keeps others out, never the owner.
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
    try:
        now, earlier = throttle(db, email, rules)
    except LoginThrottled:
        if unlock is None or unlocked_user(db, unlock, rules).email != email:
            raise
        now, earlier = utcnow(), rules.max_failures

    user = find_user_by_email(db, email)
    if user is None:
        passwords.spend_verify_time(password)
        ok = False
    else:
        ok = passwords.verify_password(user.password_hash, password) and user.is_active
    if not ok:
        count_failure(db, email, user, earlier=earlier, rules=rules, ip=ip)
        raise InvalidCredentials()

    assert user is not None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if user.two_factor_enabled:
        # Not signed in yet: the failures are cleared only once the code is right too, so
        # the password alone cannot reset the throttle between guesses at the code.
        return user
    _signed_in(db, user, now)
    return user


def _signed_in(db: Session, user: User, now: datetime) -> None:
    """Every check passed: clear the failures, note the sign-in and audit it."""
    db.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    user.previous_login_at = user.last_login_at
    user.last_login_at = now
    audit.record(db, actor=user, action="user.logged_in", target=user, summary="Signed in")


def sign_in(
    db: Session,
    *,
    email: str,
    password: str,
    rules: AccountRules,
    ip: str | None,
    user_agent: str,
    replacing: str | None = None,
    unlock: str | None = None,
) -> tuple[User, str | None]:
    """Authenticate and open a session; the user and the token the cookie will carry.

    ``replacing`` is the token of the session this browser had, which ends. A user with
    two-factor sign-in gets no token (None): :func:`complete_sign_in` opens the session
    once their code is right.
    """
    user = authenticate(db, email=email, password=password, rules=rules, ip=ip, unlock=unlock)
    if user.two_factor_enabled:
        return user, None
    token = sessions.open_session(db, user, user_agent=user_agent, ip=ip, replacing=replacing)
    return user, token


def complete_sign_in(
    db: Session, user: User, *, ip: str | None, user_agent: str, replacing: str | None = None
) -> str:
    """Open the session of a user whose password and second factor were both right; the
    token the cookie will carry."""
    _signed_in(db, user, utcnow())
    return sessions.open_session(db, user, user_agent=user_agent, ip=ip, replacing=replacing)


def check_current_password(
    db: Session, user: User, password: str, rules: AccountRules, *, field: str = "current"
) -> None:
    """Refuse a sensitive change unless ``password`` is the account's own.

    A wrong one counts against the sign-in throttle like a failed sign-in (so a stolen
    session cannot guess the password faster than the sign-in form can), and once the
    account is locked every answer is refused (LoginThrottled).
    """
    try:
        given = read_password(password, "Enter your current password.")
    except InvalidInput as exc:
        raise InvalidFields({field: exc.message}) from None
    _now, earlier = throttle(db, user.email, rules)
    if not passwords.verify_password(user.password_hash, given):
        count_failure(db, user.email, user, earlier=earlier, rules=rules, ip=db.info.get("ip"))
        raise WrongPassword({field: "Your current password is not right."})


def confirm_password(
    db: Session, record: UserSession, password: str, *, rules: AccountRules
) -> None:
    """Mark this session as having just typed its password again (the confirm prompt)."""
    check_current_password(db, record.user, password, rules, field="password")
    record.reauthenticated_at = utcnow()


def change_password(
    db: Session,
    user: User,
    *,
    current: str,
    new: str,
    rules: AccountRules,
    keep: UserSession | None = None,
) -> None:
    """Change the password after checking the current one; ends every session but ``keep``.

    Every problem with either answer is reported at once (InvalidFields, by ``current``
    and ``new``; WrongPassword when the current one is wrong, which the view keeps).
    """
    wrong = False

    def current_password() -> str:
        nonlocal wrong
        try:
            check_current_password(db, user, current, rules)
        except InvalidFields as exc:
            wrong = isinstance(exc, WrongPassword)
            raise InvalidInput(exc.errors["current"]) from None
        return current

    def new_password() -> str:
        given = read_password(new, "Choose a new password.")
        check_new_password(given, rules, name=user.name, email=user.email)
        return given

    try:
        given = read_all(current=current_password, new=new_password)
    except InvalidFields as exc:
        if wrong:
            raise WrongPassword(exc.errors) from None
        raise
    _replace_password(
        db,
        user,
        given["new"],
        keep=keep,
        action="user.password_changed",
        summary="Password changed; other sessions ended",
    )


def _replace_password(
    db: Session, user: User, new: str, *, keep: UserSession | None, action: str, summary: str
) -> None:
    """Store a new (checked) password, end every session but ``keep``, audit it and tell
    the owner."""
    user.password_hash = passwords.hash_password(new)
    sessions.end_other_sessions(db, user, keep=keep)
    audit.record(db, actor=user, action=action, target=user, summary=summary)
    mail.queue(db, "password_changed", to=user.email, user=user)


def end_other_sessions(db: Session, user: User, *, keep: UserSession | None) -> None:
    """Sign out every session of ``user`` but ``keep`` (this browser's)."""
    sessions.end_other_sessions(db, user, keep=keep)
    audit.record(
        db, actor=user, action="user.sessions_ended", target=user, summary="Signed out everywhere"
    )


def request_password_reset(db: Session, *, email: str, rules: AccountRules) -> None:
    """Mail a reset link if the account exists, or a note that none uses the address.

    Both paths do the same work (a counted mail, a stored row, an audit event, a rendered
    and delivered message), so the time taken tells nothing; at most
    ``rules.account_mails_per_hour`` such mails go to one address an hour, silently. A new
    link replaces the account's previous one.
    """
    email = read_email(email)
    try:
        email = normalize_email(email)
    except InvalidInput:
        return
    user = find_user_by_email(db, email)
    token, token_hash = tokens.random_token()
    if not may_mail(db, email, AccountMailKind.RESET, rules):
        return
    if user is None or not user.is_active:
        audit.record(
            db,
            actor=None,
            action="user.password_reset_unknown",
            target="address",
            summary="Password reset asked for an address with no active account",
        )
        mail.queue(db, "reset_no_account", to=email, email=email)
        return
    now = utcnow()
    link = user.reset_token
    if link is None:
        link = PasswordResetToken(user=user)
        db.add(link)
    link.token_hash, link.created_at, link.used_at = token_hash, now, None
    link.expires_at = now + rules.reset_max_age
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


def _use_up_reset_link(user: User) -> None:
    link = user.reset_token
    if link is not None and link.used_at is None:
        link.used_at = utcnow()


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
        keep=None,
        action="user.password_reset",
        summary="Password reset by e-mailed link; sessions ended",
    )
    _use_up_reset_link(user)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached the inbox, which proves it
    db.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    return user


def count_users(db: Session) -> int:
    """How many accounts exist."""
    return db.scalar(select(func.count()).select_from(User)) or 0
