"""Staff's side of proxies (issue 14 §1): the proxies appointed to the chair, cast by the
chair through the staff pages, and the signed paper forms members send, recorded by staff.

Who sees what. The issue's rule for a secret resolution is "the holder sees the
directions, staff see only that a proxy voted". For a proxy to the chair the chair *is*
the holder, and the chair acts through the staff pages, so staff must see a chair proxy's
directions to the extent that casting it needs, and no further:

* On an **open** resolution nothing is secret: every vote is listed by name once it
  closes. The chair's page shows each chair proxy's direction beside the grantor's name
  and the choice cast, and casts each one.
* On a **secret** resolution a direction beside a name would be a vote beside a name. The
  page never shows one: beside each grantor it says only whether the chair decides (a
  choice the grantor left to the chair is the chair's own vote, which the chair knows
  anyway, and casting it needs the name) and whether the vote is cast. The directed votes
  are cast together, by a button that names how many and never which way
  (:func:`cast_secret_directed`); they are also cast as directed at close
  (``proxies.cast_directed_at_close``). A single cast of a directed secret proxy is refused
  (:func:`cast_chair_proxy`), so no answer or refusal message can name its direction.
* The counts of all proxies by state say nothing of any vote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ...errors import InvalidInput, InvalidState
from ...models import (
    Choice,
    Meeting,
    Member,
    Participation,
    ProxyAppointment,
    ProxyDirection,
    ProxyKind,
    ProxySource,
    ProxyState,
    Resolution,
    ResolutionState,
    User,
)
from ..inputs import DIGITS, read_choice, read_id
from . import ballots, proxies, roll

CHAIR_PROXIES_PER_PAGE = 50


def state_counts(db: Session, meeting: Meeting) -> list[tuple[ProxyState, int]]:
    """How many of the meeting's proxies are in each state (every state, zeros too)."""
    counts = dict(
        db.execute(
            select(ProxyAppointment.state, func.count())
            .where(ProxyAppointment.meeting_id == meeting.id)
            .group_by(ProxyAppointment.state)
        ).all()
    )
    return [(state, counts.get(state, 0)) for state in ProxyState]


@dataclass(frozen=True)
class ChairItem:
    """One resolution of a chair proxy as the chair's page may show it."""

    resolution: Resolution
    direction: ProxyDirection
    cast: bool
    # The direction and the choice cast, on an open resolution only; None on a secret one.
    shown_direction: Choice | None
    shown_choice: Choice | None
    # The grantor voted on it themselves (before or after appointing): the proxy does not.
    voted_themselves: bool = False

    @property
    def chair_decides(self) -> bool:
        return self.direction.holder_decides

    @property
    def castable(self) -> bool:
        """The chair can cast it here, one by one: not revoked by the grantor's own vote,
        the resolution open, and either the chair's to decide (and changeable) or an open
        resolution's direction not yet cast."""
        if (
            self.voted_themselves
            or self.direction.revoked_at is not None
            or self.resolution.state is not ResolutionState.OPEN
        ):
            return False
        if self.chair_decides:
            return True
        return not self.resolution.secret and not self.cast


@dataclass(frozen=True)
class ChairRow:
    appointment: ProxyAppointment
    items: tuple[ChairItem, ...]


@dataclass(frozen=True)
class SecretPending:
    """A secret resolution's directed chair proxies not yet cast: how many, never which way."""

    resolution: Resolution
    count: int


@dataclass(frozen=True)
class ChairPage:
    rows: list[ChairRow]
    after: int | None
    next_after: int | None
    secret_pending: list[SecretPending]


def _chair_query(meeting: Meeting):  # type: ignore[no-untyped-def]
    return select(ProxyAppointment).where(
        ProxyAppointment.meeting_id == meeting.id,
        ProxyAppointment.to_chair.is_(True),
        ProxyAppointment.state == ProxyState.ACCEPTED,
    )


