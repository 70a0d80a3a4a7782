"""The register of shares as a PDF, rendered in the background and kept (issue 16 §4).

Staff ask for the register with the page's filters (:func:`request_export`); the job
(:func:`render_export`) reads the register ``CHUNK_ROWS`` rows at a time with the
register's keyset reader (``share_register.holder_page``), renders each chunk with
WeasyPrint, and keeps its PDF in the transaction that counts the progress, so a stopped
job resumes at the next chunk and two runs never keep one chunk twice. When every chunk
is kept, they are joined with pypdf and each page is stamped "Page n of N" (WeasyPrint's
page counters count within one render only), and the document is kept in parts
(``PART_BYTES``). Memory holds one chunk of rows at a time, and the PDF's bytes at the join.

Settings read: ``CoopSettings.timezone`` (the register's day), and ``legal_name``,
``registration``, ``address`` and ``currency``, printed in the document.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta

from flask import current_app, render_template
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
)
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from ... import coop, pdf, tasks
from ...db import lock_row, write_session
from ...models import (
    UNFINISHED_EXPORT_STATES,
    ExportState,
    RegisterExport,
    RegisterExportPart,
    User,
    utcnow,
)
from ...templating import local_time
from .. import audit, transitions
from . import share_register
from .share_register import HolderPage, RegisterFilter

log = logging.getLogger(__name__)

JOB = "shares.register_pdf"
# Rows (a holding each) rendered at a time, never splitting a member's: WeasyPrint takes
# about 8 ms of CPU and 0.13 MB a row here, so a chunk is some seconds and ~250 MB at most.
CHUNK_ROWS = 2000
# Up to this many holders the register's PDF is made in the request (about 15 ms of CPU a
# holder: some seconds, inside PDF_RENDER_TIMEOUT_SECONDS); above, in the background.
IN_REQUEST_HOLDERS = 500
# How many of the recent exports the register page lists.
RECENT_EXPORTS = 8
# The finished PDF is kept in rows of at most this many bytes.
PART_BYTES = 1024 * 1024
# An unfinished export with no chunk kept for this long has stalled: the sweep resumes it.
STALLED_AFTER = timedelta(minutes=10)

SessionOpener = Callable[[], AbstractContextManager[Session]]


def export_filter(db: Session, export: RegisterExport) -> RegisterFilter:
    """The register an export is of (its filter, as the page reads it)."""
    return share_register.register_filter(
        db,
        as_of=export.as_of.isoformat(),
        type_code=export.share_type.code if export.share_type else "",
        class_code=export.member_class.code if export.member_class else "",
    )


def request_export(db: Session, flt: RegisterFilter, *, actor: User) -> RegisterExport:
    """Queue the register's PDF with ``flt``'s filters, rendered after the commit; one
    already waiting or rendering with the same filters is returned instead.

    Two asks at once take turns on the co-op's settings row (PostgreSQL; SQLite's write
    transactions already take turns), so the second sees the first's export, never makes
    its own."""
    lock_row(db, coop.stored_settings(db))
    same = select(RegisterExport).where(
        RegisterExport.state.in_(UNFINISHED_EXPORT_STATES),
        RegisterExport.as_of == flt.as_of,
        RegisterExport.share_type_id.is_(None)
        if flt.share_type is None
        else RegisterExport.share_type_id == flt.share_type.id,
        RegisterExport.member_class_id.is_(None)
        if flt.member_class is None
        else RegisterExport.member_class_id == flt.member_class.id,
    )
    existing = db.scalar(same.order_by(RegisterExport.id.desc()).limit(1))
    if existing is not None:
        return existing
    export = RegisterExport(
        requested_by=actor,
        as_of=flt.as_of,
        share_type=flt.share_type,
        member_class=flt.member_class,
        state=ExportState.QUEUED,
    )
    db.add(export)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="register_export.queued",
        target=export,
        summary=f"Register of shares as of {flt.as_of.isoformat()} asked for as a PDF",
    )
    tasks.after_commit(db, JOB, export.id)
    return export


def recent_exports(db: Session, limit: int = RECENT_EXPORTS) -> list[RegisterExport]:
    """The newest exports, newest first (for the register page)."""
    return list(
        db.scalars(
            select(RegisterExport)
            .options(
                joinedload(RegisterExport.requested_by),
                joinedload(RegisterExport.share_type),
                joinedload(RegisterExport.member_class),
            )
            .order_by(RegisterExport.id.desc())
            .limit(limit)
        )
    )


def export_parts(db: Session, export: RegisterExport) -> Iterator[bytes]:
    """A ready export's PDF, a part at a time (one query each: no part is held twice)."""
    number = 0
    while True:
        data = db.scalar(
            select(RegisterExportPart.data).where(
                RegisterExportPart.export_id == export.id,
                RegisterExportPart.final.is_(True),
                RegisterExportPart.number == number,
            )
        )
        if data is None:
            return
        yield data
        number += 1


