"""Publishing governance documents: creating them, new versions, archiving, the rulebook.

A published version is never changed or deleted (the database refuses it): a correction
is a new version. Every act is audited.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload

from ... import coop
from ...db import lock_row
from ...errors import InvalidInput, InvalidState
from ...markup import render_markdown, without_title
from ...models import (
    Document,
    DocumentCategory,
    DocumentVersion,
    Resolution,
    ResolutionResult,
    User,
    VersionFormat,
    Visibility,
    utcnow,
)
from .. import audit
from ..inputs import EARLIEST_DATE, read_choice
from . import library, renditions

MAX_BODY_CHARS = 400_000


def slugify(title: str) -> str:
    """A URL slug from a title: "Standing Orders (2026)" → "standing-orders-2026"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80]


def create_document(
    db: Session,
    *,
    title: str,
    category: str,
    visibility: str,
    summary: str,
    approved_by: str,
    actor: User,
    slug: str | None = None,
) -> Document:
    """Add a document to the library (it shows once a version is published)."""
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidInput("Give the document a title (at most 200 characters).", field="title")
    slug = slugify(slug or title)
    if not slug:
        raise InvalidInput("The title needs some letters or numbers.", field="title")
    if db.scalar(select(exists().where(Document.slug == slug))):
        raise InvalidInput(f"A document called “{title}” exists already.", field="title")
    document = Document(
        slug=slug,
        title=title,
        category=read_choice(DocumentCategory, category, "Choose a category.", field="category"),
        visibility=read_choice(
            Visibility, visibility, "Choose who may read it.", field="visibility"
        ),
        summary=summary.strip()[:500],
        approved_by=approved_by.strip()[:200],
    )
    db.add(document)
    db.flush()
    audit.record(
        db, actor=actor, action="document.created", target=document, summary=f"“{title}” added"
    )
    return document


def update_document(
    db: Session,
    document: Document,
    *,
    summary: str,
    category: str,
    visibility: str,
    approved_by: str,
    actor: User,
) -> Document:
    """Change a document's place in the library and who may read it (not its versions)."""
    new_category = read_choice(DocumentCategory, category, "Choose a category.", field="category")
    new_visibility = read_choice(
        Visibility, visibility, "Choose who may read it.", field="visibility"
    )
    if document.is_rulebook and (
        new_visibility is not Visibility.PUBLIC or new_category is not DocumentCategory.RULES
    ):
        raise InvalidInput(
            "The rulebook stays public and in Rules: applicants must be able to read it.",
            field="visibility",
        )
    changes = {
        "summary": summary.strip()[:500],
        "category": new_category,
        "visibility": new_visibility,
        "approved_by": approved_by.strip()[:200],
    }
    changed = [name for name, value in changes.items() if getattr(document, name) != value]
    for name in changed:
        setattr(document, name, changes[name])
    if changed:
        audit.record(
            db,
            actor=actor,
            action="document.changed",
            target=document,
            summary=f"“{document.title}”: changed {', '.join(changed)}",
        )
        db.flush()
    return document


def _next_number(document: Document) -> int:
    return max((v.number for v in document.versions), default=0) + 1


# A version may record rules adopted long ago, but not take effect further ahead than this.
MAX_YEARS_AHEAD = 5


def _check_version(
    db: Session, document: Document, effective_on: date | None, change_note: str
) -> str:
    if document.archived_at is not None:
        raise InvalidState("This document is archived; restore it before publishing.")
    if effective_on is None:
        raise InvalidInput("Give the date this version takes effect.", field="effective_on")
    today = coop.today(db)
    latest = today.replace(year=today.year + MAX_YEARS_AHEAD, day=min(today.day, 28))
    if not EARLIEST_DATE <= effective_on <= latest:
        raise InvalidInput(
            f"Choose a date it takes effect from {EARLIEST_DATE:%Y} to {latest:%-d %B %Y}.",
            field="effective_on",
        )
    note = change_note.strip()
    if not note:
        raise InvalidInput("Say what changed in this version.", field="change_note")
    return note[:500]


