"""The governance document library: who may read what, which version is current, publishing.

Visibility is enforced in every query here (DESIGN.md §2), never only in a template: a
visitor reads public documents, a member public and members' ones, staff everything.
Which version is current is derived from effective dates: the newest version whose date
has come, so a version published ahead of its date leaves the current one in force.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..errors import InvalidInput, InvalidState
from ..models import (
    Document,
    DocumentCategory,
    DocumentVersion,
    Member,
    MemberStatus,
    User,
    VersionFormat,
    Visibility,
    utcnow,
)
from . import audit

MAX_BODY_CHARS = 400_000


def readable_by(db: Session, user: User | None) -> set[Visibility]:
    """The visibilities ``user`` may read: staff all; active members public and members'."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {Visibility.PUBLIC}
    if user.is_staff:
        return set(Visibility)
    is_member = db.scalar(
        select(exists().where(Member.user_id == user.id, Member.status != MemberStatus.CEASED))
    )
    return {Visibility.PUBLIC, Visibility.MEMBERS} if is_member else {Visibility.PUBLIC}


def _readable(db: Session, user: User | None) -> Select[tuple[Document]]:
    return (
        select(Document)
        .options(selectinload(Document.versions))
        .where(Document.visibility.in_(readable_by(db, user)))
    )


def current_version(document: Document, today: date) -> DocumentVersion | None:
    """The version in force on ``today``: the newest whose effective date has come."""
    in_force = [v for v in document.versions if v.effective_on <= today]
    return max(in_force, key=lambda v: (v.effective_on, v.number), default=None)


def upcoming_version(document: Document, today: date) -> DocumentVersion | None:
    """A version published to take effect later, if any."""
    later = [v for v in document.versions if v.effective_on > today]
    return min(later, key=lambda v: (v.effective_on, v.number), default=None)


@dataclass(frozen=True)
class LibraryEntry:
    document: Document
    current: DocumentVersion | None
    upcoming: DocumentVersion | None


def library(
    db: Session,
    user: User | None,
    *,
    today: date,
    query: str = "",
    category: DocumentCategory | None = None,
) -> list[LibraryEntry]:
    """The documents ``user`` may read, not archived, matching the search, by category."""
    statement = _readable(db, user).where(Document.archived_at.is_(None))
    if category is not None:
        statement = statement.where(Document.category == category)
    words = query.strip()[:100]
    if words:
        pattern = f"%{_escape_like(words)}%"
        statement = statement.where(
            or_(
                Document.title.ilike(pattern, escape="\\"),
                Document.summary.ilike(pattern, escape="\\"),
                exists().where(
                    DocumentVersion.document_id == Document.id,
                    DocumentVersion.body.ilike(pattern, escape="\\"),
                ),
            )
        )
    documents = db.scalars(statement.order_by(Document.title)).all()
    return [
        LibraryEntry(d, current_version(d, today), upcoming_version(d, today)) for d in documents
    ]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def document_for(db: Session, slug: str, user: User | None) -> Document | None:
    """The document with this slug if ``user`` may read it (archived ones too: links in old
    minutes keep working); None otherwise, so that a hidden document looks like no document."""
    return db.scalar(_readable(db, user).where(Document.slug == slug[:80]))


def version_of(document: Document, number: int) -> DocumentVersion | None:
    """The document's version with this number, if any."""
    return next((v for v in document.versions if v.number == number), None)


def staff_documents(db: Session) -> list[Document]:
    """Every document, archived too, for the staff's publishing page."""
    return list(
        db.scalars(
            select(Document)
            .options(selectinload(Document.versions))
            .order_by(Document.archived_at.is_not(None), Document.category, Document.title)
        )
    )


def new_since(
    db: Session, user: User, since: datetime | None, *, limit: int = 5
) -> list[tuple[Document, DocumentVersion]]:
    """Versions published since ``since`` (or the latest ones) that ``user`` may read."""
    statement = (
        select(Document, DocumentVersion)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(
            Document.visibility.in_(readable_by(db, user)),
            Document.archived_at.is_(None),
        )
        .order_by(DocumentVersion.published_at.desc())
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(DocumentVersion.published_at > since)
    return [(d, v) for d, v in db.execute(statement)]


# -- publishing -----------------------------------------------------------------------------


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
        category=_choice(DocumentCategory, category, "category", "Choose a category."),
        visibility=_choice(Visibility, visibility, "visibility", "Choose who may read it."),
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
    new_category = _choice(DocumentCategory, category, "category", "Choose a category.")
    new_visibility = _choice(Visibility, visibility, "visibility", "Choose who may read it.")
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


def _choice(enum: type[Any], raw: str, field: str, message: str) -> Any:
    try:
        return enum(raw)
    except ValueError:
        raise InvalidInput(message, field=field) from None


def _next_number(document: Document) -> int:
    return max((v.number for v in document.versions), default=0) + 1


def _check_version(document: Document, effective_on: date | None, change_note: str) -> str:
    if document.archived_at is not None:
        raise InvalidState("This document is archived; restore it before publishing.")
    if effective_on is None:
        raise InvalidInput("Give the date this version takes effect.", field="effective_on")
    note = change_note.strip()
    if not note:
        raise InvalidInput("Say what changed in this version.", field="change_note")
    return note[:500]


def publish_markdown(
    db: Session,
    document: Document,
    *,
    body: str,
    effective_on: date | None,
    change_note: str,
    actor: User,
) -> DocumentVersion:
    """Publish a new version written in Markdown. It can never be edited afterwards."""
    note = _check_version(document, effective_on, change_note)
    if not body.strip():
        raise InvalidInput("Write the document's text.", field="body")
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInput("The text is too long for one document.", field="body")
    return _publish(
        db,
        document,
        DocumentVersion(
            format=VersionFormat.MARKDOWN,
            body=body.replace("\r\n", "\n"),
            effective_on=effective_on,
            change_note=note,
        ),
        actor,
    )


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
) -> DocumentVersion:
    """Publish a new version as an uploaded PDF (already checked and stored by its hash)."""
    note = _check_version(document, effective_on, change_note)
    return _publish(
        db,
        document,
        DocumentVersion(
            format=VersionFormat.PDF,
            file_sha256=sha256,
            file_size=size,
            file_name=file_name,
            effective_on=effective_on,
            change_note=note,
        ),
        actor,
    )


def _publish(
    db: Session, document: Document, version: DocumentVersion, actor: User
) -> DocumentVersion:
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


def current_rulebook(db: Session, today: date) -> tuple[Document, DocumentVersion] | None:
    """The rulebook and its version in force today, if the library has one."""
    document = db.scalar(
        select(Document).options(selectinload(Document.versions)).where(Document.is_rulebook)
    )
    version = current_version(document, today) if document is not None else None
    return (document, version) if version is not None else None


def count_documents(db: Session) -> int:
    """How many documents the library holds (for the seed's idempotence)."""
    return db.scalar(select(func.count()).select_from(Document)) or 0


@dataclass(frozen=True)
class RulesChange:
    """The rulebook changed after the member joined: the version then and the one now."""

    document: Document
    joined: DocumentVersion | None
    current: DocumentVersion


def rules_changed_since(db: Session, joined_on: date, today: date) -> RulesChange | None:
    """How the rulebook changed since ``joined_on``, or None if it has not."""
    rulebook = current_rulebook(db, today)
    if rulebook is None or rulebook[1].effective_on <= joined_on:
        return None
    document, version = rulebook
    return RulesChange(document, current_version(document, joined_on), version)
