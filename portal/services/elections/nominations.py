"""Elections on a meeting and their nominations (issue 15 §1, §2).

Staff put an election of each class with seats up on a meeting while its agenda is drawn
up (``MeetingState.DRAFT``): how many seats (1 to the class's ``board_seats``, less the
seats of directors whose terms run past the meeting, ``board.continuing_count``) and a
nominations window that ends before the notice must go out
(``CoopSettings.notice_days`` clear days before the start), so the confirmed list is
published with the notice.

While nominations are open a member of the class (on the register today,
``meetings.standing``) nominates themselves, or another member of the class, who is
mailed and must accept; the nominee gives a short statement (Markdown, sanitised as
documents are: ``markup.render_markdown``) and may add a photo (``uploads.accept_image``); another
member of the class, neither the nominee nor the nominator, seconds. When nominations
close staff confirm each seconded candidate or reject one with a reason, then confirm the
list: nominations never accepted or seconded lapse then. Each action is one audit event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ... import coop, mail, markup
from ...errors import InvalidInput, InvalidState, NotAllowed
from ...models import (
    NOMINATING_STATES,
    STANDING_CANDIDATE_STATES,
    Candidate,
    CandidateState,
    Election,
    ElectionState,
    Meeting,
    MeetingKind,
    MeetingState,
    Member,
    MemberClass,
    User,
    utcnow,
)
from ...uploads import StoredImage
from .. import audit, transitions
from ..inputs import read_all, read_date, read_text, read_whole
from ..meetings import lifecycle, standing
from . import board

STATEMENT_MAX = 3000  # characters of Markdown: a short statement, about a page
REASON_MAX = 2000
# Why a nomination not accepted or seconded in time is left off the list (not mailed).
LAPSED_REASON = "Not accepted and seconded before nominations closed."

# Elections are set, and their windows moved, while the meeting's agenda is drawn up.
SETTING_STATES = (MeetingState.DRAFT,)


# -- elections on a meeting -----------------------------------------------------------------


@dataclass(frozen=True)
class ElectionInput:
    seats: int
    opens_on: date
    closes_on: date


def title(election: Election) -> str:
    """The election in words: "the election of Artist directors"."""
    return f"the election of {election.member_class.name} directors"


def read_election(values: Mapping[str, str]) -> ElectionInput:
    """The staff form: seats and the nominations window's first and last days."""
    read = read_all(
        seats=lambda: read_whole(values.get("seats"), "Seats", low=1, high=99, field="seats"),
        opens_on=lambda: read_date(values.get("opens_on"), "Opens on", field="opens_on"),
        closes_on=lambda: read_date(values.get("closes_on"), "Closes on", field="closes_on"),
    )
    return ElectionInput(read["seats"], read["opens_on"], read["closes_on"])


def read_class(db: Session, code: object) -> MemberClass:
    """The class an election is for, by its code, or 422."""
    member_class = db.scalar(select(MemberClass).where(MemberClass.code == str(code or "")))
    if member_class is None:
        raise InvalidInput("Choose the class whose directors are elected.", field="class_code")
    return member_class


def _check_setting(
    db: Session, meeting: Meeting, member_class: MemberClass, given: ElectionInput
) -> None:
    if meeting.state not in SETTING_STATES:
        raise InvalidState(
            f"This meeting is {meeting.state.label.lower()}; elections are set before the "
            "notice goes out."
        )
    if meeting.kind is MeetingKind.CLASS and meeting.class_id != member_class.id:
        raise InvalidInput(
            "A class meeting elects only its own class's directors.", field="class_id"
        )
    if member_class.board_seats < 1:
        raise InvalidInput(f"The {member_class.name} class has no board seats.", field="seats")
    if given.seats > member_class.board_seats:
        raise InvalidInput(
            f"The {member_class.name} class has {member_class.board_seats} board seat(s); "
            f"no more than that can be elected.",
            field="seats",
        )
    continuing = board.continuing_count(db, member_class, meeting)
    if given.seats > member_class.board_seats - continuing:
        raise InvalidInput(
            f"{continuing} of the {member_class.name} class's {member_class.board_seats} board "
            f"seat(s) are held by directors whose terms run past this meeting; at most "
            f"{max(member_class.board_seats - continuing, 0)} can be elected.",
            field="seats",
        )
    lifecycle.check_window_before_notice(
        db, meeting, given.opens_on, given.closes_on, subject="Nominations", them="them"
    )


