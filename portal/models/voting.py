"""Votes: who took part in each resolution, and the secret ballots that hold no name.

For an open resolution the member's choice and receipt live on their
:class:`Participation`. For a secret one the participation only says that the member took
part; the choice is on a :class:`Ballot`, which has no member, no foreign key to the
participation, no timestamp and a random id, so nothing in the database joins the two.
How a member can still change their secret vote is told in
``portal.services.meetings.ballots``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, enum_column, utcnow
from .meetings import Resolution
from .membership import Member, MemberClass
from .states import Labelled


class Choice(Labelled):
    FOR = "for", "For", "success"
    AGAINST = "against", "Against", "danger"
    # Counts for turnout and quorum, never for the majority.
    ABSTAIN = "abstain", "Abstain", "neutral"


class Channel(Labelled):
    """How a vote reached the count. A vote by proxy is an online one whose participation
    names the proxy (``proxy_id``); a show of hands is counted on ``HandCount``, not here."""

    ONLINE = "online", "Online", "info"
    IN_ROOM = "in_room", "In the room", "neutral"
    POSTAL = "postal", "By post", "neutral"


# The ways staff enter a member's paper ballot (services.meetings.hybrid).
PAPER_CHANNELS = (Channel.IN_ROOM, Channel.POSTAL)


class Participation(Base):
    """A member took part in a resolution's vote: one row per member and resolution.

    The choice and receipt are kept here only for open resolutions; for a secret one they
    are on the ballot, and these stay empty.
    """

    __tablename__ = "participations"
    __table_args__ = (
        UniqueConstraint("resolution_id", "member_id", name="uq_participations_member"),
        UniqueConstraint("resolution_id", "receipt", name="uq_participations_receipt"),
        # Turnout and the count per class and channel read from the index alone
        # (services.meetings.closing).
        Index(
            "ix_participations_counts", "resolution_id", "class_id", "channel", "choice", "proxy_id"
        ),
        CheckConstraint("(choice IS NULL) = (receipt IS NULL)", name="choice_with_receipt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolutions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"))  # as on the roll
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    choice: Mapped[Choice | None] = mapped_column(enum_column(Choice, "choice"))
    receipt: Mapped[str | None] = mapped_column(String(20))
    # The proxy the vote came through (models.proxies); None: the member voted themselves.
    proxy_id: Mapped[int | None] = mapped_column(ForeignKey("proxy_appointments.id"), index=True)
    # Online (or by proxy), or a paper ballot staff entered from the room or the post.
    channel: Mapped[Channel] = mapped_column(
        enum_column(Channel, "channel"), default=Channel.ONLINE, server_default="online"
    )

    resolution: Mapped[Resolution] = relationship()
    member: Mapped[Member] = relationship()
    member_class: Mapped[MemberClass] = relationship()


class Ballot(Base):
    """A secret ballot: a choice in a class, and its receipt. It names no one.

    ``id`` is random (never the order of voting). ``voter_tag`` is an HMAC of the member
    and resolution under a key derived from the application's secret key, so only the
    application can find a member's own ballot to change it; it is erased when voting
    closes. SQLite keeps the table WITHOUT ROWID, so no hidden insertion number exists.
    """

    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint("resolution_id", "receipt", name="uq_ballots_receipt"),
        UniqueConstraint("resolution_id", "voter_tag", name="uq_ballots_voter_tag"),
        Index("ix_ballots_counts", "resolution_id", "class_id", "channel", "choice"),  # the count
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random hex
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolutions.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"))
    choice: Mapped[Choice] = mapped_column(enum_column(Choice, "choice"))
    receipt: Mapped[str] = mapped_column(String(20))
    voter_tag: Mapped[str | None] = mapped_column(String(64))
    # How it was cast, so the count per channel survives sealing. It names no one: a
    # channel only narrows a ballot to the members who voted that way in its class.
    channel: Mapped[Channel] = mapped_column(
        enum_column(Channel, "channel"), default=Channel.ONLINE, server_default="online"
    )


class TurnoutCount(Base):
    """How many members have voted on a resolution in a class, by every channel but the
    tellers' show of hands (``HandCount``): added to in the transaction that writes each
    participation (``services.meetings.ballots.add_vote``), so live turnout reads a row per
    class, never the votes. ``check-votes`` compares it with the participations."""

    __tablename__ = "turnout_counts"

    resolution_id: Mapped[int] = mapped_column(
        ForeignKey("resolutions.id", ondelete="CASCADE"), primary_key=True
    )
    class_id: Mapped[int] = mapped_column(ForeignKey("member_classes.id"), primary_key=True)
    voted: Mapped[int] = mapped_column(default=0)
