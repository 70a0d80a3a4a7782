"""Staff publish governance documents: add one, publish versions, archive, the rulebook."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user

from ... import coop, htmx, markup, uploads
from ...db import get_db, transaction
from ...errors import InvalidInput
from ...models import Document, DocumentCategory, DocumentVersion, Visibility
from ...services.documents import library, publishing, renditions
from ...services.inputs import read_date
from ..access import found

bp = Blueprint("documents", __name__)
uploads.allow_upload_bodies(bp, "publish")  # a PDF version may be up to the upload limit


def _list_page(values: dict[str, str], error: InvalidInput | None, status: int = 200) -> Response:
    page = render_template(
        "staff/documents/list.html",
        documents=library.staff_documents(get_db()),
        today=coop.today(),
        categories=list(DocumentCategory),
        visibilities=list(Visibility),
        values=values,
        error=error,
    )
    return Response(page, status)


@bp.get("/documents", endpoint="library")
def library_page() -> Response:
    """Every document, archived ones too, and a form to add one."""
    return _list_page({}, None)


@bp.post("/documents")
def create() -> Response:
    values = request.form.to_dict()
    try:
        with transaction() as db:
            document = publishing.create_document(
                db,
                title=values.get("title", ""),
                category=values.get("category", ""),
                visibility=values.get("visibility", ""),
                summary=values.get("summary", ""),
                approved_by=values.get("approved_by", ""),
                actor=current_user,
            )
    except InvalidInput as exc:
        return _list_page(values, exc, status=422)
    return htmx.flash_and_redirect(
        f"“{document.title}” added. Publish its first version.",
        url_for("staff.documents.document", slug=document.slug),
    )


def _load(slug: str) -> Document:
    return found(library.document_for(get_db(), slug, current_user))


def _publish_page(
    document: Document, values: dict[str, str], error: InvalidInput | None, status: int = 200
) -> Response:
    latest = max(document.versions, key=lambda v: v.number, default=None)
    if "body" not in values and latest is not None and latest.body is not None:
        values = {**values, "body": latest.body}
    page = render_template(
        "staff/documents/document.html",
        document=document,
        values=values,
        error=error,
        today=coop.today(),
        preview=markup.render_markdown(values.get("body", "")),
        approvals=publishing.approving_resolutions(get_db(), document),
        categories=list(DocumentCategory),
        visibilities=list(Visibility),
        max_upload_mb=current_app.config["DOCUMENT_MAX_UPLOAD_BYTES"] // (1024 * 1024),
    )
    return Response(page, status)


@bp.get("/documents/<slug>")
def document(slug: str) -> Response:
    """Publish a new version (Markdown with a live preview, or a PDF); archive."""
    return _publish_page(_load(slug), {}, None)


@bp.post("/documents/preview")
def preview() -> str:
    """The Markdown as members will see it (htmx, as staff type). Writes nothing."""
    return render_template(
        "staff/documents/_preview.html",
        preview=markup.render_markdown(request.form.get("body", "")),
    )


def _effective_on(raw: str) -> date | None:
    """The date typed, or None for the service to refuse with its own message."""
    try:
        return read_date(raw, "Effective date")
    except InvalidInput:
        return None


def _sent_pdf(values: dict[str, str]) -> uploads.StoredFile:
    """The PDF sent with the form, checked and stored by its hash; or, when none was chosen,
    the one sent before (a confirmation or a changed form carries its hash, not the file)."""
    upload = request.files.get("file")
    root = uploads.uploads_root()
    if (upload is None or not upload.filename) and values.get("file_sha256"):
        return uploads.kept_pdf(root, values["file_sha256"], values.get("file_name", ""))
    return uploads.accept_pdf(
        upload, root=root, max_bytes=current_app.config["DOCUMENT_MAX_UPLOAD_BYTES"]
    )


def _stored_preview(version: DocumentVersion) -> Callable[[], str]:
    """Reads the text preview of the version's stored PDF (checked within its budget when it
    was sent, so it fits): kept with the version when it is published."""
    sha256 = version.file_sha256 or ""
    return lambda: renditions.read_stored_preview(uploads.uploads_root(), sha256)


def _version_sent(document: Document, values: dict[str, str]) -> DocumentVersion:
    """The version the form describes, checked; a PDF's hash goes into ``values``."""
    effective_on = _effective_on(values.get("effective_on", ""))
    change_note = values.get("change_note", "")
    approved_by = publishing.read_approval(
        get_db(), document, values.get("approved_by_resolution", "")[:20]
    )
    if values.get("format") == "pdf":
        stored = _sent_pdf(values)
        values.update(file_sha256=stored.sha256, file_name=stored.file_name)
        return publishing.pdf_version(
            get_db(),
            document,
            sha256=stored.sha256,
            size=stored.size,
            file_name=stored.file_name,
            effective_on=effective_on,
            change_note=change_note,
            approved_by=approved_by,
        )
    return publishing.markdown_version(
        get_db(),
        document,
        body=values.get("body", ""),
        effective_on=effective_on,
        change_note=change_note,
        approved_by=approved_by,
    )


@bp.post("/documents/<slug>/versions")
def publish(slug: str) -> Response:
    """Publish in two steps: what publishing will do, then (``confirm=yes``) do it."""
    document = _load(slug)
    values = request.form.to_dict()
    step = values.pop("confirm", "")
    if step == "change":  # back from the confirmation to the form, as sent
        return _publish_page(document, values, None)
    try:
        version = _version_sent(document, values)
        if step != "yes":  # nothing is written: say what publishing will do
            return Response(
                render_template(
                    "staff/documents/confirm.html",
                    preview=publishing.preview_version(document, version),
                    values=values,
                    text=markup.render_markdown(version.body or ""),
                )
            )
        with transaction() as db:
            version = publishing.publish_version(
                db, document, version, actor=current_user, preview=_stored_preview(version)
            )
    except InvalidInput as exc:
        return _publish_page(_load(slug), values, exc, status=422)
    return htmx.flash_and_redirect(
        f"Version {version.number} of “{document.title}” published.",
        url_for("documents.version", slug=slug, number=version.number),
    )


@bp.post("/documents/<slug>/details")
def update_details(slug: str) -> Response:
    document = _load(slug)
    values = request.form.to_dict()
    try:
        with transaction() as db:
            publishing.update_document(
                db,
                document,
                summary=values.get("summary", ""),
                category=values.get("category", ""),
                visibility=values.get("visibility", ""),
                approved_by=values.get("approved_by", ""),
                actor=current_user,
            )
    except InvalidInput as exc:
        return _publish_page(_load(slug), {}, exc, status=422)
    return htmx.flash_and_redirect(
        f"“{document.title}” saved.", url_for("staff.documents.document", slug=slug)
    )


@bp.post("/documents/<slug>/archive")
def archive(slug: str) -> Response:
    document = _load(slug)
    with transaction() as db:
        if document.archived_at is None:
            publishing.archive_document(db, document, actor=current_user)
            message = f"“{document.title}” archived: hidden from the library, links still work."
        else:
            publishing.restore_document(db, document, actor=current_user)
            message = f"“{document.title}” is back in the library."
    return htmx.flash_and_redirect(message, url_for("staff.documents.library"))


@bp.post("/documents/<slug>/rulebook")
def rulebook(slug: str) -> Response:
    document = _load(slug)
    with transaction() as db:
        publishing.mark_rulebook(db, document, actor=current_user)
    return htmx.flash_and_redirect(
        f"“{document.title}” is now the rulebook applicants accept.",
        url_for("staff.documents.document", slug=slug),
    )
