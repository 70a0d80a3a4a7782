"""A meeting held in a room: who was present, and the tellers' counts of a show of hands.

:class:`Attendance` is one row per member present (by the class they vote in on the roll,
so the count per class reads from an index). :class:`HandCount` holds the For, Against and
Abstain hands the tellers counted in one class on one open resolution; those members are
counted in the tally, never named. The rules are in ``portal.services.meetings.hybrid``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, UTCDateTime, utcnow
from .meetings import Meeting, Resolution
from .membership import Member, MemberClass


class Attendance(Base):
    """A member on the roll was present at the meeting (recorded by staff)."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id", name="uq_attendances_member"),
        Index("ix_attendances_counts", "meeting_id", "class_id"),  # present per class
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"))  # voting, on the roll
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    member: Mapped[Member] = relationship()
    member_class: Mapped[MemberClass] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class HandCount(Base):
    """The tellers' count of a show of hands in one class on an open resolution."""

    __tablename__ = "hand_counts"
    __table_args__ = (
        UniqueConstraint("resolution_id", "class_id", name="uq_hand_counts_class"),
        CheckConstraint(
            "votes_for >= 0 AND against >= 0 AND abstain >= 0", name="counts_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolutions.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"))
    votes_for: Mapped[int] = mapped_column(default=0)
    against: Mapped[int] = mapped_column(default=0)
    abstain: Mapped[int] = mapped_column(default=0)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resolution: Mapped[Resolution] = relationship()
    member_class: Mapped[MemberClass] = relationship()

    @property
    def total(self) -> int:
        return self.votes_for + self.against + self.abstain
