"""Flask extensions: CSRF protection, sign-in sessions and the per-IP rate limiter."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .db import get_db
from .models import User, utcnow

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

# Keys this app keeps in the signed session cookie beside Flask-Login's.
LOGIN_AT = "login_at"
SEEN_AT = "seen_at"


def init_app(app: Flask) -> None:
    """Initialise the extensions and the session limits."""
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the session version does this job, portably
    app.before_request(_enforce_session_limits)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the user named by ``"<id>:<session version>"`` if that version is still current."""
    raw_id, _, raw_version = user_id.partition(":")
    if not (raw_id.isdigit() and raw_version.isdigit()):
        return None
    user = get_db().get(User, int(raw_id))
    if user is None or user.session_version != int(raw_version) or not user.is_active:
        return None
    return user


def start_session(user: User) -> None:
    """Begin a fresh session for ``user``: nothing from before sign-in survives."""
    from flask_login import login_user

    next_flashes = session.get("_flashes")
    session.clear()
    if next_flashes:
        session["_flashes"] = next_flashes
    now = utcnow().timestamp()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session.permanent = True
    login_user(user)


def _enforce_session_limits() -> None:
    """End a session idle too long or older than the absolute limit."""
    if request.endpoint == "static" or LOGIN_AT not in session:
        return
    now = utcnow().timestamp()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]).total_seconds()
    absolute = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    if now - session.get(SEEN_AT, 0) > idle or now - session[LOGIN_AT] > absolute:
        session.clear()
        session["_flashes"] = [("info", "Your session ended. Please sign in again.")]
        return
    # Writing the cookie on every request is cheap; only refresh once a minute.
    if now - session.get(SEEN_AT, 0) > 60:
        session[SEEN_AT] = now