def approving_resolutions(db: Session, document: Document) -> list[Resolution]:
    """The passed resolutions that amend ``document``, the latest first: those a new version
    of it may name as approving it. A result is declared when the resolution's voting
    closes, and stored with its count."""
    return list(
        db.scalars(
            select(Resolution)
            .options(joinedload(Resolution.meeting))
            .where(
                Resolution.amends_document_id == document.id,
                Resolution.result == ResolutionResult.PASSED,
            )
            .order_by(Resolution.closed_at.desc(), Resolution.number)
        )
    )


def read_approval(db: Session, document: Document, raw: object) -> Resolution | None:
    """The resolution a form names (by id) as approving a new version: one of
    :func:`approving_resolutions`, or None when none is named."""
    chosen = str(raw or "").strip()
    if not chosen:
        return None
    found = next((r for r in approving_resolutions(db, document) if str(r.id) == chosen), None)
    if found is None:
        raise InvalidInput(
            "Choose a passed resolution that amends this document, or none.",
            field="approved_by_resolution",
        )
    return found


def _approved_by(version: DocumentVersion, resolution: Resolution | None) -> DocumentVersion:
    if resolution is not None:
        version.approved_by_resolution_id = resolution.id
        version.approved_by_resolution = resolution
    return version


def markdown_version(
    db: Session,
    document: Document,
    *,
    body: str,
    effective_on: date | None,
    change_note: str,
    approved_by: Resolution | None = None,
) -> DocumentVersion:
    """A new version written in Markdown, checked, not yet published (nor in the session);
    ``approved_by`` is a resolution from :func:`read_approval`."""
    note = _check_version(db, document, effective_on, change_note)
    if not body.strip():
        raise InvalidInput("Write the document's text.", field="body")
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInput("The text is too long for one document.", field="body")
    version = DocumentVersion(
        format=VersionFormat.MARKDOWN,
        body=body.replace("\r\n", "\n"),
        effective_on=effective_on,
        change_note=note,
    )
    return _approved_by(version, approved_by)


def pdf_version(
    db: Session,
    document: Document,
    *,
    sha256: str,
    size: int,
    file_name: str,
    effective_on: date | None,
    change_note: str,
    approved_by: Resolution | None = None,
) -> DocumentVersion:
    """A new version as an uploaded PDF (already checked and stored by its hash), checked,
    not yet published; ``approved_by`` is a resolution from :func:`read_approval`."""
    note = _check_version(db, document, effective_on, change_note)
    version = DocumentVersion(
        format=VersionFormat.PDF,
        file_sha256=sha256,
        file_size=size,
        file_name=file_name,
        effective_on=effective_on,
        change_note=note,
    )
    return _approved_by(version, approved_by)


@dataclass(frozen=True)
class VersionPreview:
    """What publishing a version will do, worked out before it is done.

    ``replaces`` is the version in force on the new one's date until now; ``until`` a
    version already published for a later date, which will take over from the new one.
    """

    document: Document
    version: DocumentVersion
    number: int
    replaces: DocumentVersion | None
    until: DocumentVersion | None

    @property
    def summary(self) -> str:
        """One sentence: "Publishes version 4 of “Rules”, in effect from 1 January 2027,
        replacing version 3 from that day."."""
        sentence = (
            f"Publishes version {self.number} of “{self.document.title}”, in effect from "
            f"{_long_date(self.version.effective_on)}"
        )
        if self.replaces is not None:
            sentence += f", replacing version {self.replaces.number} from that day"
        if self.until is not None:
            sentence += (
                f"; version {self.until.number} takes its place on "
                f"{_long_date(self.until.effective_on)}"
            )
        return sentence + "."


def _long_date(day: date) -> str:
    """A date as the portal writes it in a sentence: "1 January 2027"."""
    return day.strftime("%-d %B %Y")


def preview_version(document: Document, version: DocumentVersion) -> VersionPreview:
    """What :func:`publish_version` would do with ``version``; writes nothing."""
    return VersionPreview(
        document=document,
        version=version,
        number=_next_number(document),
        replaces=library.current_version(document, version.effective_on),
        until=library.upcoming_version(document, version.effective_on),
    )


