"""The bare route: the cheapest answer the app can give, the yardstick of the load bench.

``GET /_bare`` answers a constant ``ok`` through the same server, WSGI stack and request
hooks as every page (security headers, CSRF, the session cookie's handling), but loads
nothing, reads no database and renders no template. ``make bench`` (benchmarks/load.py)
states each page's requests per second as a ratio to it, measured in the same round, so the
figures do not depend on how fast the machine is or how busy it is that minute.

Safe to expose: it takes no input, reveals nothing (not even whether the database is up:
that is ``/healthz``) and costs less than any other request, so it gives an attacker nothing
a 404 does not already give.
"""

from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint("bare", __name__)


@bp.get("/_bare")
def bare() -> Response:
    """A constant plain-text ``ok``: no database, no template."""
    return Response("ok", mimetype="text/plain")
