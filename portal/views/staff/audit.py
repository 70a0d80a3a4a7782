"""The audit log for staff: every change made on the portal, filtered and paged."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ... import htmx
from ...db import get_db
from ...forms import AuditFilterForm, choices
from ...services import audit
from ..paging import page_number

bp = Blueprint("audit", __name__)

PAGE_SIZE = 50


@bp.get("/audit")
def log() -> Response:
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
    page = audit.search_events(db, flt, page=page_number(), per_page=PAGE_SIZE)
    query = {k: v for k, v in request.args.items(multi=False) if k != "page" and v}
    return htmx.render(
        "staff/audit/audit.html",
        "staff/audit/_results.html",
        form=form,
        page=page,
        query=query,
        status=200 if valid else 422,
    )
