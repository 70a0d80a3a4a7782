"""Members' own motions: resolutions they propose to a meeting, and requisitions calling one.

A meeting may have a call for resolutions (``ProposalCall``): a window staff set, ending
before the notice goes out. While it is open a member proposes a resolution
(``MemberProposal``), another member seconds it, and staff accept it onto the agenda as a
draft resolution or return it with a reason.

A requisition (``Requisition``) is members demanding a general meeting or a meeting of
their class: it collects signatures (``RequisitionSignature``, one per member) until it
reaches its threshold (``CoopSettings.requisition_percent`` of the members it counts) or its
signing deadline (``CoopSettings.requisition_signing_days``) passes; once reached, the
board must call the meeting within ``CoopSettings.requisition_call_days``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from .accounts import User
from .base import Base, UTCDateTime, enum_column, utcnow
from .meetings import Meeting, MeetingKind, Resolution
from .membership import Member, MemberClass
from .states import State, transitions


class ProposalCall(Base):
    """The window in which members may propose resolutions to a meeting (UTC instants)."""

    __tablename__ = "proposal_calls"
    __table_args__ = (CheckConstraint("closes_at > opens_at", name="closes_after_opening"),)

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship()

    def is_open_at(self, instant: datetime) -> bool:
        return self.opens_at <= instant < self.closes_at


class ProposalState(State):
    SUBMITTED = "submitted", "Awaiting a seconder", "info"
    SECONDED = "seconded", "Seconded", "warning"
    ACCEPTED = "accepted", "On the agenda", "success"
    RETURNED = "returned", "Returned", "danger"


transitions(
    ProposalState,
    "proposal",
    {
        ProposalState.SUBMITTED: (ProposalState.SECONDED, ProposalState.RETURNED),
        ProposalState.SECONDED: (ProposalState.ACCEPTED, ProposalState.RETURNED),
    },
)


class MemberProposal(Base):
    """A resolution a member proposes to a meeting, with its seconder and staff's decision."""

    __tablename__ = "member_proposals"
    __table_args__ = (
        CheckConstraint("seconder_id <> proposer_id", name="seconder_not_proposer"),
        UniqueConstraint("resolution_id", name="uq_member_proposals_resolution_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    proposer_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    seconder_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)  # Markdown, as a resolution's
    reason: Mapped[str] = mapped_column(Text)  # why the proposer puts it
    state: Mapped[ProposalState] = mapped_column(
        enum_column(ProposalState, "proposal_state"), default=ProposalState.SUBMITTED
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seconded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    return_reason: Mapped[str | None] = mapped_column(Text)
    # The draft resolution it became when staff accepted it.
    resolution_id: Mapped[int | None] = mapped_column(
        ForeignKey("resolutions.id", ondelete="SET NULL")
    )

    meeting: Mapped[Meeting] = relationship()
    # Read with the proposal: the notice and the ballot name them.
    proposer: Mapped[Member] = relationship(foreign_keys=[proposer_id], lazy="joined")
    seconder: Mapped[Member | None] = relationship(foreign_keys=[seconder_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship()
    # ``Resolution.proposal``: the member proposal a resolution came from, if any.
    resolution: Mapped[Resolution | None] = relationship(
        backref=backref("proposal", uselist=False, lazy="selectin")
    )


class RequisitionState(State):
    COLLECTING = "collecting", "Collecting signatures", "info"
    REACHED = "reached", "Threshold reached: the board must call the meeting", "warning"
    CALLED = "called", "Meeting called", "success"
    LAPSED = "lapsed", "Lapsed: too few signatures by the deadline", "neutral"


transitions(
    RequisitionState,
    "requisition",
    {
        RequisitionState.COLLECTING: (RequisitionState.REACHED, RequisitionState.LAPSED),
        RequisitionState.REACHED: (RequisitionState.CALLED,),
    },
)


class Requisition(Base):
    """Members demanding a general meeting, or a meeting of one class.

    ``base_members`` and ``threshold`` are fixed when it starts: the members it counts
    then (all, or the class's) and ``CoopSettings.requisition_percent`` of them, rounded up.
    """

    __tablename__ = "requisitions"
    __table_args__ = (
        CheckConstraint("kind IN ('egm', 'class')", name="general_or_class"),
        CheckConstraint("(kind = 'class') = (class_id IS NOT NULL)", name="class_requisition"),
        CheckConstraint("threshold >= 1", name="threshold_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MeetingKind] = mapped_column(enum_column(MeetingKind, "meeting_kind"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("member_classes.id"))
    purpose: Mapped[str] = mapped_column(Text)
    resolutions: Mapped[str] = mapped_column(Text, default="")  # proposed, Markdown
    started_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sign_by: Mapped[date] = mapped_column(Date)  # the last day to sign (the co-op's date)
    base_members: Mapped[int] = mapped_column()
    threshold: Mapped[int] = mapped_column()
    state: Mapped[RequisitionState] = mapped_column(
        enum_column(RequisitionState, "requisition_state"), default=RequisitionState.COLLECTING
    )
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    call_by: Mapped[date | None] = mapped_column(Date)  # the board calls the meeting by then
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_on: Mapped[date | None] = mapped_column(Date)  # the co-op's date it was called
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member_class: Mapped[MemberClass | None] = relationship()
    started_by: Mapped[Member] = relationship()
    meeting: Mapped[Meeting | None] = relationship()
    signatures: Mapped[list[RequisitionSignature]] = relationship(
        back_populates="requisition", order_by="RequisitionSignature.id"
    )

    @property
    def call_met(self) -> bool | None:
        """Called within ``call_by``: True or False once called, None until then."""
        if self.called_on is None or self.call_by is None:
            return None
        return self.called_on <= self.call_by


class RequisitionSignature(Base):
    """A member's signature on a requisition: once each."""

    __tablename__ = "requisition_signatures"
    __table_args__ = (
        UniqueConstraint("requisition_id", "member_id", name="uq_requisition_signatures_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requisition_id: Mapped[int] = mapped_column(
        ForeignKey("requisitions.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requisition: Mapped[Requisition] = relationship(back_populates="signatures")
    member: Mapped[Member] = relationship()
