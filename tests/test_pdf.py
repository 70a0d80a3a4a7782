"""PDF documents: the share certificate's content, and a renderer that fetches only static/.

Every test but the QR code's makes PDFs, so needs WeasyPrint (``pdf`` marker, tests/requirements).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urljoin, urlsplit

import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from pypdf import PdfReader

from portal import pdf
from portal.coop import settings_from_config

CODE = "q7Hc2mR4tV9xK1pLw3ZbN8sD5fG6jYa0"
VERIFY_URL = f"https://members.reverb.example/verify/{CODE}"


HOSTILE_NAME = (
    '<img src="file:///etc/passwd"> <img src="http://example.com/x.png"> '
    '<link rel=stylesheet href="http://example.com/a.css">'
)


def certificate_context(app: Flask, **member: Any) -> dict[str, Any]:
    """What the certificate template receives, built from plain objects."""
    coop = settings_from_config(app.config)
    return {
        "coop": coop,
        # 23:30 UTC on 30 June is 1 July in Dublin: the date is shown in the co-op's zone.
        "certificate": SimpleNamespace(
            number=17,
            issued_at=datetime(2025, 6, 30, 23, 30, tzinfo=UTC),
            quantity=10,
            code=CODE,
        ),
        "member": SimpleNamespace(**{"name": "Aoife Ní Bhriain", "number": 42, **member}),
        "share_type": SimpleNamespace(name="Supporter share", par_value_minor=250),
        "amount_minor": 2500,
        "verify_url": VERIFY_URL,
        "signatories": [
            (coop.first_signatory_title, "Máire O'Sullivan"),
            (coop.second_signatory_title, "Declan Byrne"),
        ],
        "qr": pdf.qr_svg(VERIFY_URL),
    }


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, with runs of whitespace made single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def squeezed(text: str) -> str:
    """The text without any whitespace, for strings the layout may wrap anywhere."""
    return "".join(text.split())


@pytest.fixture
def render_certificate(app: Flask) -> Callable[..., tuple[bytes, pdf.FetchLog]]:
    """Render the certificate in a request context: ``render_certificate(name=...)``."""

    def render(**member: Any) -> tuple[bytes, pdf.FetchLog]:
        with app.test_request_context("/"):
            return pdf.render_pdf_with_log("certificate.html", **certificate_context(app, **member))

    return render


@pytest.mark.pdf
def test_certificate_prints_every_required_particular(app, render_certificate):
    data, _log = render_certificate()
    [text] = pdf_pages(data)  # exactly one page
    coop = settings_from_config(app.config)
    for expected in [
        coop.legal_name,
        coop.registration,
        coop.address,
        "Share Certificate No. 17",
        "Aoife Ní Bhriain",
        "Member No. 42",
        "Supporter share",
        "10",  # quantity
        "€2.50",  # par value
        "€25",  # amount paid
        "1 July 2025",  # date of issue, in Europe/Dublin
        "The shares are held subject to the rules of the co-operative.",
        coop.first_signatory_title,
        "Máire O'Sullivan",
        coop.second_signatory_title,
        "Declan Byrne",
        "Verification code",
    ]:
        assert expected in text, expected
    assert VERIFY_URL in squeezed(text)
    assert CODE in squeezed(text)
    assert "<svg" not in text  # the QR code is drawn, not printed as markup


@pytest.mark.pdf
def test_certificate_is_one_a4_landscape_page(render_certificate):
    data, _log = render_certificate()
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4, in points


@pytest.mark.pdf
def test_rendering_the_same_certificate_twice_gives_the_same_text(render_certificate):
    first, _ = render_certificate()
    second, _ = render_certificate()
    assert pdf_pages(first) == pdf_pages(second)


@pytest.mark.pdf
@pytest.mark.parametrize(
    "name",
    ["Łukasz Żółć", pytest.param("王芳", marks=pytest.mark.font("zh")), "Σοφία Παπαδοπούλου"],
)
def test_names_in_any_script_are_printed(render_certificate, name):
    data, _log = render_certificate(name=name)
    [text] = pdf_pages(data)
    assert name in text


@pytest.mark.pdf
def test_a_hostile_name_is_printed_as_text_and_fetches_nothing(render_certificate):
    data, log = render_certificate(name=HOSTILE_NAME)
    pages = pdf_pages(data)
    assert len(pages) == 1
    assert squeezed(HOSTILE_NAME) in squeezed(pages[0])
    assert log.requested == []
    assert not any("passwd" in url or url.startswith("http") for url in log.requested)


@pytest.mark.pdf
def test_html_naming_outside_resources_gets_only_static_files(app):
    html = """<!DOCTYPE html><html><head>
      <link rel="stylesheet" href="http://example.com/a.css">
      <link rel="stylesheet" href="../portal/config.py">
      </head><body><p>Resources</p>
      <img src="img/logo.svg" alt="">
      <img src="file:///etc/passwd" alt="">
      <img src="https://example.com/x.png" alt="">
      <img src="ftp://example.com/x.png" alt="">
      </body></html>"""
    with app.test_request_context("/"):
        data, log = pdf.html_to_pdf(html)
    assert "Resources" in pdf_pages(data)[0]
    static = pdf.engine().path2url(str(Path(app.static_folder).resolve()) + "/")
    assert log.served == [static + "img/logo.svg"]
    assert set(log.refused) == {
        "http://example.com/a.css",
        urljoin(static, "../portal/config.py"),
        "file:///etc/passwd",
        "https://example.com/x.png",
        "ftp://example.com/x.png",
    }


@pytest.fixture
def static_root(tmp_path: Path) -> Path:
    """A static folder with one file, a symlink out of it, and a secret beside it."""
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "print.css").write_text("p { color: black }")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "escape.txt").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.mark.pdf
def test_the_fetcher_serves_files_under_static(static_root):
    fetcher = pdf.StaticFetcher(static_root)
    response = fetcher.fetch(urljoin(fetcher.base_url, "css/print.css"))
    assert response.read() == b"p { color: black }"
    assert response.content_type == "text/css"
    assert fetcher.log.served == [urljoin(fetcher.base_url, "css/print.css")]
    assert fetcher.log.refused == []


@pytest.mark.pdf
def test_the_fetcher_serves_data_uris(static_root):
    fetcher = pdf.StaticFetcher(static_root)
    assert fetcher("data:text/css,p%7Bcolor:red%7D").read() == b"p{color:red}"
    assert fetcher.log.refused == []


@pytest.mark.pdf
@pytest.mark.parametrize(
    "reference",
    [
        "/etc/passwd",
        "file:///etc/passwd",
        "../secret.txt",
        "css/../../secret.txt",
        "%2e%2e/secret.txt",
        "escape.txt",  # a symlink that leads out
        "css/",  # a folder, not a file
        "missing.css",
        "file://example.com/etc/passwd",
        "http://example.com/a.css",
        "https://example.com/a.css",
        "ftp://example.com/a.css",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_the_fetcher_refuses_everything_else(static_root, reference):
    fetcher = pdf.StaticFetcher(static_root)
    url = urljoin(fetcher.base_url, reference)
    with pytest.raises(pdf.engine().URLFetchingError):
        fetcher(url)
    assert fetcher.log.refused == [url]
    assert fetcher.log.served == []


@pytest.mark.pdf
def test_the_fetcher_refuses_the_apps_own_code(app):
    fetcher = pdf.StaticFetcher(app.static_folder)
    for reference in ["../portal/config.py", "/etc/passwd"]:
        with pytest.raises(pdf.engine().URLFetchingError):
            fetcher(urljoin(fetcher.base_url, reference))
    assert len(fetcher.log.refused) == 2


@pytest.mark.pdf
def test_a_render_over_the_time_limit_raises(app_factory, monkeypatch):
    app = app_factory(PDF_RENDER_TIMEOUT_SECONDS=0.001)
    release = threading.Event()

    def stuck(html: str, fetcher: pdf.StaticFetcher) -> bytes:
        release.wait(timeout=10)  # a render that cannot finish before the limit
        return b""

    monkeypatch.setattr(pdf, "_write_pdf", stuck)
    try:
        with app.test_request_context("/"), pytest.raises(pdf.PDFRenderTimeout):
            pdf.render_pdf("certificate.html", **certificate_context(app))
    finally:
        release.set()


def test_qr_svg_is_inline_svg_markup():
    svg = pdf.qr_svg(VERIFY_URL)
    assert str(svg).startswith("<svg")
    assert "viewBox" in svg
    assert "<?xml" not in svg
    assert svg.__html__() == str(svg)  # Markup: Jinja inserts it unescaped


def qr_codes_on(data: bytes, *, dpi: int = 150) -> list[str]:
    """The text of every QR code on the PDF's pages, rasterised by PDFium, read by ZXing."""
    document = pypdfium2.PdfDocument(data)
    try:
        found = []
        for page in document:
            image = page.render(scale=dpi / 72).to_pil()
            codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
            found += [code.text for code in codes if code.valid]
        return found
    finally:
        document.close()


@pytest.mark.pdf
def test_the_qr_code_on_an_issued_certificate_opens_its_verify_page(app, coop, factories):
    base = "https://members.reverb.example"
    app.config["PUBLIC_BASE_URL"] = base
    # The verify URL comes from the public address, not from the request that records the
    # payment (here one to another host).
    online = factories.at("http://localhost")
    holder = online.member(name="Róisín de Barra")
    certificate = online.buy(holder, "supporter", 10, render=pdf.render_certificate)
    [link] = qr_codes_on(certificate.pdf)
    assert link == f"{base}/verify/{certificate.code}"
    page = app.test_client().get(urlsplit(link).path)
    assert page.status_code == 200
    assert "Valid" in page.get_data(as_text=True)
    assert "10 × Supporter share" in page.get_data(as_text=True)
