"""The audit log for staff: every change made on the portal, filtered and paged."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ... import htmx
from ...db import get_db
from ...services import audit
from ..paging import cursor

bp = Blueprint("audit", __name__)

PAGE_SIZE = 50


@bp.get("/audit")
def log() -> Response:
    """The audit log, filtered by a GET form and paged by key; htmx swaps only the
    results. The filters' choices come from the staff and the log's indexes, never a read
    of every event."""
    db = get_db()
    flt, errors = audit.read_filter(request.args)
    page = audit.search_events(
        db, flt, after=cursor("after"), before=cursor("before"), per_page=PAGE_SIZE
    )
    query = {k: v for k in audit.FILTER_NAMES if (v := request.args.get(k, ""))}
    return htmx.render(
        "staff/audit/audit.html",
        "staff/audit/_results.html",
        actions=audit.action_names(db),
        object_types=audit.object_types(db),
        actors=audit.staff_actors(db),
        errors=errors,
        page=page,
        query=query,
        status=422 if errors else 200,
    )
