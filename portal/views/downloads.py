"""Downloads: a file as an attachment, and a CSV streamed as it is read."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence

from flask import Response, request, stream_with_context
from sqlalchemy.orm import Session

from ..db import get_db
from ..file_names import content_disposition


def attachment(
    body: bytes | str,
    file_name: str,
    *,
    mimetype: str,
    public: bool = False,
    digest: str | None = None,
) -> Response:
    """``body`` downloaded as ``file_name``, never shown inline; private unless ``public``.

    A file that never changes gives its ``digest`` (its SHA-256): it becomes a strong
    ``ETag``, the browser may keep the file (privately) but asks each time, and a request
    that names the same tag is answered 304 without the bytes. Asking each time keeps the
    check of who may read it on every use.
    """
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(file_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if digest is not None:
        response.set_etag(digest)
        response.headers["Cache-Control"] = "private, no-cache"
        return response.make_conditional(request)
    # Public files (a public document's versions) may be cached briefly; others never.
    response.headers["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    return response


def streamed_csv(
    file_name: str,
    header: Sequence[str],
    rows: Callable[[Session], Iterable[Sequence[object]]],
) -> Response:
    """A CSV download of ``rows(db)``, written as it is read, every cell formula-safe."""

    def lines() -> Iterator[str]:
        # The session is opened inside the stream: the request's own is closed before
        # streaming begins, and this one is closed when the stream ends.
        db = get_db()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in rows(db):
            writer.writerow([spreadsheet_safe(cell) for cell in row])
            if buffer.tell() >= CHUNK:  # sent in pieces of a useful size, not row by row
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = content_disposition(file_name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# About how much of a CSV is sent at a time (characters).
CHUNK = 64 * 1024


def spreadsheet_safe(cell: object) -> object:
    """A cell a spreadsheet will show as text, never run as a formula (CSV injection).

    Spreadsheets read full-width and other compatibility forms of ``=`` (U+FF1D) as the
    sign itself, so the first character is compared in its NFKC form.
    """
    if not isinstance(cell, str) or not cell:
        return cell
    first = cell[0]
    if first >= "\x80":  # beyond ASCII (which is its own NFKC form): its compatibility form
        first = unicodedata.normalize("NFKC", first)
    return "'" + cell if first in FORMULA_STARTS else cell