def publish_version(
    db: Session,
    document: Document,
    version: DocumentVersion,
    *,
    actor: User,
    preview: Callable[[], str] | None = None,
) -> DocumentVersion:
    """Publish a checked version (:func:`markdown_version`, :func:`pdf_version`); it can never
    be edited afterwards.

    An uploaded PDF's text preview is kept with it: ``preview()`` reads it (within its
    budget, ``portal.pdf_text``) unless the same file's is kept already.

    Sent twice (a double click on Confirm, a form sent again), it is published once: a
    version the same as the latest in every part is that version.
    """
    # Two requests publishing at once must take turns, or both take the same number.
    lock_row(db, document)
    db.refresh(document, attribute_names=["versions"])
    latest = max(document.versions, key=lambda v: v.number, default=None)
    if latest is not None and _same(latest, version):
        return latest
    sha256 = version.file_sha256
    if sha256 and preview is not None and renditions.preview_of(db, sha256) is None:
        renditions.keep_preview(db, sha256, preview())
    if version.body is not None:
        version.body_html = rendered_body(document.title, version.body)
    version.number = _next_number(document)
    version.published_at = utcnow()
    version.published_by_id = actor.id
    document.versions.append(version)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="document.published",
        target=document,
        summary=f"“{document.title}” version {version.number}, effective "
        f"{version.effective_on.isoformat()}: {version.change_note}",
    )
    return version


def rendered_body(title: str, body: str) -> str:
    """A Markdown version's text as the safe HTML its page shows, without a first heading
    that repeats the document's title (which never changes): kept with the version."""
    return str(render_markdown(without_title(body, title)))


def _same(published: DocumentVersion, version: DocumentVersion) -> bool:
    return all(
        getattr(published, name) == getattr(version, name)
        for name in (
            "format",
            "body",
            "file_sha256",
            "effective_on",
            "change_note",
            "approved_by_resolution_id",
        )
    )


def publish_markdown(
    db: Session,
    document: Document,
    *,
    body: str,
    effective_on: date | None,
    change_note: str,
    actor: User,
    approved_by: Resolution | None = None,
) -> DocumentVersion:
    """Publish a new version written in Markdown. It can never be edited afterwards."""
    version = markdown_version(
        db,
        document,
        body=body,
        effective_on=effective_on,
        change_note=change_note,
        approved_by=approved_by,
    )
    return publish_version(db, document, version, actor=actor)


def publish_pdf(
    db: Session,
    document: Document,
    *,
    sha256: str,
    size: int,
    file_name: str,
    effective_on: date | None,
    change_note: str,
    actor: User,
    preview: str = "",
) -> DocumentVersion:
    """Publish a new version as an uploaded PDF (already checked and stored by its hash),
    keeping the ``preview`` text read from it at upload."""
    version = pdf_version(
        db,
        document,
        sha256=sha256,
        size=size,
        file_name=file_name,
        effective_on=effective_on,
        change_note=change_note,
    )
    return publish_version(db, document, version, actor=actor, preview=lambda: preview)


def archive_document(db: Session, document: Document, *, actor: User) -> Document:
    """Hide a document from the library; links to it keep working for those who may read it."""
    if document.archived_at is not None:
        raise InvalidState("This document is already archived.")
    if document.is_rulebook:
        raise InvalidState("The rulebook cannot be archived; mark another document first.")
    document.archived_at = utcnow()
    audit.record(
        db, actor=actor, action="document.archived", target=document, summary=document.title
    )
    db.flush()
    return document


def restore_document(db: Session, document: Document, *, actor: User) -> Document:
    """Put an archived document back in the library."""
    if document.archived_at is None:
        raise InvalidState("This document is not archived.")
    document.archived_at = None
    audit.record(
        db, actor=actor, action="document.restored", target=document, summary=document.title
    )
    db.flush()
    return document


def mark_rulebook(db: Session, document: Document, *, actor: User) -> Document:
    """Make this document the rulebook applicants accept (one at a time)."""
    if document.category is not DocumentCategory.RULES:
        raise InvalidInput("Only a document in Rules can be the rulebook.")
    if document.visibility is not Visibility.PUBLIC:
        raise InvalidInput("Applicants must be able to read the rulebook: make it public first.")
    for other in db.scalars(select(Document).where(Document.is_rulebook)):
        other.is_rulebook = False
    db.flush()  # the partial unique index allows one rulebook at a time
    document.is_rulebook = True
    audit.record(
        db, actor=actor, action="document.rulebook", target=document, summary=document.title
    )
    db.flush()
    return document