def chair_proxies(
    db: Session,
    meeting: Meeting,
    *,
    after: int | None = None,
    per_page: int = CHAIR_PROXIES_PER_PAGE,
) -> ChairPage:
    """A page of the proxies appointed to the chair (by appointment, after ``after``),
    each with what the chair may see of it (see the module's docstring), and each secret
    resolution's directed proxies still to cast. A few statements a page, however long."""
    query = (
        _chair_query(meeting)
        .options(
            joinedload(ProxyAppointment.grantor),
            selectinload(ProxyAppointment.directions).joinedload(ProxyDirection.resolution),
        )
        .order_by(ProxyAppointment.id)
        .limit(per_page + 1)
    )
    if after is not None:
        query = query.where(ProxyAppointment.id > after)
    appointments = list(db.scalars(query).unique())
    more = len(appointments) > per_page
    appointments = appointments[:per_page]
    cast = proxies.cast_choices(db, [a.id for a in appointments])
    own = set(
        db.execute(
            select(Participation.resolution_id, Participation.member_id).where(
                Participation.member_id.in_([a.grantor_id for a in appointments]),
                Participation.resolution_id.in_([r.id for r in meeting.resolutions]),
                Participation.proxy_id.is_(None),
            )
        ).all()
    )
    rows = []
    for a in appointments:
        items = []
        for d in sorted(a.directions, key=lambda d: d.resolution.number):
            secret = d.resolution.secret
            key = (d.resolution_id, a.id)
            items.append(
                ChairItem(
                    d.resolution,
                    d,
                    key in cast,
                    None if secret else d.choice,
                    None if secret else cast.get(key),
                    (d.resolution_id, a.grantor_id) in own,
                )
            )
        rows.append(ChairRow(a, tuple(items)))
    return ChairPage(
        rows,
        after,
        appointments[-1].id if more else None,
        _secret_pending(db, meeting),
    )


def _pending_secret_directions(db: Session, resolution: Resolution) -> list[ProxyAppointment]:
    """The accepted chair proxies directed on secret ``resolution`` and not yet cast."""
    return list(
        db.scalars(
            _chair_query(resolution.meeting)
            .join(ProxyDirection, ProxyDirection.appointment_id == ProxyAppointment.id)
            .where(
                ProxyDirection.resolution_id == resolution.id,
                ProxyDirection.choice.is_not(None),
                ProxyDirection.revoked_at.is_(None),
                ~select(Participation.id)
                .where(
                    Participation.resolution_id == resolution.id,
                    Participation.member_id == ProxyAppointment.grantor_id,
                )
                .exists(),
            )
            .order_by(ProxyAppointment.id)
        )
    )


def _secret_pending(db: Session, meeting: Meeting) -> list[SecretPending]:
    pending = []
    for resolution in meeting.resolutions:
        if resolution.secret and resolution.state is ResolutionState.OPEN:
            count = len(_pending_secret_directions(db, resolution))
            if count:
                pending.append(SecretPending(resolution, count))
    return pending


def cast_chair_proxy(
    db: Session,
    appointment: ProxyAppointment,
    resolution: Resolution,
    choice: Choice | str | None,
    *,
    actor: User,
) -> ballots.Vote:
    """The chair (staff) casts one chair proxy on ``resolution``, through the proxies'
    own cast path. A directed proxy on a secret resolution is refused here: those are
    cast together (:func:`cast_secret_directed`), so nothing answers with a direction."""
    direction = appointment.direction_for(resolution.id)
    if resolution.secret and direction is not None and not direction.holder_decides:
        raise InvalidState(
            f"Directed proxies on secret resolution {resolution.number} are cast together, "
            "as directed, so that no one sees a direction beside a name."
        )
    return proxies.cast_proxy(db, appointment, resolution, choice, holder=None, actor=actor)


