"""Public pages: the landing page and the health check."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..db import get_db
from ..services.register import classes

bp = Blueprint("public", __name__)


@bp.get("/")
def landing() -> str:
    """What the co-op is, who owns it, and how to join."""
    return render_template(
        "public/landing.html", classes=classes.list_classes(get_db(), open_only=True)
    )


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers, 503 when it does not."""
    try:
        get_db().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="unavailable", database=False), 503
    return jsonify(status="ok", database=True), 200
