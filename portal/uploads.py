"""Uploaded PDFs: refused unless name, magic bytes, size and structure are sound; stored by hash.

Staff publish document versions as PDFs. Accepted bytes are stored under
``instance/uploads/<sha[:2]>/<sha256>``, never under ``static/``, and never overwritten: the
same bytes always have the same name. They are served only as attachments, with ``nosniff``
and a sandboxing CSP, so a browser never renders one as a page of this site (DESIGN.md §4).
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, current_app, request
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from werkzeug.datastructures import FileStorage

from .errors import InvalidInput

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Room in an upload request for the form's other fields (each capped by MAX_FORM_MEMORY_SIZE).
FORM_ROOM_BYTES = 1024 * 1024
MAX_NAME_CHARS = 150  # DocumentVersion.file_name holds 200
CHUNK_BYTES = 64 * 1024
# pypdf parses about 4,000 objects a second; a long governance document has a few thousand.
MAX_PDF_OBJECTS = 50_000

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
# Browsers sniff the first 512 bytes for HTML; a PDF has no reason to hold any of these there.
MARKUP_IN_HEAD = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|svg|object|embed|meta|link|style|img)\b",
    re.IGNORECASE,
)
HEAD_BYTES = 1024
# A ZIP reader looks for its end record in the last 64 KiB + 22 bytes: no PDF needs one there.
ZIP_END_RECORD = b"PK\x05\x06"
ZIP_SEARCH_BYTES = 65_535 + 22
# Kept out of display names: quoting, shell, Windows and percent-decoding trouble.
UNSAFE_NAME_CHARS = re.compile(r"[\"<>:|?*;%`$\\/]")
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}

MAGIC = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive or an Office document"),
    (b"\xd0\xcf\x11\xe0", "an old-style Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"#!", "a script"),
]

ACTIVE_CONTENT = "JavaScript"
LAUNCH = "an action that starts a program or opens a file"
EMBEDDED_FILE = "an embedded file"
MEDIA = "embedded media or 3D content"
# Action types (ISO 32000-1 §12.6.4) that run code, start programs, send data or play media.
ACTION_TYPES = {
    "/JavaScript": ACTIVE_CONTENT,
    "/Launch": LAUNCH,
    "/GoToR": LAUNCH,
    "/GoToE": EMBEDDED_FILE,
    "/SubmitForm": "a form that sends data elsewhere",
    "/ImportData": "a form that imports data from a file",
    "/Rendition": MEDIA,
    "/Movie": MEDIA,
    "/Sound": MEDIA,
    "/RichMediaExecute": MEDIA,
}
ANNOTATION_TYPES = {
    "/FileAttachment": EMBEDDED_FILE,
    "/RichMedia": MEDIA,
    "/Screen": MEDIA,
    "/Movie": MEDIA,
    "/Sound": MEDIA,
    "/3D": MEDIA,
}
KEYS = {
    "/JS": ACTIVE_CONTENT,
    "/JavaScript": ACTIVE_CONTENT,  # the document-level name tree of scripts
    "/EmbeddedFiles": EMBEDDED_FILE,
    "/EF": EMBEDDED_FILE,
    "/XFA": "an XFA form, which can run scripts",
    "/RichMediaContent": MEDIA,
}
LINK_SCHEMES = {"http", "https", "mailto", "tel"}


def _name(name: bytes) -> bytes:
    """A regex for a PDF name whose every character may also be written #xx (§7.3.5)."""
    return b"".join(
        b"(?:%s|#%X[%X%x])" % (re.escape(bytes([char])), char >> 4, char & 15, char & 15)
        for char in name
    )


_SPACE = rb"[\x00\t\n\x0c\r ]*"
_END = rb"(?=[\x00\t\n\x0c\r ()<>\[\]{}/%]|\Z)"
_VALUE = rb"(?:<<|\[|\d+" + _SPACE + rb"\d+" + _SPACE + rb"R\b)"


def _entry(key: bytes, value: bytes | None = None) -> bytes:
    """``key /value``, or ``key`` then a dictionary, array or reference (after a ``/``)."""
    tail = b"/" + _name(value) + _END if value else _VALUE
    return _name(key) + _SPACE + tail


# The riskiest entries as they appear in uncompressed bytes, for objects that no
# cross-reference table lists. Whole entries, not lone names, so that a link such as
# (https://example.org/docs/JavaScript) is not mistaken for one.
RAW_ENTRIES = {
    "javascript": (_entry(b"S", b"JavaScript") + b"|" + _entry(b"JavaScript"), ACTIVE_CONTENT),
    "launch": (_entry(b"S", b"Launch"), LAUNCH),
    "submit": (_entry(b"S", b"SubmitForm"), ACTION_TYPES["/SubmitForm"]),
    "embedded": (_entry(b"Type", b"EmbeddedFile") + b"|" + _entry(b"EmbeddedFiles"), EMBEDDED_FILE),
    "media": (_entry(b"Subtype", b"RichMedia"), MEDIA),
    "xfa": (_entry(b"XFA"), KEYS["/XFA"]),
}
# One leading "/" outside the alternation lets the regex engine skip quickly to each "/".
RAW_ENTRY = re.compile(
    b"/(?:%s)"
    % b"|".join(
        b"(?P<%s>%s)" % (group.encode(), pattern) for group, (pattern, _) in RAW_ENTRIES.items()
    )
)