def create_election(
    db: Session, meeting: Meeting, member_class: MemberClass, given: ElectionInput, *, actor: User
) -> Election:
    """Put an election of ``member_class`` on the meeting (one per class), in draft.

    Refused: the meeting past its draft (409), a class with no board seats or seats over its
    ``board_seats``, a window that closes before it opens, in the past, or not before the
    last day to send notice (422), a second election of the class on the meeting (409).
    """
    _check_setting(db, meeting, member_class, given)
    existing = db.scalar(
        select(Election.id).where(
            Election.meeting_id == meeting.id, Election.class_id == member_class.id
        )
    )
    if existing is not None:
        raise InvalidState(
            f"This meeting already has an election of {member_class.name} directors."
        )
    clock = coop.clock(db)
    election = Election(
        meeting_id=meeting.id,
        class_id=member_class.id,
        seats=given.seats,
        nominations_open_at=clock.start_of_day(given.opens_on),
        nominations_close_at=clock.end_of_day(given.closes_on),
        created_by_id=actor.id,
    )
    db.add(election)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="election.created",
        target=election,
        summary=f"{meeting.title}: {given.seats} {member_class.name} seat(s), nominations "
        f"{given.opens_on} to {given.closes_on}",
    )
    return election


def change_election(
    db: Session, election: Election, given: ElectionInput, *, actor: User
) -> Election:
    """Change the seats or the window while nominations may still change (before they close)."""
    if election.state not in (ElectionState.DRAFT, ElectionState.NOMINATIONS_OPEN):
        raise InvalidState(
            f"This election is {election.state.label.lower()}; its seats and window are fixed."
        )
    _check_setting(db, election.meeting, election.member_class, given)
    clock = coop.clock(db)
    election.seats = given.seats
    election.nominations_open_at = clock.start_of_day(given.opens_on)
    election.nominations_close_at = clock.end_of_day(given.closes_on)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="election.changed",
        target=election,
        summary=f"{given.seats} seat(s), nominations {given.opens_on} to {given.closes_on}",
    )
    return election


def open_nominations(db: Session, election: Election, *, actor: User) -> Election:
    """Open nominations (they are taken inside the window only)."""
    if election.meeting.state not in SETTING_STATES:
        raise InvalidState("Notice has gone out; nominations can no longer open.")
    transitions.move(
        db,
        election,
        ElectionState.NOMINATIONS_OPEN,
        actor=actor,
        doing="opened for nominations",
        stamp="nominations_opened_at",
        summary=f"Nominations opened: {election.member_class.name}",
    )
    return election


def close_nominations(db: Session, election: Election, *, actor: User) -> Election:
    """Close nominations (staff may close them early; none are taken after the window)."""
    transitions.move(
        db,
        election,
        ElectionState.NOMINATIONS_CLOSED,
        actor=actor,
        doing="closed for nominations",
        stamp="nominations_closed_at",
        summary=f"Nominations closed: {election.member_class.name}",
    )
    return election


def cancel_election(db: Session, election: Election, reason: str, *, actor: User) -> Election:
    """Cancel an election before voting opens (no candidates, say, or seats filled another
    way); the reason is recorded in the audit log. Its nominations stay as they were."""
    why = read_text(reason, "The reason", max_length=REASON_MAX, field="reason")
    transitions.move(
        db,
        election,
        ElectionState.CANCELLED,
        actor=actor,
        doing="cancelled",
        stamp="cancelled_at",
        summary=f"Election of {election.member_class.name} directors cancelled: {why}",
    )
    return election


# -- nominating, accepting, seconding ----------------------------------------------------------


def _require_window(db: Session, election: Election, doing: str) -> None:
    if not election.takes_nominations_at(coop.clock(db).now()):
        raise InvalidState(f"Nominations for this election are not open; {doing}.")


def _require_class_member(
    db: Session, election: Election, member: Member | None, who: str
) -> Member:
    """A member on the register today in the election's class, or 403 naming ``who``."""
    member_class = election.member_class
    if member is None or not standing.is_member_on(db, member, coop.today(db), member_class):
        raise NotAllowed(
            f"{who} must be a member of the {member_class.name} class on the register: "
            f"these are the {member_class.name} class's seats."
        )
    return member


def read_statement(value: object) -> str:
    """The candidate's statement: Markdown, at most ``STATEMENT_MAX`` characters."""
    return read_text(value, "Statement", max_length=STATEMENT_MAX, field="statement")


def statement_html(candidate: Candidate) -> Markup:
    """The statement as safe HTML, sanitised as documents are (``markup.render_markdown``)."""
    return markup.render_markdown(candidate.statement)


def find_nominee(db: Session, number_text: object) -> Member:
    """The member a nominator names by member number, or 422."""
    number = read_whole(number_text, "Member number", low=1, high=10**9, field="member_number")
    member = db.scalar(select(Member).where(Member.number == number))
    if member is None:
        raise InvalidInput(f"There is no member number {number}.", field="member_number")
    return member


def nominate(
    db: Session,
    election: Election,
    nominator: Member | None,
    nominee: Member,
    *,
    statement: str = "",
    photo: StoredImage | None = None,
    actor: User,
) -> Candidate:
    """Nominate ``nominee`` (the nominator themselves, or another member of the class).

    A self-nomination is accepted at once and needs its statement; another member's waits
    for the nominee to accept (``accept_nomination``) and give theirs. Refused: nominations
    not open (409), a nominator or nominee outside the class (403), a member already
    nominated in this election (409).
    """
    nominator = _require_class_member(db, election, nominator, "The nominator")
    _require_window(db, election, "no one can be nominated")
    _require_class_member(db, election, nominee, f"{nominee.name} (the nominee)")
    earlier = db.scalar(
        select(Candidate).where(
            Candidate.election_id == election.id, Candidate.member_id == nominee.id
        )
    )
    if earlier is not None:
        raise InvalidState(
            f"{nominee.name} was already nominated in this election "
            f"({earlier.state.label.lower()})."
        )
    is_self = nominator.id == nominee.id
    if is_self:
        statement = read_statement(statement)
    candidate = Candidate(
        election_id=election.id,
        member_id=nominee.id,
        nominated_by_id=nominator.id,
        statement=statement if is_self else "",
        state=CandidateState.ACCEPTED if is_self else CandidateState.NOMINATED,
        accepted_at=utcnow() if is_self else None,
    )
    if is_self:
        _set_photo(candidate, photo)
    db.add(candidate)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="nomination.submitted",
        target=candidate,
        summary=f"Member {nominee.number} nominated for {election.member_class.name} by "
        f"member {nominator.number}" + (" (self)" if is_self else ""),
    )
    if not is_self and nominee.user is not None and nominee.user.email:
        mail.queue(db, "nomination_received", to=nominee.user.email, candidate=candidate)
    return candidate


def _set_photo(candidate: Candidate, photo: StoredImage | None) -> None:
    if photo is not None:
        candidate.photo_sha256 = photo.sha256
        candidate.photo_type = photo.content_type


def _locked(db: Session, candidate: Candidate) -> Candidate:
    """The candidate read again under its row's write lock (two seconders take turns)."""
    db.execute(select(Candidate.id).where(Candidate.id == candidate.id).with_for_update())
    db.refresh(candidate)
    return candidate


def accept_nomination(
    db: Session,
    candidate: Candidate,
    member: Member | None,
    *,
    statement: str,
    photo: StoredImage | None = None,
    actor: User,
) -> Candidate:
    """The nominee accepts, with their statement and optional photo, while nominations are
    open (403 for anyone but the nominee)."""
    if member is None or member.id != candidate.member_id:
        raise NotAllowed("Only the member nominated can accept the nomination.")
    candidate = _locked(db, candidate)
    _require_window(db, candidate.election, "the nomination can no longer be accepted")
    candidate.statement = read_statement(statement)
    _set_photo(candidate, photo)
    transitions.move(
        db,
        candidate,
        CandidateState.ACCEPTED,
        actor=actor,
        doing="accepted",
        stamp="accepted_at",
        summary=f"Nomination accepted by member {member.number}",
    )
    return candidate


