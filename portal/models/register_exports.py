"""The register of shares as a PDF made in the background: the request, its progress, its file.

Staff ask for the register with the page's filters (``services.shares.register_exports``):
a :class:`RegisterExport` row, queued; a job renders it a chunk of holders at a time, each
chunk's PDF kept as a :class:`RegisterExportPart` in the transaction that counts its
progress, then joins them, numbers the pages and keeps the document, in parts of at most
``PART_BYTES``. The file lives in the database, as every PDF does (DESIGN.md §4): any
instance can serve it, and no row holds more than a megabyte.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, UTCDateTime, enum_column, utcnow
from .membership import MemberClass
from .shares import ShareType
from .states import State, transitions


class ExportState(State):
    """Where a register PDF is: waiting for the worker, being rendered, ready, or failed."""

    QUEUED = "queued", "Waiting", "neutral"
    RENDERING = "rendering", "Rendering", "info"
    READY = "ready", "Ready", "success"
    FAILED = "failed", "Failed", "danger"


transitions(
    ExportState,
    "register PDF",
    {
        ExportState.QUEUED: {ExportState.RENDERING, ExportState.FAILED},
        ExportState.RENDERING: {ExportState.READY, ExportState.FAILED},
    },
)

UNFINISHED_EXPORT_STATES = (ExportState.QUEUED, ExportState.RENDERING)


class RegisterExport(Base):
    """One register PDF staff asked for: its filters, state and progress."""

    __tablename__ = "register_exports"
    __table_args__ = (
        CheckConstraint("holders_done >= 0 AND chunks_done >= 0", name="progress_not_negative"),
        CheckConstraint(
            "(state = 'ready') = (pages IS NOT NULL AND size IS NOT NULL)", name="ready_has_file"
        ),
        CheckConstraint(
            "(state IN ('ready', 'failed')) = (finished_at IS NOT NULL)", name="finished"
        ),
        # The recent exports, newest first; the unfinished ones with the same filters.
        Index("ix_register_exports_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    as_of: Mapped[date] = mapped_column(Date)
    share_type_id: Mapped[int | None] = mapped_column(ForeignKey("share_types.id"))
    member_class_id: Mapped[int | None] = mapped_column(ForeignKey("member_classes.id"))
    state: Mapped[ExportState] = mapped_column(
        enum_column(ExportState, "export_state"), default=ExportState.QUEUED
    )
    # Progress: holders on the register that day, holders rendered so far, chunks kept,
    # and the member number the next chunk starts after (None: from the first).
    holders_total: Mapped[int | None] = mapped_column()
    holders_done: Mapped[int] = mapped_column(default=0)
    chunks_done: Mapped[int] = mapped_column(default=0)
    resume_after: Mapped[int | None] = mapped_column()
    pages: Mapped[int | None] = mapped_column()
    size: Mapped[int | None] = mapped_column()  # bytes of the finished PDF
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last chunk kept (or the start): a rendering export quiet for long has stalled.
    progressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by: Mapped[User | None] = relationship()
    share_type: Mapped[ShareType | None] = relationship()
    member_class: Mapped[MemberClass | None] = relationship()

    @property
    def percent(self) -> int:
        """How far the rendering is, in percent."""
        if self.state is ExportState.READY:
            return 100
        if not self.holders_total:
            return 0
        return min(99, self.holders_done * 100 // self.holders_total)

    @property
    def file_name(self) -> str:
        return f"register-of-shares-{self.as_of.isoformat()}.pdf"


class RegisterExportPart(Base):
    """A piece of an export: a rendered chunk (``final`` false, kept until the join) or a
    part of the finished PDF (``final`` true), numbered from 0."""

    __tablename__ = "register_export_parts"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("register_exports.id", ondelete="CASCADE"), primary_key=True
    )
    final: Mapped[bool] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
