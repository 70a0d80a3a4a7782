"""Two-factor sign-in: a TOTP code from an authenticator app (RFC 6238), or a single-use
recovery code, after the password.

Staff and admins must have it (issue 17 §1; the staff pages refuse them until it is set
up); members may opt in. The secret is stored encrypted (``tokens.encrypt``, keyed by the
app's secret key), so a copy of the database alone gives no codes. A code is accepted for
the time step before and after this one (clocks drift), and each time step only once: the
last accepted step is kept, and a code for it or an earlier one is refused. Recovery codes
are stored as keyed digests and each works once. A wrong code counts against the sign-in
throttle like a wrong password (``AccountRules.max_failures`` in
``AccountRules.failure_window``, the settings LOGIN_MAX_FAILURES and
LOGIN_FAILURE_WINDOW_MINUTES).
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ... import tokens
from ...errors import InvalidFields, InvalidInput, InvalidState, NotAllowed
from ...models import RecoveryCode, User, UserSession, utcnow
from .. import audit
from . import sessions
from .users import AccountRules, count_failure, throttle

RECOVERY_CODES = 10
# Each recovery code carries 50 random bits (ten base-32 characters), shown as "abcde-fghij".
RECOVERY_CODE_LENGTH = 10
CODE_MAX = 40  # what a code field may send before it is judged
_SPACING = re.compile(r"[\s-]+")


class WrongCode(InvalidFields):
    """The code is not right (or was used already); counted by the sign-in throttle, so the
    view keeps the failure as it keeps a wrong password."""


def read_code(raw: str) -> str:
    """A code as typed, without spaces or dashes, lower-cased; InvalidFields if missing."""
    code = _SPACING.sub("", (raw or "")[:CODE_MAX]).lower()
    if not code:
        raise InvalidFields({"code": "Enter the code from your authenticator app."})
    return code


def _totp(user: User) -> pyotp.TOTP:
    assert user.totp_secret is not None
    return pyotp.TOTP(tokens.decrypt(user.totp_secret))


def _digest(code: str) -> str:
    return tokens.keyed_digest(f"recovery-code:{code}")


def pending_secret(user: User) -> str | None:
    """The secret of a set-up begun and not yet confirmed (to show as a QR code), if any."""
    if user.two_factor_enabled or user.totp_secret is None:
        return None
    return tokens.decrypt(user.totp_secret)


def provisioning_uri(user: User, secret: str, *, issuer: str) -> str:
    """The ``otpauth://`` link an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def start_setup(db: Session, user: User) -> None:
    """Give ``user`` a new secret to confirm with a code; any set-up begun before is
    replaced. Refused once two-factor sign-in is on (turn it off, or keep it)."""
    if user.two_factor_enabled:
        raise InvalidState("Two-factor sign-in is already set up.")
    user.totp_secret = tokens.encrypt(pyotp.random_base32(32))
    user.totp_last_step = None
    db.flush()


def enable(db: Session, user: User, code: str) -> list[str]:
    """Turn two-factor sign-in on once ``code`` proves the app holds the secret; the ten
    recovery codes, to show once (only their digests are kept)."""
    if user.two_factor_enabled:
        raise InvalidState("Two-factor sign-in is already set up.")
    if user.totp_secret is None:
        raise InvalidState("Start the set-up first: the page shows a new QR code.")
    given = read_code(code)
    if not _accept_totp(db, user, given, utcnow()):
        raise InvalidFields(
            {
                "code": "That code is not right. Check the app shows the portal's entry, "
                "and that your device's clock is correct."
            }
        )
    user.two_factor_enabled_at = utcnow()
    codes = _new_recovery_codes(db, user)
    audit.record(
        db,
        actor=user,
        action="user.two_factor_enabled",
        target=user,
        summary="Two-factor sign-in turned on",
    )
    return codes


def regenerate_recovery_codes(db: Session, user: User) -> list[str]:
    """Replace every recovery code of ``user`` with ten new ones (the old stop working)."""
    if not user.two_factor_enabled:
        raise InvalidState("Set up two-factor sign-in first.")
    codes = _new_recovery_codes(db, user)
    audit.record(
        db,
        actor=user,
        action="user.recovery_codes_regenerated",
        target=user,
        summary="New recovery codes made; the old ones no longer work",
    )
    return codes


def disable(db: Session, user: User) -> None:
    """Turn two-factor sign-in off for a member; staff and admins must keep it."""
    if user.is_staff:
        raise NotAllowed("Staff and admin accounts must keep two-factor sign-in.")
    if not user.two_factor_enabled:
        raise InvalidState("Two-factor sign-in is not on.")
    forget(db, user)
    audit.record(
        db,
        actor=user,
        action="user.two_factor_disabled",
        target=user,
        summary="Two-factor sign-in turned off",
    )


