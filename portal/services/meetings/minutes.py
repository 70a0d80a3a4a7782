"""Minutes of a general meeting: a draft pre-filled from the meeting, and its publication.

Once voting has closed (``MeetingState.VOTING_CLOSED``) staff draft the minutes in
Markdown. The draft starts from what the portal knows: attendance and turnout per class
(the frozen roll and the participations, counted in the database), the quorum, and each
resolution's number, title, text and declared result as stored when voting closed
(``results.Outcome``: never recounted), each board election counted at it (read from
the stored count, ``Election.result_json``), with headings for the discussion. Staff name
the chair and write the rest.

The minutes open with particulars composed from the meeting and the chair field (the
kind of meeting, its date and time in the co-op's zone, ``CoopSettings.timezone``, its
place), so they cannot drift from the meeting's record (:func:`compose`).

Publishing makes them version 1 of a new document in the library's Minutes category,
read by members (``services.documents.publishing``), and moves the meeting from
``voting_closed`` to ``minutes_published``, in one transaction. After that the document is
the record: a correction is a new version of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ... import coop
from ...db import lock_row
from ...errors import InvalidInput, InvalidState
from ...models import (
    Candidate,
    Document,
    DocumentCategory,
    DocumentVersion,
    Election,
    ElectionState,
    Meeting,
    MeetingMinutes,
    MeetingState,
    MemberClass,
    Participation,
    Resolution,
    ResolutionState,
    RollEntry,
    User,
    Visibility,
    utcnow,
)
from .. import audit, transitions
from ..documents import library, publishing
from ..inputs import read_text
from .results import Outcome, meeting_outcomes, percent

CHAIR_MAX = 200
DISCUSSION = "_Record the discussion here._"
CLOSING = "_The chair closed the meeting at …_"


@dataclass(frozen=True)
class ClassAttendance:
    """A voting class at the meeting: members on its roll, and those who took part."""

    name: str
    roll: int
    took_part: int

    @property
    def turnout(self) -> str:
        return percent(Fraction(self.took_part, self.roll) if self.roll else None)


def attendance(db: Session, meeting: Meeting) -> list[ClassAttendance]:
    """Members on the roll by the class they vote in, and how many of them took part in at
    least one of the meeting's votes. Counted by the database: no roll row is loaded."""
    took_part = exists().where(
        Participation.member_id == RollEntry.member_id,
        Participation.resolution_id.in_(
            select(Resolution.id).where(Resolution.meeting_id == meeting.id)
        ),
    )
    rows = db.execute(
        select(MemberClass.name, func.count(RollEntry.id), func.count(case((took_part, 1))))
        .join(RollEntry, RollEntry.class_id == MemberClass.id)
        .where(RollEntry.meeting_id == meeting.id, RollEntry.is_primary.is_(True))
        .group_by(MemberClass.id, MemberClass.name, MemberClass.position)
        .order_by(MemberClass.position, MemberClass.id)
    )
    return [ClassAttendance(name, roll, voted) for name, roll, voted in rows]


# -- the Markdown ------------------------------------------------------------------------


def _cell(text: object) -> str:
    """Text fit for a Markdown table cell: one line, its pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _quoted(text: str) -> str:
    """Markdown as a block quote, so a resolution's own headings stay inside it."""
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def _long_date(day: date) -> str:
    return day.strftime("%-d %B %Y")


def particulars(meeting: Meeting, chair: str, clock: coop.Clock) -> str:
    """The minutes' opening lines: the meeting, when, where, the chair. The day and time
    are the co-op's wall-clock time (``clock``: ``CoopSettings.timezone``)."""
    start = clock.local(meeting.starts_at)
    kind = meeting.kind.label
    if meeting.member_class is not None:
        kind += f" of the {meeting.member_class.name} class"
    place = meeting.place
    if meeting.online_url:
        place = f"{place}, and online at" if place else "Online at"
        place += f" <{meeting.online_url}>"
    lines = [
        f"**Meeting:** {kind}",
        f"**Date:** {start:%A} {_long_date(start.date())}, {start:%H:%M} ({clock.zone.key})",
        f"**Place:** {place}",
        f"**Chair:** {chair or '(to be named)'}",
    ]
    return "\\\n".join(lines)


def compose(meeting: Meeting, chair: str, body: str, clock: coop.Clock) -> str:
    """The minutes as published: the particulars, then the text staff wrote."""
    return f"{particulars(meeting, chair, clock)}\n\n{body.strip()}\n"


