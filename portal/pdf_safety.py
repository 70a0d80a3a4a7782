"""Checking uploaded bytes are a PDF and nothing else: its header, no markup a browser
would sniff, no other file hidden in it, and no active content (scripts, launch actions,
embedded files, media), found by parsing and in the raw bytes of unlisted objects."""

from __future__ import annotations

import io
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NumberObject,
    StreamObject,
    read_object,
)

from .errors import InvalidInput

log = logging.getLogger(__name__)

# pypdf parses about 4,000 objects a second; a long governance document has a few thousand.
MAX_PDF_OBJECTS = 50_000


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


# An object's header, and a dictionary that makes the object a stream of other objects
# (ISO 32000-1 §7.5.7): read wherever it is, listed in a cross-reference table or not.
OBJECT_HEADER = re.compile(rb"(?<![0-9])[0-9]{1,10}" + _SPACE + rb"[0-9]{1,5}" + _SPACE + rb"obj\b")
OBJECT_STREAM = re.compile(
    b"/" + _entry(b"Type", b"ObjStm") + b"|/" + _name(b"First") + _SPACE + rb"[0-9]"
)
STREAM_KEYWORD = re.compile(rb"\bstream\b|\bendobj\b")

# What the objects hidden in object streams may inflate to, together, before a file is
# refused as too costly to check (pypdf's own limit per stream is 75 MB).
MAX_OBJECT_STREAM_BYTES = 32 * 1024 * 1024


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, field="file")


def check_pdf_bytes(data: bytes) -> None:
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


def check_pdf_structure(data: bytes) -> None:
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
    # The same, compressed in an object stream, listed or not (issue 12, item 11).
    finding = finding or _active_content_in_object_streams(data, reader)
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


def _active_content_in_object_streams(data: bytes, reader: PdfReader) -> str | None:
    """Name the first active content in any object stream the file holds.

    The cross-reference table may mark an object free while an object stream still holds
    it: the parser never reaches it, its bytes are compressed, yet a viewer that repairs the
    file may run it. So every object stream found in the bytes is inflated and its objects
    are read and checked as listed ones are, and its text is searched as raw bytes are.
    """
    inflated = 0
    source = io.BytesIO(data)
    for header in OBJECT_HEADER.finditer(data):
        end = STREAM_KEYWORD.search(data, header.end())
        head = data[header.end() : end.start() if end else len(data)]
        if end is None or end[0] != b"stream" or not OBJECT_STREAM.search(head):
            continue
        try:
            stream = _read_at(source, header.end(), reader)
            contents = stream.get_data() if isinstance(stream, StreamObject) else b""
        except InvalidInput:
            raise
        except Exception as exc:  # a broken object stream cannot be checked: refuse the file
            log.info("uploaded PDF refused: an object stream could not be read: %r", exc)
            raise _refuse(
                "The PDF could not be read; it may be damaged. Export it again and retry."
            ) from exc
        inflated += len(contents)
        if inflated > MAX_OBJECT_STREAM_BYTES:
            raise _refuse(
                "The PDF's compressed parts are too large to check. Export it again "
                "optimised for size, or split it."
            )
        finding = _active_content_in_raw_bytes(contents) or _objects_finding(
            stream, contents, reader
        )
        if finding:
            return finding
    return None


def _objects_finding(stream: Any, contents: bytes, reader: PdfReader) -> str | None:
    """Name the first active content among the objects packed in one object stream."""
    first = stream.get("/First")
    count = stream.get("/N")
    if not isinstance(first, NumberObject) or not isinstance(count, NumberObject):
        return None
    numbers = contents[: int(first)].split()
    pairs = numbers[1 : 2 * min(int(count), MAX_PDF_OBJECTS) : 2]
    offsets = [int(n) for n in pairs if n.isdigit()]
    source = io.BytesIO(contents)
    for offset in offsets:
        try:
            packed = _read_at(source, int(first) + offset, reader)
        except Exception:  # noqa: S112 (unreadable here is unreadable to a viewer too)
            continue
        pending: list[Any] = [packed]
        while pending:
            obj = pending.pop()
            if isinstance(obj, DictionaryObject):
                finding = _dictionary_finding(obj) or (
                    _catalog_finding(obj) if _resolved(obj.get("/Type")) == "/Catalog" else None
                )
                if finding:
                    return finding
                pending.extend(dict.values(obj))
            elif isinstance(obj, ArrayObject):
                pending.extend(obj)
    return None


def _read_at(source: io.BytesIO, offset: int, reader: PdfReader) -> Any:
    """The PDF object that begins at ``offset`` (after any white space) in ``source``."""
    data = source.getbuffer()
    while offset < len(data) and data[offset] in b"\x00\t\n\x0c\r ":
        offset += 1
    del data  # a buffer left exported would keep the BytesIO from being read
    source.seek(offset)
    return read_object(source, reader)


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value
