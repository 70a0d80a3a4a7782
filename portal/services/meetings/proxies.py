"""Proxies (issue 14 §1): a member on the roll hands their vote to another, or the chair.

The rules, each with the setting it reads:

* A member on the meeting's roll appoints another member on the roll, or the chair, once
  the roll is frozen (the notice sent) — :func:`appoint_proxy`.
* Appointing, changing and revoking are open until ``CoopSettings.proxy_deadline_hours``
  before the meeting starts, by the co-op's clock (``coop.clock``) — :func:`deadline`.
* A holder holds at most ``CoopSettings.proxies_per_holder`` standing proxies for a
  meeting; the chair is exempt when ``CoopSettings.chair_exempt_from_proxy_cap`` is set.
* A **directed** proxy carries a choice for each resolution, or "the holder decides"; a
  **discretionary** one leaves every choice to the holder.
* The holder accepts or declines (a proxy to the chair stands accepted); both are mailed
  after commit. Only an accepted proxy is cast.
* The holder casts each proxy (``cast_proxy``): the vote is the grantor's participation,
  marked with the proxy (``Participation.proxy_id``), so the roll, the voting window,
  turnout and quorum apply to it exactly as to the grantor's own vote. A directed choice is
  cast as directed; at close, ``cast_directed_at_close`` casts every directed choice the
  holder did not.
* A grantor who votes themselves revokes their proxy for that resolution
  (``ballots.cast_vote``), and their vote replaces one the proxy cast.
* A secret resolution stays secret: the holder knows the directions they were given;
  staff see only that a participation came by proxy, never its choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ... import coop, mail
from ...db import lock_row
from ...errors import InvalidInput, InvalidState, NotAllowed
from ...models import (
    LIVE_PROXY_STATES,
    Choice,
    Meeting,
    MeetingState,
    Member,
    MemberClass,
    Participation,
    ProxyAppointment,
    ProxyDirection,
    ProxyKind,
    ProxySource,
    ProxyState,
    Resolution,
    ResolutionState,
    User,
    utcnow,
)
from .. import audit, transitions
from ..inputs import read_choice, read_whole
from . import ballots, roll

# What the form offers for each resolution of a directed proxy: a choice, or the holder's.
HOLDER_DECIDES = "holder"
# The holder field's value for the chair of the meeting.
CHAIR = "chair"


def deadline(db: Session, meeting: Meeting) -> datetime:
    """The last instant to appoint, change or revoke a proxy for ``meeting``:
    ``CoopSettings.proxy_deadline_hours`` before its start."""
    return meeting.starts_at - timedelta(hours=coop.settings(db).proxy_deadline_hours)


def _require_before_deadline(db: Session, meeting: Meeting, doing: str) -> None:
    """Refuse after the proxy deadline (``CoopSettings.proxy_deadline_hours``, the co-op's
    clock)."""
    until = deadline(db, meeting)
    clock = coop.clock(db)
    if clock.now() >= until:
        raise InvalidState(
            f"Proxies could be {doing} until {clock.local(until):%-d %B %Y, %H:%M}, "
            f"{coop.settings(db).proxy_deadline_hours} hours before the meeting; "
            "that time has passed."
        )


def appointing_open(db: Session, meeting: Meeting) -> bool:
    """Proxies can be appointed, changed or revoked now: the roll is frozen, voting has
    not closed, and the deadline (``CoopSettings.proxy_deadline_hours``) has not passed."""
    return meeting.state in (MeetingState.NOTICED, MeetingState.VOTING_OPEN) and coop.clock(
        db
    ).now() < deadline(db, meeting)


def _require_roll_open(meeting: Meeting) -> None:
    """Proxies are for a meeting whose roll is frozen and whose voting has not closed."""
    if meeting.state not in (MeetingState.NOTICED, MeetingState.VOTING_OPEN):
        raise InvalidState(
            f"This meeting is {meeting.state.label.lower()}: proxies are appointed between "
            "the notice and the close of voting."
        )


def standing_proxy(db: Session, meeting: Meeting, grantor: Member) -> ProxyAppointment | None:
    """The grantor's proxy for ``meeting`` that stands (appointed or accepted), if any."""
    return db.scalar(
        select(ProxyAppointment).where(
            ProxyAppointment.meeting_id == meeting.id,
            ProxyAppointment.grantor_id == grantor.id,
            ProxyAppointment.state.in_(LIVE_PROXY_STATES),
        )
    )


