"""Staff run general meetings: create one with its agenda, put resolutions, give notice,
open and close voting, and read the frozen voter roll."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import coop, htmx, markup
from ...db import get_db, transaction
from ...errors import PortalError
from ...models import Meeting, MeetingKind, ResolutionKind, VotingMode
from ...services.documents import library
from ...services.elections import voting
from ...services.meetings import hybrid, lifecycle, notices, overview, session
from ...services.register import classes
from ..access import found, get_or_404
from ..auth import reauthentication_required
from ..downloads import streamed_csv
from ..meetings import closed_if_due

bp = Blueprint("meetings", __name__)


def _form_values() -> dict[str, str]:
    """The form as sent, each value bounded (the services check them)."""
    return {key: value[:20_000] for key, value in request.form.items()}


def _list_page(values: dict[str, str], error: PortalError | None, status: int = 200) -> Response:
    db = get_db()
    page = render_template(
        "staff/meetings/list.html",
        meetings=overview.staff_meetings(db),
        classes=classes.list_classes(db),
        kinds=list(MeetingKind),
        modes=list(VotingMode),
        today=coop.today(),
        values=values,
        error=error,
    )
    return Response(page, status)


@bp.get("/meetings", endpoint="list")
def meetings_list() -> Response:
    """Every meeting, and a form for a new one (an AGM gets the standard agenda)."""
    return _list_page(
        {"kind": MeetingKind.AGM.value, "starts_time": "19:00", "standard_agenda": "y"}, None
    )


@bp.post("/meetings")
def create() -> Response:
    values = _form_values()
    try:
        with transaction() as db:
            meeting = lifecycle.create_meeting(
                db,
                lifecycle.read_meeting(db, values),
                actor=current_user,
                standard_agenda=values.get("standard_agenda") == "y",
            )
    except PortalError as exc:
        return _list_page(values, exc, status=exc.status)
    return htmx.flash_and_redirect(
        f"“{meeting.title}” created as a draft. Add its resolutions, then send the notice.",
        url_for("staff.meetings.meeting", meeting_id=meeting.id),
    )


def _meeting_page(
    meeting: Meeting,
    *,
    form: str = "",
    error: PortalError | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The meeting's page; ``form`` names the form ``error`` and ``values`` belong to."""
    db = get_db()
    page = render_template(
        "staff/meetings/meeting.html",
        meeting=meeting,
        roll=overview.roll_counts(db, meeting),
        attendance_open=hybrid.attendance_open(meeting),
        notice=lifecycle.notice_period(db, meeting),
        progress=notices.mailing_progress(db, meeting),
        classes=classes.list_classes(db),
        documents=library.staff_documents(db),
        resolution_kinds=list(ResolutionKind),
        texts={r.id: markup.render_markdown(r.text) for r in meeting.resolutions},
        form=form,
        error=error,
        values=values or {},
    )
    return Response(page, status)


@bp.get("/meetings/<int:meeting_id>")
def meeting(meeting_id: int) -> Response:
    """The meeting: its details, agenda, resolutions, roll and the next step (a vote past
    its closing time is closed and counted first)."""
    return _meeting_page(closed_if_due(get_or_404(Meeting, meeting_id)))


def _act(
    meeting_id: int,
    form: str,
    action: Callable[[Any, Meeting, dict[str, str]], str],
) -> Response:
    """Run one staff action on the meeting: a 303 back with its message, or the page again
    with the refusal beside the form it came from (422, or 409 for a wrong state)."""
    meeting = get_or_404(Meeting, meeting_id)
    values = _form_values()
    try:
        with transaction() as db:
            message = action(db, meeting, values)
    except PortalError as exc:
        return _meeting_page(
            get_or_404(Meeting, meeting_id), form=form, error=exc, values=values, status=exc.status
        )
    return htmx.flash_and_redirect(
        message, url_for("staff.meetings.meeting", meeting_id=meeting_id)
    )


