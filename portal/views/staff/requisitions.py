"""Staff follow members' requisitions and record the meeting the board called for one
(issue 14 §5; the rules in ``services.meetings.requisitions``)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import htmx
from ...db import get_db, transaction
from ...errors import InvalidInput, PortalError
from ...models import Meeting, Requisition
from ...services.inputs import read_id
from ...services.meetings import requisitions
from ..access import get_or_404
from ..requisitions import lapsed_if_due

bp = Blueprint("requisitions", __name__)


def _page(
    requisition: Requisition, *, error: PortalError | None = None, status: int = 200
) -> Response:
    db = get_db()
    page = render_template(
        "staff/meetings/requisition.html",
        requisition=requisition,
        description=requisitions.describe(requisition),
        state=requisitions.shown_state(db, requisition),
        count=requisitions.signature_count(db, requisition),
        meetings=requisitions.meetings_to_link(db, requisition),
        error=error,
    )
    return Response(page, status)


@bp.get("/requisitions/<int:requisition_id>", endpoint="requisition")
def requisition_page(requisition_id: int) -> Response:
    """The requisition for staff: its count, the board's deadline, and the meeting called."""
    lapsed_if_due()
    return _page(get_or_404(Requisition, requisition_id))


@bp.post("/requisitions/<int:requisition_id>/meeting")
def record_meeting(requisition_id: int) -> Response:
    """Record the meeting called for a reached requisition (409 before it is reached)."""
    requisition = get_or_404(Requisition, requisition_id)
    raw = request.form.get("meeting", "")[:20]
    try:
        number = read_id(raw)
        meeting = get_db().get(Meeting, number) if number is not None else None
        with transaction() as db:
            if meeting is None:
                raise InvalidInput("Choose the meeting the board called.", field="meeting")
            requisitions.record_meeting(db, requisition, meeting, actor=current_user)
    except PortalError as exc:
        return _page(get_or_404(Requisition, requisition_id), error=exc, status=exc.status)
    return htmx.flash_and_redirect(
        "The meeting is recorded against the requisition.",
        url_for("staff.requisitions.requisition", requisition_id=requisition_id),
    )
