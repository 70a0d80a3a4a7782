"""Absolute links (in e-mail, on certificates' QR codes): always from the configured public
address, ``PUBLIC_BASE_URL``, never from the request's ``Host`` or ``X-Forwarded-Host``.

A link built from the request could be pointed at another site by whoever sends the
request: a password reset asked for with ``Host: evil.example`` would mail the victim a
genuine link to evil.example carrying a valid token (DESIGN.md §6).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from .config import public_base_url


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` at the portal's public address, built the same inside
    a request or outside one (mail sent from a command, a certificate rendered in a job)."""
    origin = urlsplit(public_base_url(current_app.config))
    adapter = current_app.url_map.bind(
        origin.netloc, script_name=origin.path or "/", url_scheme=origin.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def trusted_hosts(app: Flask) -> list[str] | None:
    """The hosts requests may name: the public address's, and this machine's in debug and
    tests (``TRUSTED_HOSTS`` overrides; Flask answers 400 for any other host)."""
    configured = app.config.get("TRUSTED_HOSTS")
    if configured is not None:
        return list(configured)
    if not app.config.get("PUBLIC_BASE_URL"):
        return None  # a local run with no public address: links are local anyway
    hosts = [urlsplit(app.config["PUBLIC_BASE_URL"]).hostname or ""]
    if app.debug or app.testing:
        hosts += ["localhost", "127.0.0.1"]
    return hosts


def init_app(app: Flask) -> None:
    """Make ``public_url`` a template global and refuse requests for hosts not ours."""
    app.jinja_env.globals["public_url"] = public_url
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app)
