"""General meetings: the meeting and its agenda, the frozen voter roll, and resolutions.

A meeting moves ``draft → noticed → voting_open → voting_closed → minutes_published`` (or
is cancelled before voting opens). Its voter roll is taken from the register as of the
record date and stored, so later changes to the register never change who may vote.
Votes themselves are in ``portal.models.voting``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, UTCDateTime, enum_column, utcnow
from .documents import Document
from .membership import Member, MemberClass
from .settings import VotingMode
from .states import Labelled, State, transitions


class MeetingKind(Labelled):
    AGM = "agm", "Annual general meeting"
    EGM = "egm", "Extraordinary general meeting"
    CLASS = "class", "Class meeting"  # of one member class: only its members take part


class MeetingState(State):
    DRAFT = "draft", "Draft", "neutral"
    NOTICED = "noticed", "Notice sent", "info"
    VOTING_OPEN = "voting_open", "Voting open", "success"
    VOTING_CLOSED = "voting_closed", "Voting closed", "warning"
    MINUTES_PUBLISHED = "minutes_published", "Minutes published", "neutral"
    CANCELLED = "cancelled", "Cancelled", "danger"


_M = MeetingState
transitions(
    MeetingState,
    "meeting",
    {
        _M.DRAFT: (_M.NOTICED, _M.CANCELLED),
        _M.NOTICED: (_M.VOTING_OPEN, _M.CANCELLED),
        # Once votes are cast they are counted: a meeting with open voting is not cancelled.
        _M.VOTING_OPEN: (_M.VOTING_CLOSED,),
        _M.VOTING_CLOSED: (_M.MINUTES_PUBLISHED,),
    },
)


class SessionState(State):
    """Whether the meeting is sitting: the chair starts the session and ends it once."""

    PENDING = "pending", "Not in session", "neutral"
    IN_SESSION = "in_session", "In session", "success"
    ENDED = "ended", "Session ended", "neutral"


transitions(
    SessionState,
    "session",
    {
        SessionState.PENDING: (SessionState.IN_SESSION,),
        SessionState.IN_SESSION: (SessionState.ENDED,),
    },
)


class ResolutionKind(Labelled):
    ORDINARY = "ordinary", "Ordinary resolution"  # more For than Against
    SPECIAL = "special", "Special resolution"  # the special majority (settings)
    CLASS = "class", "Class resolution"  # only one class votes; a simple majority


class ResolutionState(State):
    DRAFT = "draft", "Draft", "neutral"
    OPEN = "open", "Voting open", "success"
    CLOSED = "closed", "Voting closed", "info"
    WITHDRAWN = "withdrawn", "Withdrawn", "neutral"


transitions(
    ResolutionState,
    "resolution",
    {
        ResolutionState.DRAFT: (ResolutionState.OPEN, ResolutionState.WITHDRAWN),
        ResolutionState.OPEN: (ResolutionState.CLOSED, ResolutionState.WITHDRAWN),
    },
)


class ResolutionResult(Labelled):
    PASSED = "passed", "Passed", "success"
    FAILED = "failed", "Not passed", "danger"
    # Too few took part: the resolution is neither passed nor failed.
    NOT_QUORATE = "not_quorate", "Not quorate", "warning"


class Meeting(Base):
    """A general meeting (AGM, EGM) or a meeting of one member class."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("(kind = 'class') = (class_id IS NOT NULL)", name="class_meeting_class"),
        CheckConstraint("place <> '' OR online_url <> ''", name="place_or_link"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MeetingKind] = mapped_column(enum_column(MeetingKind, "meeting_kind"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("member_classes.id"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    # The roll is taken from the register as it stood on this day (the co-op's date).
    record_date: Mapped[date] = mapped_column(Date)
    # None: the co-op's setting (CoopSettings.voting_mode) applies.
    voting_mode: Mapped[VotingMode | None] = mapped_column(enum_column(VotingMode, "voting_mode"))
    state: Mapped[MeetingState] = mapped_column(
        enum_column(MeetingState, "meeting_state"), default=MeetingState.DRAFT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_clear_days: Mapped[int | None] = mapped_column()  # as counted when it was sent
    # Given by staff when fewer than CoopSettings.notice_days clear days remained.
    short_notice_reason: Mapped[str | None] = mapped_column(Text)
    # The instant of the register the roll was taken from: the end of the record date, or
    # the moment of freezing when that was on the record date itself.
    roll_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    roll_frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The meeting in session, run by the chair (services.meetings.session).
    session_state: Mapped[SessionState] = mapped_column(
        enum_column(SessionState, "session_state"), default=SessionState.PENDING
    )
    in_session_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL", use_alter=True)
    )

    member_class: Mapped[MemberClass | None] = relationship()
    current_item: Mapped[AgendaItem | None] = relationship(foreign_keys=[current_item_id])
    created_by: Mapped[User | None] = relationship()
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting",
        foreign_keys="AgendaItem.meeting_id",
        order_by=lambda: [AgendaItem.position, AgendaItem.id],
        cascade="all, delete-orphan",
    )
    resolutions: Mapped[list[Resolution]] = relationship(
        back_populates="meeting", order_by="Resolution.number"
    )

    @property
    def roll_is_frozen(self) -> bool:
        return self.roll_frozen_at is not None

    @property
    def is_class_meeting(self) -> bool:
        return self.kind is MeetingKind.CLASS

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.kind.value} {self.state.value}>"


class AgendaItem(Base):
    """One item of a meeting's agenda, in order; it may link a paper from the library."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship(back_populates="agenda", foreign_keys=[meeting_id])
    document: Mapped[Document | None] = relationship()


class RollEntry(Base):
    """A member on a meeting's frozen voter roll, once for each class they held that day.

    ``is_primary`` marks the class the member votes in on the meeting's ordinary and
    special resolutions (their primary class on the record date); a class resolution is
    voted on by every entry of its class. ``weight`` is the class's voting weight when the
    roll was frozen (``MemberClass.voting_weight``), for class-weighted counting.
    """

    __tablename__ = "roll_entries"
    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id", "class_id", name="uq_roll_entries_member"),
        # One voting class per member and meeting.
        Index(
            "uq_roll_entries_primary",
            "meeting_id",
            "member_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
        CheckConstraint("weight BETWEEN 0 AND 100", name="weight_range"),
        # The roll's size per class, read from the index alone (services.meetings.roll).
        Index("ix_roll_entries_counts", "meeting_id", "class_id", "is_primary", "weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"))
    weight: Mapped[int] = mapped_column()
    is_primary: Mapped[bool] = mapped_column()

    member: Mapped[Member] = relationship()
    member_class: Mapped[MemberClass] = relationship()


class RollClass(Base):
    """A class on a meeting's frozen roll, counted once as the roll is frozen (it never
    changes after), so turnout and quorum read a row per class rather than the roll.

    ``voters``: members voting in the class on ordinary and special resolutions (their
    primary entries); ``members``: every entry of the class (who votes on a class
    resolution). ``weight`` as frozen on the class's entries.
    """

    __tablename__ = "roll_classes"
    __table_args__ = (UniqueConstraint("meeting_id", "class_id", name="uq_roll_classes_class"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"))
    weight: Mapped[int] = mapped_column()
    voters: Mapped[int] = mapped_column()
    members: Mapped[int] = mapped_column()


class Resolution(Base):
    """A motion put to the meeting's vote, with its stored count and result once closed."""

    __tablename__ = "resolutions"
    __table_args__ = (
        UniqueConstraint("meeting_id", "number", name="uq_resolutions_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("(kind = 'class') = (class_id IS NOT NULL)", name="class_resolution_class"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("(result IS NULL) = (tally IS NULL)", name="result_with_tally"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)  # Markdown: WHEREAS … RESOLVED
    kind: Mapped[ResolutionKind] = mapped_column(enum_column(ResolutionKind, "resolution_kind"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("member_classes.id"))
    secret: Mapped[bool] = mapped_column(default=False)
    # A library document this resolution amends (its new version is "approved by" it).
    amends_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[ResolutionState] = mapped_column(
        enum_column(ResolutionState, "resolution_state"), default=ResolutionState.DRAFT
    )
    # The counting rules, fixed when voting opens (services.meetings.tally.Rules).
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Stored when voting closes: the whole count (services.meetings.tally.Tally) and its
    # headline figures; check-votes recomputes them from the votes.
    tally: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[ResolutionResult | None] = mapped_column(
        enum_column(ResolutionResult, "resolution_result")
    )
    votes_for: Mapped[int | None] = mapped_column()
    votes_against: Mapped[int | None] = mapped_column()
    abstentions: Mapped[int | None] = mapped_column()
    # The agenda item it was put to the vote under, when voted on in session.
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL")
    )
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship(back_populates="resolutions")
    member_class: Mapped[MemberClass | None] = relationship()
    amends_document: Mapped[Document | None] = relationship()

    def accepts_votes_at(self, instant: datetime) -> bool:
        """Open, and ``instant`` is inside its voting window."""
        return (
            self.state is ResolutionState.OPEN
            and self.opens_at is not None
            and self.closes_at is not None
            and self.opens_at <= instant < self.closes_at
        )

    def __repr__(self) -> str:
        return f"<Resolution {self.meeting_id}/{self.number} {self.state.value}>"
