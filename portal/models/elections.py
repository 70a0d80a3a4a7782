"""Board elections by member class: the board record, elections, candidates, ranked ballots.

The board is a record of :class:`Director` rows: a member sits for a class from the start
of a term until its end (the AGM the term runs to). An AGM holds an :class:`Election` for
each class with seats up that year (``seats``, never more than ``MemberClass.board_seats``).
Members of the class nominate :class:`Candidate` s while the election's nominations window
is open; staff confirm the list, which is published with the notice.

Voting mirrors secret resolutions (``portal.models.voting``): an
:class:`ElectionParticipation` says only *that* a member (or their proxy) voted, once per
member and election; the ranking is on a :class:`RankedBallot` with a random id, no member,
no foreign key to the participation, no timestamp, and on SQLite no rowid. Its
``voter_tag`` is the HMAC of (election, member) under a key derived from the secret key,
so only the application finds a member's own ballot to change it until close; **sealing**
applies as for ``Ballot``: when voting closes the tags are erased and, on PostgreSQL, the
ballots are rewritten under new random ids (``services.meetings.ballots.seal_ballots`` is
the model to follow), so after close not even the key links a ranking to a member. The
rules are in ``portal.services.elections``.
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, UTCDateTime, enum_column, utcnow
from .meetings import Meeting
from .membership import Member, MemberClass
from .proxies import ProxyAppointment
from .states import State, transitions
from .voting import Channel


class Director(Base):
    """A member on the board for a class, from the start of their term to its end.

    ``term_ends_on`` is the day of the AGM the term runs to: a director whose term ends on
    an AGM's day is up for election at that AGM. ``election_id`` names the election that
    returned them (None: recorded by staff, e.g. directors in office before the portal).
    """

    __tablename__ = "directors"
    __table_args__ = (
        CheckConstraint("term_ends_on > term_started_on", name="term_ends_after_start"),
        # The current board by class (``services.elections.board``).
        Index("ix_directors_board", "class_id", "term_ends_on", "term_started_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"))
    term_started_on: Mapped[date] = mapped_column(Date)
    term_ends_on: Mapped[date] = mapped_column(Date)
    election_id: Mapped[int | None] = mapped_column(
        ForeignKey("elections.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship()
    member_class: Mapped[MemberClass] = relationship()

    def sits_on(self, day: date) -> bool:
        """In office on ``day``: the term has started and its last day is not past."""
        return self.term_started_on <= day <= self.term_ends_on


class ElectionState(State):
    DRAFT = "draft", "Draft", "neutral"
    NOMINATIONS_OPEN = "nominations_open", "Nominations open", "info"
    NOMINATIONS_CLOSED = "nominations_closed", "Nominations closed", "warning"
    CANDIDATES_CONFIRMED = "candidates_confirmed", "Candidates confirmed", "info"
    VOTING_OPEN = "voting_open", "Voting open", "success"
    COUNTED = "counted", "Counted", "warning"
    DECLARED = "declared", "Result declared", "success"
    CANCELLED = "cancelled", "Cancelled", "danger"


_E = ElectionState
transitions(
    ElectionState,
    "election",
    {
        _E.DRAFT: (_E.NOMINATIONS_OPEN, _E.CANCELLED),
        _E.NOMINATIONS_OPEN: (_E.NOMINATIONS_CLOSED, _E.CANCELLED),
        # Staff confirm the list; they may reopen nominations (no candidate yet, say).
        _E.NOMINATIONS_CLOSED: (_E.CANDIDATES_CONFIRMED, _E.NOMINATIONS_OPEN, _E.CANCELLED),
        _E.CANDIDATES_CONFIRMED: (_E.VOTING_OPEN, _E.CANCELLED),
        # As for resolutions: once rankings are cast they are counted.
        _E.VOTING_OPEN: (_E.COUNTED,),
        _E.COUNTED: (_E.DECLARED,),
    },
)

# The states in which the candidate list may still change.
NOMINATING_STATES = (_E.DRAFT, _E.NOMINATIONS_OPEN, _E.NOMINATIONS_CLOSED)


class Election(Base):
    """The election of a class's directors at a meeting: how many seats, the nominations
    window (UTC instants), and once counted every round of the count (``result_json``).

    ``tie_break_seed`` is published (``seed_published_at``) before the count, so anyone
    can repeat a tie broken by lot (issue 15 §4).
    """

    __tablename__ = "elections"
    __table_args__ = (
        UniqueConstraint("meeting_id", "class_id", name="uq_elections_class"),
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint("nominations_close_at > nominations_open_at", name="window_order"),
        CheckConstraint(
            "(tie_break_seed IS NULL) = (seed_published_at IS NULL)", name="seed_published"
        ),
        CheckConstraint(
            "result_json IS NULL OR tie_break_seed IS NOT NULL", name="seed_before_count"
        ),
        CheckConstraint(
            "voting_closes_at IS NULL OR voting_closes_at > voting_opens_at",
            name="voting_window_order",
        ),
        # What the member pages list: the elections open for nominations, soonest first.
        Index("ix_elections_state", "state", "nominations_close_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"))
    seats: Mapped[int] = mapped_column()
    nominations_open_at: Mapped[datetime] = mapped_column(UTCDateTime)
    nominations_close_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Secret by default, with the guarantees of a secret resolution (module docstring).
    secret: Mapped[bool] = mapped_column(default=True)
    state: Mapped[ElectionState] = mapped_column(
        enum_column(ElectionState, "election_state"), default=ElectionState.DRAFT
    )
    # The ranked ballot's window (UTC), set when voting opens with the meeting's.
    voting_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tie_break_seed: Mapped[str | None] = mapped_column(String(64))
    seed_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every round: votes per candidate, elected / excluded, transfers (the count adapter).
    result_json: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    nominations_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nominations_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship()
    member_class: Mapped[MemberClass] = relationship()
    created_by: Mapped[User | None] = relationship()
    candidates: Mapped[list[Candidate]] = relationship(
        back_populates="election", order_by="Candidate.id"
    )

    def takes_nominations_at(self, instant: datetime) -> bool:
        """Nominations are open and ``instant`` is inside the window."""
        return (
            self.state is ElectionState.NOMINATIONS_OPEN
            and self.nominations_open_at <= instant < self.nominations_close_at
        )

    def __repr__(self) -> str:
        return f"<Election {self.id} meeting {self.meeting_id} class {self.class_id}>"


class CandidateState(State):
    NOMINATED = "nominated", "Awaiting the nominee", "info"
    ACCEPTED = "accepted", "Awaiting a seconder", "info"
    SECONDED = "seconded", "Seconded", "warning"
    CONFIRMED = "confirmed", "Confirmed", "success"
    WITHDRAWN = "withdrawn", "Withdrawn", "neutral"
    REJECTED = "rejected", "Not accepted", "danger"


_C = CandidateState
transitions(
    CandidateState,
    "nomination",
    {
        _C.NOMINATED: (_C.ACCEPTED, _C.WITHDRAWN, _C.REJECTED),
        _C.ACCEPTED: (_C.SECONDED, _C.WITHDRAWN, _C.REJECTED),
        _C.SECONDED: (_C.CONFIRMED, _C.WITHDRAWN, _C.REJECTED),
        # A confirmed candidate may still stand down before voting opens (services).
        _C.CONFIRMED: (_C.WITHDRAWN,),
    },
)

# Nominations that still stand (a member is nominated at most once per election).
STANDING_CANDIDATE_STATES = (_C.NOMINATED, _C.ACCEPTED, _C.SECONDED, _C.CONFIRMED)


class Candidate(Base):
    """A member nominated for their class's seats, from nomination to staff's decision.

    ``nominated_by_id`` is the member themselves for a self-nomination (then accepted at
    once); the nominee accepts, another member of the class seconds, staff confirm. The
    photo is stored as uploads are (``instance/uploads/<sha[:2]>/<sha256>``), with the
    checked image type it is served as.
    """

    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("election_id", "member_id", name="uq_candidates_member"),
        CheckConstraint("seconded_by_id <> member_id", name="seconder_not_nominee"),
        CheckConstraint("(photo_sha256 IS NULL) = (photo_type IS NULL)", name="photo_typed"),
        CheckConstraint(
            "photo_type IS NULL OR photo_type IN ('image/png', 'image/jpeg', 'image/webp')",
            name="photo_type_known",
        ),
        CheckConstraint("(state = 'rejected') = (reject_reason IS NOT NULL)", name="rejected_why"),
        # The list on the nominations and staff pages, and the ballot's candidates.
        Index("ix_candidates_list", "election_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    nominated_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    nominated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconded_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    seconded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    statement: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised on render
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_type: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[CandidateState] = mapped_column(
        enum_column(CandidateState, "candidate_state"), default=CandidateState.NOMINATED
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    election: Mapped[Election] = relationship(back_populates="candidates")
    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    nominated_by: Mapped[Member] = relationship(foreign_keys=[nominated_by_id])
    seconded_by: Mapped[Member | None] = relationship(foreign_keys=[seconded_by_id])

    @property
    def self_nominated(self) -> bool:
        return self.nominated_by_id == self.member_id

    def __repr__(self) -> str:
        return f"<Candidate {self.id} election {self.election_id} {self.state.value}>"


class ElectionParticipation(Base):
    """A member took part in an election: one row per member and election.

    As ``Participation``: ``proxy_id`` names the proxy the ranking came through (None: the
    member ranked themselves). The ranking and receipt are kept here only for an open
    (not secret) election; for a secret one they are on the ranked ballot.
    """

    __tablename__ = "election_participations"
    __table_args__ = (
        UniqueConstraint("election_id", "member_id", name="uq_election_participations_member"),
        UniqueConstraint("election_id", "receipt", name="uq_election_participations_receipt"),
        CheckConstraint("(ranking IS NULL) = (receipt IS NULL)", name="ranking_with_receipt"),
        # Turnout per channel and proxy, read from the index alone.
        Index("ix_election_participations_counts", "election_id", "channel", "proxy_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ranking: Mapped[str | None] = mapped_column(String(2000))
    receipt: Mapped[str | None] = mapped_column(String(20))
    proxy_id: Mapped[int | None] = mapped_column(ForeignKey("proxy_appointments.id"), index=True)
    channel: Mapped[Channel] = mapped_column(
        enum_column(Channel, "channel"), default=Channel.ONLINE, server_default="online"
    )

    election: Mapped[Election] = relationship()
    member: Mapped[Member] = relationship()


class RankedBallot(Base):
    """A secret ranked ballot: an election, a ranking and its receipt. It names no one.

    ``ranking`` is the candidates' ids, first preference first, separated by commas
    (``"12,7,9"``; unranked candidates are left out). ``id`` is random; ``voter_tag`` is
    the HMAC of (election, member) and is erased when voting closes (module docstring).
    SQLite keeps the table WITHOUT ROWID, so no hidden insertion number exists.
    """

    __tablename__ = "ranked_ballots"
    __table_args__ = (
        UniqueConstraint("election_id", "receipt", name="uq_ranked_ballots_receipt"),
        UniqueConstraint("election_id", "voter_tag", name="uq_ranked_ballots_voter_tag"),
        CheckConstraint("ranking <> ''", name="ranking_not_empty"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random hex
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    ranking: Mapped[str] = mapped_column(String(2000))
    receipt: Mapped[str] = mapped_column(String(20))
    voter_tag: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[Channel] = mapped_column(
        enum_column(Channel, "channel"), default=Channel.ONLINE, server_default="online"
    )

    @property
    def candidate_ids(self) -> list[int]:
        """The ranking as candidate ids, first preference first."""
        return [int(part) for part in self.ranking.split(",")]


class ProxyRanking(Base):
    """What a proxy does in one election: ``ranking`` (candidate ids, first preference
    first, comma-separated, as :class:`RankedBallot`) as the grantor directed, or None when
    the holder ranks (every election of a discretionary proxy). ``revoked_at`` is set when
    the grantor ranked the candidates themselves."""

    __tablename__ = "proxy_rankings"
    __table_args__ = (
        UniqueConstraint("appointment_id", "election_id", name="uq_proxy_rankings_election"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("proxy_appointments.id", ondelete="CASCADE")
    )
    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="CASCADE"), index=True
    )
    ranking: Mapped[str | None] = mapped_column(String(2000))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[ProxyAppointment] = relationship()
    election: Mapped[Election] = relationship()

    @property
    def holder_decides(self) -> bool:
        return self.ranking is None
