"""Staff run a meeting's call for resolutions: set its window, then accept each seconded
proposal onto the agenda (as a draft resolution with its number) or return it with a
reason (issue 14 §4; the rules in ``services.meetings.proposals``)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import htmx, markup
from ...db import get_db, transaction
from ...errors import PortalError
from ...models import Meeting, ResolutionKind
from ...services.meetings import lifecycle, proposals
from ...services.register import classes
from ...templating import last_day
from ..access import found, get_or_404

bp = Blueprint("meeting_proposals", __name__)


def _values() -> dict[str, str]:
    return {key: value[:20_000] for key, value in request.form.items()}


def _page(
    meeting: Meeting,
    *,
    form: str = "",
    error: PortalError | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The call's page; ``form`` names the form ``error`` belongs to ("call" or a
    proposal's id)."""
    db = get_db()
    items = proposals.meeting_proposals(db, meeting)
    page = render_template(
        "staff/meetings/proposals.html",
        meeting=meeting,
        call=proposals.call_for(db, meeting),
        notice=lifecycle.notice_period(db, meeting),
        items=items,
        texts={p.id: markup.render_markdown(p.text) for p in items},
        resolution_kinds=list(ResolutionKind),
        classes=classes.list_classes(db),
        form=form,
        error=error,
        values=values or {},
    )
    return Response(page, status)


@bp.get("/meetings/<int:meeting_id>/proposals", endpoint="proposals")
def proposals_page(meeting_id: int) -> Response:
    """The call for resolutions and every proposal, with staff's decisions."""
    return _page(get_or_404(Meeting, meeting_id))


def _done(meeting_id: int, message: str) -> Response:
    return htmx.flash_and_redirect(
        message, url_for("staff.meeting_proposals.proposals", meeting_id=meeting_id)
    )


@bp.post("/meetings/<int:meeting_id>/proposals/call")
def set_call(meeting_id: int) -> Response:
    """Open or move the call (422 when it would not close before notice; 409 once noticed)."""
    meeting = get_or_404(Meeting, meeting_id)
    values = _values()
    try:
        with transaction() as db:
            call = proposals.set_call(db, meeting, proposals.read_call(values), actor=current_user)
    except PortalError as exc:
        meeting = get_or_404(Meeting, meeting_id)
        return _page(meeting, form="call", error=exc, values=values, status=exc.status)
    return _done(
        meeting_id,
        f"The call for resolutions is set; it runs to the end of {last_day(call.closes_at)}.",
    )


@bp.post("/meetings/<int:meeting_id>/proposals/<int:proposal_id>/accept")
def accept(meeting_id: int, proposal_id: int) -> Response:
    """Put a seconded proposal on the agenda (409 unless seconded and the agenda open)."""
    meeting = get_or_404(Meeting, meeting_id)
    proposal = found(proposals.meeting_proposal(get_db(), meeting, proposal_id))
    values = _values()
    try:
        with transaction() as db:
            given = lifecycle.read_resolution(db, {**values, "title": "", "text": ""})
            proposals.accept_proposal(
                db, proposal, kind=given.kind, member_class=given.member_class, actor=current_user
            )
            number = proposal.resolution.number if proposal.resolution else 0
    except PortalError as exc:
        meeting = get_or_404(Meeting, meeting_id)
        return _page(meeting, form=str(proposal_id), error=exc, values=values, status=exc.status)
    return _done(meeting_id, f"“{proposal.title}” is on the agenda as resolution {number}.")


@bp.post("/meetings/<int:meeting_id>/proposals/<int:proposal_id>/return")
def return_(meeting_id: int, proposal_id: int) -> Response:
    """Return a proposal to its proposer with a reason (mailed to them)."""
    meeting = get_or_404(Meeting, meeting_id)
    proposal = found(proposals.meeting_proposal(get_db(), meeting, proposal_id))
    values = _values()
    try:
        with transaction() as db:
            proposals.return_proposal(db, proposal, values.get("reason", ""), actor=current_user)
    except PortalError as exc:
        meeting = get_or_404(Meeting, meeting_id)
        return _page(meeting, form=str(proposal_id), error=exc, values=values, status=exc.status)
    return _done(meeting_id, f"“{proposal.title}” was returned to its proposer.")