def latest_proxy(db: Session, meeting: Meeting, grantor: Member) -> ProxyAppointment | None:
    """The grantor's latest proxy for ``meeting`` unless they revoked it: the one that
    stands, or the one its holder declined."""
    latest = db.scalar(
        select(ProxyAppointment)
        .where(ProxyAppointment.meeting_id == meeting.id, ProxyAppointment.grantor_id == grantor.id)
        .options(joinedload(ProxyAppointment.holder))
        .order_by(ProxyAppointment.id.desc())
        .limit(1)
    )
    return None if latest is None or latest.state is ProxyState.REVOKED else latest


def held_count(db: Session, meeting: Meeting, holder: Member | None) -> int:
    """Standing proxies held for ``meeting`` by ``holder`` (None: the chair)."""
    query = select(func.count()).where(
        ProxyAppointment.meeting_id == meeting.id,
        ProxyAppointment.state.in_(LIVE_PROXY_STATES),
    )
    if holder is None:
        query = query.where(ProxyAppointment.to_chair.is_(True))
    else:
        query = query.where(ProxyAppointment.holder_id == holder.id)
    return db.scalar(query) or 0


def _check_cap(db: Session, meeting: Meeting, holder: Member | None) -> None:
    """At most ``CoopSettings.proxies_per_holder`` standing proxies per holder; the chair
    is exempt when ``CoopSettings.chair_exempt_from_proxy_cap`` is set."""
    settings = coop.settings(db)
    if holder is None and settings.chair_exempt_from_proxy_cap:
        return
    if held_count(db, meeting, holder) >= settings.proxies_per_holder:
        who = "The chair" if holder is None else holder.name
        raise InvalidState(
            f"{who} already holds {settings.proxies_per_holder} proxies for this meeting, "
            "as many as the co-op's rules allow one person; choose someone else.",
        )


def votable_resolutions(db: Session, meeting: Meeting, grantor: Member) -> list[Resolution]:
    """The meeting's resolutions the grantor may vote on and a proxy may still vote on
    (not withdrawn, not closed), in order."""
    return [
        r
        for r in meeting.resolutions
        if r.state in (ResolutionState.DRAFT, ResolutionState.OPEN)
        and roll.voter_entry(db, r, grantor) is not None
    ]


def read_directions(
    resolutions: list[Resolution], kind: ProxyKind, values: Mapping[str, str]
) -> dict[int, Choice | None]:
    """The choice for each resolution from the form's ``direction-<id>`` fields: For,
    Against, Abstain, or ``holder`` (the holder decides). A discretionary proxy leaves
    them all to the holder; a directed one must say something for each."""
    if kind is ProxyKind.DISCRETIONARY:
        return {r.id: None for r in resolutions}
    directions: dict[int, Choice | None] = {}
    for r in resolutions:
        raw = str(values.get(f"direction-{r.id}", "") or "")
        if raw == HOLDER_DECIDES:
            directions[r.id] = None
            continue
        try:
            directions[r.id] = Choice(raw)
        except ValueError:
            raise InvalidInput(
                f"Say how your proxy votes on resolution {r.number}: For, Against, Abstain, "
                "or let the holder decide.",
                field=f"direction-{r.id}",
            ) from None
    return directions


def appoint_proxy(
    db: Session,
    meeting: Meeting,
    grantor: Member,
    *,
    holder: Member | None,
    kind: ProxyKind,
    directions: Mapping[int, Choice | None],
    actor: User,
    source: ProxySource = ProxySource.ONLINE,
) -> ProxyAppointment:
    """Appoint ``holder`` (None: the chair) as the grantor's proxy for ``meeting``, or
    change the proxy that stands (it is revoked and this one takes its place). ``source``
    PAPER: staff (``actor``) record a signed form the member sent, under the same rules.

    Refused after the deadline (``CoopSettings.proxy_deadline_hours``), for a grantor or
    holder not on the roll, to oneself, or over the holder's cap
    (``CoopSettings.proxies_per_holder``, ``chair_exempt_from_proxy_cap``).
    """
    lock_row(db, meeting)  # appointments for one meeting take turns: the cap holds
    _require_roll_open(meeting)
    _require_before_deadline(db, meeting, "appointed or changed")
    if not roll.on_roll(db, meeting, grantor):
        raise NotAllowed(
            "You are not on this meeting's voter roll, so you have no vote to hand to a proxy."
        )
    if holder is not None:
        if holder.id == grantor.id:
            raise InvalidInput("Your proxy must be someone else.", field="holder")
        if not roll.on_roll(db, meeting, holder):
            raise InvalidInput(
                f"{holder.name} is not on this meeting's voter roll: a proxy must be a member "
                "on the roll, or the chair.",
                field="holder",
            )
    resolutions = votable_resolutions(db, meeting, grantor)
    missing = [r.number for r in resolutions if r.id not in directions]
    if missing:
        raise InvalidInput(f"Say how your proxy votes on resolution {missing[0]}.")
    old = standing_proxy(db, meeting, grantor)
    if old is not None:
        _revoke(db, old, actor=actor, summary="Replaced by a new proxy")
        db.flush()
    _check_cap(db, meeting, holder)
    appointment = ProxyAppointment(
        meeting_id=meeting.id,
        grantor_id=grantor.id,
        holder_id=None if holder is None else holder.id,
        to_chair=holder is None,
        kind=kind,
        state=ProxyState.ACCEPTED if holder is None else ProxyState.APPOINTED,
        accepted_at=utcnow() if holder is None else None,
        source=source,
        recorded_by_id=actor.id if source is ProxySource.PAPER else None,
        directions=[
            ProxyDirection(resolution_id=r.id, choice=directions[r.id]) for r in resolutions
        ],
    )
    db.add(appointment)
    db.flush()
    db.refresh(appointment, attribute_names=["holder", "grantor", "meeting"])
    paper = source is ProxySource.PAPER
    audit.record(
        db,
        actor=actor,
        action="proxy.recorded_paper"
        if paper
        else ("proxy.changed" if old is not None else "proxy.appointed"),
        target=appointment,
        summary=f"Member no. {grantor.number} appointed {appointment.holder_name} as their "
        f"{kind.label.lower()} proxy" + (" on a paper form recorded by staff" if paper else ""),
    )
    _mail_both(db, appointment, "proxy_appointed")
    return appointment