def _present(meeting: Meeting, classes: list[ClassAttendance]) -> list[str]:
    roll = sum(c.roll for c in classes)
    voted = sum(c.took_part for c in classes)
    share = percent(Fraction(voted, roll) if roll else None)
    lines = [
        "## Present",
        "",
        f"{roll} member{'' if roll == 1 else 's'} were on the voter roll, taken from the "
        f"register on the record date, {_long_date(meeting.record_date)}; {voted} of them "
        f"({share}) took part in at least one vote.",
        "",
    ]
    if classes:
        lines += ["| Class | On the roll | Took part | Turnout |", "|---|---:|---:|---:|"]
        lines += [f"| {_cell(c.name)} | {c.roll} | {c.took_part} | {c.turnout} |" for c in classes]
        lines += [f"| All classes | {roll} | {voted} | {share} |", ""]
    lines += ["_Record who else attended (directors, staff, auditors, guests) and apologies._", ""]
    return lines


def _quorum(outcomes: list[Outcome]) -> list[str]:
    """Each resolution's quorum as declared, and the rule: ``CoopSettings.quorum_min_members``,
    ``quorum_percent`` and ``quorum_percent_per_class`` as fixed when voting opened."""
    if not outcomes:
        return []
    lines = [
        "## Quorum",
        "",
        "| Resolution | Had to take part | Took part | Quorate |",
        "|---|---:|---:|---|",
    ]
    for o in outcomes:
        t = o.tally
        quorate = "Yes" if t.quorate else "No"
        if o.short_classes:
            quorate += f" (short in {', '.join(o.short_classes)})"
        lines.append(
            f"| {o.resolution.number}. {_cell(o.resolution.title)} | {t.quorum} of {t.roll} "
            f"| {t.turnout} | {_cell(quorate)} |"
        )
    rules = outcomes[0].tally.rules
    rule = (
        f"The quorum is the greater of {rules.quorum_min_members} members and "
        f"{rules.quorum_percent} % of those entitled to vote"
    )
    if rules.quorum_percent_per_class:
        rule += f"; each class must also reach {rules.quorum_percent_per_class} % of its own roll"
    return [*lines, "", rule + ".", ""]


def _agenda(meeting: Meeting) -> list[str]:
    lines = ["## Agenda and discussion", ""]
    for n, item in enumerate(meeting.agenda, start=1):
        lines += [f"### {n}. {item.title}", ""]
        if item.description:
            lines += [item.description, ""]
        lines += [DISCUSSION, ""]
    if not meeting.agenda:
        lines += [DISCUSSION, ""]
    return lines


def result_sentence(outcome: Outcome) -> str:
    """A resolution's declared result in one paragraph: the votes, what was needed, quorum."""
    t = outcome.tally
    sentence = (
        f"**Result: {outcome.result.label}.** For {t.votes_for}, Against {t.against}, "
        f"Abstain {t.abstain}; For was {outcome.share_for} of For and Against"
        f"{', weighted by class' if outcome.weighted else ''}. "
        f"Needed: {outcome.threshold}. Quorum: {outcome.quorum}. {outcome.by_proxy}."
    )
    if outcome.classes_without_majority:
        sentence += f" No majority in {', '.join(outcome.classes_without_majority)}."
    return sentence


def _resolutions(meeting: Meeting, outcomes: dict[int, Outcome]) -> list[str]:
    put = [r for r in meeting.resolutions if r.state is not ResolutionState.DRAFT]
    if not put:
        return []
    lines = ["## Resolutions", ""]
    for r in put:
        lines += [f"### Resolution {r.number}: {r.title}", ""]
        about = r.kind.label
        if r.member_class is not None:
            about += f" ({r.member_class.name} class)"
        if r.secret:
            about += ", by secret ballot"
        if r.amends_document is not None:
            about += f"; it amends “{r.amends_document.title}”"
        lines += [f"_{about}._", "", _quoted(r.text), ""]
        outcome = outcomes.get(r.id)
        if r.state is ResolutionState.WITHDRAWN:
            lines += ["**Withdrawn** before the vote was counted.", ""]
        elif outcome is not None:
            lines += [result_sentence(outcome), ""]
        lines += [DISCUSSION, ""]
    return lines


def counted_elections(db: Session, meeting: Meeting) -> list[Election]:
    """The meeting's board elections with a stored count, in the classes' order."""
    return list(
        db.scalars(
            select(Election)
            .join(MemberClass, MemberClass.id == Election.class_id)
            .options(joinedload(Election.member_class))
            .where(
                Election.meeting_id == meeting.id,
                Election.state.in_((ElectionState.COUNTED, ElectionState.DECLARED)),
                Election.result_json.is_not(None),
            )
            .order_by(MemberClass.position, MemberClass.id)
        )
    )


