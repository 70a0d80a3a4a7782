"""Staff run the room of a hybrid meeting (issue 14 §2): attendance by search, and per
resolution the tellers' show of hands and paper ballots from the room or the post (the
rules in ``services.meetings.hybrid``). Every page works without htmx; with it, the roll
search and the attendance buttons swap only the results."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import htmx
from ...db import get_db, transaction
from ...errors import PortalError
from ...models import PAPER_CHANNELS, Choice, Meeting, Member, Resolution, ResolutionState
from ...services.meetings import hybrid, overview, roll
from ..access import found, get_or_404
from ..meetings import closed_if_due

bp = Blueprint("meeting_room", __name__)


def _search_args(source: dict[str, str]) -> tuple[str, int | None]:
    return source.get("q", "")[:120], hybrid.read_after(source.get("after"))


def _roll_page(meeting: Meeting, source: dict[str, str]) -> hybrid.RollPage:
    text, after = _search_args(source)
    return hybrid.search_roll(get_db(), meeting, text, after=after)


@bp.get("/meetings/<int:meeting_id>/attendance")
def attendance(meeting_id: int) -> Response:
    """Members on the roll by name or number, each marked present or not, and the count
    present per class; htmx swaps the results."""
    meeting = closed_if_due(get_or_404(Meeting, meeting_id))
    return htmx.render(
        "staff/meetings/attendance.html",
        "staff/meetings/_roll_results.html",
        meeting=meeting,
        presence=hybrid.presence(get_db(), meeting),
        page=_roll_page(meeting, request.args.to_dict()),
        for_attendance=True,
    )


@bp.post("/meetings/<int:meeting_id>/attendance/<int:member_id>")
def mark(meeting_id: int, member_id: int) -> Response:
    """Mark the member present (``present=y``) or take it back; 403 off the roll, 409 once
    voting has closed."""
    meeting = get_or_404(Meeting, meeting_id)
    member = get_or_404(Member, member_id)
    values = {key: value[:200] for key, value in request.form.items()}
    present = values.get("present") == "y"
    try:
        with transaction() as db:
            if present:
                hybrid.mark_present(db, meeting, member, actor=current_user)
            else:
                hybrid.undo_present(db, meeting, member, actor=current_user)
    except PortalError as exc:
        meeting = get_or_404(Meeting, meeting_id)
        page = render_template(
            "staff/meetings/attendance.html",
            meeting=meeting,
            presence=hybrid.presence(get_db(), meeting),
            page=_roll_page(meeting, values),
            for_attendance=True,
            error=exc,
        )
        return Response(page, exc.status)
    message = f"{member.name} {'marked present' if present else 'no longer marked present'}."
    text, after = _search_args(values)
    query = {k: v for k, v in {"q": text, "after": after}.items() if v}
    return htmx.partial_or_redirect(
        "staff/meetings/_roll_results.html",
        url_for("staff.meeting_room.attendance", meeting_id=meeting_id, **query),
        message=message,
        meeting=meeting,
        page=_roll_page(meeting, values),
        presence=hybrid.presence(get_db(), meeting),
        for_attendance=True,
    )


def _resolution(meeting: Meeting, resolution_id: int) -> Resolution:
    return found(overview.meeting_resolution(get_db(), meeting, resolution_id))


def _room_page(
    meeting: Meeting,
    resolution: Resolution,
    *,
    form: str = "",
    error: PortalError | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The resolution's room page; ``form`` ("hands" or "paper") names the form ``error``
    and ``values`` belong to."""
    db = get_db()
    stored = {
        f"{choice.value}-{h.member_class.code}": str(n)
        for h in hybrid.hand_counts(db, resolution).values()
        for choice, n in zip(Choice, (h.votes_for, h.against, h.abstain), strict=True)
    }
    source = {**stored, **request.args.to_dict(), **(values or {})}
    page = render_template(
        "staff/meetings/room.html",
        meeting=meeting,
        resolution=resolution,
        is_open=resolution.state is ResolutionState.OPEN,
        classes=roll.class_rolls(db, resolution),
        allowed=hybrid.hands_allowed(db, resolution),
        entries=hybrid.paper_entries(db, resolution),
        page=_roll_page(meeting, source),
        for_attendance=False,
        choices=list(Choice),
        channels=PAPER_CHANNELS,
        form=form,
        error=error,
        values=source,
    )
    return Response(page, status)


@bp.get("/meetings/<int:meeting_id>/resolutions/<int:resolution_id>/room")
def room(meeting_id: int, resolution_id: int) -> Response:
    """A resolution's votes from the room and the post: the tellers' hands per class (open
    ballots only), paper ballots one by one, and the roll to find each member on."""
    meeting = closed_if_due(get_or_404(Meeting, meeting_id))
    resolution = _resolution(meeting, resolution_id)
    if htmx.is_htmx() and request.headers.get("HX-Target") == "roll-results":
        return htmx.partial(
            "staff/meetings/_roll_results.html",
            meeting=meeting,
            resolution=resolution,
            page=_roll_page(meeting, request.args.to_dict()),
            for_attendance=False,
        )
    return _room_page(meeting, resolution)


def _room_url(meeting_id: int, resolution_id: int) -> str:
    return url_for("staff.meeting_room.room", meeting_id=meeting_id, resolution_id=resolution_id)


@bp.post("/meetings/<int:meeting_id>/resolutions/<int:resolution_id>/hands")
def hands(meeting_id: int, resolution_id: int) -> Response:
    """Record the tellers' count per class (422 bad numbers or too many hands, 409 secret
    or not open)."""
    meeting = get_or_404(Meeting, meeting_id)
    resolution = _resolution(meeting, resolution_id)
    values = {key: value[:20] for key, value in request.form.items()}
    try:
        with transaction() as db:
            counts = hybrid.read_hands(values, roll.class_rolls(db, resolution))
            total = hybrid.enter_hands(db, resolution, counts, actor=current_user)
    except PortalError as exc:
        return _room_page(
            meeting, resolution, form="hands", error=exc, values=values, status=exc.status
        )
    return htmx.flash_and_redirect(
        f"Show of hands on resolution {resolution.number} recorded: {total} hands.",
        _room_url(meeting_id, resolution_id),
    )


@bp.post("/meetings/<int:meeting_id>/resolutions/<int:resolution_id>/paper")
def paper(meeting_id: int, resolution_id: int) -> Response:
    """Count one member's paper ballot (422 bad input, 403 not on the roll, 409 voted
    already or voting not open)."""
    meeting = get_or_404(Meeting, meeting_id)
    resolution = _resolution(meeting, resolution_id)
    values = {key: value[:200] for key, value in request.form.items()}
    try:
        with transaction() as db:
            member = hybrid.member_by_number(db, values.get("member"))
            channel = hybrid.read_channel(values.get("channel"))
            hybrid.enter_paper_ballot(
                db, resolution, member, values.get("choice", ""), channel, actor=current_user
            )
    except PortalError as exc:
        return _room_page(
            meeting, resolution, form="paper", error=exc, values=values, status=exc.status
        )
    return htmx.flash_and_redirect(
        f"Paper ballot of {member.name} (no. {member.number}) counted on resolution "
        f"{resolution.number}.",
        _room_url(meeting_id, resolution_id),
    )