def second_nomination(
    db: Session, candidate: Candidate, member: Member | None, *, actor: User
) -> Candidate:
    """Another member of the class seconds an accepted nomination while nominations are open.

    Refused: the nominee or nominator seconding (403), a seconder outside the class (403),
    a nomination not yet accepted or already seconded (409), nominations closed (409).
    """
    election = candidate.election
    seconder = _require_class_member(db, election, member, "The seconder")
    candidate = _locked(db, candidate)
    if seconder.id == candidate.member_id:
        raise NotAllowed("You cannot second your own nomination; another member must.")
    if seconder.id == candidate.nominated_by_id:
        raise NotAllowed("You nominated this member; another member must second.")
    if candidate.seconded_by_id is not None:
        who = "you" if candidate.seconded_by_id == seconder.id else candidate.seconded_by.name
        raise InvalidState(f"This nomination was already seconded, by {who}.")
    if candidate.state is CandidateState.NOMINATED:
        raise InvalidState("The nominee has not accepted yet; second it once they have.")
    _require_window(db, election, "the nomination can no longer be seconded")
    candidate.seconded_by_id = seconder.id
    transitions.move(
        db,
        candidate,
        CandidateState.SECONDED,
        actor=actor,
        doing="seconded",
        stamp="seconded_at",
        summary=f"Nomination of member {candidate.member.number} seconded by member "
        f"{seconder.number}",
    )
    return candidate


def withdraw_nomination(
    db: Session, candidate: Candidate, member: Member | None, *, actor: User
) -> Candidate:
    """The nominee declines or stands down, until voting opens (403 for anyone else)."""
    if member is None or member.id != candidate.member_id:
        raise NotAllowed("Only the member nominated can withdraw the nomination.")
    election = candidate.election
    if election.state not in (*NOMINATING_STATES, ElectionState.CANDIDATES_CONFIRMED):
        raise InvalidState("Voting has opened; a candidate can no longer stand down.")
    transitions.move(
        db,
        candidate,
        CandidateState.WITHDRAWN,
        actor=actor,
        doing="withdrawn",
        stamp="withdrawn_at",
        summary=f"Nomination withdrawn by member {member.number}",
    )
    return candidate


# -- staff decide ---------------------------------------------------------------------------


def _require_closed(election: Election, doing: str) -> None:
    if election.state is not ElectionState.NOMINATIONS_CLOSED:
        raise InvalidState(
            f"This election is {election.state.label.lower()}; candidates are {doing} once "
            "nominations have closed."
        )


def confirm_candidate(db: Session, candidate: Candidate, *, actor: User) -> Candidate:
    """Confirm a seconded candidate for the ballot, once nominations have closed."""
    _require_closed(candidate.election, "confirmed")
    candidate.decided_by_id = actor.id
    transitions.move(
        db,
        candidate,
        CandidateState.CONFIRMED,
        actor=actor,
        doing="confirmed",
        stamp="decided_at",
        summary=f"Candidate confirmed: member {candidate.member.number}",
    )
    return candidate


def reject_candidate(
    db: Session, candidate: Candidate, reason: str, *, actor: User, notify: bool = True
) -> Candidate:
    """Reject a nomination with a reason, before the list is confirmed; the nominee is
    mailed the reason unless ``notify`` is false (a nomination lapsing at confirmation)."""
    reason = read_text(reason, "Reason", max_length=REASON_MAX, field="reason")
    if candidate.election.state not in NOMINATING_STATES:
        raise InvalidState("The candidate list is confirmed; it no longer changes.")
    number = candidate.member.number  # loaded before the row changes (autoflush)
    candidate.reject_reason = reason
    candidate.decided_by_id = actor.id
    transitions.move(
        db,
        candidate,
        CandidateState.REJECTED,
        actor=actor,
        doing="rejected",
        stamp="decided_at",
        summary=f"Candidate rejected: member {number}: {reason}",
    )
    user = candidate.member.user
    if notify and user is not None and user.email:
        mail.queue(db, "nomination_rejected", to=user.email, candidate=candidate, reason=reason)
    return candidate


def confirm_candidate_list(db: Session, election: Election, *, actor: User) -> Election:
    """Confirm the list: nominations not accepted or seconded lapse (rejected, with the
    reason); refused while a seconded candidate awaits staff's decision or when no
    candidate is confirmed."""
    _require_closed(election, "listed")
    candidates = election_candidates(db, election)
    waiting = [c for c in candidates if c.state is CandidateState.SECONDED]
    if waiting:
        names = ", ".join(c.member.name for c in waiting)
        raise InvalidState(f"Confirm or reject every seconded candidate first: {names}.")
    if not any(c.state is CandidateState.CONFIRMED for c in candidates):
        raise InvalidState("No candidate is confirmed; reopen nominations or cancel the election.")
    for candidate in candidates:
        if candidate.state in (CandidateState.NOMINATED, CandidateState.ACCEPTED):
            reject_candidate(db, candidate, LAPSED_REASON, actor=actor, notify=False)
    transitions.move(
        db,
        election,
        ElectionState.CANDIDATES_CONFIRMED,
        actor=actor,
        doing="confirmed",
        stamp="confirmed_at",
        summary=f"Candidate list confirmed: {election.member_class.name}",
    )
    return election


# -- reading --------------------------------------------------------------------------------


def meeting_elections(db: Session, meeting: Meeting) -> list[Election]:
    """The meeting's elections in the classes' order."""
    return list(
        db.scalars(
            select(Election)
            .join(MemberClass, MemberClass.id == Election.class_id)
            .options(joinedload(Election.member_class))
            .where(Election.meeting_id == meeting.id)
            .order_by(MemberClass.position, MemberClass.id)
        )
    )


def meeting_election(db: Session, meeting: Meeting, election_id: int) -> Election | None:
    return db.scalar(
        select(Election).where(Election.id == election_id, Election.meeting_id == meeting.id)
    )


def visible_election(db: Session, meeting_id: int, election_id: int) -> Election | None:
    """An election members may see: not in draft or cancelled, its meeting not cancelled."""
    return db.scalar(
        select(Election)
        .join(Meeting, Meeting.id == Election.meeting_id)
        .where(
            Election.id == election_id,
            Election.meeting_id == meeting_id,
            Election.state.not_in((ElectionState.DRAFT, ElectionState.CANCELLED)),
            Meeting.state != MeetingState.CANCELLED,
        )
    )


def elections_taking_nominations(db: Session) -> list[Election]:
    """The elections whose nominations are open now, soonest closing first."""
    now = coop.clock(db).now()
    return list(
        db.scalars(
            select(Election)
            .options(joinedload(Election.meeting), joinedload(Election.member_class))
            .where(
                Election.state == ElectionState.NOMINATIONS_OPEN,
                Election.nominations_open_at <= now,
                Election.nominations_close_at > now,
            )
            .order_by(Election.nominations_close_at, Election.id)
        )
    )


def election_candidates(db: Session, election: Election) -> list[Candidate]:
    """Every nomination of the election in the order they came, with the members named."""
    return list(
        db.scalars(
            select(Candidate)
            .options(
                joinedload(Candidate.member),
                joinedload(Candidate.nominated_by),
                joinedload(Candidate.seconded_by),
            )
            .where(Candidate.election_id == election.id)
            .order_by(Candidate.id)
        )
    )


def standing_candidates(db: Session, election: Election) -> list[Candidate]:
    """The nominations that still stand (not withdrawn or rejected)."""
    return [c for c in election_candidates(db, election) if c.state in STANDING_CANDIDATE_STATES]


def election_candidate(db: Session, election: Election, candidate_id: int) -> Candidate | None:
    return db.scalar(
        select(Candidate).where(Candidate.id == candidate_id, Candidate.election_id == election.id)
    )