class CorruptUpload(RuntimeError):
    """A stored file no longer matches the SHA-256 it is stored under."""


@dataclass(frozen=True)
class StoredFile:
    """An accepted upload: its hash (and file name on disk), size and a safe download name."""

    sha256: str
    size: int
    file_name: str


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
    file_name = safe_file_name(upload.filename)
    data = _read_capped(upload.stream, max_bytes)
    if not data:
        raise _refuse("The file is empty (0 bytes). Choose the PDF again; it may not have saved.")
    if len(data) > max_bytes:
        raise _refuse(f"The file is larger than the limit of {_human_size(max_bytes)}.")
    _check_pdf_bytes(data)
    _check_pdf_structure(data)
    sha256 = hashlib.sha256(data).hexdigest()
    _store(root, sha256, data)
    return StoredFile(sha256=sha256, size=len(data), file_name=file_name)


def safe_file_name(raw: str) -> str:
    """The uploaded name fit to show and to download as, or InvalidInput if it is not a PDF's."""
    name = unicodedata.normalize("NFC", raw).strip()
    if any(unicodedata.category(char) in INVISIBLE_CATEGORIES for char in name):
        raise _refuse(
            "The file name contains control or invisible characters. Rename the file and try again."
        )
    if "/" in name or "\\" in name:
        raise _refuse(
            "The file name must not contain folder names (/ or \\). Rename the file and try again."
        )
    if not name.lower().endswith(".pdf"):
        raise _refuse("Only PDF files can be uploaded: the file name must end in .pdf.")
    if len(name) > MAX_NAME_CHARS:
        raise _refuse(
            f"The file name is too long (at most {MAX_NAME_CHARS} characters). "
            "Shorten it and try again."
        )
    cleaned = _clean_name(name)
    if cleaned is None:
        raise _refuse("The file needs a name before .pdf. Rename the file and try again.")
    return cleaned


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


@functools.lru_cache(maxsize=64)
def preview_text(root: Path, sha256: str, *, pages: int = 3, limit: int = 12_000) -> str:
    """The text of a stored PDF's first pages, for a preview beside its download.

    Stored files never change (they are named by their hash), so the text is cached.
    Returns "" when the PDF has no text layer (a scan) or cannot be read.
    """
    try:
        reader = PdfReader(io.BytesIO(open_upload(root, sha256)))
        text = "\n\n".join((page.extract_text() or "") for page in reader.pages[:pages])
    except Exception:  # a preview is a courtesy: the download still works
        log.info("no text preview for upload %s", sha256, exc_info=True)
        return ""
    text = re.sub(r"[ \t]+\n", "\n", text).strip()
    return text[:limit] + ("…" if len(text) > limit else "")


