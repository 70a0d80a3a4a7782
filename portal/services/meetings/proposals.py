"""Members propose resolutions to a meeting (issue 14 §4).

Staff open a call for resolutions on a meeting: a window of days that ends before the
notice must go out (``CoopSettings.notice_days`` clear days before the start, so the
accepted resolutions are on the notice). While it is open a member on the register
proposes a resolution (title, text, reason); another member seconds it; staff accept it
onto the agenda as a draft resolution with its number (``lifecycle.add_resolution``) or
return it with a reason, mailed to the proposer. Proposer and seconder are printed with
the resolution on the notice and the ballot (``Resolution.proposal``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ... import coop, mail
from ...errors import InvalidState, NotAllowed
from ...models import (
    Meeting,
    MeetingState,
    Member,
    MemberClass,
    MemberProposal,
    ProposalCall,
    ProposalState,
    ResolutionKind,
    User,
    utcnow,
)
from .. import audit, transitions
from ..inputs import read_all, read_date, read_text
from . import lifecycle, standing

# A call may be set while the meeting's agenda is still being drawn up, before notice.
CALL_STATES = (MeetingState.DRAFT,)


# -- the call for resolutions ---------------------------------------------------------------


@dataclass(frozen=True)
class CallInput:
    opens_on: date
    closes_on: date


def read_call(values: Mapping[str, str]) -> CallInput:
    """The call's first and last days as the staff form gives them (``YYYY-MM-DD``)."""
    read = read_all(
        opens_on=lambda: read_date(values.get("opens_on"), "Opens on", field="opens_on"),
        closes_on=lambda: read_date(values.get("closes_on"), "Closes on", field="closes_on"),
    )
    return CallInput(read["opens_on"], read["closes_on"])


def call_for(db: Session, meeting: Meeting) -> ProposalCall | None:
    """The meeting's call for resolutions, if staff set one."""
    return db.get(ProposalCall, meeting.id)


def set_call(db: Session, meeting: Meeting, given: CallInput, *, actor: User) -> ProposalCall:
    """Open (or move) the meeting's call for resolutions: from the start of ``opens_on`` to
    the end of ``closes_on`` (the co-op's days, ``CoopSettings.timezone``).

    Refused once notice is given, when it would close before it opens or in the past, and
    when its last day is not before the last day to send notice in time
    (``CoopSettings.notice_days`` clear days before the meeting): the call ends before
    notice, so what it brings is on the notice.
    """
    if meeting.state not in CALL_STATES:
        raise InvalidState(
            f"This meeting is {meeting.state.label.lower()}; a call for resolutions is set "
            "before the notice goes out."
        )
    lifecycle.check_window_before_notice(
        db, meeting, given.opens_on, given.closes_on, subject="The call", them="it"
    )
    clock = coop.clock(db)
    call = call_for(db, meeting)
    if call is None:
        call = ProposalCall(meeting_id=meeting.id)
        db.add(call)
    call.opens_at = clock.start_of_day(given.opens_on)
    call.closes_at = clock.end_of_day(given.closes_on)
    call.set_at = utcnow()
    call.set_by_id = actor.id
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="meeting.proposals_called",
        target=meeting,
        summary=f"Call for resolutions {given.opens_on} to {given.closes_on}",
    )
    return call


def _require_open_call(db: Session, meeting: Meeting, doing: str) -> None:
    call = call_for(db, meeting)
    now = coop.clock(db).now()
    if meeting.state not in CALL_STATES or call is None or not call.is_open_at(now):
        raise InvalidState(f"The call for resolutions is not open; {doing}.")


def _require_member(db: Session, member: Member | None, doing: str) -> Member:
    """A member on the register today (``standing.on_register``), or 403."""
    if member is None or not standing.is_member_on(db, member, coop.today(db)):
        raise NotAllowed(f"Only members on the register {doing}.")
    return member


def called_meeting(db: Session, meeting_id: int) -> Meeting | None:
    """A meeting members may see for its call for resolutions (any meeting with a call that
    was not cancelled; its ballot stays hidden until notice)."""
    return db.scalar(
        select(Meeting)
        .join(ProposalCall, ProposalCall.meeting_id == Meeting.id)
        .where(Meeting.id == meeting_id, Meeting.state != MeetingState.CANCELLED)
    )


def open_calls(db: Session) -> list[tuple[Meeting, ProposalCall]]:
    """The meetings whose call for resolutions is open now, soonest closing first."""
    now = coop.clock(db).now()
    rows = db.execute(
        select(Meeting, ProposalCall)
        .join(ProposalCall, ProposalCall.meeting_id == Meeting.id)
        .where(
            Meeting.state.in_(CALL_STATES),
            ProposalCall.opens_at <= now,
            ProposalCall.closes_at > now,
        )
        .order_by(ProposalCall.closes_at, Meeting.id)
    )
    return [(meeting, call) for meeting, call in rows]


# -- proposing and seconding ----------------------------------------------------------------


@dataclass(frozen=True)
class ProposalInput:
    title: str
    text: str
    reason: str


def read_proposal(values: Mapping[str, str]) -> ProposalInput:
    """The member's form, each field checked (and trimmed) with its own message."""
    read = read_all(
        title=lambda: read_text(values.get("title"), "Title", max_length=200, field="title"),
        text=lambda: read_text(values.get("text"), "Text", max_length=20_000, field="text"),
        reason=lambda: read_text(values.get("reason"), "Reason", max_length=4000, field="reason"),
    )
    return ProposalInput(read["title"], read["text"], read["reason"])


def submit_proposal(
    db: Session, meeting: Meeting, member: Member | None, given: ProposalInput, *, actor: User
) -> MemberProposal:
    """A member on the register proposes a resolution while the call is open (409 when it
    is not; 403 for someone not on the register today, ``standing.on_register``)."""
    proposer = _require_member(db, member, "propose resolutions")
    _require_open_call(db, meeting, "no resolution can be proposed")
    proposal = MemberProposal(
        meeting_id=meeting.id,
        proposer_id=proposer.id,
        title=given.title,
        text=given.text,
        reason=given.reason,
        state=ProposalState.SUBMITTED,
    )
    db.add(proposal)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="proposal.submitted",
        target=proposal,
        summary=f"Proposed to {meeting.title} by member {proposer.number}: {proposal.title}",
    )
    return proposal


def _locked(db: Session, proposal: MemberProposal) -> MemberProposal:
    """The proposal read again under its row's write lock (two seconders take turns)."""
    db.execute(select(MemberProposal.id).where(MemberProposal.id == proposal.id).with_for_update())
    db.refresh(proposal)  # its proposer and seconder join in: PostgreSQL locks no outer join
    return proposal


def second_proposal(
    db: Session, proposal: MemberProposal, member: Member | None, *, actor: User
) -> MemberProposal:
    """Another member on the register seconds the proposal while the call is open.

    Refused: seconding one's own (403), a proposal already seconded or decided (409, naming
    the seconder), the call closed (409), someone not on the register today (403).
    """
    seconder = _require_member(db, member, "second resolutions")
    proposal = _locked(db, proposal)
    if proposal.proposer_id == seconder.id:
        raise NotAllowed("You proposed this resolution; another member must second it.")
    if proposal.seconder_id is not None:
        who = "you" if proposal.seconder_id == seconder.id else proposal.seconder.name
        raise InvalidState(f"This resolution was already seconded, by {who}.")
    _require_open_call(db, proposal.meeting, "it can no longer be seconded")
    proposal.seconder_id = seconder.id
    proposal.seconded_at = utcnow()
    transitions.move(
        db,
        proposal,
        ProposalState.SECONDED,
        actor=actor,
        doing="seconded",
        summary=f"Seconded by member {seconder.number}: {proposal.title}",
    )
    return proposal


# -- staff decide ---------------------------------------------------------------------------


def accept_proposal(
    db: Session,
    proposal: MemberProposal,
    *,
    kind: ResolutionKind,
    member_class: MemberClass | None = None,
    closes_at: datetime | None = None,
    actor: User,
) -> MemberProposal:
    """Put a seconded proposal on the agenda as a draft resolution with the next number
    (``lifecycle.add_resolution``, which checks the meeting's agenda may still change);
    ``closes_at`` as there (None: the voting window from when voting opens)."""
    transitions.require(proposal.state, ProposalState.ACCEPTED, doing="accepted")
    resolution = lifecycle.add_resolution(
        db,
        proposal.meeting,
        title=proposal.title,
        text=proposal.text,
        kind=kind,
        member_class=member_class,
        closes_at=closes_at,
        actor=actor,
    )
    proposal.resolution_id = resolution.id
    proposal.decided_by_id = actor.id
    transitions.move(
        db,
        proposal,
        ProposalState.ACCEPTED,
        actor=actor,
        doing="accepted",
        stamp="decided_at",
        summary=f"Accepted as resolution {resolution.number}: {proposal.title}",
    )
    return proposal


def return_proposal(
    db: Session, proposal: MemberProposal, reason: str, *, actor: User
) -> MemberProposal:
    """Return a proposal (seconded or not) to its proposer with a reason, mailed to them."""
    reason = read_text(reason, "Reason", max_length=2000, field="reason")
    proposal.return_reason = reason
    proposal.decided_by_id = actor.id
    transitions.move(
        db,
        proposal,
        ProposalState.RETURNED,
        actor=actor,
        doing="returned",
        stamp="decided_at",
        summary=f"Returned: {proposal.title}",
    )
    user = proposal.proposer.user
    if user is not None and user.email:
        mail.queue(db, "proposal_returned", to=user.email, proposal=proposal, reason=reason)
    return proposal


# -- reading --------------------------------------------------------------------------------


def meeting_proposals(db: Session, meeting: Meeting) -> list[MemberProposal]:
    """The meeting's proposals in the order they came, with proposer and seconder."""
    return list(
        db.scalars(
            select(MemberProposal)
            .options(joinedload(MemberProposal.proposer), joinedload(MemberProposal.seconder))
            .where(MemberProposal.meeting_id == meeting.id)
            .order_by(MemberProposal.id)
        )
    )


def meeting_proposal(db: Session, meeting: Meeting, proposal_id: int) -> MemberProposal | None:
    return db.scalar(
        select(MemberProposal).where(
            MemberProposal.id == proposal_id, MemberProposal.meeting_id == meeting.id
        )
    )


def movers(db: Session, meeting: Meeting) -> dict[int, MemberProposal]:
    """The accepted proposals of the meeting by the id of the resolution each became."""
    return {
        p.resolution_id: p
        for p in meeting_proposals(db, meeting)
        if p.resolution_id is not None and p.state is ProposalState.ACCEPTED
    }
