"""Staff pages, one module per area, each a blueprint named by its URL under ``/staff``.

Every route here is for staff: the parent blueprint checks it once, before any staff view
runs, so no route can forget it (``/staff/settings`` also requires an admin).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_login import current_user

from ...extensions import login_manager
from ...htmx import redirect
from . import (
    applications,
    audit,
    board,
    dashboard,
    documents,
    meeting_elections,
    meeting_minutes,
    meeting_notices,
    meeting_proposals,
    meeting_proxies,
    meeting_room,
    meetings,
    members,
    orders,
    outbox,
    register,
    requisitions,
    settings,
    transfers,
    withdrawals,
)

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.before_request
def _staff_only() -> object:
    """Sign in first; then staff only (403 for everyone else signed in), and only once
    two-factor sign-in is set up (issue 17 §1: the set-up page first)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(403)
    if not current_user.two_factor_enabled:
        flash(
            "Staff pages need two-factor sign-in. Set it up here first; it takes a minute.",
            "info",
        )
        return redirect(url_for("two_factor.setup"))
    return None


for area in (
    dashboard,
    audit,
    outbox,
    applications,
    members,
    register,
    orders,
    withdrawals,
    transfers,
    documents,
    meetings,
    meeting_elections,
    board,
    meeting_minutes,
    meeting_notices,
    meeting_proposals,
    meeting_proxies,
    meeting_room,
    requisitions,
    settings,
):
    bp.register_blueprint(area.bp)
