"""Error responses that match the layout, or a message partial for htmx requests."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from .errors import PortalError
from .pdf import PDFRenderTimeout, PDFUnavailable

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Cannot process this",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}

MESSAGES = {
    400: "The request could not be understood. Reload the page and try again.",
    401: "Please sign in to continue.",
    403: "You do not have permission to see or change this.",
    404: "There is nothing here. The link may be old or mistyped.",
    405: "This page cannot be used that way.",
    409: "Someone changed this at the same moment. Reload the page and try again.",
    413: "What you sent is too large.",
    422: "This could not be processed.",
    429: "Too many requests in a short time. Wait a little and try again.",
    500: "An unexpected error happened on our side. It has been logged; please try again.",
    503: "The portal cannot reach its database just now. Please try again shortly.",
}

PDF_UNAVAILABLE = (
    "PDFs cannot be made on this server just now. Nothing was changed; please try again later."
)

PDF_TOO_SLOW = (
    "This PDF took too long to make just now, probably because the server is busy. "
    "Nothing was changed; please try again in a minute."
)


def error_response(status: int, message: str | None = None) -> Response:
    """A page (or, for htmx, a message swapped into the flash region) for ``status``.

    Whatever the failed action flushed is rolled back first, so the page reads nothing
    half-done (and a session left unusable by a database error is usable again).
    """
    session = g.get("db")
    if session is not None:
        try:
            session.rollback()
        except SQLAlchemyError:  # the database is gone: the page needs none of it
            log.warning("could not roll back before an error page", exc_info=True)
    context = {
        "status": status,
        "title": TITLES.get(status, "Error"),
        "message": message or MESSAGES.get(status, "Something went wrong."),
    }
    if request.headers.get("HX-Request") == "true":
        response = make_response(render_template("errors/_error.html", **context), status)
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        response = make_response(render_template("errors/error.html", **context), status)
    response.vary.add("HX-Request")
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer every HTTP error, domain error and database conflict with a clear page."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = error_response(status, _message_for(exc))
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        if exc.code == 429 and getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(SecurityError)
    def _untrusted_host(exc: SecurityError) -> Response:
        # A request naming a host that is not ours (TRUSTED_HOSTS): no page of this site can
        # be built for it, so a plain answer.
        return Response("This portal is not served at that address.\n", 400, mimetype="text/plain")

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Response:
        return error_response(
            400,
            "This form has expired or did not come from this site. Reload the page and try again.",
        )

    @app.errorhandler(PortalError)
    def _domain_error(exc: PortalError) -> Response:
        return error_response(exc.status, exc.message)

    @app.errorhandler(IntegrityError)
    def _conflict(exc: IntegrityError) -> Response:
        # The first line names the constraint; PostgreSQL's DETAIL line after it quotes the
        # row's values (an e-mail address, a token's digest), which stay out of the log.
        log.info("integrity error answered with 409: %s", str(exc.orig).splitlines()[0])
        return error_response(409)

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError) -> Response:
        log.exception("database error")
        return error_response(503)

    @app.errorhandler(PoolTimeout)
    def _database_busy(exc: PoolTimeout) -> Response:
        # Every pooled connection stayed in use past the pool's timeout: a burst, not a bug.
        log.warning("no database connection free: %s", exc)
        return error_response(503)

    @app.errorhandler(PDFUnavailable)
    def _pdf_unavailable(exc: PDFUnavailable) -> Response:
        # The cause was logged once, when WeasyPrint failed to load (portal.pdf).
        return error_response(503, PDF_UNAVAILABLE)

    @app.errorhandler(PDFRenderTimeout)
    def _pdf_too_slow(exc: PDFRenderTimeout) -> Response:
        log.warning("PDF render timed out: %s", exc)
        response = error_response(503, PDF_TOO_SLOW)
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(InternalServerError)
    def _internal_error(exc: InternalServerError) -> Response:
        return error_response(500)


def _message_for(exc: HTTPException) -> str | None:
    """The exception's own description when a view gave one, else the standard message."""
    description = exc.description
    if description and description != type(exc).description:
        return description
    return None
