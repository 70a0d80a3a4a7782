"""htmx on the server: is this an htmx request, and answer the page or its partial."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, flash, make_response, render_template, request


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

    Both come from one URL, so caches key on the HX-Request header (added to every
    response by :func:`init_app`).
    """
    template = partial_template if is_htmx() else page_template
    return make_response(render_template(template, **context), status)


def partial(template: str, /, *, status: int = 200, **context: Any) -> Response:
    """One component on its own: the answer to an htmx request after an action."""
    return make_response(render_template(template, **context), status)


def partial_or_redirect(
    partial_template: str, location: str, /, *, message: str, **context: Any
) -> Response:
    """After an action: the updated component for htmx, else the message and a 303 to a page.

    ``message`` is shown inside the partial (``message`` in its context) or flashed.
    """
    if is_htmx():
        return partial(partial_template, message=message, **context)
    return flash_and_redirect(message, location)


def flash_and_redirect(message: str, location: str, category: str = "success") -> Response:
    """Show ``message`` on the next page, and go there (303, or ``HX-Redirect`` for htmx)."""
    flash(message, category)
    return redirect(location)


def redirect(location: str, status: int = 303) -> Response:
    """Redirect: a full-page ``HX-Redirect`` for htmx, a plain 303 otherwise."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
        return response
    response = make_response("", status)
    response.headers["Location"] = location
    return response


def init_app(app: Flask) -> None:
    """Make ``is_htmx`` available to templates; every response varies by ``HX-Request``."""
    app.jinja_env.globals["is_htmx"] = is_htmx

    @app.after_request
    def _vary_on_htmx(response: Response) -> Response:
        # Any URL may answer htmx with a partial (or an error retargeted to the messages).
        response.vary.add("HX-Request")
        return response