def reset(db: Session, user: User, *, actor: User | None) -> None:
    """Take two-factor sign-in off an account whose owner lost their phone and codes (the
    operator's ``reset-two-factor`` command, after checking who asks); every session ends,
    and a staff member must set it up again before the staff pages open."""
    if not user.two_factor_enabled and user.totp_secret is None:
        raise InvalidState(f"{user.email} has no two-factor sign-in to reset.")
    forget(db, user)
    sessions.end_all_sessions(db, user)
    audit.record(
        db,
        actor=actor,
        action="user.two_factor_reset",
        target=user,
        summary="Two-factor sign-in reset by an operator; sessions ended",
    )


def forget(db: Session, user: User) -> None:
    """Drop the account's secret and recovery codes (turning it off, a reset, anonymising)."""
    user.totp_secret = None
    user.two_factor_enabled_at = None
    user.totp_last_step = None
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def unused_recovery_codes(db: Session, user: User) -> int:
    """How many of the user's recovery codes are left."""
    return (
        db.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def check_code(db: Session, user: User, code: str, rules: AccountRules) -> None:
    """Accept a TOTP code, or an unused recovery code (which is then used up), for
    ``user``; WrongCode otherwise.

    Reads ``AccountRules.max_failures`` and ``AccountRules.failure_window``: a wrong code
    is counted with the failed passwords for the account, and once it is locked every
    answer is refused (LoginThrottled).
    """
    if not user.two_factor_enabled:
        raise InvalidState("Two-factor sign-in is not on for this account.")
    given = read_code(code)
    _now, earlier = throttle(db, user.email, rules)
    if given.isdigit() and len(given) == 6:
        if _accept_totp(db, user, given, utcnow()):
            return
    elif _use_recovery_code(db, user, given):
        return
    count_failure(db, user.email, user, earlier=earlier, rules=rules, ip=db.info.get("ip"))
    raise WrongCode(
        {"code": "That code is not right, or it was used already. Wait for the next code."}
    )


def confirm_code(db: Session, record: UserSession, code: str, *, rules: AccountRules) -> None:
    """Mark this session as having just given a code (the confirm prompt, like a password).

    Reads ``AccountRules.max_failures`` and ``AccountRules.failure_window`` (check_code).
    """
    check_code(db, record.user, code, rules)
    record.reauthenticated_at = utcnow()


def _accept_totp(db: Session, user: User, code: str, now: datetime) -> bool:
    """Whether ``code`` is the app's code for a time step next to ``now`` that is later than
    the last one accepted; that step is then the last accepted.

    The step moves by a conditional UPDATE, so two requests carrying one code at once
    cannot both succeed (the second finds the step taken), on SQLite and PostgreSQL alike.
    """
    totp = _totp(user)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if not hmac.compare_digest(totp.generate_otp(step), code):
            continue
        taken = db.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        db.expire(user, ["totp_last_step"])
        return taken.rowcount == 1  # type: ignore[attr-defined]
    return False


def _use_recovery_code(db: Session, user: User, code: str) -> bool:
    """Use up one of the user's recovery codes if ``code`` is one of them, unused."""
    if len(code) != RECOVERY_CODE_LENGTH:
        return False
    used = db.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return False
    left = unused_recovery_codes(db, user)
    audit.record(
        db,
        actor=user,
        action="user.recovery_code_used",
        target=user,
        summary=f"Signed in with a recovery code ({left} left)",
    )
    return True


def _new_recovery_codes(db: Session, user: User) -> list[str]:
    """Ten new recovery codes for ``user``, replacing any before; only digests are stored."""
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        base64.b32encode(secrets.token_bytes(10)).decode().lower()[:RECOVERY_CODE_LENGTH]
        for _ in range(RECOVERY_CODES)
    ]
    now = utcnow()
    db.add_all(
        RecoveryCode(user_id=user.id, code_hash=_digest(code), created_at=now) for code in codes
    )
    db.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def enrol_with_secret(db: Session, user: User, secret: str) -> None:
    """Turn two-factor sign-in on with a known secret, no code asked (the demo's accounts
    and test fixtures; never a person's own set-up)."""
    try:
        pyotp.TOTP(secret).now()
    except Exception as exc:  # binascii.Error for a secret that is not base 32
        raise InvalidInput("A two-factor secret must be base 32.") from exc
    user.totp_secret = tokens.encrypt(secret)
    user.two_factor_enabled_at = utcnow()
    user.totp_last_step = None
    db.flush()
