"""htmx on the server: is this an htmx request, and answer the page or its partial."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, make_response, render_template, request


def is_htmx() -> bool:
    """An htmx request that wants a partial: not boosted, not a history restore."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    page_template: str, partial_template: str, /, *, status: int = 200, **context: Any
) -> Response:
    """The full page for a normal request, only the partial for an htmx one.

    Both come from one URL, so caches must key on the HX-Request header.
    """
    template = partial_template if is_htmx() else page_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect(location: str, status: int = 303) -> Response:
    """Redirect: a full-page ``HX-Redirect`` for htmx, a plain 303 otherwise."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
        return response
    response = make_response("", status)
    response.headers["Location"] = location
    return response


def trigger(response: Response, event: str) -> Response:
    """Ask htmx to fire ``event`` on the client after the swap."""
    existing = response.headers.get("HX-Trigger")
    response.headers["HX-Trigger"] = f"{existing}, {event}" if existing else event
    return response


def init_app(app: Flask) -> None:
    """Make ``is_htmx`` available to templates."""
    app.jinja_env.globals["is_htmx"] = is_htmx
