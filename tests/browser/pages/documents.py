"""The document library's pages that need setup, and the documents every crawl reads."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .crawl import Site, filter_in_place, state, wait_for_htmx

RULES = """# Rules of the Crawl Co-op

## 1. Members

1. A member holds **one** membership share of €1.
2. Members meet once a year in general meeting.

| Share | Par value |
|---|---|
| Membership | €1 |

## 2. Classes

| Class | Annual fee | Board seats |
|---|---|---|
| Listener | €10 | 2 |
| Artist | None | 3 |

> Read with the [Membership Policy](https://example.org/policy).
"""


def stock_library(site: Site) -> None:
    """The documents the crawls read: the public rulebook (``rules``, two versions, so it has
    an older version and changes) and a members-only handbook (``handbook``)."""
    site.make.document(
        "Rules of the Crawl Co-op",
        slug="rules",
        category="rules",
        summary="How the co-op is owned and run.",
        approved_by="Special resolution, AGM 2025",
        versions=[
            (date(2025, 1, 1), RULES, "The rules as registered"),
            (
                date(2026, 1, 1),
                RULES.replace("€10", "€12") + "\n## 3. Proxies\n\nA member may appoint a proxy.\n",
                "Listener fee raised to €12; proxies",
            ),
        ],
        rulebook=True,
    )
    site.make.document(
        "Members' Handbook",
        slug="handbook",
        visibility="members",
        summary="Where things are and whom to ask.",
        approved_by="The board",
        versions=[
            (
                date(2025, 6, 1),
                "# Members' Handbook\n\nAsk the secretary about anything.",
                "First edition",
            )
        ],
    )


@state("member")
def library_searched_by_htmx(site: Site) -> None:
    """The library after typing in its search box: the results swapped in by htmx."""
    from playwright.sync_api import expect

    site.goto("/documents")
    filter_in_place(
        site, r"q=proxy", lambda page: page.get_by_label("Search titles and text").fill("proxy")
    )
    results = site.page.locator("#document-results")
    expect(results.get_by_role("link", name="Rules of the Crawl Co-op")).to_be_visible()
    expect(results.get_by_role("link", name="Members' Handbook")).to_have_count(0)
    return None


@state("staff")
def publish_preview_swapped_by_htmx(site: Site) -> None:
    """The publishing form after editing the text: the preview swapped in by htmx."""
    from playwright.sync_api import expect

    preview = re.compile(r"/staff/documents/preview$")
    with site.page.expect_response(preview):  # the preview of the text as loaded
        site.goto("/staff/documents/rules")
    text = site.page.get_by_label("Text (Markdown)")
    with site.page.expect_response(preview):
        text.fill(text.input_value() + "\n3. Members may **vote** by proxy.\n")
    wait_for_htmx(site.page)
    expect(site.page.locator("#markdown-preview li strong").last).to_have_text("vote")
    return None


@state("staff")
def publish_form_with_errors(site: Site) -> Any:
    """A new version sent without saying what changed: 422 with the form and its message."""
    site.goto("/staff/documents/rules")
    return site.submit("Publish version", status=422)


@state("staff")
def add_document_with_errors(site: Site) -> Any:
    """The add-a-document form sent without a title: 422 with the list and the message."""
    site.goto("/staff/documents")
    return site.submit("Add document", status=422)
