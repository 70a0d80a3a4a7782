"""The document library for members and the public: search, read, compare, download.

Staff publish at ``/staff/documents`` (``views/staff/documents.py``)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user
from limits import parse
from markupsafe import Markup

from .. import coop, htmx, pdf, uploads
from ..db import database, get_db
from ..errors import TooManyAttempts
from ..extensions import limiter
from ..models import Document, DocumentCategory, DocumentVersion, User, VersionFormat, Visibility
from ..services.documents import library, renditions
from ..services.inputs import read_id
from ..text_diff import diff_versions
from . import paging
from .access import found
from .downloads import attachment

bp = Blueprint("documents", __name__)


def _user() -> User | None:
    return current_user if current_user.is_authenticated else None


@bp.get("/documents", endpoint="library")
def library_page() -> Response:
    """The first few documents of each category, each category's "all" link; a category
    or a search is listed a page at a time. htmx swaps the results as the search changes."""
    query = request.args.get("q", "")[:100]
    raw_category = request.args.get("category", "")
    known = {c.value for c in DocumentCategory}
    category = DocumentCategory(raw_category) if raw_category in known else None
    db, user, today = get_db(), _user(), coop.today()
    if category is None and not query.strip():
        front, page = library.library_front(db, user, today=today), None
    else:
        front = None
        page = library.library_page(
            db,
            user,
            today=today,
            query=query,
            category=category,
            after=paging.cursor("after"),
            before=paging.cursor("before"),
        )
    return htmx.render(
        "documents/library.html",
        "documents/_results.html",
        front=front,
        page=page,
        categories=list(DocumentCategory),
        query=query,
        category=category,
        pager_query={"q": query, "category": raw_category if category else ""},
    )


def _document(slug: str) -> Document:
    return found(library.document_for(get_db(), slug, _user()))  # hidden looks missing


def _version(document: Document, number: int) -> DocumentVersion:
    return found(library.version_of(document, number))


def _page(document: Document, version: DocumentVersion | None) -> str:
    today = coop.today()
    return render_template(
        "documents/document.html",
        document=document,
        today=today,
        version=version,
        current=library.current_version(document, today),
        upcoming=library.upcoming_version(document, today),
        # Rendered and sanitised by nh3 when the version was published (services.documents).
        body=Markup(version.body_html)  # noqa: S704  # nosec B704
        if version is not None and version.body_html is not None
        else None,
        pdf_text=renditions.preview_of(get_db(), version.file_sha256) if version else None,
    )


@bp.get("/documents/<slug>")
def document(slug: str) -> str:
    """The version in force, rendered, with the history of versions."""
    document = _document(slug)
    return _page(document, library.current_version(document, coop.today()))


@bp.get("/documents/<slug>/v/<int:number>")
def version(slug: str, number: int) -> str:
    """One version of a document, as published."""
    document = _document(slug)
    return _page(document, _version(document, number))


@bp.get("/documents/<slug>/v/<int:number>.pdf")
def version_pdf(slug: str, number: int) -> Response:
    """The version as a PDF: the uploaded file, or the Markdown rendered by WeasyPrint."""
    document = _document(slug)
    return version_download(document, _version(document, number))


def version_download(document: Document, version: DocumentVersion) -> Response:
    """A version as a PDF download: the uploaded file, or the Markdown rendered by
    WeasyPrint once and kept (``services.documents.renditions``). The caller has checked
    that the reader may read ``document``."""
    public = document.visibility is Visibility.PUBLIC
    if version.format is VersionFormat.PDF:
        return uploads.send_upload(
            uploads.uploads_root(),
            version.file_sha256 or "",
            version.file_name or f"{document.slug}-v{version.number}.pdf",
            public=public,
        )
    stored = renditions.stored_pdf(get_db(), version)
    if stored is None:
        _limit_renders()
        stored = renditions.render_once(
            lambda: database().session(write=True),
            version,
            lambda: pdf.render_document(document, version, coop.settings()),
            stale_after=timedelta(seconds=2 * current_app.config["PDF_RENDER_TIMEOUT_SECONDS"]),
        )
    return attachment(
        stored.data,
        f"{document.slug}-v{version.number}.pdf",
        mimetype="application/pdf",
        public=public,
    )


RENDER_LIMITS = (
    ("DOCUMENT_RENDER_RATE_LIMIT", lambda: request.remote_addr or ""),  # per IP
    ("DOCUMENT_RENDER_RATE_LIMIT_ALL", lambda: "all"),  # however many addresses ask
)


def _limit_renders() -> None:
    """Refuse (429) a download that would render a PDF beyond the limits; a kept one is free.

    The counts live in the rate limiter's store, shared by every worker when it is one.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    hits = [(parse(current_app.config[name]), key()) for name, key in RENDER_LIMITS]
    if not all(limiter.limiter.test(item, "document-render", key) for item, key in hits):
        raise TooManyAttempts(
            "Many documents are being prepared as PDFs just now. Please try again in a minute."
        )
    for item, key in hits:
        limiter.limiter.hit(item, "document-render", key)


@bp.get("/documents/<slug>/changes")
def changes(slug: str) -> tuple[str, int] | str:
    """What changed between two Markdown versions (``?from=1&to=2``)."""
    document = _document(slug)
    markdown = [v for v in document.versions if v.format is VersionFormat.MARKDOWN]
    if len(markdown) < 2:
        abort(404)
    numbers = {v.number: v for v in markdown}
    old = numbers.get(_version_number("from") or markdown[-2].number)
    new = numbers.get(_version_number("to") or markdown[-1].number)
    if old is None or new is None:
        return render_template(
            "documents/changes.html",
            document=document,
            versions=markdown,
            old=None,
            new=None,
            diff=None,
            error="Choose two versions written in the portal.",
        ), 422
    return render_template(
        "documents/changes.html",
        document=document,
        versions=markdown,
        old=old,
        new=new,
        diff=diff_versions(old.body or "", new.body or ""),
        error=None,
    )


def _version_number(arg: str) -> int | None:
    """A version number from the query (``?from=1``), or None when there is none."""
    raw = request.args.get(arg, "")
    return read_id(raw)
