"""The mail outbox, in debug mode only: messages written to instance/outbox/ without SMTP."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from ... import mail

bp = Blueprint("outbox", __name__)


@bp.get("/outbox")
def messages() -> str:
    """Mail written to instance/outbox/ (debug mode only, for local use without SMTP)."""
    if not current_app.debug:
        abort(404)
    return render_template("staff/outbox/outbox.html", messages=mail.read_outbox())
