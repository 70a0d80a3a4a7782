"""Security headers on every response, and ProxyFix when behind a reverse proxy."""

from __future__ import annotations

from flask import Flask, Response, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import HTMX_CDN_URL


def content_security_policy(htmx_local: bool) -> str:
    """A strict CSP: no inline script or style; scripts from us and, in production, the CDN."""
    script_src = "'self'" if htmx_local else f"'self' {HTMX_CDN_URL}"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    """Install the header hook and, if configured, trust N proxies' X-Forwarded-* headers."""
    hops = int(app.config.get("BEHIND_PROXY") or 0)
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    csp = content_security_policy(app.config["HTMX_LOCAL"])

    @app.before_request
    def _refuse_nul_characters() -> None:
        # PostgreSQL cannot store NUL in text, and no honest form contains one.
        values = [*request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            abort(400, "The request contains a character that is not allowed (NUL).")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html" and "Cache-Control" not in headers:
            # Pages carry personal data: never keep them in shared caches.
            headers["Cache-Control"] = "no-store"
        return response
