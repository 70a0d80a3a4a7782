"""Membership: the co-op's settings, member classes, applications and the register of members."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, UTCDateTime, enum_column, utcnow
from .states import Labelled, State, transitions

if TYPE_CHECKING:
    from .shares import ShareOrder


class AdmissionRule(Labelled):
    # Admitted when the share is paid; ratified by the board later.
    AUTOMATIC = "automatic", "Automatic, ratified by the board"
    STAFF_REVIEW = "staff_review", "Staff review"  # staff check the application first


class QuestionKind(Labelled):
    TEXT = "text", "Short text"
    LONG_TEXT = "long_text", "Long text"
    URL = "url", "Web address"
    NUMBER = "number", "Number"
    YES_NO = "yes_no", "Yes or no"


class ApplicationState(State):
    DRAFT = "draft", "Draft", "neutral"
    SUBMITTED = "submitted", "Waiting for review", "info"
    NEEDS_INFO = "needs_info", "More information needed", "warning"
    # Approved once; the two-person rule wants another staff member to confirm.
    AWAITING_SECOND = "awaiting_second", "Being approved", "info"
    # Approved; membership begins when the membership share is paid (rule 8.1).
    AWAITING_SHARE = "awaiting_share", "Approved, share to pay", "warning"
    APPROVED = "approved", "Approved", "success"
    REJECTED = "rejected", "Not accepted", "danger"
    WITHDRAWN = "withdrawn", "Withdrawn", "neutral"


_A = ApplicationState
transitions(
    ApplicationState,
    "application",
    {
        _A.DRAFT: (_A.SUBMITTED, _A.WITHDRAWN),
        # Approval: a new member then pays the membership share (AWAITING_SHARE); someone who
        # is a member already joins the further class at once (APPROVED). An automatic class
        # approves at submission.
        _A.SUBMITTED: (
            _A.NEEDS_INFO,
            _A.AWAITING_SECOND,
            _A.AWAITING_SHARE,
            _A.APPROVED,
            _A.REJECTED,
            _A.WITHDRAWN,
        ),
        _A.NEEDS_INFO: (_A.SUBMITTED, _A.REJECTED, _A.WITHDRAWN),
        _A.AWAITING_SECOND: (
            _A.AWAITING_SHARE,
            _A.APPROVED,
            _A.NEEDS_INFO,
            _A.REJECTED,
            _A.WITHDRAWN,
        ),
        # Paying the membership share admits; staff may close one never paid (rejected).
        _A.AWAITING_SHARE: (_A.APPROVED, _A.REJECTED, _A.WITHDRAWN),
    },
)

# Open: not yet decided, so at most one per person and class (a partial unique index).
OPEN_APPLICATION_STATES = tuple(s for s in ApplicationState if not s.is_final)
# Waiting for staff (or, asked a question, for the applicant's answer): the review queue.
AWAITING_DECISION = (_A.SUBMITTED, _A.NEEDS_INFO, _A.AWAITING_SECOND)
OPEN_APPLICATIONS_SQL = "state IN ({})".format(", ".join(f"'{s}'" for s in OPEN_APPLICATION_STATES))


class MemberStatus(State):
    ACTIVE = "active", "Active", "success"
    LAPSED = "lapsed", "Lapsed", "warning"  # an unpaid annual fee; still on the register, no vote
    CEASED = "ceased", "Ceased", "neutral"


transitions(
    MemberStatus,
    "membership",
    {
        MemberStatus.ACTIVE: (MemberStatus.LAPSED, MemberStatus.CEASED),
        MemberStatus.LAPSED: (MemberStatus.ACTIVE, MemberStatus.CEASED),
    },
)


class ResignationState(State):
    PENDING = "pending", "Awaiting confirmation", "warning"
    CONFIRMED = "confirmed", "Confirmed", "success"
    WITHDRAWN = "withdrawn", "Withdrawn", "neutral"


transitions(
    ResignationState,
    "resignation",
    {ResignationState.PENDING: (ResignationState.CONFIRMED, ResignationState.WITHDRAWN)},
)


class MemberClass(Base):
    """A class of member (listener, artist, worker…) with its own terms and questions."""

    __tablename__ = "member_classes"
    __table_args__ = (
        CheckConstraint("required_shares >= 0", name="required_shares_positive"),
        CheckConstraint("annual_fee_minor >= 0", name="annual_fee_positive"),
        CheckConstraint("board_seats >= 0", name="board_seats_positive"),
        CheckConstraint("voting_weight BETWEEN 0 AND 100", name="voting_weight_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # in URLs: /join/<code>
    name: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(String(300))  # who it is for
    description: Mapped[str] = mapped_column(Text)  # what it gives
    admission_rule: Mapped[AdmissionRule] = mapped_column(
        enum_column(AdmissionRule, "admission_rule"), default=AdmissionRule.STAFF_REVIEW
    )
    required_shares: Mapped[int] = mapped_column(default=1)
    annual_fee_minor: Mapped[int] = mapped_column(default=0)
    board_seats: Mapped[int] = mapped_column(default=0)
    voting_weight: Mapped[int] = mapped_column(default=0)  # class-weighted mode, % of the vote
    position: Mapped[int] = mapped_column(default=0)
    open_for_applications: Mapped[bool] = mapped_column(default=True)

    questions: Mapped[list[ApplicationQuestion]] = relationship(
        back_populates="member_class",
        order_by="ApplicationQuestion.position",
        cascade="all, delete-orphan",
    )

    @property
    def admits_automatically(self) -> bool:
        """Applicants are admitted at once and ratified by the board later."""
        return self.admission_rule is AdmissionRule.AUTOMATIC

    def __repr__(self) -> str:
        return f"<MemberClass {self.code}>"


class ApplicationQuestion(Base):
    """A question a class asks its applicants."""

    __tablename__ = "application_questions"
    __table_args__ = (UniqueConstraint("class_id", "key", name="uq_application_questions_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))  # stable name under which answers are kept
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(200))
    help: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[QuestionKind] = mapped_column(
        enum_column(QuestionKind, "question_kind"), default=QuestionKind.TEXT
    )
    required: Mapped[bool] = mapped_column(default=True)

    member_class: Mapped[MemberClass] = relationship(back_populates="questions")


class Counter(Base):
    """A gapless counter (member numbers, certificate numbers), bumped in the transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Member(Base):
    """A member on the register: number, classes, address, status, admission and ceasing."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("(status = 'ceased') = (ceased_on IS NOT NULL)", name="ceased_has_date"),
        Index("ix_members_status_number", "status", "number"),  # the register's status filter
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # never reused
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    name: Mapped[str] = mapped_column(String(120))  # as on the register
    address_line1: Mapped[str] = mapped_column(String(120))
    address_line2: Mapped[str] = mapped_column(String(120), default="")
    town: Mapped[str] = mapped_column(String(80))
    postcode: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(60))
    status: Mapped[MemberStatus] = mapped_column(
        enum_column(MemberStatus, "member_status"), default=MemberStatus.ACTIVE
    )
    admitted_on: Mapped[date] = mapped_column(Date)
    ceased_on: Mapped[date | None] = mapped_column(Date)
    primary_class_id: Mapped[int | None] = mapped_column(ForeignKey("member_classes.id"))
    news_opt_in: Mapped[bool] = mapped_column(default=False)
    # Whether the public check of a certificate shows the full name (initials otherwise).
    name_on_verify: Mapped[bool] = mapped_column(default=False)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()
    primary_class: Mapped[MemberClass | None] = relationship()
    class_memberships: Mapped[list[ClassMembership]] = relationship(
        back_populates="member", order_by="ClassMembership.admitted_on"
    )

    @property
    def is_ceased(self) -> bool:
        """No longer a member (the entry stays on the register)."""
        return self.status is MemberStatus.CEASED

    @property
    def active_classes(self) -> list[MemberClass]:
        return [cm.member_class for cm in self.class_memberships if cm.ended_on is None]

    @property
    def address_lines(self) -> list[str]:
        parts = [self.address_line1, self.address_line2, self.town, self.postcode, self.country]
        return [p for p in parts if p]


class ClassMembership(Base):
    """A member's membership of one class, from admission until it ends."""

    __tablename__ = "class_memberships"
    __table_args__ = (UniqueConstraint("member_id", "class_id", name="uq_class_memberships"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"))
    admitted_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    member: Mapped[Member] = relationship(back_populates="class_memberships")
    member_class: Mapped[MemberClass] = relationship()


class Application(Base):
    """An application to join a member class, from draft to a decision."""

    __tablename__ = "applications"
    __table_args__ = (
        # One open application per person and class (drafts included).
        Index(
            "uq_applications_open",
            "user_id",
            "class_id",
            unique=True,
            sqlite_where=text(OPEN_APPLICATIONS_SQL),
            postgresql_where=text(OPEN_APPLICATIONS_SQL),
        ),
        Index("ix_applications_state_class", "state", "class_id"),
        Index("ix_applications_state_submitted", "state", "submitted_at", "id"),  # the queue
        Index("ix_applications_submitted", "submitted_at", "id"),  # the queue, any state
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"))
    state: Mapped[ApplicationState] = mapped_column(
        enum_column(ApplicationState, "application_state"), default=ApplicationState.DRAFT
    )
    # [{"key", "label", "kind", "value"}]: labels are kept as they were asked.
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    address_line1: Mapped[str] = mapped_column(String(120), default="")
    address_line2: Mapped[str] = mapped_column(String(120), default="")
    town: Mapped[str] = mapped_column(String(80), default="")
    postcode: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(60), default="")
    rulebook_version: Mapped[str | None] = mapped_column(String(120))  # its title, as read
    # The rulebook version accepted, when the library holds the rulebook (DESIGN.md §2).
    rulebook_version_id: Mapped[int | None] = mapped_column(ForeignKey("document_versions.id"))
    rules_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    first_approver_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(Text)  # a rejection reason or a question
    applicant_reply: Mapped[str | None] = mapped_column(Text)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    member_class: Mapped[MemberClass] = relationship()
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    first_approver: Mapped[User | None] = relationship(foreign_keys=[first_approver_id])
    member: Mapped[Member | None] = relationship()
    orders: Mapped[list[ShareOrder]] = relationship(
        back_populates="application", order_by="ShareOrder.id"
    )

    @property
    def admission_order(self) -> ShareOrder | None:
        """The order whose payment will admit this applicant, while it waits for payment."""
        return next((o for o in self.orders if o.admits and o.awaits_payment), None)

    @property
    def is_open(self) -> bool:
        """Not yet decided: a draft, or waiting for staff or for the applicant."""
        return not self.state.is_final

    @property
    def is_draft(self) -> bool:
        """Still the applicant's: only a draft can be edited."""
        return self.state is ApplicationState.DRAFT

    @property
    def needs_info(self) -> bool:
        """Staff asked a question that the applicant has not answered yet."""
        return self.state is ApplicationState.NEEDS_INFO

    @property
    def awaits_second_approval(self) -> bool:
        """Approved once under the two-person rule; another staff member confirms."""
        return self.state is ApplicationState.AWAITING_SECOND

    @property
    def is_approved(self) -> bool:
        return self.state is ApplicationState.APPROVED

    @property
    def is_rejected(self) -> bool:
        return self.state is ApplicationState.REJECTED

    @property
    def awaits_share(self) -> bool:
        """Approved; membership begins when the membership share is paid."""
        return self.state is ApplicationState.AWAITING_SHARE

    @property
    def can_approve(self) -> bool:
        """Staff may approve it (or confirm a first approval)."""
        return self.state.can_become(ApplicationState.AWAITING_SHARE)

    @property
    def can_ask(self) -> bool:
        return self.state.can_become(ApplicationState.NEEDS_INFO)

    @property
    def can_reject(self) -> bool:
        return self.state.can_become(ApplicationState.REJECTED)

    @property
    def can_withdraw(self) -> bool:
        return self.state.can_become(ApplicationState.WITHDRAWN)


class MemberStatusChange(Base):
    """The member's status history: admitted, lapsed, reinstated, ceased."""

    __tablename__ = "member_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[MemberStatus] = mapped_column(enum_column(MemberStatus, "member_status"))
    note: Mapped[str] = mapped_column(String(300))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Consent(Base):
    """A record of a communication consent given or withdrawn (kept as history)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(40))  # "news"
    granted: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Resignation(Base):
    """A member's request to resign, which staff confirm."""

    __tablename__ = "resignations"
    __table_args__ = (
        Index(
            "uq_resignations_pending",
            "member_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    state: Mapped[ResignationState] = mapped_column(
        enum_column(ResignationState, "resignation_state"), default=ResignationState.PENDING
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    member: Mapped[Member] = relationship()
