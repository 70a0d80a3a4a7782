"""Who may see what: role checks, loading an object or answering 404, the signed-in
member, and the guard on ``next=`` redirects."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, request, url_for
from flask_login import current_user, login_required

from ..db import get_db
from ..extensions import login_manager
from ..htmx import redirect
from ..models import Member
from ..services.register import members

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


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


def found(value: T | None) -> T:
    """``value``, or 404 when there is none (hidden and missing look the same)."""
    if value is None:
        abort(404)
    return value


def get_or_404(model: type[T], ident: int) -> T:
    """The row of ``model`` with this primary key, or 404."""
    return found(get_db().get(model, ident))


def current_member() -> Member | None:
    """The signed-in person's entry on the register, if any (read once per request)."""
    if "current_member" not in g:
        g.current_member = (
            members.member_for_user(get_db(), current_user)
            if current_user.is_authenticated
            else None
        )
    return g.current_member


def member_or_404() -> Member:
    """The signed-in person's entry on the register; 404 for someone who is not a member."""
    return found(current_member())


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