def render_register_pdf(db: Session, flt: RegisterFilter) -> bytes | None:
    """A small register's PDF at once, in the request (one render; WeasyPrint numbers the
    pages); None for one of more than ``IN_REQUEST_HOLDERS`` holders, made in the
    background instead. Raises ``pdf.PDFRenderTimeout`` when it takes too long."""
    register = share_register.register_totals(db, flt)
    if register.holders > IN_REQUEST_HOLDERS:
        return None
    return pdf.render_pdf(
        "register.html",
        coop=coop.settings(db),
        register=register,
        filter=flt,
        rows=list(share_register.holder_rows(db, flt)),
        first=True,
        last=True,
        printed=local_time(utcnow()),
        page_numbers=True,
    )


def _chunk_context(
    db: Session, flt: RegisterFilter, page: HolderPage, *, first: bool, printed: str
) -> dict[str, object]:
    last = page.next_after is None
    return {
        "coop": coop.settings(db),
        # The totals as of the day: printed on the first page and in the last row.
        "register": share_register.register_totals(db, flt) if first or last else None,
        "filter": flt,
        "rows": page.rows,
        "first": first,
        "last": last,
        "printed": printed,
    }


@tasks.job(JOB)
def _render_job(export_id: int) -> None:
    """The queued job: render the export (or what is left of it)."""
    render_export(export_id)


@tasks.job("shares.resume_register_pdfs", sweep=True)
def _resume_job() -> None:
    """The worker's sweep: finish exports a stopped worker left."""
    resume_stalled()


def resume_stalled(*, open_session: SessionOpener | None = None) -> list[int]:
    """Render what is left of every export that has stalled (``STALLED_AFTER``)."""
    opener = open_session or write_session
    with opener() as db:
        since = utcnow() - STALLED_AFTER
        ids = list(
            db.scalars(
                select(RegisterExport.id)
                .where(
                    RegisterExport.state.in_(UNFINISHED_EXPORT_STATES),
                    func.coalesce(RegisterExport.progressed_at, RegisterExport.created_at) < since,
                )
                .order_by(RegisterExport.id)
            )
        )
    for export_id in ids:
        render_export(export_id, open_session=opener)
    return ids


def render_export(export_id: int, *, open_session: SessionOpener | None = None) -> None:
    """Render the export's chunks still to do, then join them; mark it failed, with the
    error, if anything goes wrong. Safe to run twice at once, and to run again after a
    stop: each chunk is kept only by the run whose progress it follows."""
    opener = open_session or write_session
    try:
        if not _start(opener, export_id):
            return
        while (chunk := _render_chunk(opener, export_id)) is not None:
            if not chunk:
                return  # another run kept this chunk first: it goes on
        _join(opener, export_id)
    except Exception as exc:
        log.exception("the register PDF %s failed", export_id)
        _fail(opener, export_id, f"{type(exc).__name__}: {exc}")


def _unfinished(db: Session, export_id: int) -> RegisterExport | None:
    """The export, locked until the transaction ends, unless it is gone or finished."""
    export = db.get(RegisterExport, export_id)
    if export is None:
        return None
    lock_row(db, export)
    return None if export.state.is_final else export


def _start(opener: SessionOpener, export_id: int) -> bool:
    """Move a queued export to rendering, counting its holders; whether there is work."""
    with opener() as db:
        export = _unfinished(db, export_id)
        if export is None:
            return False
        if export.state is ExportState.QUEUED:
            export.holders_total = share_register.register_totals(
                db, export_filter(db, export)
            ).holders
            transitions.move(
                db,
                export,
                ExportState.RENDERING,
                actor=None,
                action="register_export.rendering",
                doing="rendered",
                summary="Rendering the register of shares as a PDF",
            )
            export.progressed_at = utcnow()
        return export.state is ExportState.RENDERING


def _render_chunk(opener: SessionOpener, export_id: int) -> bool | None:
    """Render and keep the export's next chunk: True when kept, False when another run
    kept it first, None when every chunk is kept."""
    with opener() as db:
        export = db.get(RegisterExport, export_id)
        if export is None or export.state is not ExportState.RENDERING:
            return False
        number, after = export.chunks_done, export.resume_after
        if number and after is None:
            return None  # the last chunk is kept
        flt = export_filter(db, export)
        page = share_register.holder_page(db, flt, after=after, per_page=CHUNK_ROWS)
        if number and not page.rows:
            return None  # holders gone since the last chunk was read
        html = render_template(
            "pdf/register.html",
            **_chunk_context(
                db, flt, page, first=number == 0, printed=local_time(export.created_at)
            ),
            page_numbers=False,
        )
        holders = len({row.member_number for row in page.rows})
        last_number = page.rows[-1].member_number if page.rows else None
    data = _render(html)
    with opener() as db:
        kept = db.execute(
            update(RegisterExport)
            .where(
                RegisterExport.id == export_id,
                RegisterExport.state == ExportState.RENDERING,
                RegisterExport.chunks_done == number,
            )
            .values(
                chunks_done=number + 1,
                # None after the last chunk: nothing is left to read.
                resume_after=None if page.next_after is None else last_number,
                holders_done=RegisterExport.holders_done + holders,
                progressed_at=utcnow(),
            )
        )
        if kept.rowcount != 1:
            return False
        db.add(RegisterExportPart(export_id=export_id, final=False, number=number, data=data))
    return True


