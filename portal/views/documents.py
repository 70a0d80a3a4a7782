"""The document library for members (and the public), and publishing for staff."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import htmx, markup, pdf, uploads
from ..db import get_db
from ..errors import InvalidInput
from ..models import (
    Document,
    DocumentCategory,
    DocumentVersion,
    User,
    VersionFormat,
    Visibility,
)
from ..services import documents
from ..services.document_diff import diff_versions
from ..templating import current_coop, local_today
from .access import staff_required

bp = Blueprint("documents", __name__)
uploads.allow_upload_bodies(bp, "publish")  # a PDF version may be up to the upload limit


def _today() -> date:
    return local_today()


def _user() -> User | None:
    return current_user if current_user.is_authenticated else None


@bp.get("/documents")
def library() -> Response:
    """Documents by category; htmx swaps the results as the search changes."""
    query = request.args.get("q", "")[:100]
    raw_category = request.args.get("category", "")
    known = {c.value for c in DocumentCategory}
    category = DocumentCategory(raw_category) if raw_category in known else None
    entries = documents.library(get_db(), _user(), today=_today(), query=query, category=category)
    return htmx.render(
        "documents/library.html",
        "documents/_results.html",
        entries=entries,
        categories=list(DocumentCategory),
        query=query,
        category=category,
    )


def _document(slug: str) -> Document:
    document = documents.document_for(get_db(), slug, _user())
    if document is None:
        abort(404)  # hidden and missing look the same
    return document


def _version(document: Document, number: int) -> DocumentVersion:
    version = documents.version_of(document, number)
    if version is None:
        abort(404)
    return version


def _page(document: Document, version: DocumentVersion | None) -> str:
    today = _today()
    return render_template(
        "documents/document.html",
        document=document,
        today=today,
        version=version,
        current=documents.current_version(document, today),
        upcoming=documents.upcoming_version(document, today),
        body=markup.render_markdown(markup.without_title(version.body, document.title))
        if version is not None and version.format is VersionFormat.MARKDOWN
        else None,
        pdf_text=uploads.preview_text(uploads.uploads_root(), version.file_sha256)
        if version is not None and version.file_sha256
        else None,
    )


@bp.get("/documents/<slug>")
def document(slug: str) -> str:
    """The version in force, rendered, with the history of versions."""
    document = _document(slug)
    return _page(document, documents.current_version(document, _today()))


@bp.get("/documents/<slug>/v/<int:number>")
def version(slug: str, number: int) -> str:
    """One version of a document, as published."""
    document = _document(slug)
    return _page(document, _version(document, number))


@bp.get("/documents/<slug>/v/<int:number>.pdf")
def version_pdf(slug: str, number: int) -> Response:
    """The version as a PDF: the uploaded file, or the Markdown rendered by WeasyPrint."""
    document = _document(slug)
    version = _version(document, number)
    public = document.visibility is Visibility.PUBLIC
    if version.format is VersionFormat.PDF:
        return uploads.send_upload(
            uploads.uploads_root(),
            version.file_sha256 or "",
            version.file_name or f"{document.slug}-v{version.number}.pdf",
            public=public,
        )
    response = make_response(pdf.render_document(document, version, current_coop()))
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{document.slug}-v{version.number}.pdf"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    return response


@bp.get("/documents/<slug>/changes")
def changes(slug: str) -> tuple[str, int] | str:
    """What changed between two Markdown versions (``?from=1&to=2``)."""
    document = _document(slug)
    markdown = [v for v in document.versions if v.format is VersionFormat.MARKDOWN]
    if len(markdown) < 2:
        abort(404)
    numbers = {v.number: v for v in markdown}
    old = numbers.get(request.args.get("from", type=int) or markdown[-2].number)
    new = numbers.get(request.args.get("to", type=int) or markdown[-1].number)
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


# -- staff: publishing ----------------------------------------------------------------------


@bp.get("/staff/documents")
@staff_required
def staff_list() -> str:
    """Every document, archived ones too, and a form to add one."""
    return render_template(
        "documents/staff_list.html",
        documents=documents.staff_documents(get_db()),
        today=_today(),
        categories=list(DocumentCategory),
        visibilities=list(Visibility),
        values={},
        error=None,
    )


@bp.post("/staff/documents")
@staff_required
def create() -> Response | tuple[str, int]:
    db = get_db()
    values = request.form.to_dict()
    try:
        document = documents.create_document(
            db,
            title=values.get("title", ""),
            category=values.get("category", ""),
            visibility=values.get("visibility", ""),
            summary=values.get("summary", ""),
            approved_by=values.get("approved_by", ""),
            actor=current_user,
        )
    except InvalidInput as exc:
        db.rollback()
        return render_template(
            "documents/staff_list.html",
            documents=documents.staff_documents(db),
            today=_today(),
            categories=list(DocumentCategory),
            visibilities=list(Visibility),
            values=values,
            error=exc,
        ), 422
    db.commit()
    flash(f"“{document.title}” added. Publish its first version.", "success")
    return htmx.redirect(url_for("documents.staff_document", slug=document.slug))


def _staff_document(slug: str) -> Document:
    document = documents.document_for(get_db(), slug, current_user)
    if document is None:
        abort(404)
    return document


def _publish_page(document: Document, values: dict[str, str], error: InvalidInput | None) -> str:
    latest = max(document.versions, key=lambda v: v.number, default=None)
    if "body" not in values and latest is not None and latest.body is not None:
        values = {**values, "body": latest.body}
    return render_template(
        "documents/staff_document.html",
        document=document,
        values=values,
        error=error,
        today=_today(),
        preview=markup.render_markdown(values.get("body", "")),
        categories=list(DocumentCategory),
        visibilities=list(Visibility),
        max_upload_mb=current_app.config["DOCUMENT_MAX_UPLOAD_BYTES"] // (1024 * 1024),
    )


@bp.get("/staff/documents/<slug>")
@staff_required
def staff_document(slug: str) -> str:
    """Publish a new version (Markdown with a live preview, or a PDF); archive."""
    return _publish_page(_staff_document(slug), {}, None)


@bp.post("/staff/documents/preview")
@staff_required
def preview() -> str:
    """The Markdown as members will see it (htmx, as staff type). Writes nothing."""
    return render_template(
        "documents/_preview.html", preview=markup.render_markdown(request.form.get("body", ""))
    )


def _effective_on(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


@bp.post("/staff/documents/<slug>/versions")
@staff_required
def publish(slug: str) -> Response | tuple[str, int]:
    db = get_db()
    document = _staff_document(slug)
    values = request.form.to_dict()
    effective_on = _effective_on(values.get("effective_on", ""))
    try:
        if values.get("format") == "pdf":
            stored = uploads.accept_pdf(
                request.files.get("file"),
                root=uploads.uploads_root(),
                max_bytes=current_app.config["DOCUMENT_MAX_UPLOAD_BYTES"],
            )
            version = documents.publish_pdf(
                db,
                document,
                sha256=stored.sha256,
                size=stored.size,
                file_name=stored.file_name,
                effective_on=effective_on,
                change_note=values.get("change_note", ""),
                actor=current_user,
            )
        else:
            version = documents.publish_markdown(
                db,
                document,
                body=values.get("body", ""),
                effective_on=effective_on,
                change_note=values.get("change_note", ""),
                actor=current_user,
            )
    except InvalidInput as exc:
        db.rollback()
        return _publish_page(_staff_document(slug), values, exc), 422
    db.commit()
    flash(f"Version {version.number} of “{document.title}” published.", "success")
    return htmx.redirect(url_for("documents.version", slug=slug, number=version.number))


@bp.post("/staff/documents/<slug>/details")
@staff_required
def update_details(slug: str) -> Response | tuple[str, int]:
    db = get_db()
    document = _staff_document(slug)
    values = request.form.to_dict()
    try:
        documents.update_document(
            db,
            document,
            summary=values.get("summary", ""),
            category=values.get("category", ""),
            visibility=values.get("visibility", ""),
            approved_by=values.get("approved_by", ""),
            actor=current_user,
        )
    except InvalidInput as exc:
        db.rollback()
        return _publish_page(_staff_document(slug), {}, exc), 422
    db.commit()
    flash(f"“{document.title}” saved.", "success")
    return htmx.redirect(url_for("documents.staff_document", slug=slug))


@bp.post("/staff/documents/<slug>/archive")
@staff_required
def archive(slug: str) -> Response:
    db = get_db()
    document = _staff_document(slug)
    if document.archived_at is None:
        documents.archive_document(db, document, actor=current_user)
        message = f"“{document.title}” archived: hidden from the library, links still work."
    else:
        documents.restore_document(db, document, actor=current_user)
        message = f"“{document.title}” is back in the library."
    db.commit()
    flash(message, "success")
    return htmx.redirect(url_for("documents.staff_list"))


@bp.post("/staff/documents/<slug>/rulebook")
@staff_required
def rulebook(slug: str) -> Response:
    db = get_db()
    document = _staff_document(slug)
    documents.mark_rulebook(db, document, actor=current_user)
    db.commit()
    flash(f"“{document.title}” is now the rulebook applicants accept.", "success")
    return htmx.redirect(url_for("documents.staff_document", slug=slug))
