"""Codes for the accounts the tests enrol in two-factor sign-in, as their owner's app
would show them.

The portal refuses a code whose time step is not later than the last one it accepted (a
code cannot be used twice), and accepts the steps next to now: so each code picks the
earliest step it may still use, and when none is left waits for the clock's next step.
"""

from __future__ import annotations

import time

import pyotp
from flask import Flask
from sqlalchemy import select

from portal import tokens
from portal.db import database
from portal.models import User, utcnow

# Any step but the current one must stay valid while the request is in flight: the step
# before now is used only with this many seconds left in the current one.
MARGIN_SECONDS = 3


def secret_of(app: Flask, email: str) -> tuple[str, int | None]:
    """The account's TOTP secret (decrypted with the app's key) and its last step used."""
    with app.app_context():
        session = database(app).session(write=False)
        try:
            user = session.scalar(select(User).where(User.email == email))
            assert user is not None and user.totp_secret, f"{email} has no two-factor secret"
            return tokens.decrypt(user.totp_secret), user.totp_last_step
        finally:
            session.close()


def next_code(app: Flask, email: str) -> str:
    """A code the portal will accept now for ``email`` (waiting for the next time step if
    the steps around now are used up)."""
    secret, last = secret_of(app, email)
    return code_after(secret, last)


def code_after(secret: str, last: int | None) -> str:
    """The code of the earliest usable time step later than ``last``."""
    totp = pyotp.TOTP(secret)
    for _ in range(3):
        now = utcnow()
        current = totp.timecode(now)
        left = totp.interval - now.timestamp() % totp.interval
        steps = [current, current + 1]
        if left > MARGIN_SECONDS:
            steps.insert(0, current - 1)
        for step in steps:
            if last is None or step > last:
                return totp.generate_otp(step)
        time.sleep(left + 0.05)
    raise AssertionError("the clock does not move: a frozen clock cannot give new codes")
