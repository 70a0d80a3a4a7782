"""What is made from a version once and kept: a Markdown version's PDF, an upload's preview.

A version never changes, so neither does its PDF: it is rendered on its first download
and kept with its SHA-256, as a certificate is at issue, and every later download reads
the stored bytes (issue 12, item 8: rendering on every request let 40 anonymous downloads
starve the workers). One worker renders it; the others wait for its bytes. That turn is
taken in the database (a claim row in ``document_pdfs``), so it holds across processes and
machines, and a claim left by a worker that died is taken over once it is stale.

The text preview of an uploaded PDF is read once, at upload, within a budget
(``portal.pdf_text``) and kept by the file's hash; a page view only reads it back.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import pdf_text, uploads
from ...errors import PortalError
from ...models import DocumentPDF, DocumentVersion, PDFPreview, VersionFormat, utcnow

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2


class RenderPending(PortalError):
    """Another worker is still rendering this PDF (answered 503: try again shortly)."""

    status = 503


@dataclass(frozen=True)
class StoredPDF:
    """A version's PDF as kept: its bytes and their SHA-256."""

    data: bytes
    sha256: str


def stored_pdf(db: Session, version: DocumentVersion) -> StoredPDF | None:
    """The version's kept PDF, or None while it has not been rendered."""
    row = db.execute(
        select(DocumentPDF.pdf, DocumentPDF.sha256).where(
            DocumentPDF.version_id == version.id, DocumentPDF.pdf.is_not(None)
        )
    ).first()
    return StoredPDF(row.pdf, row.sha256) if row is not None else None


def render_once(
    new_session: Callable[[], Session],
    version: DocumentVersion,
    render: Callable[[], bytes],
    *,
    stale_after: timedelta,
) -> StoredPDF:
    """The version's PDF: rendered by ``render`` and kept if no worker has done so yet.

    Each step runs in its own short write transaction from ``new_session`` (never the
    request's, and never holding a lock while WeasyPrint works). A worker that finds
    another's fresh claim waits up to half ``stale_after`` for the bytes, then raises
    :class:`RenderPending`; a claim older than ``stale_after`` is taken over. Should
    ``render`` fail, its claim is withdrawn, so the next download tries again.
    """
    if version.format is not VersionFormat.MARKDOWN:
        raise ValueError("only a Markdown version is rendered")
    deadline = time.monotonic() + stale_after.total_seconds() / 2
    while True:
        stored, claimed = _claim(new_session, version.id, stale_after)
        if stored is not None:
            return stored
        if claimed:
            break
        if time.monotonic() >= deadline:
            raise RenderPending("This PDF is being prepared. Please try again in a few seconds.")
        time.sleep(POLL_SECONDS)
    try:
        data = render()
    except BaseException:
        _withdraw_claim(new_session, version.id)
        raise
    stored = StoredPDF(data, hashlib.sha256(data).hexdigest())
    with new_session() as db, db.begin():
        db.execute(
            update(DocumentPDF)
            .where(DocumentPDF.version_id == version.id, DocumentPDF.pdf.is_(None))
            .values(pdf=stored.data, sha256=stored.sha256, rendered_at=utcnow())
        )
    return stored


def _claim(
    new_session: Callable[[], Session], version_id: int, stale_after: timedelta
) -> tuple[StoredPDF | None, bool]:
    """The kept PDF if there is one; else whether this worker now holds the turn to render."""
    now = utcnow()
    try:
        with new_session() as db, db.begin():
            row = db.get(DocumentPDF, version_id, populate_existing=True)
            if row is None:
                db.add(DocumentPDF(version_id=version_id, claimed_at=now))
                return None, True
            if row.sha256 is not None:
                return StoredPDF(row.pdf or b"", row.sha256), False
            if now - row.claimed_at < stale_after:
                return None, False
            # The claimant died or gave up: take its turn, unless another worker just did.
            taken = db.execute(
                update(DocumentPDF)
                .where(
                    DocumentPDF.version_id == version_id,
                    DocumentPDF.claimed_at == row.claimed_at,
                    DocumentPDF.pdf.is_(None),
                )
                .values(claimed_at=now)
            )
            return None, taken.rowcount == 1
    except IntegrityError:  # PostgreSQL: another worker inserted its claim first
        return None, False


def _withdraw_claim(new_session: Callable[[], Session], version_id: int) -> None:
    try:
        with new_session() as db, db.begin():
            db.execute(
                delete(DocumentPDF).where(
                    DocumentPDF.version_id == version_id, DocumentPDF.pdf.is_(None)
                )
            )
    except Exception:  # the claim goes stale instead; the render's own error matters more
        log.warning("could not withdraw the claim on version %s's PDF", version_id, exc_info=True)


def preview_of(db: Session, sha256: str | None) -> str | None:
    """The kept text preview of the uploaded PDF with this hash (None if none is kept)."""
    if not sha256:
        return None
    return db.scalar(select(PDFPreview.text).where(PDFPreview.sha256 == sha256))


def keep_preview(db: Session, sha256: str, text: str) -> None:
    """Keep an uploaded PDF's preview text, unless the same file's is kept already."""
    if db.get(PDFPreview, sha256) is None:
        db.add(PDFPreview(sha256=sha256, text=text))
        db.flush()


def backfill_previews(db: Session, read: Callable[[str], str]) -> int:
    """Read and keep the previews of uploaded versions that have none; how many were read.

    ``read(sha256)`` returns a file's preview (for files uploaded before previews were
    read at upload): "" for one over the budget or missing, since it is published already.
    """
    missing = db.scalars(
        select(DocumentVersion.file_sha256)
        .where(
            DocumentVersion.file_sha256.is_not(None),
            ~select(PDFPreview.sha256)
            .where(PDFPreview.sha256 == DocumentVersion.file_sha256)
            .exists(),
        )
        .distinct()
    ).all()
    for sha256 in missing:
        if sha256:
            keep_preview(db, sha256, read(sha256))
    return len(missing)


def read_stored_preview(root: Path, sha256: str) -> str:
    """A stored upload's preview for :func:`backfill_previews`: "" when it cannot be had."""
    try:
        return pdf_text.preview_text(uploads.open_upload(root, sha256))
    except (OSError, uploads.CorruptUpload, pdf_text.PreviewOverBudget) as exc:
        log.warning("no preview for the stored upload %s: %s", sha256, exc)
        return ""
