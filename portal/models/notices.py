"""The notice of a general meeting: its mailing to every member, one delivery row each.

Giving notice (``services.meetings.notices``) writes a :class:`NoticeMailing` and a
:class:`NoticeDelivery` per recipient in the same transaction as the meeting's move to
``noticed``; a resumable job then sends the pending deliveries in batches. The unique
(meeting, member) pair is what makes each member get the notice once: a row is claimed
(``sending``) in a committed transaction before its mail is handed to the mail server,
so a job resumed after a crash never takes it again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, enum_column, utcnow
from .documents import Document
from .meetings import Meeting
from .membership import Member
from .states import Labelled


class DeliveryState(Labelled):
    """Where one member's notice is: rows move forward only, in bulk (no audit per row)."""

    PENDING = "pending", "Waiting", "neutral"
    # Claimed by a sender and being handed to the mail server: never taken again, so a
    # sender that stops here leaves it unconfirmed rather than risk sending it twice.
    SENDING = "sending", "Unconfirmed", "warning"
    SENT = "sent", "Sent", "success"
    # The mail server refused it (the error is kept); staff may send the failed ones again.
    FAILED = "failed", "Failed", "danger"


class NoticeMailing(Base):
    """A meeting's notice mailing: the published notice and when batches were sent."""

    __tablename__ = "notice_mailings"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    # The notice as published in the library's notices category.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last batch claimed or recorded: a mailing with work left and no batch for a
    # while has stalled (services.meetings.notices.STALLED_AFTER).
    last_batch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship()
    document: Mapped[Document | None] = relationship()


class NoticeDelivery(Base):
    """One member's copy of a meeting's notice."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id", name="uq_notice_deliveries_member"),
        # Batches are taken by key: the next pending rows of one meeting, in id order.
        Index("ix_notice_deliveries_batch", "meeting_id", "state", "id"),
        CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name="sent_has_time"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("notice_mailings.meeting_id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    state: Mapped[DeliveryState] = mapped_column(
        enum_column(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(300))

    member: Mapped[Member] = relationship()