def _mail_both(db: Session, appointment: ProxyAppointment, template: str) -> None:
    """Tell the grantor and the holder (a member with an address), after commit."""
    for member in (appointment.grantor, appointment.holder):
        if member is not None and member.user is not None:
            mail.queue(
                db,
                template,
                to=member.user.email,
                appointment=appointment,
                recipient=member,
                deadline=coop.clock(db).local(deadline(db, appointment.meeting)),
            )


def _revoke(db: Session, appointment: ProxyAppointment, *, actor: User, summary: str) -> None:
    transitions.move(
        db,
        appointment,
        ProxyState.REVOKED,
        actor=actor,
        doing="revoked",
        stamp="revoked_at",
        summary=summary,
    )


def revoke_proxy(
    db: Session, appointment: ProxyAppointment, grantor: Member, *, actor: User
) -> None:
    """The grantor revokes their proxy, until the deadline (``proxy_deadline_hours``)."""
    if appointment.grantor_id != grantor.id:
        raise NotAllowed("Only the member who appointed a proxy revokes it.")
    lock_row(db, appointment)
    _require_before_deadline(db, appointment.meeting, "revoked")
    summary = f"Member no. {grantor.number} revoked their proxy"
    _revoke(db, appointment, actor=actor, summary=summary)
    _mail_both(db, appointment, "proxy_revoked")


def _require_holder(appointment: ProxyAppointment, holder: Member | None, actor: User) -> None:
    """The member holding the proxy, or staff acting for the chair."""
    if appointment.to_chair:
        if not actor.is_staff:
            raise NotAllowed("Only the chair, through the staff pages, acts on this proxy.")
    elif holder is None or appointment.holder_id != holder.id:
        raise NotAllowed("This proxy is held by someone else.")


def answer_proxy(
    db: Session, appointment: ProxyAppointment, holder: Member, *, accept: bool, actor: User
) -> None:
    """The holder accepts or declines the proxy, while the meeting's voting is not closed;
    both are mailed."""
    _require_holder(appointment, holder, actor)
    lock_row(db, appointment)
    _require_roll_open(appointment.meeting)
    target = ProxyState.ACCEPTED if accept else ProxyState.DECLINED
    transitions.move(
        db,
        appointment,
        target,
        actor=actor,
        doing="accepted" if accept else "declined",
        stamp="accepted_at" if accept else "declined_at",
        summary=f"{holder.name} {'accepted' if accept else 'declined'} the proxy of member "
        f"no. {appointment.grantor.number}",
    )
    _mail_both(db, appointment, "proxy_answered")


