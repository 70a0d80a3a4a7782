"""Members propose resolutions to a meeting while its call for resolutions is open, and
second each other's (issue 14 §4; the rules in ``services.meetings.proposals``)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user, login_required

from .. import coop, htmx, markup
from ..db import get_db, transaction
from ..errors import PortalError
from ..models import Meeting
from ..services.meetings import proposals
from .access import current_member, found

bp = Blueprint("proposals", __name__, url_prefix="/meetings")


@bp.before_request
@login_required
def _members_and_staff() -> None:
    """Members' business (staff may read): others signed in get 403."""
    if current_member() is None and not current_user.is_staff:
        abort(403)


def _load(meeting_id: int) -> Meeting:
    return found(proposals.called_meeting(get_db(), meeting_id))


def _page(
    meeting: Meeting,
    *,
    values: dict[str, str] | None = None,
    error: PortalError | None = None,
    refused: dict[int, str] | None = None,
    status: int = 200,
) -> Response:
    db = get_db()
    call = proposals.call_for(db, meeting)
    items = proposals.meeting_proposals(db, meeting)
    page = render_template(
        "meetings/proposals.html",
        meeting=meeting,
        call=call,
        call_open=call is not None
        and meeting.state in proposals.CALL_STATES
        and call.is_open_at(coop.clock(db).now()),
        items=items,
        texts={p.id: markup.render_markdown(p.text) for p in items},
        member=current_member(),
        values=values or {},
        error=error,
        refused=refused or {},
    )
    return Response(page, status)


@bp.get("/<int:meeting_id>/proposals")
def call(meeting_id: int) -> Response:
    """The call for resolutions: its window, the proposals so far, and the form."""
    return _page(_load(meeting_id))


@bp.post("/<int:meeting_id>/proposals")
def submit(meeting_id: int) -> Response:
    """Propose a resolution: 303 back to the call, or the form again with its message
    (422; 409 when the call is not open; 403 for someone not on the register)."""
    meeting = _load(meeting_id)
    values = {key: value[:20_000] for key, value in request.form.items()}
    try:
        with transaction() as db:
            proposal = proposals.submit_proposal(
                db, meeting, current_member(), proposals.read_proposal(values), actor=current_user
            )
    except PortalError as exc:
        return _page(_load(meeting_id), values=values, error=exc, status=exc.status)
    return htmx.flash_and_redirect(
        f"Your resolution “{proposal.title}” is proposed. Another member must second it "
        "before the call closes.",
        url_for("proposals.call", meeting_id=meeting_id, _anchor=f"proposal-{proposal.id}"),
    )


@bp.post("/<int:meeting_id>/proposals/<int:proposal_id>/second")
def second(meeting_id: int, proposal_id: int) -> Response:
    """Second another member's proposal (403 one's own; 409 already seconded, call closed)."""
    meeting = _load(meeting_id)
    proposal = found(proposals.meeting_proposal(get_db(), meeting, proposal_id))
    try:
        with transaction() as db:
            proposals.second_proposal(db, proposal, current_member(), actor=current_user)
    except PortalError as exc:
        return _page(_load(meeting_id), refused={proposal_id: exc.message}, status=exc.status)
    return htmx.flash_and_redirect(
        "You seconded the resolution; staff will now consider it for the agenda.",
        url_for("proposals.call", meeting_id=meeting_id, _anchor=f"proposal-{proposal_id}"),
    )
