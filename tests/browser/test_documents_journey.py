"""Publishing a new rulebook version with a live preview, then a member finding and reading it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from .conftest import BrowserLog, LiveServer, sign_in

STAFF = "secretary@example.org"
MEMBER = "member@example.org"
SLUG = "rules-of-the-tern-co-op"
TITLE = "Rules of the Tern Co-op"
RULES_V1 = (
    "# Rules of the Tern Co-op\n\n"
    "## 1. Members\n\n"
    "1. A member holds one membership share.\n\n"
    "2. Members meet once a year in general meeting."
)
# The clause staff add; its unique word is what the member searches for.
CLAUSE = "3. Every member may keep a **kittiwake** ledger of the votes they cast."
PREVIEW = re.compile(r"/staff/documents/preview$")


@pytest.fixture
def library(
    live_server: LiveServer,
    make_user: Callable[..., Any],
    make_document: Callable[..., Any],
    make_member: Callable[..., Any],
) -> LiveServer:
    """The live server with the public rulebook (one version) and a members-only handbook,
    the secretary who publishes, and a member."""
    make_user(name="Róisín Secretary", email=STAFF, role="staff")
    make_document(
        TITLE,
        category="rules",
        summary="How the co-op is owned and run.",
        approved_by="Special resolution, AGM 2025",
        versions=[(date(2025, 1, 1), RULES_V1, "The rules as registered")],
        author=STAFF,
        rulebook=True,
    )
    make_document(
        "Handbook for Members",
        visibility="members",
        summary="Where things are.",
        approved_by="The board",
        versions=[
            (date(2025, 1, 1), "# Handbook\n\nThe kettle is in the back office.", "First edition")
        ],
        author=STAFF,
    )
    make_member(name="Ena Member", email=MEMBER, town="Howth")
    return live_server


def test_staff_publish_with_live_preview_member_searches_reads_and_compares(
    new_page: Callable[..., Any], library: LiveServer, expect: Any
) -> None:
    staff = new_page()
    sign_in(staff, library, STAFF)
    publish_url = library.link(f"/staff/documents/{SLUG}")
    with staff.expect_response(PREVIEW):  # the textarea previews itself once loaded
        staff.goto(publish_url)
    text = staff.get_by_label("Text (Markdown)")
    expect(text).to_have_value(RULES_V1)  # the latest version, to edit
    preview = staff.get_by_role("region", name="Preview")
    expect(preview.get_by_role("heading", level=1)).to_have_text(TITLE)
    staff.evaluate("window.__stillHere = true")

    # Typing updates the preview: an htmx POST answering the rendered partial.
    with staff.expect_response(PREVIEW) as previewed:
        text.fill(f"{RULES_V1}\n\n{CLAUSE}")
    assert previewed.value.request.headers.get("hx-request") == "true"
    assert "<html" not in previewed.value.text()
    expect(preview.locator("li strong")).to_have_text("kittiwake")
    expect(preview).not_to_contain_text("**")  # rendered, not the Markdown source
    assert staff.url == publish_url
    assert staff.evaluate("window.__stillHere") is True  # swapped in place, no reload

    staff.get_by_label("What changed").fill("Clause 3 added: a ledger of one's votes")
    # First what publishing will do, on a page of its own; nothing is published yet.
    with staff.expect_navigation() as confirming:
        staff.get_by_role("button", name="Publish version").click()
    assert confirming.value.status == 200
    expect(staff.get_by_role("heading", name="Publish version 2?")).to_be_visible()
    expect(staff.locator(".confirm-summary")).to_contain_text(
        f"Publishes version 2 of “{TITLE}”, in effect from "
    )
    expect(staff.get_by_role("region", name="The text as readers will see it")).to_contain_text(
        "kittiwake"
    )
    with staff.expect_navigation() as published:
        staff.get_by_role("button", name="Publish version 2").click()
    assert published.value.request.redirected_from is not None  # the POST answered 303
    expect(staff).to_have_url(library.link(f"/documents/{SLUG}/v/2"))
    expect(staff.get_by_text(f"Version 2 of “{TITLE}” published.")).to_be_visible()
    expect(staff.get_by_role("main")).to_contain_text("Version 2, in effect since")

    member = new_page()
    sign_in(member, library, MEMBER)
    member.goto(library.link("/documents"))
    results = member.locator("#document-results")
    expect(results.get_by_role("link", name="Handbook for Members")).to_be_visible()
    expect(results.get_by_role("link", name=TITLE)).to_be_visible()
    member.evaluate("window.__stillHere = true")
    with member.expect_response(re.compile(r"/documents\?q=kittiwake")) as searched:
        member.get_by_label("Search titles and text").fill("kittiwake")
    assert searched.value.request.headers.get("hx-request") == "true"
    expect(member).to_have_url(re.compile(r"[?&]q=kittiwake"))  # pushed: the search is a link
    assert "q=" in member.url
    expect(results).to_contain_text("1 document matches “kittiwake”.")
    expect(results.get_by_role("link", name="Handbook for Members")).to_have_count(0)
    expect(results.get_by_role("heading", name="Rules", exact=True)).to_be_visible()
    assert member.evaluate("window.__stillHere") is True

    results.get_by_role("link", name=TITLE).click()
    expect(member).to_have_url(library.link(f"/documents/{SLUG}"))
    article = member.get_by_role("article", name=f"{TITLE}, version 2")
    expect(article.locator("li", has_text="kittiwake")).to_have_text(
        "Every member may keep a kittiwake ledger of the votes they cast."
    )
    expect(member.get_by_role("main")).to_contain_text("Version 2, in effect since")

    member.get_by_role("link", name="Compare versions").first.click()
    expect(member).to_have_url(library.link(f"/documents/{SLUG}/changes"))
    changes = member.get_by_role("region", name="Changes from Version 1 to Version 2")
    expect(changes).to_contain_text("1 paragraph added")
    added = changes.get_by_role("listitem").filter(has_text="kittiwake")
    expect(added).to_have_class(re.compile(r"\bdoc-diff-added\b"))
    expect(added).to_contain_text("Added")
    # Shown as the document shows it: a numbered item, without Markdown's asterisks.
    expect(added.locator("p.doc-diff-item ins")).to_have_text(
        "3. Every member may keep a kittiwake ledger of the votes they cast."
    )


def test_publishing_and_searching_without_javascript_use_plain_forms(
    new_page: Callable[..., Any], library: LiveServer, browser_log: BrowserLog, expect: Any
) -> None:
    publish = library.link(f"/staff/documents/{SLUG}/versions")
    browser_log.allow_status(422, publish)
    staff = new_page(java_script_enabled=False)
    sign_in(staff, library, STAFF)
    staff.goto(library.link(f"/staff/documents/{SLUG}"))
    text = staff.get_by_label("Text (Markdown)")
    expect(text).to_have_value(RULES_V1)
    preview = staff.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("Members meet once a year")  # rendered by the server

    # Sent without a change note: the form comes back with the text kept and previewed.
    text.fill(f"{RULES_V1}\n\n{CLAUSE}")
    with staff.expect_navigation() as refused:
        staff.get_by_role("button", name="Publish version").click()
    assert refused.value.status == 422
    assert refused.value.request.headers.get("hx-request") is None
    expect(staff.get_by_role("alert")).to_have_text("Say what changed in this version.")
    expect(text).to_have_value(f"{RULES_V1}\n\n{CLAUSE}")
    expect(preview.locator("li strong")).to_have_text("kittiwake")

    staff.get_by_label("What changed").fill("Clause 3 added")
    with staff.expect_navigation() as confirming:
        staff.get_by_role("button", name="Publish version").click()
    assert confirming.value.status == 200
    expect(staff.locator(".confirm-summary")).to_contain_text("Publishes version 2 of")
    with staff.expect_navigation() as published:
        staff.get_by_role("button", name="Publish version 2").click()
    assert published.value.status == 200
    assert published.value.request.redirected_from is not None  # the POST answered 303
    expect(staff).to_have_url(library.link(f"/documents/{SLUG}/v/2"))

    member = new_page(java_script_enabled=False)
    sign_in(member, library, MEMBER)
    member.goto(library.link("/documents"))
    member.get_by_label("Search titles and text").fill("kittiwake")
    with member.expect_navigation() as searched:
        member.get_by_role("button", name="Search").click()
    assert searched.value.request.headers.get("hx-request") is None
    expect(member).to_have_url(re.compile(r"/documents\?q=kittiwake"))
    results = member.locator("#document-results")
    expect(results.get_by_role("link", name="Handbook for Members")).to_have_count(0)
    results.get_by_role("link", name=TITLE).click()
    expect(member).to_have_url(library.link(f"/documents/{SLUG}"))
    expect(member.get_by_role("article", name=f"{TITLE}, version 2")).to_contain_text(
        "Every member may keep a kittiwake ledger of the votes they cast."
    )