def cast_proxy(
    db: Session,
    appointment: ProxyAppointment,
    resolution: Resolution,
    choice: Choice | str | None,
    *,
    holder: Member | None,
    actor: User,
) -> ballots.Vote:
    """The holder casts the grantor's vote on ``resolution``: as directed, or their own
    choice where the holder decides. Refused unless accepted, after the grantor voted
    themselves, or against a direction."""
    _require_holder(appointment, holder, actor)
    if appointment.state is not ProxyState.ACCEPTED:
        raise InvalidState(
            f"This proxy is {appointment.state.label.lower()}: only an accepted proxy votes."
        )
    direction = appointment.direction_for(resolution.id)
    if direction is None:
        raise NotAllowed(f"This proxy does not vote on resolution {resolution.number}.")
    if direction.revoked_at is not None:
        raise InvalidState(
            f"Member no. {appointment.grantor.number} has voted on resolution "
            f"{resolution.number} themselves, so their proxy no longer applies to it."
        )
    if direction.choice is not None:
        if choice not in (None, "", direction.choice, direction.choice.value):
            raise InvalidInput(
                f"This proxy is directed to vote {direction.choice.label} on resolution "
                f"{resolution.number}; it is cast as directed.",
                field="choice",
            )
        choice = direction.choice
    return ballots.cast_vote(
        db, resolution, appointment.grantor, choice or "", actor=actor, proxy_id=appointment.id
    )


def cast_directed_at_close(db: Session, resolution: Resolution) -> int:
    """As ``resolution`` closes (under its closing lock), cast every accepted proxy's
    direction on it that the holder did not, unless the grantor voted. How many."""
    pending = db.execute(
        select(ProxyDirection, ProxyAppointment)
        .join(ProxyAppointment, ProxyDirection.appointment_id == ProxyAppointment.id)
        .where(
            ProxyDirection.resolution_id == resolution.id,
            ProxyDirection.choice.is_not(None),
            ProxyDirection.revoked_at.is_(None),
            ProxyAppointment.state == ProxyState.ACCEPTED,
            ~select(Participation.id)
            .where(
                Participation.resolution_id == resolution.id,
                Participation.member_id == ProxyAppointment.grantor_id,
            )
            .exists(),
        )
        .order_by(ProxyAppointment.id)
    ).all()
    for direction, appointment in pending:
        entry = roll.voter_entry(db, resolution, appointment.grantor)
        if entry is None or direction.choice is None:
            continue
        ballots.add_vote(
            db,
            resolution,
            appointment.grantor,
            entry.class_id,
            direction.choice,
            proxy_id=appointment.id,
        )
    if pending:
        db.flush()
        audit.record(
            db,
            actor=None,
            action="proxy.cast_at_close",
            target=resolution,
            summary=f"{len(pending)} directed proxies cast as directed as resolution "
            f"{resolution.number} closed",
        )
    return len(pending)


def proxy_votes(db: Session, resolution: Resolution) -> int:
    """How many of the resolution's votes came by proxy (never which way)."""
    return sum(proxy_votes_by_class(db, [resolution.id]).get(resolution.id, {}).values())


