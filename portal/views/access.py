"""Who may see what: role checks for views, and the guard on ``next=`` redirects."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, request, url_for
from flask_login import current_user, login_required

from ..extensions import login_manager
from ..htmx import redirect

F = TypeVar("F", bound=Callable[..., Any])


def role_required(allowed: Callable[[Any], bool]) -> Callable[[F], F]:
    """Signed in, and ``allowed(current_user)``; everyone else signed in gets 403."""

    def decorate(view: F) -> F:
        @login_required
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not allowed(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


staff_required = role_required(lambda user: user.is_staff)
admin_required = role_required(lambda user: user.is_admin)


def safe_next(target: str | None, default: str | None = None) -> str:
    """``target`` if it is a path on this site, else the dashboard (no open redirects)."""
    fallback = default or url_for("me.dashboard")
    if not target or len(target) > 2000:
        return fallback
    # Browsers treat backslashes as slashes and ignore tabs and newlines in URLs.
    if any(ch in target for ch in "\\\t\r\n") or not target.startswith("/"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return fallback
    return target


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    """Send the visitor to sign in; htmx requests get an HX-Redirect to a full page."""
    flash(login_manager.login_message, login_manager.login_message_category)
    # After signing in, come back to the page asked for; a POST cannot be replayed.
    path = request.full_path.rstrip("?") if request.method == "GET" else None
    target = url_for("auth.login", next=safe_next(path) if path else None)
    if request.headers.get("HX-Request") == "true":
        response = redirect(target)
        response.status_code = 401
        return response
    return redirect(target, 303)
