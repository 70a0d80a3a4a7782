"""Staff make a large register's PDF in the background: the button, the progress polled in
place by htmx, and the download link once it is ready."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest

from portal import tasks
from portal.services.shares import register_exports

from .conftest import LiveServer, sign_in


@pytest.mark.pdf
def test_staff_make_the_register_pdf_and_download_it_when_ready(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    make_user: Callable[..., Any],
    make_member: Any,
    expect: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pypdf import PdfReader

    make_user(name="Sam Staff", email="staff@example.org", role="staff")
    for n in range(1, 4):
        make_member(name=f"Holder {n}", classes=("listener",))
    monkeypatch.setattr(register_exports, "IN_REQUEST_HOLDERS", 1)  # too long for a request
    monkeypatch.setattr(register_exports, "CHUNK_ROWS", 2)
    queued: list[int] = []  # the worker, held back until the test lets it run
    monkeypatch.setitem(tasks._jobs, register_exports.JOB, queued.append)

    page = new_page()
    sign_in(page, live_server, "staff@example.org")
    page.goto(live_server.link("/staff/register"))
    page.evaluate("window.__stillHere = true")
    expect(page.get_by_role("link", name="Download PDF")).to_have_count(0)
    with page.expect_response(re.compile(r"/staff/register/exports$")) as asked:
        page.get_by_role("button", name="Make the PDF").click()
    assert asked.value.request.headers.get("hx-request") == "true"
    exports = page.locator("#register-pdf-exports")
    export = exports.locator(".register-pdf-export")
    expect(export).to_have_count(1)
    expect(export.locator(".status")).to_have_text("Waiting")
    expect(export.locator("progress")).to_be_visible()
    assert page.evaluate("window.__stillHere") is True  # swapped in place, no reload

    # The worker runs; the partial, polling every 2 s, shows the link once it is ready.
    assert len(queued) == 1
    with live_server.app.test_request_context("/"):
        register_exports.render_export(queued[0])
    link = export.get_by_role("link", name="Download the PDF")
    expect(link).to_be_visible(timeout=10_000)
    expect(export.locator(".status")).to_have_text("Ready")
    expect(export.locator("progress")).to_have_count(0)
    assert page.evaluate("window.__stillHere") is True
    response = page.request.get(live_server.link(link.get_attribute("href")))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pages = [
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.body())).pages
    ]
    assert "Page 1 of" in pages[0] and "Holder 3" in " ".join(pages)

    # Without JavaScript, the export's own page says the same.
    page.goto(live_server.link(f"/staff/register/exports/{queued[0]}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Register PDF")
    expect(page.get_by_role("link", name="Download the PDF")).to_be_visible()
