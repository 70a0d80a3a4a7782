"""A Markdown version of a governance document as a PDF: its content, safety and pages."""

from __future__ import annotations

import io
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader

from portal import pdf
from portal.coop import settings_from_config
from portal.models.documents import DocumentCategory

SEED_DOCUMENTS = Path(__file__).parent.parent / "portal" / "seed_documents" / "resonate"
RULES_TITLE = "Rules of Reverb Music Co-operative Society Ltd"

STANDING_ORDERS = """\
# Standing Orders for General Meetings

## Part 1 — Conduct of meetings

### 1. The chair

1.1 The chair keeps order and decides points of procedure, subject to the Rules.

1.2 A member may speak once on each motion, for no more than three minutes:

- (a) the proposer may reply at the end of the debate; and
- (b) the chair may allow more time.

| Motion | Seconded by | Time allowed |
|---|---|---|
| Accounts | Any member | 10 minutes |
"""

HOSTILE = """\
1.1 Members meet <script>alert(document.title)</script> once a year.

<img src="http://example.com/x.png">

![x](file:///etc/passwd) and ![y](http://example.com/track.png)

[a](javascript:alert(1)) and <a href="file:///etc/passwd">b</a>
"""


def document(**fields: Any) -> SimpleNamespace:
    return SimpleNamespace(
        **{
            "title": "Standing Orders for General Meetings",
            "category": DocumentCategory.RULES,
            "approved_by": "Ordinary resolution 2, annual general meeting of 27 September 2025",
            **fields,
        }
    )


def version(body: str, **fields: Any) -> SimpleNamespace:
    return SimpleNamespace(
        **{
            "number": 2,
            "effective_on": date(2026, 1, 13),
            "change_note": "Revised for proxies in the portal",
            "body": body,
            **fields,
        }
    )


def render(app: Flask, doc: SimpleNamespace, ver: SimpleNamespace) -> bytes:
    with app.test_request_context():
        return pdf.render_document(doc, ver, settings_from_config(app.config))