def _render(html: str) -> bytes:
    """WeasyPrint's render of one chunk, without the request's time limit (a worker's)."""
    engine = pdf.engine()
    return engine.write_pdf(html, engine.StaticFetcher(current_app.static_folder or "static"))


def _join(opener: SessionOpener, export_id: int) -> None:
    """Join the kept chunks, number the pages, and keep the document: the export is ready."""
    with opener() as db:
        chunks = list(
            db.scalars(
                select(RegisterExportPart.data)
                .where(
                    RegisterExportPart.export_id == export_id,
                    RegisterExportPart.final.is_(False),
                )
                .order_by(RegisterExportPart.number)
            )
        )
    document, pages = join_numbered(chunks)
    del chunks
    with opener() as db:
        export = _unfinished(db, export_id)
        if export is None or export.state is not ExportState.RENDERING:
            return  # another run finished it
        db.execute(delete(RegisterExportPart).where(RegisterExportPart.export_id == export_id))
        for number, start in enumerate(range(0, len(document), PART_BYTES)):
            db.add(
                RegisterExportPart(
                    export_id=export_id,
                    final=True,
                    number=number,
                    data=document[start : start + PART_BYTES],
                )
            )
        export.pages, export.size = pages, len(document)
        export.holders_done = export.holders_total or export.holders_done
        transitions.move(
            db,
            export,
            ExportState.READY,
            actor=None,
            action="register_export.ready",
            doing="finished",
            stamp="finished_at",
            summary=f"The register of shares as a PDF is ready ({pages} pages)",
        )


def _fail(opener: SessionOpener, export_id: int, message: str) -> None:
    with opener() as db:
        export = _unfinished(db, export_id)
        if export is None:
            return
        db.execute(delete(RegisterExportPart).where(RegisterExportPart.export_id == export_id))
        export.error = message[:300]
        transitions.move(
            db,
            export,
            ExportState.FAILED,
            actor=None,
            action="register_export.failed",
            doing="marked failed",
            stamp="finished_at",
            summary=f"The register PDF could not be made: {message:.200}",
        )


# Helvetica's widths (thousandths of the type size) of the characters in "Page n of N".
_WIDTHS = {"P": 667, "a": 556, "g": 556, "e": 556, " ": 278, "o": 556, "f": 278} | {
    digit: 556 for digit in "0123456789"
}
_MM = 72 / 25.4
_SIZE = 7.5


def join_numbered(chunks: list[bytes]) -> tuple[bytes, int]:
    """The chunks' pages in one PDF, each stamped "Page n of N" at the foot on the right
    (where the template's margins leave room); and how many pages there are."""
    writer = PdfWriter()
    for data in chunks:
        writer.append(PdfReader(io.BytesIO(data)))
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    # Each page's own drawing is wrapped in q … Q, so the number is drawn in page units.
    save = writer._add_object(_stream(b"q\n"))
    total = len(writer.pages)
    for number, page in enumerate(writer.pages, 1):
        text = f"Page {number} of {total}"
        width = sum(_WIDTHS[c] for c in text) * _SIZE / 1000
        box = page.mediabox
        x = float(box.right) - 14 * _MM - width
        y = float(box.bottom) + 9 * _MM - _SIZE / 3
        stamp = _stream(
            b"Q q BT 0.357 0.392 0.439 rg /PortalPageNumber %.2f Tf %.2f %.2f Td (%s) Tj ET Q\n"
            % (_SIZE, x, y, text.encode("ascii"))
        )
        contents = page.get("/Contents")
        existing = (
            list(contents.get_object()) if isinstance(contents.get_object(), list) else [contents]
        )
        page[NameObject("/Contents")] = ArrayObject([save, *existing, writer._add_object(stamp)])
        resources = page.get("/Resources")
        if resources is None:
            resources = DictionaryObject()
            page[NameObject("/Resources")] = resources
        resources = resources.get_object()
        fonts = resources.get("/Font")
        if fonts is None:
            fonts = DictionaryObject()
            resources[NameObject("/Font")] = fonts
        fonts.get_object()[NameObject("/PortalPageNumber")] = font
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), total


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream
