"""What is made from a version once and kept (issue 12, items 8 and 9): a Markdown
version's PDF, rendered on its first download only, and an uploaded PDF's text preview,
read at upload within a budget; a file over the budget is refused."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta

import pytest
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject
from sqlalchemy import select
from sqlalchemy.orm import undefer

from portal import pdf, pdf_text, uploads
from portal.db import write_session
from portal.models import DocumentPDF, DocumentVersion, PDFPreview, utcnow
from portal.services.documents import renditions

pytestmark = pytest.mark.usefixtures("coop")

URL = "/documents/the-paper/v/1.pdf"


def text_bomb(megabytes: float) -> bytes:
    """A one-page PDF whose content stream inflates to ``megabytes`` of text operators."""
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    operators = b"BT /F1 1 Tf 0 0 Td (a) Tj ET\n" * int(megabytes * 1024 * 1024 / 29)
    contents = StreamObject()
    contents.set_data(operators)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    page[NameObject("/Contents")] = writer._add_object(contents.flate_encode(level=9))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def paper(make_document):
    return make_document(
        "The paper", versions=[(date(2026, 1, 1), "# The paper\n\n1.1 Zebra.", "First")]
    )


@pytest.fixture
def renders(monkeypatch):
    """Count renders; each returns a PDF naming its version."""
    made: list[int] = []

    def render(document, version, coop):
        made.append(version.number)
        return b"%PDF-1.7 " + f"{document.slug} v{version.number}".encode()

    monkeypatch.setattr(pdf, "render_document", render)
    return made


def kept(app, version_number=1):
    with write_session(app) as db:
        return db.scalars(
            select(DocumentPDF)
            .options(undefer(DocumentPDF.pdf))
            .join(DocumentVersion, DocumentVersion.id == DocumentPDF.version_id)
            .where(DocumentVersion.number == version_number)
        ).all()


def test_a_version_pdf_is_rendered_once_and_kept_with_its_hash(app, paper, renders):
    client = app.test_client()
    first = client.get(URL)
    second = client.get(URL)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data == b"%PDF-1.7 the-paper v1"
    assert renders == [1]
    (row,) = kept(app)
    assert row.pdf == first.data and row.sha256 == hashlib.sha256(first.data).hexdigest()


def test_renders_are_limited_but_a_kept_pdf_is_not(app_factory, make_document, renders):
    app = app_factory(DOCUMENT_RENDER_RATE_LIMIT="2 per minute")
    make_document(
        "The paper",
        versions=[(date(2026, 1, n), f"# The paper\n\nVersion {n}.", f"V{n}") for n in (1, 2, 3)],
    )
    client = app.test_client()
    assert client.get("/documents/the-paper/v/1.pdf").status_code == 200
    assert client.get("/documents/the-paper/v/2.pdf").status_code == 200
    refused = client.get("/documents/the-paper/v/3.pdf")
    assert refused.status_code == 429 and "try again in a minute" in refused.get_data(as_text=True)
    assert client.get("/documents/the-paper/v/1.pdf").status_code == 200  # kept: no render
    assert renders == [1, 2]


def test_a_render_timeout_answers_503_and_the_next_download_tries_again(
    app, paper, renders, monkeypatch
):
    real = pdf.render_document

    def too_slow(*args):
        raise pdf.PDFRenderTimeout("the PDF took longer than 20 s to render")

    monkeypatch.setattr(pdf, "render_document", too_slow)
    response = app.test_client().get(URL)
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert "took too long" in response.get_data(as_text=True)
    assert kept(app) == []  # the claim was withdrawn
    monkeypatch.setattr(pdf, "render_document", real)
    assert app.test_client().get(URL).status_code == 200 and renders == [1]


def claim(app, *, age: timedelta) -> None:
    with write_session(app) as db:
        version = db.scalar(select(DocumentVersion).where(DocumentVersion.number == 1))
        db.add(DocumentPDF(version_id=version.id, claimed_at=utcnow() - age))


def test_a_worker_waits_for_another_one_rendering_then_answers_503(
    app_factory, make_document, renders, monkeypatch
):
    app = app_factory(PDF_RENDER_TIMEOUT_SECONDS=0.3)
    make_document("The paper", versions=[(date(2026, 1, 1), "# The paper", "First")])
    monkeypatch.setattr(renditions, "POLL_SECONDS", 0.05)
    claim(app, age=timedelta(0))
    response = app.test_client().get(URL)
    assert response.status_code == 503 and "being prepared" in response.get_data(as_text=True)
    assert renders == []


def test_a_stale_claim_is_taken_over(app, paper, renders):
    claim(app, age=timedelta(hours=1))
    assert app.test_client().get(URL).status_code == 200 and renders == [1]
    assert kept(app)[0].pdf == b"%PDF-1.7 the-paper v1"


# --- the text preview of an uploaded PDF ---------------------------------------------------


def upload_version(staff, data: bytes, slug: str = "the-paper"):
    return staff.post(
        f"/staff/documents/{slug}/versions",
        data={
            "format": "pdf",
            "file": (io.BytesIO(data), "paper.pdf"),
            "effective_on": date.today().isoformat(),
            "change_note": "Scanned",
            "confirm": "yes",
        },
        content_type="multipart/form-data",
    )


def test_a_pdf_whose_text_would_cost_seconds_to_read_is_refused_at_upload(app, staff, paper):
    bomb = text_bomb(70)
    assert len(bomb) < 200 * 1024  # small on the wire
    response = upload_version(staff, bomb)
    assert response.status_code == 422
    assert "take too long to read" in response.get_data(as_text=True)
    with write_session(app) as db:
        assert db.scalar(select(DocumentVersion).where(DocumentVersion.number == 2)) is None


def test_reading_stops_at_the_cpu_budget():
    budget = pdf_text.Budget(cpu_seconds=1, max_content_bytes=64 * 1024 * 1024)
    with pytest.raises(pdf_text.PreviewOverBudget):
        pdf_text.preview_text(text_bomb(1.5), budget)


def test_the_preview_is_read_at_upload_and_the_page_never_reads_the_file(
    app, staff, paper, monkeypatch
):
    data = text_bomb(0.001)
    assert upload_version(staff, data).status_code == 303
    with write_session(app) as db:
        (preview,) = db.scalars(select(PDFPreview)).all()
    assert preview.text.startswith("a")

    def never(*args, **kwargs):
        raise AssertionError("the page view read the PDF")

    monkeypatch.setattr(pdf_text, "preview_text", never)
    monkeypatch.setattr(uploads, "open_upload", never)
    page = app.test_client().get("/documents/the-paper/v/2")
    assert page.status_code == 200 and "Preview" in page.get_data(as_text=True)


def test_previews_of_pdfs_uploaded_before_are_backfilled(app, staff, paper, runner):
    data = text_bomb(0.001)
    assert upload_version(staff, data).status_code == 303
    with write_session(app) as db:
        for row in db.scalars(select(PDFPreview)):
            db.delete(row)
    result = runner.invoke(args=["init-db"])
    assert "Read the text previews of 1 uploaded PDFs." in result.output
    with write_session(app) as db:
        assert db.scalar(select(PDFPreview.text)).startswith("a")