def proxy_votes_by_class(db: Session, resolution_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """How many votes came by proxy on each of the resolutions, by the code of the class
    they were counted in, in one grouped query (never which way). A resolution or class
    no proxy voted in is left out."""
    counts: dict[int, dict[str, int]] = {}
    for resolution_id, code, count in db.execute(
        select(Participation.resolution_id, MemberClass.code, func.count())
        .join(MemberClass, MemberClass.id == Participation.class_id)
        .where(
            Participation.resolution_id.in_(list(resolution_ids)),
            Participation.proxy_id.is_not(None),
        )
        .group_by(Participation.resolution_id, MemberClass.code)
    ):
        counts.setdefault(resolution_id, {})[code] = count
    return counts


@dataclass(frozen=True)
class HeldResolution:
    """One resolution of a proxy the holder holds: its direction, and whether it is cast."""

    resolution: Resolution
    direction: ProxyDirection
    cast: bool
    # The choice cast, where it may be shown: an open resolution's (to the holder and the
    # grantor); a secret one's only in the holder's receipt as they cast it (``vote``).
    choice: Choice | None = None
    vote: ballots.Vote | None = None


@dataclass(frozen=True)
class HeldProxy:
    appointment: ProxyAppointment
    items: tuple[HeldResolution, ...]


def held_proxies(db: Session, meeting: Meeting, holder: Member) -> list[HeldProxy]:
    """The proxies ``holder`` holds for ``meeting`` (standing), each with its directions.

    Three statements however many proxies are held: the appointments with their grantors,
    their directions with their resolutions, and which of them are cast.
    """
    appointments = db.scalars(
        select(ProxyAppointment)
        .where(
            ProxyAppointment.meeting_id == meeting.id,
            ProxyAppointment.holder_id == holder.id,
            ProxyAppointment.state.in_(LIVE_PROXY_STATES),
        )
        .options(
            joinedload(ProxyAppointment.grantor),
            selectinload(ProxyAppointment.directions).joinedload(ProxyDirection.resolution),
        )
        .order_by(ProxyAppointment.id)
    ).all()
    if not appointments:
        return []
    cast = cast_choices(db, [a.id for a in appointments])
    return [
        HeldProxy(
            a,
            tuple(
                HeldResolution(
                    d.resolution,
                    d,
                    (d.resolution_id, a.id) in cast,
                    cast.get((d.resolution_id, a.id)),
                )
                for d in sorted(a.directions, key=lambda d: d.resolution.number)
            ),
        )
        for a in appointments
    ]


def cast_by(db: Session, appointment: ProxyAppointment | None) -> dict[int, Choice | None]:
    """What ``appointment`` cast on each resolution, for its grantor: the choice on an open
    resolution, None on a secret one or one not cast."""
    if appointment is None:
        return {}
    return {
        resolution_id: choice
        for (resolution_id, _), choice in cast_choices(db, [appointment.id]).items()
    }


def cast_choices(
    db: Session, appointment_ids: Iterable[int]
) -> dict[tuple[int, int], Choice | None]:
    """The votes the proxies cast, by (resolution id, appointment id), in one statement:
    the choice on an open resolution, None on a secret one (its participation holds no
    choice, so a secret proxy vote is shown only as cast)."""
    return {
        (resolution_id, proxy_id): choice
        for resolution_id, proxy_id, choice in db.execute(
            select(Participation.resolution_id, Participation.proxy_id, Participation.choice).where(
                Participation.proxy_id.in_(list(appointment_ids))
            )
        )
    }


@dataclass(frozen=True)
class MemberProxies:
    """A member's proxies at a meeting, for its ballot page: whether they may appoint one
    now and until when, the one they appointed, and those they hold."""

    can_appoint: bool
    deadline: datetime
    appointed: ProxyAppointment | None
    held: list[HeldProxy]


def member_proxies(db: Session, meeting: Meeting, member: Member) -> MemberProxies:
    """``member``'s proxies at ``meeting``: a few statements, however many they hold."""
    return MemberProxies(
        can_appoint=appointing_open(db, meeting) and roll.on_roll(db, meeting, member),
        deadline=deadline(db, meeting),
        appointed=latest_proxy(db, meeting, member),
        held=held_proxies(db, meeting, member),
    )


def read_holder(db: Session, value: object) -> Member | None:
    """The proxy named by the form's ``holder`` field: a member number, or ``chair``
    (None: the chair of the meeting)."""
    raw = str(value or "").strip().lstrip("#")
    if raw.lower() == CHAIR:
        return None
    number = read_whole(raw, "The member number of the proxy", low=1, high=10**9, field="holder")
    holder = db.scalar(select(Member).where(Member.number == number))
    if holder is None:
        raise InvalidInput(f"No member has the number {number}.", field="holder")
    return holder


def appoint_from_form(
    db: Session, meeting: Meeting, grantor: Member, values: Mapping[str, str], *, actor: User
) -> ProxyAppointment:
    """Appoint from the proxy form: ``holder`` (a member number, or ``chair``), ``kind``
    and a ``direction-<id>`` per resolution for a directed proxy."""
    kind = read_choice(
        ProxyKind, values.get("kind"), "Choose directed or discretionary.", field="kind"
    )
    holder = read_holder(db, values.get("holder"))
    resolutions = votable_resolutions(db, meeting, grantor)
    directions = read_directions(resolutions, kind, values)
    return appoint_proxy(
        db, meeting, grantor, holder=holder, kind=kind, directions=directions, actor=actor
    )


@dataclass(frozen=True)
class ProxyForm:
    """What the printed proxy form says: the meeting, the member, the resolutions their
    proxy may vote on, and the deadline in the co-op's zone."""

    meeting: Meeting
    member: Member
    resolutions: list[Resolution]
    deadline: datetime
    deadline_hours: int


def proxy_form(db: Session, meeting: Meeting, member: Member) -> ProxyForm:
    """The member's printed proxy form for ``meeting``: refused (403) for a member not on
    its roll, who has no vote to hand on; the deadline is
    ``CoopSettings.proxy_deadline_hours`` before the start, shown in the co-op's zone."""
    _require_roll_open(meeting)
    if not roll.on_roll(db, meeting, member):
        raise NotAllowed(
            "You are not on this meeting's voter roll, so you have no vote to hand to a proxy."
        )
    return ProxyForm(
        meeting=meeting,
        member=member,
        resolutions=votable_resolutions(db, meeting, member),
        deadline=coop.clock(db).local(deadline(db, meeting)),
        deadline_hours=coop.settings(db).proxy_deadline_hours,
    )
