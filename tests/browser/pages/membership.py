"""Membership pages that need setup: applying."""

from __future__ import annotations

from typing import Any

from .crawl import Site, state


@state("member")
def application_form_with_errors(site: Site) -> Any:
    """The worker application sent empty: 422 with a message by each field."""
    site.goto("/join/worker")
    return site.submit("Submit application", status=422)
