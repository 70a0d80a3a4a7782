"""Governance documents: a library of rules, policies, minutes and reports, each versioned.

A published version is never changed or deleted (the database refuses it, as for the
share ledger): a correction is a new version. Which version is current is derived from
the effective dates, never stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, UTCDateTime, enum_column, utcnow
from .states import Labelled

if TYPE_CHECKING:
    from .meetings import Resolution


class DocumentCategory(Labelled):
    RULES = "rules", "Rules"
    POLICIES = "policies", "Policies"
    MINUTES = "minutes", "Minutes"
    REPORTS = "reports", "Reports"
    NOTICES = "notices", "Notices"


class Visibility(Labelled):
    """Who may read a document: anyone, members (and staff), or staff only."""

    PUBLIC = "public", "Everyone (public)", "neutral"
    MEMBERS = "members", "Members and staff", "neutral"
    STAFF = "staff", "Staff only", "neutral"


class VersionFormat(Labelled):
    MARKDOWN = "markdown", "Markdown"
    PDF = "pdf", "PDF"


class Document(Base):
    """A governance document: its place in the library and who may read it."""

    __tablename__ = "documents"
    __table_args__ = (
        # At most one document is the rulebook applicants accept.
        Index(
            "uq_documents_one_rulebook",
            "is_rulebook",
            unique=True,
            sqlite_where=text("is_rulebook"),
            postgresql_where=text("is_rulebook"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    category: Mapped[DocumentCategory] = mapped_column(
        enum_column(DocumentCategory, "document_category")
    )
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility, "visibility"))
    # Free text until meetings exist; then the resolution that approved it.
    approved_by: Mapped[str] = mapped_column(String(200), default="")
    is_rulebook: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.number"
    )


class DocumentVersion(Base):
    """One published version: Markdown source or an uploaded PDF. Immutable once written."""

    __tablename__ = "document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "number"),
        # The newest versions first (the dashboard's library news), without sorting them all.
        Index("ix_document_versions_published_at", "published_at"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint(
            "(format = 'markdown' AND body IS NOT NULL AND file_sha256 IS NULL) OR "
            "(format = 'pdf' AND body IS NULL AND file_sha256 IS NOT NULL)",
            name="body_or_file",
        ),
        CheckConstraint(
            "(format = 'markdown' AND body_html IS NOT NULL) OR "
            "(format = 'pdf' AND body_html IS NULL)",
            name="html_with_markdown",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[int] = mapped_column()
    format: Mapped[VersionFormat] = mapped_column(enum_column(VersionFormat, "version_format"))
    body: Mapped[str | None] = mapped_column(Text)  # Markdown source
    # The source rendered (services.documents.publishing.rendered_body) when the version
    # is published, so a reader's page never renders it again.
    body_html: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))  # uploads/<sha[:2]>/<sha>
    file_size: Mapped[int | None] = mapped_column()
    file_name: Mapped[str | None] = mapped_column(String(200))  # as uploaded, for download
    effective_on: Mapped[date] = mapped_column(Date)
    change_note: Mapped[str] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # No ON DELETE action: the row may never change (users are anonymised, not deleted).
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The passed resolution that approved this version (one amending this document), named
    # when the version is published; a version never changes, so neither does this.
    approved_by_resolution_id: Mapped[int | None] = mapped_column(ForeignKey("resolutions.id"))

    document: Mapped[Document] = relationship(back_populates="versions")
    published_by: Mapped[User | None] = relationship()
    approved_by_resolution: Mapped[Resolution | None] = relationship()


class DocumentPDF(Base):
    """A Markdown version's PDF, rendered once, on its first download, and kept with its hash.

    A version never changes, so neither does its PDF (as a certificate's). While one worker
    renders it, the row holds only its claim (``claimed_at``): the others wait for the PDF
    rather than render it too (``services.documents.renditions``).
    """

    __tablename__ = "document_pdfs"
    __table_args__ = (
        CheckConstraint(
            "(pdf IS NULL AND sha256 IS NULL AND rendered_at IS NULL) OR "
            "(pdf IS NOT NULL AND sha256 IS NOT NULL AND rendered_at IS NOT NULL)",
            name="pdf_with_hash",
        ),
    )

    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PDFPreview(Base):
    """The text of an uploaded PDF's first pages, read once, at upload, within a budget
    (``portal.pdf_text``), and kept by the file's SHA-256 (the same bytes, the same text)."""

    __tablename__ = "pdf_previews"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
