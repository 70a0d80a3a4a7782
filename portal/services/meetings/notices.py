"""The notice of a meeting: published in the library and mailed to every member, once each.

Giving notice (``lifecycle.send_notice``, which checks ``CoopSettings.notice_days``)
ends with :func:`prepare_notice`, in the same transaction as the meeting's move to
``noticed``: the notice is published as a Markdown document in the library's notices
category (with its agenda, papers, resolutions and any reason for short notice), and a
delivery row is written for each recipient. Nothing is mailed in that transaction: once
it commits, the job :data:`JOB` is queued (``portal.tasks``), and it sends the pending rows
in batches, each batch by key (the next ``batch_size`` pending ids of the meeting), so a
mailing to 100,000 members never loads them all or holds one long transaction.

Each member gets the notice once, even when the sender stops and is resumed: the unique
(meeting, member) row is claimed (``sending``) and committed before its message is handed
to the mail server, so no sender ever takes it again; the outcome is recorded after. A
sender that stops between the two leaves those rows "unconfirmed" (at most one batch),
shown to staff, never sent twice. Messages the mail server refused are ``failed``, with
the error; resuming sends them again.

Who gets it: every member on the voter roll. When the roll is frozen at notice (the
record date has come, ``roll.freeze_roll``) that is the roll. When the record date is
still to come, the roll cannot be taken yet, so the notice goes to every member active
today (of the meeting's class, for a class meeting): those entitled to attend now. When
the roll is frozen later (at the record date, when voting opens), anyone on it who has
not had the notice (admitted since) gets it then (:func:`add_roll_recipients`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from ... import coop, mail, markup, tasks
from ...db import write_session
from ...errors import InvalidState
from ...links import public_url
from ...models import (
    Candidate,
    CandidateState,
    ClassMembership,
    DeliveryState,
    Document,
    DocumentCategory,
    Election,
    ElectionState,
    Meeting,
    MeetingState,
    Member,
    MemberClass,
    MemberStatus,
    NoticeDelivery,
    NoticeMailing,
    Resolution,
    ResolutionState,
    RollEntry,
    User,
    Visibility,
    utcnow,
)
from .. import audit
from ..documents import publishing

log = logging.getLogger(__name__)

JOB = "meetings.send_notices"
# Messages claimed, sent and recorded together: a sender that stops leaves at most this
# many unconfirmed.
BATCH_SIZE = 100
# A mailing with work left and no batch for this long has stalled: staff may resume it.
STALLED_AFTER = timedelta(minutes=2)
_ERROR_LENGTH = 300


# -- giving notice --------------------------------------------------------------------------


def prepare_notice(db: Session, meeting: Meeting, *, actor: User) -> NoticeMailing:
    """Publish the meeting's notice and write a pending delivery for each recipient; the
    mailing is queued once the transaction commits (see the module's docstring)."""
    document = publish_notice(db, meeting, actor=actor)
    mailing = NoticeMailing(meeting_id=meeting.id, document_id=document.id, started_at=utcnow())
    db.add(mailing)
    db.flush()
    recipients = _add_recipients(db, meeting, _recipient_ids(db, meeting))
    _queue(db, meeting, actor, f"Notice published and queued for {recipients} members")
    return mailing


def _queue(db: Session, meeting: Meeting, actor: User | None, summary: str) -> None:
    """Audit the mailing's new recipients and queue the sender for after the commit."""
    audit.record(db, actor=actor, action="meeting.notice_mailing", target=meeting, summary=summary)
    tasks.after_commit(db, JOB, meeting.id)


def add_roll_recipients(db: Session, meeting: Meeting) -> int:
    """Add every member on the (now frozen) roll who has no copy of the notice yet, and
    queue the mailing; returns how many were added (0 when the meeting has no mailing)."""
    mailing = db.get(NoticeMailing, meeting.id)
    if mailing is None or not meeting.roll_is_frozen:
        return 0
    added = _add_recipients(db, meeting, _roll_ids(meeting))
    if added:
        mailing.finished_at = None
        _queue(db, meeting, None, f"Notice queued for {added} members on the roll without it")
    return added


def _roll_ids(meeting: Meeting) -> Any:
    return select(RollEntry.member_id).where(
        RollEntry.meeting_id == meeting.id, RollEntry.is_primary.is_(True)
    )


def _recipient_ids(db: Session, meeting: Meeting) -> Any:
    """Who the notice goes to: the roll if frozen, else every member active today (of the
    meeting's class), as dated by the co-op's clock (``CoopSettings.timezone``)."""
    if meeting.roll_is_frozen:
        return _roll_ids(meeting)
    today = coop.today(db)
    ids = select(Member.id).where(Member.status == MemberStatus.ACTIVE, Member.admitted_on <= today)
    if meeting.class_id is not None:
        ids = ids.where(
            exists().where(
                ClassMembership.member_id == Member.id,
                ClassMembership.class_id == meeting.class_id,
                ClassMembership.admitted_on <= today,
                or_(ClassMembership.ended_on.is_(None), ClassMembership.ended_on > today),
            )
        )
    return ids


def _add_recipients(db: Session, meeting: Meeting, member_ids: Any) -> int:
    """Insert a pending delivery for each of ``member_ids`` who has none, in the database
    (the ids are never loaded here); returns how many were added."""
    chosen = member_ids.subquery()
    already = exists().where(
        NoticeDelivery.meeting_id == meeting.id,
        NoticeDelivery.member_id == chosen.c[0],
    )
    rows = select(
        literal(meeting.id), chosen.c[0], literal(DeliveryState.PENDING.value), literal(0)
    ).where(~already)
    result = db.execute(
        insert(NoticeDelivery).from_select(["meeting_id", "member_id", "state", "attempts"], rows)
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


def publish_notice(db: Session, meeting: Meeting, *, actor: User) -> Document:
    """Publish the notice as a Markdown document in the library's notices category, read by
    members and staff, in effect from today (the co-op's date)."""
    title = f"Notice of the {meeting.title}"[:200]
    document = publishing.create_document(
        db,
        title=title,
        slug=f"notice-{meeting.id}-{publishing.slugify(meeting.title)}",
        category=DocumentCategory.NOTICES.value,
        visibility=Visibility.MEMBERS.value,
        summary=f"Notice, agenda and resolutions of the {meeting.kind.label.lower()}.",
        approved_by="",
        actor=actor,
    )
    publishing.publish_markdown(
        db,
        document,
        body=notice_markdown(db, meeting),
        effective_on=coop.today(db),
        change_note=f"Notice sent with {meeting.notice_clear_days} clear days",
        actor=actor,
    )
    return document


def _plain(text: str) -> str:
    """Text set into Markdown as it is: the characters that would format it escaped."""
    return "".join(f"\\{c}" if c in "\\`*_[]<>#|!" else c for c in " ".join(text.split()))


def notice_markdown(db: Session, meeting: Meeting) -> str:
    """The notice as Markdown: when and where, the agenda with its papers, the resolutions
    with their kind and text, the board elections with their confirmed candidates (each
    statement quoted, sanitised when the document is shown), and the reason for short
    notice when one was given (``Meeting.short_notice_reason``, below
    ``CoopSettings.notice_days``)."""
    settings = coop.settings(db)
    starts = coop.clock(db).local(meeting.starts_at)
    kind = meeting.kind.label.lower()
    if meeting.member_class is not None:
        kind += f" of the {meeting.member_class.name} class"
    lines = [
        f"{_plain(settings.legal_name)} gives notice that its {kind}, "
        f"**{_plain(meeting.title)}**, will be held on "
        f"**{starts:%A %-d %B %Y at %H:%M}** ({settings.timezone} time).",
        "",
    ]
    if meeting.place:
        lines.append(f"- **Place:** {_plain(meeting.place)}")
    if meeting.online_url:
        lines.append(f"- **Online:** <{meeting.online_url}>")
    lines += [
        f"- **Record date:** {meeting.record_date:%-d %B %Y}. Members on the register that "
        "day vote; the roll is taken from the register then.",
        f"- **Vote and read the papers:** <{_meeting_link(meeting)}>",
        "",
    ]
    if meeting.short_notice_reason:
        lines += [
            "## Short notice",
            "",
            f"This notice gives {meeting.notice_clear_days} clear days; the rules ask for "
            f"{settings.notice_days}. The reason: {_plain(meeting.short_notice_reason)}",
            "",
        ]
    lines += ["## Agenda", ""]
    for number, item in enumerate(meeting.agenda, start=1):
        lines.append(f"{number}. **{_plain(item.title)}**")
        if item.description:
            lines.append(f"   {_plain(item.description)}")
        if item.document is not None:
            paper = public_url("documents.document", slug=item.document.slug)
            lines.append(f"   Paper: [{_plain(item.document.title)}]({paper})")
    resolutions = _resolutions(meeting)
    if resolutions:
        lines += ["", "## Resolutions", ""]
        for resolution in resolutions:
            lines += [
                f"### Resolution {resolution.number}: {_plain(resolution.title)}",
                "",
                f"*{_resolution_kind(resolution)}*",
                "",
                *_movers(resolution),
                resolution.text.strip(),
                "",
            ]
    lines += _elections_markdown(notice_elections(db, meeting))
    return "\n".join(lines).strip() + "\n"


@dataclass(frozen=True)
class NoticeElection:
    """An election on the notice: its class, seats and confirmed candidates (by name)."""

    election: Election
    candidates: list[Candidate]

    @property
    def seats(self) -> int:
        return self.election.seats


def notice_elections(db: Session, meeting: Meeting) -> list[NoticeElection]:
    """The meeting's elections with a confirmed candidate list, in the classes' order, each
    with its confirmed candidates by name (issue 15 §2: the list goes out with the notice)."""
    elections = db.scalars(
        select(Election)
        .join(MemberClass, MemberClass.id == Election.class_id)
        .where(
            Election.meeting_id == meeting.id,
            Election.state.not_in(
                (
                    ElectionState.DRAFT,
                    ElectionState.NOMINATIONS_OPEN,
                    ElectionState.NOMINATIONS_CLOSED,
                    ElectionState.CANCELLED,
                )
            ),
        )
        .order_by(MemberClass.position, MemberClass.id)
    ).all()
    return [
        NoticeElection(
            election,
            sorted(
                (c for c in election.candidates if c.state is CandidateState.CONFIRMED),
                key=lambda c: (c.member.name.casefold(), c.id),
            ),
        )
        for election in elections
    ]


def candidate_movers(candidate: Candidate) -> str:
    """ "Nominated by Ann Byrne, seconded by Cy Dunne" / "Nominated themselves, …"."""
    words = (
        "Nominated themselves"
        if candidate.self_nominated
        else f"Nominated by {candidate.nominated_by.name}"
    )
    if candidate.seconded_by is not None:
        words += f", seconded by {candidate.seconded_by.name}"
    return words


def statement_text(candidate: Candidate) -> str:
    """The candidate's statement as plain text for the mail (``markup.render_plain``)."""
    return markup.render_plain(candidate.statement)


def _elections_markdown(elections: list[NoticeElection]) -> list[str]:
    """The elections' section: per class its seats and each confirmed candidate, with who
    nominated and seconded them and their statement quoted (a blockquote keeps the
    statement's own headings and lists inside it)."""
    if not elections:
        return []
    lines = ["", "## Board elections", ""]
    for item in elections:
        election = item.election
        seats = f"{election.seats} seat{'' if election.seats == 1 else 's'}"
        lines += [
            f"### {_plain(election.member_class.name)} directors: {seats}",
            "",
            f"{len(item.candidates)} confirmed candidate"
            f"{'' if len(item.candidates) == 1 else 's'}; members of the "
            f"{_plain(election.member_class.name)} class rank them when voting opens.",
            "",
        ]
        for candidate in item.candidates:
            lines += [f"#### {_plain(candidate.member.name)}", ""]
            lines += [f"*{_plain(candidate_movers(candidate))}, members.*", ""]
            statement = candidate.statement.strip()
            if statement:
                lines += [f"> {line}".rstrip() for line in statement.splitlines()]
                lines.append("")
    return lines


def _meeting_link(meeting: Meeting) -> str:
    return public_url("meetings.meeting", meeting_id=meeting.id)


def _resolutions(meeting: Meeting) -> list[Resolution]:
    """The resolutions put to the meeting (a withdrawn one is not)."""
    return [r for r in meeting.resolutions if r.state is not ResolutionState.WITHDRAWN]


def _movers(resolution: Resolution) -> list[str]:
    """ "Proposed by … and seconded by …" for a resolution members put (issue 14 §4)."""
    proposal = getattr(resolution, "proposal", None)  # Resolution.proposal (models.motions)
    if proposal is None or proposal.seconder is None:
        return []
    return [
        f"Proposed by {_plain(proposal.proposer.name)} and seconded by "
        f"{_plain(proposal.seconder.name)}, members.",
        "",
    ]


def _resolution_kind(resolution: Resolution) -> str:
    """ "Special resolution, secret ballot" / "Class resolution (Artist class)"."""
    words = resolution.kind.label
    if resolution.member_class is not None:
        words += f" ({resolution.member_class.name} class)"
    if resolution.secret:
        words += ", secret ballot"
    return words


# -- sending --------------------------------------------------------------------------------

SessionOpener = Callable[[], AbstractContextManager[Session]]
Deliver = Callable[[mail.Mail], None]


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    message: mail.Mail | None  # None: the member has no address to mail
    problem: str = ""


@dataclass(frozen=True)
class SendRun:
    """What one run of the sender did."""

    batches: int
    sent: int
    failed: int


def send_pending(
    meeting_id: int,
    *,
    open_session: SessionOpener | None = None,
    batch_size: int = BATCH_SIZE,
    deliver: Deliver | None = None,
) -> SendRun:
    """Send the meeting's pending notices, batch by batch, until none is left.

    Each batch: one transaction claims the next pending rows by key and renders their
    messages; the messages go to the mail server; a second transaction records each one
    sent or failed. Safe to run twice at once (a claimed row is never claimed again: on
    PostgreSQL the claim skips rows another sender has locked; SQLite's write transactions
    take turns). ``open_session`` gives a committing write session (``write_session``).
    """
    opener = open_session or write_session
    send = deliver or mail.deliver
    batches = sent = failed = 0
    while True:
        with opener() as db:
            claimed = _claim_batch(db, meeting_id, batch_size)
        if not claimed:
            break
        batches += 1
        outcomes: dict[int, str] = {}
        for item in claimed:
            if item.message is None:
                outcomes[item.delivery_id] = item.problem
                continue
            try:
                send(item.message)
            except Exception as exc:  # the server refused it: recorded, sent again on resume
                log.warning("notice %s not sent: %s", item.delivery_id, exc)
                outcomes[item.delivery_id] = f"{type(exc).__name__}: {exc}"[:_ERROR_LENGTH]
            else:
                outcomes[item.delivery_id] = ""
        with opener() as db:
            _record_outcomes(db, meeting_id, outcomes)
        failed += sum(1 for problem in outcomes.values() if problem)
        sent += sum(1 for problem in outcomes.values() if not problem)
    with opener() as db:
        _finish_if_done(db, meeting_id)
    return SendRun(batches, sent, failed)


@tasks.job(JOB)
def _send_job(meeting_id: int) -> None:
    """The queued job: send what is pending of the meeting's notice."""
    send_pending(meeting_id)


@tasks.job("meetings.resume_notices", sweep=True)
def _resume_job() -> None:
    """The worker's sweep: finish any mailing a stopped sender left with pending rows."""
    resume_unfinished()


def resume_unfinished(
    *, open_session: SessionOpener | None = None, batch_size: int = BATCH_SIZE
) -> dict[int, SendRun]:
    """Send what is pending of every unfinished mailing (``flask --app portal
    send-notices``); returns each meeting's run."""
    opener = open_session or write_session
    with opener() as db:
        meeting_ids = list(
            db.scalars(
                select(NoticeDelivery.meeting_id)
                .where(NoticeDelivery.state == DeliveryState.PENDING)
                .distinct()
                .order_by(NoticeDelivery.meeting_id)
            )
        )
    return {
        meeting_id: send_pending(meeting_id, open_session=opener, batch_size=batch_size)
        for meeting_id in meeting_ids
    }


def _claim_batch(db: Session, meeting_id: int, batch_size: int) -> list[_Claimed]:
    """Claim the next pending rows of the meeting (by id) and render their messages."""
    meeting = db.get(Meeting, meeting_id)
    if meeting is None or meeting.state is MeetingState.CANCELLED:
        return []  # a cancelled meeting's notice stops going out
    ids = list(
        db.scalars(
            select(NoticeDelivery.id)
            .where(
                NoticeDelivery.meeting_id == meeting_id,
                NoticeDelivery.state == DeliveryState.PENDING,
            )
            .order_by(NoticeDelivery.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return []
    now = utcnow()
    db.execute(
        update(NoticeDelivery)
        .where(NoticeDelivery.id.in_(ids))
        .values(
            state=DeliveryState.SENDING,
            claimed_at=now,
            attempts=NoticeDelivery.attempts + 1,
        )
    )
    db.execute(
        update(NoticeMailing)
        .where(NoticeMailing.meeting_id == meeting_id)
        .values(last_batch_at=now)
    )
    recipients = db.execute(
        select(NoticeDelivery.id, Member, User.email)
        .join(Member, Member.id == NoticeDelivery.member_id)
        .outerjoin(User, User.id == Member.user_id)
        .where(NoticeDelivery.id.in_(ids))
        .order_by(NoticeDelivery.id)
    ).all()
    context = _mail_context(db, meeting)
    claimed = []
    for delivery_id, member, email in recipients:
        if not email:
            claimed.append(_Claimed(delivery_id, None, "The member has no e-mail address."))
            continue
        message = mail.compose(db, "meeting_notice", to=email, member=member, **context)
        claimed.append(_Claimed(delivery_id, message))
    return claimed


def _mail_context(db: Session, meeting: Meeting) -> dict[str, Any]:
    """What every copy of the notice shows (the same for each member of one batch)."""
    mailing = db.get(NoticeMailing, meeting.id)
    document = db.get(Document, mailing.document_id) if mailing and mailing.document_id else None
    return {
        "meeting": meeting,
        "starts": coop.clock(db).local(meeting.starts_at),
        "agenda": list(meeting.agenda),
        "resolutions": _resolutions(meeting),
        "elections": notice_elections(db, meeting),
        "candidate_movers": candidate_movers,
        "statement_text": statement_text,
        "notice_document": document,
        "notice_days": coop.settings(db).notice_days,
    }


def _record_outcomes(db: Session, meeting_id: int, outcomes: dict[int, str]) -> None:
    """Mark each claimed row sent, or failed with its error."""
    now = utcnow()
    sent = [delivery_id for delivery_id, problem in outcomes.items() if not problem]
    if sent:
        db.execute(
            update(NoticeDelivery)
            .where(NoticeDelivery.id.in_(sent))
            .values(state=DeliveryState.SENT, sent_at=now, error=None)
        )
    for delivery_id, problem in outcomes.items():
        if problem:
            db.execute(
                update(NoticeDelivery)
                .where(NoticeDelivery.id == delivery_id)
                .values(state=DeliveryState.FAILED, error=problem)
            )
    db.execute(
        update(NoticeMailing)
        .where(NoticeMailing.meeting_id == meeting_id)
        .values(last_batch_at=now)
    )


def _finish_if_done(db: Session, meeting_id: int) -> None:
    """Stamp the mailing finished (and audit it) once nothing is waiting or being sent."""
    mailing = db.get(NoticeMailing, meeting_id)
    if mailing is None or mailing.finished_at is not None:
        return
    counts = _counts(db, meeting_id)
    if counts.get(DeliveryState.PENDING, 0) or counts.get(DeliveryState.SENDING, 0):
        return
    mailing.finished_at = utcnow()
    failed = counts.get(DeliveryState.FAILED, 0)
    summary = f"Notice mailed to {counts.get(DeliveryState.SENT, 0)} members"
    if failed:
        summary += f"; {failed} could not be sent"
    audit.record(
        db, actor=None, action="meeting.notice_mailed", target=mailing.meeting, summary=summary
    )


def resume_mailing(db: Session, meeting: Meeting, *, actor: User) -> int:
    """Send the failed notices again and queue the sender for what is pending (a stalled
    mailing resumes); returns how many are to go. Unconfirmed ones are never sent again."""
    mailing = db.get(NoticeMailing, meeting.id)
    if mailing is None:
        raise InvalidState("This meeting's notice has not been sent.")
    db.execute(
        update(NoticeDelivery)
        .where(
            NoticeDelivery.meeting_id == meeting.id,
            NoticeDelivery.state == DeliveryState.FAILED,
        )
        .values(state=DeliveryState.PENDING, error=None)
    )
    mailing.finished_at = None
    waiting = _counts(db, meeting.id).get(DeliveryState.PENDING, 0)
    audit.record(
        db,
        actor=actor,
        action="meeting.notice_resumed",
        target=meeting,
        summary=f"Notice mailing resumed: {waiting} to send",
    )
    tasks.after_commit(db, JOB, meeting.id)
    return waiting


# -- progress -------------------------------------------------------------------------------


def _counts(db: Session, meeting_id: int) -> dict[DeliveryState, int]:
    rows = db.execute(
        select(NoticeDelivery.state, func.count())
        .where(NoticeDelivery.meeting_id == meeting_id)
        .group_by(NoticeDelivery.state)
    )
    return {DeliveryState(state): number for state, number in rows}


@dataclass(frozen=True)
class Progress:
    """A mailing's figures for staff: counts only, from the delivery rows."""

    total: int
    sent: int
    failed: int
    pending: int
    unconfirmed: int
    started_at: datetime
    last_batch_at: datetime | None
    finished_at: datetime | None
    stalled: bool
    cancelled: bool
    document: Document | None

    @property
    def sending(self) -> bool:
        """Work is left for a sender: the page keeps polling."""
        return not self.cancelled and self.pending > 0

    @property
    def percent(self) -> int:
        return 100 if not self.total else (100 * self.sent) // self.total


def mailing_progress(db: Session, meeting: Meeting) -> Progress | None:
    """How far the meeting's notice mailing has gone, or None when there is none."""
    mailing = db.get(NoticeMailing, meeting.id)
    if mailing is None:
        return None
    counts = _counts(db, meeting.id)
    pending = counts.get(DeliveryState.PENDING, 0)
    last = mailing.last_batch_at or mailing.started_at
    cancelled = meeting.state is MeetingState.CANCELLED
    return Progress(
        total=sum(counts.values()),
        sent=counts.get(DeliveryState.SENT, 0),
        failed=counts.get(DeliveryState.FAILED, 0),
        pending=pending,
        unconfirmed=counts.get(DeliveryState.SENDING, 0),
        started_at=mailing.started_at,
        last_batch_at=mailing.last_batch_at,
        finished_at=mailing.finished_at,
        stalled=bool(pending) and not cancelled and utcnow() - last > STALLED_AFTER,
        cancelled=cancelled,
        document=db.get(Document, mailing.document_id) if mailing.document_id else None,
    )


def notice_document(db: Session, meeting: Meeting) -> Document | None:
    """The meeting's published notice, if it has one."""
    return db.scalar(
        select(Document)
        .join(NoticeMailing, NoticeMailing.document_id == Document.id)
        .where(NoticeMailing.meeting_id == meeting.id)
    )
