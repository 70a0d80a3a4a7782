"""The staff dashboard: what is waiting, and the latest activity."""

from __future__ import annotations

from flask import Blueprint, render_template

from ...db import get_db
from ...models import ApplicationState
from ...services import audit
from ...services.accounts import users
from ...services.membership import review

bp = Blueprint("dashboard", __name__)


@bp.get("")
def index() -> str:
    """Applications waiting, accounts, and the last few audit events."""
    db = get_db()
    return render_template(
        "staff/dashboard/dashboard.html",
        recent=audit.search_events(db, audit.AuditFilter(), per_page=8),
        user_count=users.count_users(db),
        pending=review.review_queue(db, state="open", per_page=1),
        unpaid=review.review_queue(db, state=ApplicationState.AWAITING_SHARE, per_page=1),
    )
