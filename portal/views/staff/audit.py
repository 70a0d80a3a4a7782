"""The audit log for staff: every change made on the portal, filtered and paged."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ... import htmx
from ...db import get_db
from ...services import audit
from ..paging import page_number

bp = Blueprint("audit", __name__)

PAGE_SIZE = 50


@bp.get("/audit")
def log() -> Response:
    """The audit log, filtered by a GET form; htmx swaps only the results."""
    db = get_db()
    flt, errors = audit.read_filter(request.args)
    page = audit.search_events(db, flt, page=page_number(), per_page=PAGE_SIZE)
    query = {k: v for k, v in request.args.items(multi=False) if k != "page" and v}
    return htmx.render(
        "staff/audit/audit.html",
        "staff/audit/_results.html",
        actions=audit.action_names(db),
        object_types=audit.object_types(db),
        errors=errors,
        page=page,
        query=query,
        status=422 if errors else 200,
    )