@bp.post("/meetings/<int:meeting_id>/agenda")
def add_agenda_item(meeting_id: int) -> Response:
    def add(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        slug = values.get("document", "")[:200]
        paper = library.document_for(db, slug, current_user) if slug else None
        item = lifecycle.add_agenda_item(
            db,
            meeting,
            title=values.get("title", ""),
            description=values.get("description", ""),
            document=paper,
            actor=current_user,
        )
        return f"“{item.title}” added to the agenda."

    return _act(meeting_id, "agenda", add)


@bp.post("/meetings/<int:meeting_id>/resolutions")
def add_resolution(meeting_id: int) -> Response:
    def add(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        given = lifecycle.read_resolution(db, values)
        resolution = lifecycle.add_resolution(
            db,
            meeting,
            title=given.title,
            text=given.text,
            kind=given.kind,
            member_class=given.member_class,
            secret=given.secret,
            amends=given.amends,
            actor=current_user,
        )
        return f"Resolution {resolution.number} added."

    return _act(meeting_id, "resolution", add)


@bp.post("/meetings/<int:meeting_id>/resolutions/<int:resolution_id>")
def edit_resolution(meeting_id: int, resolution_id: int) -> Response:
    def edit(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        resolution = found(overview.meeting_resolution(db, meeting, resolution_id))
        lifecycle.edit_resolution(
            db, resolution, lifecycle.read_resolution(db, values), actor=current_user
        )
        return f"Resolution {resolution.number} saved."

    return _act(meeting_id, f"resolution-{resolution_id}", edit)


@bp.post("/meetings/<int:meeting_id>/resolutions/<int:resolution_id>/withdraw")
def withdraw_resolution(meeting_id: int, resolution_id: int) -> Response:
    def withdraw(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        resolution = found(overview.meeting_resolution(db, meeting, resolution_id))
        lifecycle.withdraw_resolution(db, resolution, actor=current_user)
        return f"Resolution {resolution.number} withdrawn."

    return _act(meeting_id, f"resolution-{resolution_id}", withdraw)


@bp.post("/meetings/<int:meeting_id>/notice")
def send_notice(meeting_id: int) -> Response:
    def send(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        lifecycle.send_notice(
            db,
            meeting,
            actor=current_user,
            short_notice_reason=values.get("short_notice_reason", ""),
        )
        return f"Notice of “{meeting.title}” sent with {meeting.notice_clear_days} clear days."

    return _act(meeting_id, "notice", send)


@bp.post("/meetings/<int:meeting_id>/open")
def open_voting(meeting_id: int) -> Response:
    def open_(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        opened = lifecycle.open_voting(db, meeting, actor=current_user)
        elections = voting.open_elections(db, meeting, actor=current_user)
        said = f"Voting is open on {len(opened)} resolution{'' if len(opened) == 1 else 's'}"
        if elections:
            said += f" and in {len(elections)} election{'' if len(elections) == 1 else 's'}"
        return said + "."

    return _act(meeting_id, "state", open_)


@bp.post("/meetings/<int:meeting_id>/close")
@reauthentication_required
def close_voting(meeting_id: int) -> Response:
    def close(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        tallies, counts = voting.close_meeting_voting(db, meeting, actor=current_user)
        said = f"Voting closed; {len(tallies)} resolution{'' if len(tallies) == 1 else 's'}"
        if counts:
            said += f" and {len(counts)} election{'' if len(counts) == 1 else 's'}"
        return said + " counted."

    return _act(meeting_id, "state", close)


@bp.post("/meetings/<int:meeting_id>/cancel")
def cancel(meeting_id: int) -> Response:
    def cancel_(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        lifecycle.cancel_meeting(db, meeting, actor=current_user, reason=values.get("reason", ""))
        return f"“{meeting.title}” cancelled."

    return _act(meeting_id, "cancel", cancel_)


def _live_page(
    meeting: Meeting,
    *,
    message: str | None = None,
    error: PortalError | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The chair's page for the meeting in session; for htmx, its panel alone."""
    drafts, taken = session.chair_view(meeting)
    return htmx.render(
        "staff/meetings/live.html",
        "staff/meetings/_live_panel.html",
        status=status,
        meeting=meeting,
        refusal=session.start_refusal(get_db(), meeting),
        next_item=session.next_item(meeting),
        drafts=drafts,
        taken=taken,
        minutes=session.VOTE_MINUTES,
        message=message,
        error=error,
        values=values or {},
    )


@bp.get("/meetings/<int:meeting_id>/live")
def live(meeting_id: int) -> Response:
    """The chair's page: start the session, move through the agenda, put a resolution to
    a short vote and close it, end the session (a vote past its time is closed first)."""
    return _live_page(closed_if_due(get_or_404(Meeting, meeting_id)))


def _chair(meeting_id: int, action: Callable[[Any, Meeting, dict[str, str]], str]) -> Response:
    """Run one of the chair's actions in its transaction: the panel with its message for
    htmx, else a 303 back to the page; a refusal answers the page or panel with why."""
    meeting = get_or_404(Meeting, meeting_id)
    values = _form_values()
    try:
        with transaction() as db:
            message = action(db, meeting, values)
    except PortalError as exc:
        return _live_page(
            get_or_404(Meeting, meeting_id), error=exc, values=values, status=exc.status
        )
    if htmx.is_htmx():
        return _live_page(get_or_404(Meeting, meeting_id), message=message)
    return htmx.flash_and_redirect(message, url_for("staff.meetings.live", meeting_id=meeting_id))


@bp.post("/meetings/<int:meeting_id>/live/start")
def start_session(meeting_id: int) -> Response:
    def start(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        session.start_session(db, meeting, actor=current_user)
        return "The meeting is in session."

    return _chair(meeting_id, start)


@bp.post("/meetings/<int:meeting_id>/live/item")
def take_item(meeting_id: int) -> Response:
    def take(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        item = session.take_item(
            db, meeting, session.read_item(meeting, values.get("item")), actor=current_user
        )
        return f"Now: {item.title}."

    return _chair(meeting_id, take)


@bp.post("/meetings/<int:meeting_id>/live/resolutions/<int:resolution_id>/open")
def open_in_session(meeting_id: int, resolution_id: int) -> Response:
    def open_(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        resolution = found(overview.meeting_resolution(db, meeting, resolution_id))
        session.open_vote(db, meeting, resolution, values.get("minutes"), actor=current_user)
        closes = coop.clock(db).local(resolution.closes_at)
        return f"Voting on resolution {resolution.number} is open until {closes:%H:%M}."

    return _chair(meeting_id, open_)


@bp.post("/meetings/<int:meeting_id>/live/resolutions/<int:resolution_id>/close")
@reauthentication_required
def close_in_session(meeting_id: int, resolution_id: int) -> Response:
    def close(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        resolution = found(overview.meeting_resolution(db, meeting, resolution_id))
        session.close_vote(db, meeting, resolution, actor=current_user)
        return f"Voting on resolution {resolution.number} closed: {resolution.result.label}."

    return _chair(meeting_id, close)


@bp.post("/meetings/<int:meeting_id>/live/end")
def end_session(meeting_id: int) -> Response:
    def end(db: Any, meeting: Meeting, values: dict[str, str]) -> str:
        session.end_session(db, meeting, actor=current_user)
        return "The meeting's session has ended."

    return _chair(meeting_id, end)


@bp.get("/meetings/<int:meeting_id>/roll.csv")
def roll_csv(meeting_id: int) -> Response:
    """The frozen voter roll, a row per member and class, streamed."""
    meeting = get_or_404(Meeting, meeting_id)
    return streamed_csv(
        f"voter-roll-meeting-{meeting.id}.csv",
        overview.ROLL_CSV_COLUMNS,
        lambda db: overview.roll_csv_rows(db, db.get(Meeting, meeting_id)),
    )
