"""Proxies: a member on a meeting's roll hands their vote to another member, or the chair.

A :class:`ProxyAppointment` is **directed** (a choice for each resolution, or "the holder
decides" for some) or **discretionary** (the holder decides every one). Its resolutions
are :class:`ProxyDirection` rows, one per resolution put to the meeting when it was
appointed, so a grantor who votes on a resolution themselves revokes the proxy for that
resolution alone (``revoked_at`` on the direction). The holder's votes are ordinary
participations of the grantor that name the proxy they came through
(``Participation.proxy_id``), so the roll, turnout, quorum and the one-vote-per-member
rule apply to them unchanged. The rules are in ``portal.services.meetings.proxies``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, enum_column, utcnow
from .meetings import Meeting, Resolution
from .membership import Member
from .states import Labelled, State, transitions
from .voting import Choice


class ProxyKind(Labelled):
    DIRECTED = "directed", "Directed"  # a choice per resolution (or "holder decides")
    DISCRETIONARY = "discretionary", "Discretionary"  # the holder decides every vote


class ProxySource(Labelled):
    ONLINE = "online", "Online"  # the member appointed it on the proxy page
    PAPER = "paper", "Paper form"  # staff recorded a signed form the member sent


class ProxyState(State):
    APPOINTED = "appointed", "Awaiting the holder", "info"
    ACCEPTED = "accepted", "Accepted", "success"
    DECLINED = "declined", "Declined", "danger"
    REVOKED = "revoked", "Revoked", "neutral"


# The states in which a proxy stands: it counts towards the holder's cap and may be cast.
LIVE_PROXY_STATES = (ProxyState.APPOINTED, ProxyState.ACCEPTED)

transitions(
    ProxyState,
    "proxy",
    {
        ProxyState.APPOINTED: (ProxyState.ACCEPTED, ProxyState.DECLINED, ProxyState.REVOKED),
        ProxyState.ACCEPTED: (ProxyState.DECLINED, ProxyState.REVOKED),
    },
)


class ProxyAppointment(Base):
    """A grantor's proxy for one meeting: to a member on the roll, or to the chair.

    At most one stands (appointed or accepted) per grantor and meeting; changing a proxy
    revokes the old appointment and makes a new one, so the history stays.
    """

    __tablename__ = "proxy_appointments"
    __table_args__ = (
        CheckConstraint("(holder_id IS NULL) = to_chair", name="holder_or_chair"),
        CheckConstraint("holder_id IS NULL OR holder_id <> grantor_id", name="not_to_self"),
        # A paper form names the staff member who recorded it.
        CheckConstraint("(source = 'paper') = (recorded_by_id IS NOT NULL)", name="paper_recorded"),
        Index(
            "uq_proxy_appointments_standing",
            "meeting_id",
            "grantor_id",
            unique=True,
            sqlite_where=text("state IN ('appointed', 'accepted')"),
            postgresql_where=text("state IN ('appointed', 'accepted')"),
        ),
        # The holder's cap counts their standing proxies (services.meetings.proxies).
        Index("ix_proxy_appointments_holder", "meeting_id", "holder_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    grantor_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    to_chair: Mapped[bool] = mapped_column(default=False)
    kind: Mapped[ProxyKind] = mapped_column(enum_column(ProxyKind, "proxy_kind"))
    state: Mapped[ProxyState] = mapped_column(
        enum_column(ProxyState, "proxy_state"), default=ProxyState.APPOINTED
    )
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[ProxySource] = mapped_column(
        enum_column(ProxySource, "proxy_source"), default=ProxySource.ONLINE
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    meeting: Mapped[Meeting] = relationship()
    grantor: Mapped[Member] = relationship(foreign_keys=[grantor_id])
    holder: Mapped[Member | None] = relationship(foreign_keys=[holder_id])
    directions: Mapped[list[ProxyDirection]] = relationship(
        back_populates="appointment", cascade="all, delete-orphan"
    )

    @property
    def holder_name(self) -> str:
        """Who holds it, in words: the member's name, or "the chair"."""
        return "the chair of the meeting" if self.holder is None else self.holder.name

    def direction_for(self, resolution_id: int) -> ProxyDirection | None:
        return next((d for d in self.directions if d.resolution_id == resolution_id), None)

    def __repr__(self) -> str:
        return f"<ProxyAppointment {self.id} {self.kind.value} {self.state.value}>"


class ProxyDirection(Base):
    """What the proxy does on one resolution: ``choice`` as directed, or None when the
    holder decides (every resolution of a discretionary proxy). ``revoked_at`` is set
    when the grantor voted on it themselves."""

    __tablename__ = "proxy_directions"
    __table_args__ = (
        UniqueConstraint("appointment_id", "resolution_id", name="uq_proxy_directions_resolution"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("proxy_appointments.id", ondelete="CASCADE")
    )
    resolution_id: Mapped[int] = mapped_column(
        ForeignKey("resolutions.id", ondelete="CASCADE"), index=True
    )
    choice: Mapped[Choice | None] = mapped_column(enum_column(Choice, "choice"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[ProxyAppointment] = relationship(back_populates="directions")
    resolution: Mapped[Resolution] = relationship()

    @property
    def holder_decides(self) -> bool:
        return self.choice is None
