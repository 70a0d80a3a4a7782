"""Uploaded PDFs: refused unless name, magic bytes, size and structure are sound; stored by hash.

Staff publish document versions as PDFs. Accepted bytes are stored under
``instance/uploads/<sha[:2]>/<sha256>``, never under ``static/``, and never overwritten: the
same bytes always have the same name. They are served only as attachments, with ``nosniff``
and a sandboxing CSP, so a browser never renders one as a page of this site (DESIGN.md §4).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import Blueprint, Response, current_app, request
from werkzeug.datastructures import FileStorage

from . import file_names, pdf_safety, pdf_text
from .errors import InvalidInput

log = logging.getLogger(__name__)


DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024


# Room in an upload request for the form's other fields (each capped by MAX_FORM_MEMORY_SIZE).
FORM_ROOM_BYTES = 1024 * 1024


CHUNK_BYTES = 64 * 1024


SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class CorruptUpload(RuntimeError):
    """A stored file no longer matches the SHA-256 it is stored under."""


@dataclass(frozen=True)
class StoredFile:
    """An accepted upload: its hash (and file name on disk), size and a safe download name."""

    sha256: str
    size: int
    file_name: str
    preview: str = ""  # the text of its first pages, read once here (pdf_text)


def uploads_root() -> Path:
    """The folder uploads live in: ``instance/uploads/``, outside anything served statically."""
    return Path(current_app.instance_path) / "uploads"


def allow_upload_bodies(bp: Blueprint, *views: str) -> None:
    """Let these views of ``bp`` receive a multipart body as large as the largest upload.

    MAX_CONTENT_LENGTH stays small for every other route: Werkzeug reads a URL-encoded body
    whole into memory. The limit must rise before anything reads the form, and the app's
    before_request hooks (the NUL check, CSRF) do; Flask runs URL value preprocessors before
    them, so the limit is raised in one.
    """

    @bp.url_value_preprocessor
    def _raise_body_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
        view = (endpoint or "").rsplit(".", 1)[-1]
        if view in views and request.mimetype == "multipart/form-data":
            max_bytes = current_app.config["DOCUMENT_MAX_UPLOAD_BYTES"]
            request.max_content_length = max_bytes + FORM_ROOM_BYTES


def accept_pdf(upload: FileStorage | None, *, root: Path, max_bytes: int) -> StoredFile:
    """Check an uploaded PDF and store it under ``root`` by its SHA-256, or raise InvalidInput."""
    if upload is None or not upload.filename:
        raise _refuse("Choose a PDF file to upload.")
    file_name = file_names.safe_file_name(upload.filename)
    data = _read_capped(upload.stream, max_bytes)
    if not data:
        raise _refuse("The file is empty (0 bytes). Choose the PDF again; it may not have saved.")
    if len(data) > max_bytes:
        raise _refuse(f"The file is larger than the limit of {_human_size(max_bytes)}.")
    pdf_safety.check_pdf_bytes(data)
    pdf_safety.check_pdf_structure(data)
    preview = _preview(data)
    sha256 = hashlib.sha256(data).hexdigest()
    _store(root, sha256, data)
    return StoredFile(sha256=sha256, size=len(data), file_name=file_name, preview=preview)


# Photos (a candidate's, say): the image types accepted, by the magic bytes that open them.
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
IMAGE_SUFFIXES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
DEFAULT_MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded


@dataclass(frozen=True)
class StoredImage:
    """An accepted image: its hash (and file name on disk), size and checked type."""

    sha256: str
    size: int
    content_type: str


def image_type(data: bytes) -> str | None:
    """The image type the bytes open with (PNG, JPEG, WebP), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def accept_image(upload: FileStorage | None, *, root: Path, max_bytes: int) -> StoredImage:
    """Check an uploaded photo and store it under ``root`` by its SHA-256, or raise InvalidInput.

    The name's suffix, the declared type and the magic bytes must all say the same image
    type (PNG, JPEG or WebP), the file must be no larger than ``max_bytes``, and Pillow
    must read it whole as that type: a script or a PDF renamed ``.png`` is refused.
    """
    if upload is None or not upload.filename:
        raise _refuse("Choose a photo to upload.", field="photo")
    suffix = Path(upload.filename.replace("\\", "/")).suffix.lower()  # only the suffix is kept
    claimed = IMAGE_SUFFIXES.get(suffix)
    if claimed is None:
        raise _refuse("The photo must be a PNG, JPEG or WebP image.", field="photo")
    data = _read_capped(upload.stream, max_bytes)
    if not data:
        raise _refuse("The photo is empty (0 bytes). Choose it again.", field="photo")
    if len(data) > max_bytes:
        raise _refuse(
            f"The photo is larger than the limit of {_human_size(max_bytes)}.", field="photo"
        )
    found = image_type(data)
    declared = (upload.mimetype or "").lower()
    if found is None or found != claimed or declared not in ("", found, "application/octet-stream"):
        raise _refuse(
            "The file is not the image its name says: upload a PNG, JPEG or WebP photo.",
            field="photo",
        )
    _check_image(data, IMAGE_TYPES[found])
    sha256 = hashlib.sha256(data).hexdigest()
    _store(root, sha256, data)
    return StoredImage(sha256=sha256, size=len(data), content_type=found)


def _check_image(data: bytes, pillow_format: str) -> None:
    """Pillow reads the image whole, as the type its magic bytes say, within a pixel budget."""
    from PIL import Image  # Pillow comes with WeasyPrint; loaded only when a photo is sent

    try:
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise _refuse("The photo has too many pixels; send a smaller one.", field="photo")
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        log.info("uploaded photo refused: %s", exc)
        raise _refuse(
            "The photo cannot be read as an image; export it again.", field="photo"
        ) from exc


def send_image(root: Path, sha256: str, content_type: str) -> Response:
    """A response with a stored image as the type it was checked as, never sniffed, and
    sandboxed should a browser open it as a page."""
    if content_type not in IMAGE_TYPES:
        raise ValueError(f"not an accepted image type: {content_type!r}")
    response = Response(open_upload(root, sha256), mimetype=content_type)
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Content-Security-Policy"] = "sandbox"
    headers["Cache-Control"] = "private, max-age=3600"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _preview(data: bytes) -> str:
    """The text preview, read within its budget; a PDF over the budget is refused."""
    try:
        return pdf_text.preview_text(data)
    except pdf_text.PreviewOverBudget as exc:
        log.info("uploaded PDF refused: its preview is over the budget: %s", exc)
        raise _refuse(
            "The PDF's first pages take too long to read (they hold an unusually large amount "
            "of drawing or text instructions), so it cannot be published. Export or print it "
            "again as a plain PDF (PDF/A is ideal), or split it."
        ) from exc


def kept_pdf(root: Path, sha256: str, file_name: str) -> StoredFile:
    """A PDF accepted earlier (a confirmation carries its hash, not the file again), or
    InvalidInput when no file is stored under that hash."""
    try:
        size = upload_path(root, sha256).stat().st_size
    except (ValueError, OSError):
        raise _refuse("The PDF sent before is no longer on the server: choose it again.") from None
    return StoredFile(sha256=sha256, size=size, file_name=file_names.safe_file_name(file_name))


def upload_path(root: Path, sha256: str) -> Path:
    """Where the file with this SHA-256 lives; the hash must be 64 lowercase hex digits."""
    if not isinstance(sha256, str) or not SHA256_HEX.fullmatch(sha256):
        raise ValueError("an upload is named by its SHA-256 as 64 lowercase hex digits")
    return root / sha256[:2] / sha256


def open_upload(root: Path, sha256: str) -> bytes:
    """The stored bytes, checked against their hash (FileNotFoundError if absent)."""
    data = upload_path(root, sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise CorruptUpload(f"stored upload {sha256} does not match its hash")
    return data


def send_upload(root: Path, sha256: str, file_name: str, *, public: bool = False) -> Response:
    """A response that downloads the stored PDF as an attachment and never renders it inline."""
    response = Response(open_upload(root, sha256), mimetype="application/pdf")
    headers = response.headers
    headers["Content-Disposition"] = file_names.content_disposition(file_name)
    headers["X-Content-Type-Options"] = "nosniff"
    # Should a browser ever render it anyway, it runs with no script, origin or forms.
    headers["Content-Security-Policy"] = "sandbox"
    if public:
        # Versions never change, but a document may later be hidden: keep shared caching short.
        headers["Cache-Control"] = "public, max-age=3600"
    else:
        headers["Cache-Control"] = "private, no-store"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _refuse(message: str, *, field: str = "file") -> InvalidInput:
    return InvalidInput(message, field=field)


def _read_capped(stream: IO[bytes], max_bytes: int) -> bytes:
    """Read at most ``max_bytes + 1`` bytes, enough to tell that a file is too large."""
    chunks: list[bytes] = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = stream.read(min(CHUNK_BYTES, remaining))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} bytes"


def _store(root: Path, sha256: str, data: bytes) -> None:
    """Write the bytes to ``root/sha[:2]/sha`` whole or not at all, never over an existing file."""
    target = upload_path(root, sha256)
    if target.exists():
        return  # the same hash: the same bytes
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temporary, 0o440)
        try:
            # A link, unlike os.replace, never replaces: a concurrent upload of the same bytes
            # may have won the race, and its file is as good as ours.
            os.link(temporary, target)
        except FileExistsError:
            return
        _fsync_folder(folder)
    finally:
        os.unlink(temporary)


def _fsync_folder(folder: Path) -> None:
    """Make the new directory entry durable before the caller commits a row naming it."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