def send_upload(root: Path, sha256: str, file_name: str, *, public: bool = False) -> Response:
    """A response that downloads the stored PDF as an attachment and never renders it inline."""
    response = Response(open_upload(root, sha256), mimetype="application/pdf")
    headers = response.headers
    headers["Content-Disposition"] = content_disposition(file_name)
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


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and, for other names, ``filename*`` (RFC 6266)."""
    name = _clean_name(file_name) or "document.pdf"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = _clean_name(ascii_name) or "document.pdf"
    if ascii_name == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, field="file")


def _clean_name(name: str) -> str | None:
    """Drop what is unsafe in a download name; None when no name is left before ``.pdf``."""
    name = "".join(char for char in name if unicodedata.category(char) not in INVISIBLE_CATEGORIES)
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    stem = stem.replace("'", "\u2019")  # keep "Members' handbook" readable, without a quote
    stem = UNSAFE_NAME_CHARS.sub("_", stem)
    stem = " ".join(stem.split()).strip(" .-_")[: MAX_NAME_CHARS - 4].rstrip(" .")
    if not any(char.isalnum() for char in stem):
        return None
    return f"{stem}.pdf"


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


def _check_pdf_bytes(data: bytes) -> None:
    """Refuse what is not a PDF by its bytes alone, polyglots included."""
    if not PDF_HEADER.match(data):
        if b"%PDF-" in data[:HEAD_BYTES]:
            raise _refuse(
                "The file does not start with a PDF header: other data comes before it. "
                "Export it again as a plain PDF."
            )
        kind = _looks_like(data)
        raise _refuse(
            f"This file is not a PDF{f' (it looks like {kind})' if kind else ''}. "
            "Save or export it as PDF and upload that."
        )
    if MARKUP_IN_HEAD.search(data[:HEAD_BYTES]):
        raise _refuse("The file mixes a PDF with web page content. Export it again as a plain PDF.")
    end = data.rfind(b"%%EOF")
    if end == -1:
        raise _refuse(
            "The PDF is incomplete (its end marker is missing); the upload or the export may "
            "have been cut short. Export it again and retry."
        )
    if data[end + 5 :].strip(b" \t\r\n\x00"):
        raise _refuse(
            "The PDF has other data after its end, so it may be two files in one. "
            "Export it again as a plain PDF."
        )
    if ZIP_END_RECORD in data[-ZIP_SEARCH_BYTES:]:
        raise _refuse("The file is both a PDF and a ZIP archive. Export it again as a plain PDF.")


def _looks_like(data: bytes) -> str | None:
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    text = data[:HEAD_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):
        return "a web page or an SVG image"
    return None


def _check_pdf_structure(data: bytes) -> None:
    """Parse the PDF; refuse it if unreadable, encrypted, empty or carrying active content."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
        finding = None if encrypted else _active_content(reader)
    except InvalidInput:
        raise
    except Exception as exc:  # any failure to parse hostile bytes means: not a usable PDF
        log.info("uploaded PDF refused: pypdf could not read it: %r", exc)
        raise _refuse(
            "The PDF could not be read; it may be damaged. Export it again and retry."
        ) from exc
    if encrypted:
        raise _refuse(
            "The PDF is encrypted or password-protected, so members could not open it. "
            "Save it again without a password."
        )
    if pages == 0:
        raise _refuse("The PDF has no pages.")
    # Objects no cross-reference table lists are invisible to the parser but not to every
    # viewer that repairs a file: look for their names in the raw bytes too.
    finding = finding or _active_content_in_raw_bytes(data)
    if finding:
        raise _refuse(
            f"The PDF contains {finding}, which published documents may not carry: it could "
            "run on members' computers. Export or print it again as a plain PDF (PDF/A is ideal)."
        )


def _active_content(reader: PdfReader) -> str | None:
    """Name the first active content in any object the file's cross-references reach."""
    pending: list[Any] = [reader.trailer]
    pending += [
        IndirectObject(number, generation, reader)
        for generation, numbers in reader.xref.items()
        for number in numbers
    ]
    pending += [IndirectObject(number, 0, reader) for number in reader.xref_objStm]
    seen: set[tuple[int, int]] = set()
    while pending:
        obj = pending.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            if len(seen) > MAX_PDF_OBJECTS:
                raise _refuse(
                    f"The PDF has too many parts to check (over {MAX_PDF_OBJECTS:,} objects). "
                    "Export it again optimised for size, or split it."
                )
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            finding = _dictionary_finding(obj)
            if finding:
                return finding
            pending.extend(dict.values(obj))
        elif isinstance(obj, ArrayObject):
            pending.extend(obj)
    root = reader.trailer.get("/Root")
    return _catalog_finding(root.get_object()) if root is not None else None


def _dictionary_finding(obj: DictionaryObject) -> str | None:
    for key, what in KEYS.items():
        if key in obj:
            return what
    action = _resolved(obj.get("/S"))
    if action in ACTION_TYPES:
        return ACTION_TYPES[action]
    if action == "/URI":
        scheme = urlsplit(str(_resolved(obj.get("/URI")) or "").strip()).scheme.lower()
        if scheme and scheme not in LINK_SCHEMES:
            return ACTIVE_CONTENT if scheme == "javascript" else LAUNCH
    if _resolved(obj.get("/Type")) == "/EmbeddedFile":
        return EMBEDDED_FILE
    subtype = _resolved(obj.get("/Subtype"))
    if _resolved(obj.get("/Type")) in (None, "/Annot") and subtype in ANNOTATION_TYPES:
        return ANNOTATION_TYPES[subtype]
    return None


def _catalog_finding(catalog: Any) -> str | None:
    """An action the viewer runs by itself when the document opens, other than going to a page."""
    if not isinstance(catalog, DictionaryObject):
        return None
    opening = _resolved(catalog.get("/OpenAction"))
    if isinstance(opening, DictionaryObject) and _resolved(opening.get("/S")) != "/GoTo":
        return "an action that runs when the document opens"
    if "/AA" in catalog:
        return "actions that run when the document is opened, saved or printed"
    return None


def _active_content_in_raw_bytes(data: bytes) -> str | None:
    match = RAW_ENTRY.search(data)
    return RAW_ENTRIES[match.lastgroup][1] if match and match.lastgroup else None


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


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