def _elections(db: Session, meeting: Meeting) -> list[str]:
    """Each counted election: the class, seats, who was elected, the quota and the valid
    ballots, as stored when it closed (``Election.result_json``, the STV count's record)."""
    elections = counted_elections(db, meeting)
    if not elections:
        return []
    lines = ["## Board elections", ""]
    for election in elections:
        result = election.result_json or {}
        elected_ids = list(result.get("elected", []))
        names = _candidate_names(db, elected_ids)
        seats = election.seats
        candidates = len(result.get("candidates", []))
        empty = result.get("empty_ballots", 0)
        how = "by secret ballot, " if election.secret else ""
        lines += [
            f"### {election.member_class.name} directors",
            "",
            f"{seats} seat{'' if seats == 1 else 's'}, {candidates} candidate"
            f"{'' if candidates == 1 else 's'}; {how}counted by the single transferable vote: "
            f"quota {result.get('quota')}, {result.get('ballots')} valid ballots"
            f"{f', {empty} empty' if empty else ''}.",
            "",
        ]
        elected = ", ".join(names[c] for c in elected_ids) or "No one"
        declared = election.state is ElectionState.DECLARED
        lines += [
            f"**Elected:** {_cell(elected)}"
            f" ({'declared' if declared else 'counted, to be declared'}).",
            "",
        ]
    return lines


def _candidate_names(db: Session, candidate_ids: list[int]) -> dict[int, str]:
    candidates = db.scalars(
        select(Candidate)
        .options(joinedload(Candidate.member))
        .where(Candidate.id.in_(candidate_ids))
    )
    return {c.id: c.member.name for c in candidates}


def prefilled_body(db: Session, meeting: Meeting) -> str:
    """The Markdown a new draft starts from: attendance and turnout per class, quorum, the
    agenda with space for the discussion, each resolution with its declared result, and
    each counted board election."""
    outcomes = meeting_outcomes(db, meeting)
    lines = [
        *_present(meeting, attendance(db, meeting)),
        *_quorum(outcomes),
        *_agenda(meeting),
        *_resolutions(meeting, {o.resolution.id: o for o in outcomes}),
        *_elections(db, meeting),
        "## Close",
        "",
        CLOSING,
    ]
    return "\n".join(lines) + "\n"


# -- the draft ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """The minutes as staff are writing them; ``saved_at`` is None until first saved."""

    chair: str
    body: str
    saved_at: datetime | None = None
    saved_by: User | None = None


def minutes_of(db: Session, meeting: Meeting) -> MeetingMinutes | None:
    """The meeting's saved minutes (a draft, or the published record), if any."""
    return db.get(MeetingMinutes, meeting.id)


def draft_of(db: Session, meeting: Meeting) -> Draft:
    """The saved draft, or a new one pre-filled from the meeting (not saved)."""
    saved = minutes_of(db, meeting)
    if saved is None:
        return Draft(chair="", body=prefilled_body(db, meeting))
    return Draft(saved.chair, saved.body, saved.saved_at, saved.saved_by)


def require_drafting(meeting: Meeting) -> None:
    """Refuse (409) unless the meeting's minutes may be written now: voting has closed and
    they are not yet published."""
    if meeting.state is MeetingState.MINUTES_PUBLISHED:
        raise InvalidState(
            "The minutes of this meeting are published already; a correction is a new "
            "version of their document in the library."
        )
    if meeting.state is not MeetingState.VOTING_CLOSED:
        raise InvalidState(
            f"This meeting is {meeting.state.label.lower()}; its minutes are written once "
            "voting has closed."
        )


def _checked(chair: str, body: str, *, publishing_now: bool) -> tuple[str, str]:
    """The chair and text trimmed, or refused with the field at fault."""
    chair = read_text(chair, "The chair", max_length=CHAIR_MAX, required=False, field="chair")
    if publishing_now and not chair:
        raise InvalidInput("Name the chair of the meeting before publishing.", field="chair")
    body = str(body or "").replace("\r\n", "\n")
    if not body.strip():
        raise InvalidInput("Write the minutes.", field="body")
    if len(body) > publishing.MAX_BODY_CHARS:
        raise InvalidInput("The minutes are too long for one document.", field="body")
    return chair, body


def _keep(db: Session, meeting: Meeting, chair: str, body: str, actor: User) -> MeetingMinutes:
    minutes = minutes_of(db, meeting)
    if minutes is None:
        minutes = MeetingMinutes(meeting_id=meeting.id)
        db.add(minutes)
    minutes.chair = chair
    minutes.body = body
    minutes.saved_at = utcnow()
    minutes.saved_by_id = actor.id
    db.flush()
    return minutes


