"""One structured line per request, on the ``portal.request`` logger, as JSON.

Each line holds a request id (also sent back as the ``X-Request-ID`` header, so a member
reporting a problem can quote it), the method, the route's rule, the endpoint, the status,
the time taken and the signed-in user's id. Never the path or query as sent: reset,
e-mail verification and unlock tokens travel in paths (``/reset-password/<token>``), so
the line names the rule (``/reset-password/<token>``), not the URL. Never an e-mail
address, a form value, a header or a cookie.

The id is made here. An id sent by the client is used only when ``REQUEST_ID_FROM_PROXY``
says a proxy in front sets the header itself (and it looks like an id), so one request
can be followed from the proxy's log into the portal's.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from typing import Any

from flask import Flask, Response, g, request

log = logging.getLogger("portal.request")

HEADER = "X-Request-ID"
# What an id from a proxy may look like: a UUID, or hex, or a similar token; nothing else
# (a value that could break the line or carry a secret is replaced by a new id).
PROXY_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def init_app(app: Flask) -> None:
    """Give each request an id first thing, and log its line as its response leaves.

    Settings read: ``REQUEST_ID_FROM_PROXY`` (trust the proxy's ``X-Request-ID``).
    """
    _ensure_handler()
    trust_proxy = bool(app.config.get("REQUEST_ID_FROM_PROXY"))

    # Registered before the other hooks (create_app calls this first), so the id and the
    # start time are there even when a later hook answers the request itself.
    @app.before_request
    def _start() -> None:
        g.request_id = _request_id(trust_proxy)
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_line(response: Response) -> Response:
        request_id = g.get("request_id") or _request_id(trust_proxy)
        response.headers[HEADER] = request_id
        started = g.get("request_started")
        rule = request.url_rule
        line = {
            "request_id": request_id,
            "method": request.method,
            "route": rule.rule if rule is not None else None,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "user_id": _user_id(),
        }
        log.info(json.dumps(line, separators=(",", ":")))
        return response


def _request_id(trust_proxy: bool) -> str:
    """The proxy's id when it is trusted and well-formed, else a new random one."""
    if trust_proxy:
        sent = request.headers.get(HEADER, "")
        if PROXY_ID.fullmatch(sent):
            return sent
    return secrets.token_hex(8)


def _user_id() -> int | None:
    """The id of the user this request was answered for, if it loaded one.

    Read from what Flask-Login and the session check already loaded: the log line never
    queries (a static file or the health check loads no user).
    """
    user = g.get("_login_user")
    user_id = getattr(user, "id", None)
    return user_id if isinstance(user_id, int) else None


def _ensure_handler() -> None:
    """Send the lines to standard error, one per line, unless logging is set up already.

    gunicorn and ``flask run`` leave the ``portal`` loggers without a handler, and the
    root logger's default level (WARNING) would drop these INFO lines.
    """
    if log.handlers:
        return
    handler = _StandardError()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to ``sys.stderr`` as it is when a line is logged (a test runner or
    a server may replace it after the app was built)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr
