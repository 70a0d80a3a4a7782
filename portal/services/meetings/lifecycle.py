"""A meeting's life: created with its agenda, noticed, voting opened, cancelled.

Each move is a state change through ``services.transitions.move``, which checks the state
it comes from (``MeetingState``'s table) and audits it. Closing voting and counting are
in ``closing``; the roll in ``roll``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ... import coop
from ...errors import InvalidInput, InvalidState
from ...models import (
    NOMINATING_STATES,
    AgendaItem,
    Document,
    Election,
    Meeting,
    MeetingKind,
    MeetingState,
    MemberClass,
    ProposalCall,
    Resolution,
    ResolutionKind,
    ResolutionState,
    User,
    VotingMode,
)
from .. import audit, transitions
from ..inputs import read_all, read_choice, read_date, read_flag, read_text
from ..register.classes import find_class
from . import notices, roll
from .tally import Rules

# The standard agenda of an annual general meeting, offered for every new AGM.
STANDARD_AGM_AGENDA = (
    "Apologies for absence",
    "Minutes of the last annual general meeting",
    "Annual report and accounts",
    "Appointment of auditors",
    "Election of directors to the board",
    "Resolutions",
    "Any other business",
)


@dataclass(frozen=True)
class MeetingInput:
    """What staff give for a meeting; ``starts_at`` is an instant (stored in UTC)."""

    kind: MeetingKind
    title: str
    starts_at: datetime
    record_date: date
    place: str = ""
    online_url: str = ""
    member_class: MemberClass | None = None
    voting_mode: VotingMode | None = None  # None: the co-op's CoopSettings.voting_mode


def _checked(given: MeetingInput, clock: coop.Clock) -> MeetingInput:
    """The input with its text trimmed, or refused with the field at fault; the record
    date is checked against the meeting's day in the co-op's zone (``CoopSettings.timezone``)."""
    title = read_text(given.title, "Title", max_length=200, field="title")
    place = read_text(given.place, "Place", max_length=300, required=False, field="place")
    url = read_text(
        given.online_url, "Online link", max_length=500, required=False, field="online_url"
    )
    if url and (urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).netloc):
        raise InvalidInput("The online link must be a web address (https://…).", field="online_url")
    if not place and not url:
        raise InvalidInput("Give a place, an online link, or both.", field="place")
    if given.starts_at.tzinfo is None:
        raise ValueError("starts_at must be timezone-aware")
    if given.record_date > clock.day_of(given.starts_at):
        raise InvalidInput(
            "The record date must be on or before the day of the meeting.", field="record_date"
        )
    if (given.kind is MeetingKind.CLASS) != (given.member_class is not None):
        raise InvalidInput(
            "A class meeting is for one member class; other meetings are for all classes.",
            field="member_class",
        )
    return MeetingInput(
        kind=given.kind,
        title=title,
        starts_at=given.starts_at,
        record_date=given.record_date,
        place=place,
        online_url=url,
        member_class=given.member_class,
        voting_mode=given.voting_mode,
    )


CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _read_time(value: object) -> time:
    raw = str(value or "").strip()
    match = CLOCK_TIME.fullmatch(raw)
    if match is None:
        raise InvalidInput("Starts at: write the time as HH:MM (19:00).", field="starts_time")
    return time(int(match.group(1)), int(match.group(2)))


def _read_class(db: Session, code: object, *, field: str = "member_class") -> MemberClass | None:
    """The class named by its code, None when none is named; refused when unknown."""
    raw = str(code or "").strip()
    if not raw:
        return None
    found = find_class(db, raw[:40])
    if found is None:
        raise InvalidInput("Choose one of the co-op's member classes.", field=field)
    return found


def read_meeting(db: Session, values: Mapping[str, str]) -> MeetingInput:
    """A meeting as the staff form gives it: the start is a day and a time in the co-op's
    zone (``CoopSettings.timezone``); an empty voting mode keeps the co-op's own."""
    clock = coop.clock(db)
    read = read_all(
        kind=lambda: read_choice(
            MeetingKind, values.get("kind"), "Choose the kind of meeting.", field="kind"
        ),
        starts_on=lambda: read_date(
            values.get("starts_on"), "Day of the meeting", field="starts_on"
        ),
        starts_time=lambda: _read_time(values.get("starts_time")),
        record_date=lambda: read_date(
            values.get("record_date"), "Record date", field="record_date"
        ),
        member_class=lambda: _read_class(db, values.get("member_class")),
        voting_mode=lambda: (
            None
            if not values.get("voting_mode")
            else read_choice(
                VotingMode, values.get("voting_mode"), "Choose a voting mode.", field="voting_mode"
            )
        ),
    )
    local_start = datetime.combine(read["starts_on"], read["starts_time"], clock.zone)
    return MeetingInput(
        kind=read["kind"],
        title=str(values.get("title", "")),
        starts_at=local_start.astimezone(UTC),
        record_date=read["record_date"],
        place=str(values.get("place", "")),
        online_url=str(values.get("online_url", "")),
        member_class=read["member_class"],
        voting_mode=read["voting_mode"],
    )


def create_meeting(
    db: Session, given: MeetingInput, *, actor: User, standard_agenda: bool = True
) -> Meeting:
    """A new meeting in draft; an AGM starts with the standard agenda unless told not to.

    The start must be in the future (the co-op's clock) and the record date not after
    the meeting's day (``CoopSettings.timezone`` decides the day).
    """
    clock = coop.clock(db)
    given = _checked(given, clock)
    if given.starts_at <= clock.now():
        raise InvalidInput("The meeting must start in the future.", field="starts_at")
    meeting = Meeting(
        kind=given.kind,
        title=given.title,
        starts_at=given.starts_at,
        record_date=given.record_date,
        place=given.place,
        online_url=given.online_url,
        member_class=given.member_class,
        voting_mode=given.voting_mode,
        state=MeetingState.DRAFT,
        created_by_id=actor.id,
    )
    if standard_agenda and given.kind is MeetingKind.AGM:
        meeting.agenda = [
            AgendaItem(position=i, title=title) for i, title in enumerate(STANDARD_AGM_AGENDA)
        ]
    db.add(meeting)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="meeting.created",
        target=meeting,
        summary=f"{meeting.kind.label}: {meeting.title}",
    )
    return meeting


def _require_editable(meeting: Meeting, doing: str) -> None:
    if meeting.state not in (MeetingState.DRAFT, MeetingState.NOTICED):
        raise InvalidState(f"This meeting is {meeting.state.label.lower()}; {doing}.")


def add_agenda_item(
    db: Session,
    meeting: Meeting,
    *,
    title: str,
    description: str = "",
    document: Document | None = None,
    actor: User,
) -> AgendaItem:
    """Add an item at the end of the agenda, optionally linking a library document."""
    _require_editable(meeting, "its agenda can no longer change")
    position = 1 + max((item.position for item in meeting.agenda), default=-1)
    item = AgendaItem(
        position=position,
        title=read_text(title, "Title", max_length=200, field="title"),
        description=read_text(
            description, "Description", max_length=4000, required=False, field="description"
        ),
        document=document,
    )
    meeting.agenda.append(item)
    db.flush()
    audit.record(
        db, actor=actor, action="meeting.agenda_item_added", target=meeting, summary=item.title
    )
    return item


def _check_voting_class(
    meeting: Meeting, kind: ResolutionKind, member_class: MemberClass | None
) -> None:
    if (kind is ResolutionKind.CLASS) != (member_class is not None):
        raise InvalidInput(
            "A class resolution names the class that votes on it; other kinds name none.",
            field="member_class",
        )
    if meeting.class_id is not None and member_class not in (None, meeting.member_class):
        raise InvalidInput(
            "A class meeting's resolutions are voted on by its own class.",
            field="member_class",
        )


def add_resolution(
    db: Session,
    meeting: Meeting,
    *,
    title: str,
    text: str,
    kind: ResolutionKind,
    member_class: MemberClass | None = None,
    secret: bool = False,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    amends: Document | None = None,
    actor: User,
) -> Resolution:
    """Put a resolution to the meeting, numbered after the last; a draft until voting opens.

    A class resolution names its class (in a class meeting, the meeting's class);
    ``opens_at`` and ``closes_at`` default to when voting opens and
    ``CoopSettings.voting_window_days`` after.
    """
    _require_editable(meeting, "no resolution can be added")
    _check_voting_class(meeting, kind, member_class)
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise InvalidInput("Voting must close after it opens.", field="closes_at")
    number = 1 + (
        db.scalar(select(func.max(Resolution.number)).where(Resolution.meeting_id == meeting.id))
        or 0
    )
    resolution = Resolution(
        meeting=meeting,
        number=number,
        title=read_text(title, "Title", max_length=200, field="title"),
        text=read_text(text, "Text", max_length=20_000, field="text"),
        kind=kind,
        member_class=member_class,
        secret=secret,
        opens_at=opens_at,
        closes_at=closes_at,
        amends_document=amends,
        state=ResolutionState.DRAFT,
    )
    db.add(resolution)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="resolution.added",
        target=resolution,
        summary=f"Resolution {number} ({kind.label.lower()}): {resolution.title}",
    )
    return resolution


@dataclass(frozen=True)
class ResolutionInput:
    """What staff give for a resolution (its voting times default when voting opens)."""

    title: str
    text: str
    kind: ResolutionKind
    member_class: MemberClass | None = None
    secret: bool = False
    amends: Document | None = None  # a library document it amends


def _read_document(db: Session, slug: object) -> Document | None:
    """The library document named by its slug, None when none is named; refused when unknown."""
    raw = str(slug or "").strip()
    if not raw:
        return None
    found = db.scalar(select(Document).where(Document.slug == raw[:80]))
    if found is None:
        raise InvalidInput("Choose a document from the library, or none.", field="amends")
    return found


def read_resolution(db: Session, values: Mapping[str, str]) -> ResolutionInput:
    """A resolution as the staff form gives it; a class is named only for a class resolution."""
    read = read_all(
        kind=lambda: read_choice(
            ResolutionKind, values.get("kind"), "Choose the kind of resolution.", field="kind"
        ),
        member_class=lambda: _read_class(db, values.get("member_class")),
        amends=lambda: _read_document(db, values.get("amends")),
    )
    kind = read["kind"]
    return ResolutionInput(
        title=str(values.get("title", "")),
        text=str(values.get("text", "")),
        kind=kind,
        member_class=read["member_class"] if kind is ResolutionKind.CLASS else None,
        secret=read_flag(values.get("secret")),
        amends=read["amends"],
    )


def edit_resolution(
    db: Session, resolution: Resolution, given: ResolutionInput, *, actor: User
) -> Resolution:
    """Change a resolution while it is a draft and its meeting's agenda may still change."""
    meeting = resolution.meeting
    _require_editable(meeting, "its resolutions can no longer change")
    if resolution.state is not ResolutionState.DRAFT:
        raise InvalidState(
            f"Resolution {resolution.number} is {resolution.state.label.lower()}; "
            "it can no longer change."
        )
    _check_voting_class(meeting, given.kind, given.member_class)
    resolution.title = read_text(given.title, "Title", max_length=200, field="title")
    resolution.text = read_text(given.text, "Text", max_length=20_000, field="text")
    resolution.kind = given.kind
    resolution.member_class = given.member_class
    resolution.secret = given.secret
    resolution.amends_document = given.amends
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="resolution.edited",
        target=resolution,
        summary=f"Resolution {resolution.number} ({given.kind.label.lower()}): {resolution.title}",
    )
    return resolution


@dataclass(frozen=True)
class NoticePeriod:
    """Clear days left if notice went out now, against ``CoopSettings.notice_days``."""

    clear_days: int
    needed: int
    last_day: date

    @property
    def short(self) -> bool:
        return self.clear_days < self.needed


def notice_period(db: Session, meeting: Meeting) -> NoticePeriod:
    """The clear days notice sent now would give against ``CoopSettings.notice_days``, and
    the last day to send in time (days in the co-op's zone, ``CoopSettings.timezone``)."""
    clock = coop.clock(db)
    needed = coop.settings(db).notice_days
    return NoticePeriod(
        clock.clear_days_between(clock.now(), meeting.starts_at),
        needed,
        clock.last_day_to_send(meeting.starts_at, needed),
    )


def check_window_before_notice(
    db: Session, meeting: Meeting, opens_on: date, closes_on: date, *, subject: str, them: str
) -> None:
    """A window of days members act in before the meeting (a call for resolutions, an
    election's nominations): it closes on or after it opens, not in the past, and before
    the last day to send notice in time (``CoopSettings.notice_days`` clear days before the
    meeting, in the co-op's zone ``CoopSettings.timezone``), so what it brings is on the
    notice. ``subject`` names
    the window in the messages ("The call", "Nominations"), ``them`` its pronoun."""
    clock = coop.clock(db)
    opens = "it opens" if them == "it" else "they open"
    if closes_on < opens_on:
        raise InvalidInput(f"{subject} must close on or after the day {opens}.", field="closes_on")
    if closes_on < clock.today():
        raise InvalidInput(f"{subject} must close today or later.", field="closes_on")
    notice_by = clock.last_day_to_send(meeting.starts_at, coop.settings(db).notice_days)
    if closes_on >= notice_by:
        raise InvalidInput(
            f"{subject} must close before the notice goes out: the last day to send it is "
            f"{notice_by:%-d %B %Y}, so close {them} by the day before.",
            field="closes_on",
        )


def _require_call_closed(db: Session, meeting: Meeting, now: datetime) -> None:
    """409 while the meeting's call for resolutions is open, or still to open."""
    call = db.get(ProposalCall, meeting.id)
    if call is None or call.closes_at <= now:
        return
    last_day = coop.clock(db).last_day_before(call.closes_at)
    when = "is open" if call.opens_at <= now else "has not opened yet; it runs"
    raise InvalidState(
        f"The call for resolutions on this meeting {when} until the end of "
        f"{last_day:%-d %B %Y}. "
        "Send the notice once it has closed, so the resolutions members propose are on it."
    )


def _require_elections_listed(db: Session, meeting: Meeting) -> None:
    """409 while an election of the meeting still takes or awaits nominations: its
    confirmed candidates are printed on the notice (issue 15 §2)."""
    waiting = db.scalars(
        select(Election)
        .where(Election.meeting_id == meeting.id, Election.state.in_(NOMINATING_STATES))
        .order_by(Election.id)
    ).first()
    if waiting is None:
        return
    raise InvalidState(
        f"The election of {waiting.member_class.name} directors is "
        f"{waiting.state.label.lower()}: confirm its candidates, or cancel it, before sending "
        "the notice, so the candidates are on it."
    )


def send_notice(
    db: Session, meeting: Meeting, *, actor: User, short_notice_reason: str = ""
) -> Meeting:
    """Give notice of the meeting: refused when fewer than ``CoopSettings.notice_days``
    clear days remain before it (neither the day of sending nor the meeting's day counts,
    ``coop.Clock.clear_days_between``, in the co-op's zone, ``CoopSettings.timezone``),
    unless staff give a reason for short notice, which is recorded (and printed on the
    notice). Refused while the call for resolutions is open or an election of the meeting
    has no confirmed candidate list (staff confirm it or cancel the election). Freezes the
    roll once its record date has come, publishes the notice and queues its mailing to
    every member (``notices.prepare_notice``: mailed once this transaction commits).
    """
    transitions.require(meeting.state, MeetingState.NOTICED, doing="noticed")
    clock = coop.clock(db)
    now = clock.now()
    if meeting.starts_at <= now:
        raise InvalidState("This meeting has already started; notice can no longer be given.")
    if not meeting.agenda:
        raise InvalidState("Give the meeting an agenda before sending its notice.")
    _require_call_closed(db, meeting, now)
    _require_elections_listed(db, meeting)
    period = notice_period(db, meeting)
    needed, clear_days = period.needed, period.clear_days
    reason = read_text(
        short_notice_reason,
        "The reason for short notice",
        max_length=2000,
        required=False,
        field="short_notice_reason",
    )
    if clear_days >= needed:
        reason = ""
    elif not reason:
        raise InvalidInput(
            f"Only {clear_days} clear days remain before the meeting; the rules ask for "
            f"{needed} (the last day to send was {period.last_day:%-d %B %Y}). "
            "Give a reason to send short notice anyway.",
            field="short_notice_reason",
        )
    meeting.notice_clear_days = clear_days
    meeting.short_notice_reason = reason or None
    summary = f"Notice sent with {clear_days} clear days"
    if reason:
        summary += f" (short notice: {reason})"
    transitions.move(
        db,
        meeting,
        MeetingState.NOTICED,
        actor=actor,
        doing="noticed",
        stamp="notice_sent_at",
        summary=summary,
    )
    if meeting.record_date <= clock.today():
        roll.freeze_roll(db, meeting, actor=actor)
    notices.prepare_notice(db, meeting, actor=actor)
    return meeting


def open_voting(db: Session, meeting: Meeting, *, actor: User) -> list[Resolution]:
    """Open voting on the meeting's draft resolutions; the roll is frozen first if it is
    not yet. Each resolution's counting rules are fixed now (``tally.Rules.from_settings``:
    the meeting's voting mode, else ``CoopSettings.voting_mode``, and the quorum and
    majority settings), and its window defaults to now until
    ``CoopSettings.voting_window_days`` days later, at the end of that day in the co-op's
    zone (``CoopSettings.timezone``).
    """
    transitions.require(meeting.state, MeetingState.VOTING_OPEN, doing="opened for voting")
    drafts = [r for r in meeting.resolutions if r.state is ResolutionState.DRAFT]
    if not drafts:
        raise InvalidState("This meeting has no resolution to vote on.")
    clock = coop.clock(db)
    window = timedelta(days=coop.settings(db).voting_window_days)
    for resolution in drafts:
        resolution.opens_at = resolution.opens_at or clock.now()
        resolution.closes_at = resolution.closes_at or clock.end_of_day(
            clock.day_of(resolution.opens_at) + window
        )
    _open_resolutions(db, meeting, drafts, actor=actor)
    return drafts


def open_resolution_for(
    db: Session, resolution: Resolution, duration: timedelta, *, actor: User
) -> Resolution:
    """Open voting on one draft resolution from now for ``duration`` (a vote taken in the
    meeting); the meeting's voting opens with it when it is not open yet. The same open
    path as :func:`open_voting`: the roll frozen, the counting rules fixed from the settings.
    """
    meeting = resolution.meeting
    transitions.require(resolution.state, ResolutionState.OPEN, doing="opened for voting")
    if meeting.state is not MeetingState.VOTING_OPEN:
        transitions.require(meeting.state, MeetingState.VOTING_OPEN, doing="opened for voting")
    now = coop.clock(db).now()
    resolution.opens_at, resolution.closes_at = now, now + duration
    _open_resolutions(db, meeting, [resolution], actor=actor)
    return resolution


def _open_resolutions(
    db: Session, meeting: Meeting, resolutions: list[Resolution], *, actor: User
) -> None:
    """Freeze the roll if it is not yet, open each draft (its window set) with its counting
    rules fixed now, and the meeting's voting with them when it is not open yet."""
    roll.freeze_roll(db, meeting, actor=actor)
    # Members on the roll admitted since the notice went out get it now.
    notices.add_roll_recipients(db, meeting)
    settings = coop.settings(db)
    for resolution in resolutions:
        if resolution.closes_at <= resolution.opens_at:
            raise InvalidState(
                f"Resolution {resolution.number} would close before it opens; "
                "change its voting times."
            )
        resolution.rules = Rules.from_settings(
            settings, resolution.kind, meeting.voting_mode
        ).as_json()
        transitions.move(
            db,
            resolution,
            ResolutionState.OPEN,
            actor=actor,
            doing="opened for voting",
            stamp="opened_at",
            summary=f"Voting opened on resolution {resolution.number}",
        )
    if meeting.state is not MeetingState.VOTING_OPEN:
        numbers = ", ".join(str(r.number) for r in resolutions)
        transitions.move(
            db,
            meeting,
            MeetingState.VOTING_OPEN,
            actor=actor,
            doing="opened for voting",
            stamp="voting_opened_at",
            summary=f"Voting opened on {len(resolutions)} resolutions ({numbers})",
        )


def withdraw_resolution(db: Session, resolution: Resolution, *, actor: User) -> None:
    """Take a resolution off the vote (its votes, if any, are never counted)."""
    transitions.move(
        db,
        resolution,
        ResolutionState.WITHDRAWN,
        actor=actor,
        doing="withdrawn",
        stamp="withdrawn_at",
        summary=f"Resolution {resolution.number} withdrawn",
    )


def cancel_meeting(db: Session, meeting: Meeting, *, actor: User, reason: str) -> None:
    """Cancel a meeting before voting opens; the reason is recorded in the audit log."""
    why = read_text(reason, "The reason", max_length=500, field="reason")
    transitions.move(
        db,
        meeting,
        MeetingState.CANCELLED,
        actor=actor,
        doing="cancelled",
        stamp="cancelled_at",
        summary=f"Cancelled: {why}",
    )
    for resolution in meeting.resolutions:
        if resolution.state is ResolutionState.DRAFT:
            withdraw_resolution(db, resolution, actor=actor)