def cast_secret_directed(db: Session, resolution: Resolution, *, actor: User) -> int:
    """Cast every directed chair proxy on secret ``resolution`` as directed; how many."""
    if not resolution.secret:
        raise InvalidState(f"Resolution {resolution.number} is not a secret ballot.")
    pending = _pending_secret_directions(db, resolution)
    for appointment in pending:
        proxies.cast_proxy(db, appointment, resolution, None, holder=None, actor=actor)
    return len(pending)


# -- paper forms ------------------------------------------------------------------------------


def find_grantor(db: Session, meeting: Meeting, text: str) -> Member:
    """The member a paper form is from, by number (``123`` or ``#123``) or by a part of
    their name that only one member on the meeting's roll has."""
    needle = str(text or "").strip()
    if not needle:
        raise InvalidInput("Enter the member's number or name.", field="member")
    number = needle.removeprefix("#")
    if DIGITS.fullmatch(number):
        member = db.scalar(select(Member).where(Member.number == read_id(number)))
        if member is None:
            raise InvalidInput(f"No member has the number {number}.", field="member")
        return member
    matches = [
        m
        for m in db.scalars(
            select(Member)
            .where(func.lower(Member.name).contains(needle.lower(), autoescape=True))
            .order_by(Member.number)
            .limit(20)
        )
        if roll.on_roll(db, meeting, m)
    ]
    if not matches:
        raise InvalidInput(
            f"No member on this meeting's roll is called “{needle}”.", field="member"
        )
    if len(matches) > 1:
        names = ", ".join(f"{m.name} (no. {m.number})" for m in matches[:5])
        raise InvalidInput(
            f"{len(matches)} members on the roll match “{needle}”: {names}. "
            "Enter the member number.",
            field="member",
        )
    return matches[0]


def form_resolutions(meeting: Meeting) -> list[Resolution]:
    """The resolutions a paper form may direct: those not withdrawn or closed, in order."""
    return [
        r for r in meeting.resolutions if r.state in (ResolutionState.DRAFT, ResolutionState.OPEN)
    ]


def record_paper_proxy(
    db: Session, meeting: Meeting, values: Mapping[str, str], *, actor: User
) -> ProxyAppointment:
    """Record a signed paper proxy form: ``member`` (number or name), ``holder`` (a member
    number, ``chair``, or blank for the chair, as the printed form says), ``kind``, and a
    ``direction-<id>`` per resolution. The rules are the online ones
    (``proxies.appoint_proxy``: deadline ``proxy_deadline_hours``, the roll, the cap
    ``proxies_per_holder``); a member with a proxy standing is refused, not replaced, since
    the form may be older than the proxy they made since."""
    grantor = find_grantor(db, meeting, values.get("member", ""))
    kind = read_choice(
        ProxyKind, values.get("kind"), "Choose directed or discretionary.", field="kind"
    )
    # The printed form says "if you name no one, the chair is your proxy": blank is the chair.
    named = str(values.get("holder") or "").strip()
    holder = proxies.read_holder(db, named) if named else None
    standing = proxies.standing_proxy(db, meeting, grantor)
    if standing is not None:
        raise InvalidState(
            f"{grantor.name} (no. {grantor.number}) already has a proxy for this meeting: "
            f"{standing.holder_name}, {standing.source.label.lower()}, "
            f"{standing.state.label.lower()}. Only one proxy stands for each member; they "
            "revoke it first."
        )
    if not roll.on_roll(db, meeting, grantor):
        raise InvalidInput(
            f"{grantor.name} (no. {grantor.number}) is not on this meeting's voter roll, so "
            "they have no vote to hand to a proxy.",
            field="member",
        )
    resolutions = proxies.votable_resolutions(db, meeting, grantor)
    directions = proxies.read_directions(resolutions, kind, values)
    return proxies.appoint_proxy(
        db,
        meeting,
        grantor,
        holder=holder,
        kind=kind,
        directions=directions,
        actor=actor,
        source=ProxySource.PAPER,
    )