def page_texts(data: bytes) -> list[str]:
    """The text of each page, with runs of whitespace made single spaces."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def fetch_logs(monkeypatch: pytest.MonkeyPatch) -> list[pdf.FetchLog]:
    """The FetchLog of every render in the test: what each document tried to load."""
    logs: list[pdf.FetchLog] = []
    render_with_log = pdf.render_pdf_with_log

    def recording(template: str, **context: object) -> tuple[bytes, pdf.FetchLog]:
        data, log = render_with_log(template, **context)
        logs.append(log)
        return data, log

    monkeypatch.setattr(pdf, "render_pdf_with_log", recording)
    return logs


@pytest.mark.pdf
def test_document_pdf_shows_the_coop_title_version_and_body(app: Flask) -> None:
    pages = page_texts(render(app, document(), version(STANDING_ORDERS)))

    first = pages[0]
    assert "Reverb Music Co-operative Society Ltd" in first
    assert "Registered Society No. 5678R (Ireland)" in first
    assert "12 Ormond Quay Upper, Dublin 7, D07 X2Y3, Ireland" in first
    assert "Standing Orders for General Meetings" in first
    assert "RULES" in first  # the category
    assert "Version 2, effective 13 January 2026" in first
    assert "Ordinary resolution 2, annual general meeting of 27 September 2025" in first
    assert "Revised for proxies in the portal" in first
    assert "1.1 The chair keeps order and decides points of procedure" in first
    assert "(a) the proposer may reply" in first
    assert "Accounts Any member 10 minutes" in first
    assert "Standing Orders for General Meetings — version 2" in first
    assert f"Page 1 of {len(pages)}" in first


@pytest.mark.pdf
def test_the_title_heading_of_the_markdown_is_not_printed_twice(app: Flask) -> None:
    [page] = page_texts(render(app, document(), version(STANDING_ORDERS)))

    # Once as the title, once in the footer: the body's own "# Standing Orders…" is dropped.
    assert page.count("Standing Orders for General Meetings") == 2


@pytest.mark.pdf
def test_a_body_heading_other_than_the_title_is_kept(app: Flask) -> None:
    body = "# Annex A\n\n1.1 The annex."

    [page] = page_texts(render(app, document(), version(body)))

    assert "Annex A 1.1 The annex." in page


@pytest.mark.pdf
def test_hostile_markdown_fetches_nothing_and_shows_as_text(
    app: Flask, fetch_logs: list[pdf.FetchLog]
) -> None:
    data = render(app, document(), version(HOSTILE))

    [log] = fetch_logs
    assert log.requested == []
    [page] = page_texts(data)
    assert "1.1 Members meet <script>alert(document.title)</script> once a year." in page
    assert "<img src=“http://example.com/x.png”>" in page  # quotes made typographic
    assert "![x](file:///etc/passwd)" in page
    links = [
        annotation.get_object().get("/A", {}).get("/URI")
        for pdf_page in PdfReader(io.BytesIO(data)).pages
        for annotation in pdf_page.get("/Annots", [])
    ]
    assert not [uri for uri in links if uri and not uri.startswith(("http:", "https:"))]


@pytest.mark.pdf
def test_markup_in_the_title_and_settings_is_text_not_style_or_markup(
    app: Flask, fetch_logs: list[pdf.FetchLog]
) -> None:
    title = 'Rules "v2" </style><style>@import url(http://example.com/a.css)</style>'
    app.config["COOP_LEGAL_NAME"] = "Co-op <b>Ltd</b> </style>"

    [page] = page_texts(render(app, document(title=title), version("1.1 Text.")))

    assert fetch_logs[0].requested == []
    # The title, and the footer through string-set (spaces aside: the title wraps).
    assert page.replace(" ", "").count(title.replace(" ", "")) == 2
    assert "Co-op <b>Ltd</b> </style>" in page


@pytest.mark.pdf
def test_a_long_table_repeats_its_header_on_every_page(app: Flask) -> None:
    rows = "\n".join(f"| {n} | Member {n} | Listener |" for n in range(1, 121))
    body = f"1.1 The members.\n\n| Member number | Name | Class |\n|---|---|---|\n{rows}\n"

    pages = page_texts(render(app, document(), version(body)))

    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert "MEMBER NUMBER NAME CLASS" in page
        assert f"Page {number} of {len(pages)}" in page
    assert "120 Member 120 Listener" in pages[-1]


@pytest.mark.pdf
def test_rulebook_renders_to_several_pages_within_the_time_limit(
    app: Flask, fetch_logs: list[pdf.FetchLog]
) -> None:
    rules = document(
        title=RULES_TITLE,
        approved_by="Special resolution 4, annual general meeting of 27 September 2025",
    )
    body = (SEED_DOCUMENTS / "rulebook-v3.md").read_text(encoding="utf-8")

    started = time.perf_counter()
    data = render(app, rules, version(body, number=3))
    seconds = time.perf_counter() - started

    assert seconds < app.config["PDF_RENDER_TIMEOUT_SECONDS"]  # and PDFRenderTimeout not raised
    assert fetch_logs[0].requested == []
    pages = page_texts(data)
    assert len(pages) >= 6
    for number, page in enumerate(pages, start=1):
        assert f"{RULES_TITLE} — version 3" in page
        assert f"Page {number} of {len(pages)}" in page
    text = " ".join(pages)
    assert "PART 4 — GENERAL MEETINGS" in text
    assert "15.3 No member may hold shares in the Society with a total nominal value" in text
    assert "of more than €150,000" in text
    assert "28.3 A member may hold no more than five proxies" in text
    assert "Shareholding cap raised from €50,000 to €150,000 (Rule 15.3)" in pages[-1]


@pytest.mark.pdf
def test_lettered_items_keep_their_letters(app: Flask) -> None:
    body = "3.1 Its objects are:\n\n- (b) to be owned by its members;\n- (c) to support music."

    [page] = page_texts(render(app, document(), version(body)))

    assert "(c) to support music." in page


def test_an_uploaded_pdf_version_is_not_rendered(app: Flask) -> None:
    with pytest.raises(ValueError, match="Only a Markdown version"):
        render(app, document(), version(None))