def save_draft(db: Session, meeting: Meeting, *, chair: str, body: str, actor: User) -> Draft:
    """Keep the draft (it can be edited again until the minutes are published)."""
    lock_row(db, meeting)
    require_drafting(meeting)
    chair, body = _checked(chair, body, publishing_now=False)
    minutes = _keep(db, meeting, chair, body, actor)
    audit.record(
        db, actor=actor, action="meeting.minutes_saved", target=meeting, summary="Minutes drafted"
    )
    return Draft(minutes.chair, minutes.body, minutes.saved_at, actor)


# -- publishing --------------------------------------------------------------------------


def minutes_title(meeting: Meeting, clock: coop.Clock) -> str:
    """The library document's title: the meeting and its day (``CoopSettings.timezone``)."""
    day = _long_date(clock.day_of(meeting.starts_at))
    return f"Minutes: {meeting.title[: 200 - len(day) - 12]}, {day}"


def _free_slug(db: Session, title: str, meeting: Meeting) -> str:
    slug = publishing.slugify(title)
    if db.scalar(select(exists().where(Document.slug == slug))):
        slug = f"{slug[:70]}-{meeting.id}"
    return slug


@dataclass(frozen=True)
class MinutesPublication:
    """What publishing the minutes will do, shown to staff before they confirm."""

    meeting: Meeting
    title: str
    effective_on: date
    text: str  # the Markdown as it will be published

    @property
    def summary(self) -> str:
        return (
            f"Publishes “{self.title}” in the library's Minutes category, read by members "
            f"and staff, approved {_long_date(self.effective_on)}; the meeting's state "
            "becomes Minutes published."
        )


def preview_publication(
    db: Session, meeting: Meeting, *, chair: str, body: str
) -> MinutesPublication:
    """What :func:`publish_minutes` would do with this chair and text; writes nothing."""
    require_drafting(meeting)
    chair, body = _checked(chair, body, publishing_now=True)
    clock = coop.clock(db)
    return MinutesPublication(
        meeting, minutes_title(meeting, clock), clock.today(), compose(meeting, chair, body, clock)
    )


def publish_minutes(
    db: Session, meeting: Meeting, *, chair: str, body: str, actor: User
) -> DocumentVersion:
    """Publish the minutes: kept as drafted, made version 1 of a document in the Minutes
    category (members may read it), and the meeting moved to ``minutes_published``.

    Sent twice (a double click on Confirm), the second finds the minutes published and
    is refused (409) with nothing written: the meeting's row is locked first.
    """
    lock_row(db, meeting)
    require_drafting(meeting)
    chair, body = _checked(chair, body, publishing_now=True)
    minutes = _keep(db, meeting, chair, body, actor)
    clock = coop.clock(db)
    title = minutes_title(meeting, clock)
    document = publishing.create_document(
        db,
        title=title,
        category=DocumentCategory.MINUTES.value,
        visibility=Visibility.MEMBERS.value,
        summary=f"The minutes of the {meeting.kind.label.lower()} of "
        f"{_long_date(clock.day_of(meeting.starts_at))}: who took part, the resolutions "
        "and their results.",
        approved_by="",
        actor=actor,
        slug=_free_slug(db, title, meeting),
    )
    version = publishing.publish_markdown(
        db,
        document,
        body=compose(meeting, chair, body, clock),
        effective_on=clock.today(),
        change_note="The minutes as published after the meeting",
        actor=actor,
    )
    minutes.document_id = document.id
    transitions.move(
        db,
        meeting,
        MeetingState.MINUTES_PUBLISHED,
        actor=actor,
        doing="given published minutes",
        stamp="minutes_published_at",
        summary=f"Minutes published as “{document.title}”",
    )
    return version


@dataclass(frozen=True)
class PublishedMinutes:
    """The document the minutes became, and its version in force (a correction, if any)."""

    document: Document
    version: DocumentVersion


def published_minutes(db: Session, meeting: Meeting, user: User | None) -> PublishedMinutes | None:
    """The meeting's published minutes if ``user`` may read their document; else None
    (none published yet, or the document hidden from them)."""
    minutes = minutes_of(db, meeting)
    if minutes is None or minutes.document_id is None:
        return None
    document = db.scalar(
        select(Document)
        .options(selectinload(Document.versions))
        .where(
            Document.id == minutes.document_id,
            Document.visibility.in_(library.readable_by(db, user)),
        )
    )
    if document is None or not document.versions:
        return None
    version = library.current_version(document, coop.today(db)) or document.versions[0]
    return PublishedMinutes(document, version)
