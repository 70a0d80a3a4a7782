"""The mail outbox: messages written to the instance's outbox folder when no SMTP server is
configured, listed newest first and read one at a time (404 when mail goes by SMTP)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, render_template

from ... import htmx, mail
from ...services import pagination
from ..paging import page_number

bp = Blueprint("outbox", __name__)

PAGE_SIZE = 25


@bp.before_request
def _only_without_smtp() -> None:
    """With an SMTP server, mail leaves the portal and there is no outbox to read."""
    if not mail.outbox_in_use():
        abort(404)


@bp.get("/outbox")
def messages() -> Response:
    """The outbox, newest first and paged: only the page's headers are read."""
    page = pagination.paginate_list(mail.outbox_names(), page=page_number(), per_page=PAGE_SIZE)
    page = replace(page, items=mail.read_outbox_entries(page.items))
    return htmx.render(
        "staff/outbox/outbox.html",
        "staff/outbox/_results.html",
        page=page,
        query={},
        folder=mail.outbox_path(),
    )


@bp.get("/outbox/<name>")
def message(name: str) -> str:
    """One message, whole: its name is checked to be an outbox file's, or 404."""
    found = mail.read_outbox_message(name)
    if found is None:
        abort(404)
    return render_template("staff/outbox/message.html", message=found)
