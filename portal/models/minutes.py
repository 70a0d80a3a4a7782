"""The minutes of a general meeting: staff's draft, and the library document once published.

The draft is kept while voting is closed and the minutes are written; publishing makes
them a version of a document in the library's Minutes category (``document_id``) and
moves the meeting to ``minutes_published``. After that the document is the record: a
correction is a new version of it, never a change to the draft.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, UTCDateTime, utcnow
from .documents import Document
from .meetings import Meeting


class MeetingMinutes(Base):
    """A meeting's minutes: who chaired it, the Markdown staff write, the published document."""

    __tablename__ = "meeting_minutes"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    chair: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)  # Markdown, after the particulars (date, place, chair)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set once, when the minutes are published: the document they became.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), unique=True)

    meeting: Mapped[Meeting] = relationship()
    saved_by: Mapped[User | None] = relationship()
    document: Mapped[Document | None] = relationship()
