"""Staff pages: the dashboard, the audit log and, in debug mode, the mail outbox."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from .. import htmx, mail
from ..db import get_db
from ..forms import AuditFilterForm, choices
from ..services import accounts, applications, audit
from ..templating import current_coop
from .access import staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")

AUDIT_PAGE_SIZE = 50


@bp.get("")
@staff_required
def dashboard() -> str:
    db = get_db()
    recent = audit.search_events(db, audit.AuditFilter(), per_page=8)
    return render_template(
        "staff/dashboard.html",
        recent=recent,
        user_count=accounts.count_users(db),
        pending=applications.review_queue(db, state="open", per_page=1).total,
    )


@bp.get("/audit")
@staff_required
def audit_log() -> Response:
    """The audit log, filtered by a GET form; htmx swaps only the results."""
    db = get_db()
    form = AuditFilterForm(request.args)
    form.action.choices = choices("Any action", audit.action_names(db))
    form.object_type.choices = choices("Any object", audit.object_types(db))
    valid = form.validate()
    flt = audit.AuditFilter(
        action=form.action.data or "",
        actor=(form.actor.data or "").strip(),
        object_type=form.object_type.data or "",
        since=form.since.data if valid else None,
        until=form.until.data if valid else None,
    )
    page = audit.search_events(
        db,
        flt,
        page=request.args.get("page", 1, type=int),
        per_page=AUDIT_PAGE_SIZE,
        tz=current_coop().timezone,
    )
    query = {k: v for k, v in request.args.items(multi=False) if k != "page" and v}
    return htmx.render(
        "staff/audit.html",
        "staff/_audit_results.html",
        form=form,
        page=page,
        query=query,
        status=200 if valid else 422,
    )


@bp.get("/outbox")
@staff_required
def outbox() -> str:
    """Mail written to instance/outbox/ (debug mode only, for local use without SMTP)."""
    if not current_app.debug:
        abort(404)
    return render_template("staff/outbox.html", messages=mail.read_outbox())
