"""Staff follow a meeting's notice mailing: its progress (polled by htmx while notices wait
to be sent), and resuming it when it stalled or some could not be sent."""

from __future__ import annotations

from flask import Blueprint, Response, url_for
from flask_login import current_user

from ... import htmx
from ...db import get_db, transaction
from ...errors import PortalError
from ...models import Meeting
from ...services.meetings import notices
from ..access import found, get_or_404

bp = Blueprint("meeting_notices", __name__)

# htmx stops polling when a poll is answered with this status.
STOP_POLLING = 286


def _progress(meeting: Meeting, *, message: str | None = None, status: int = 200) -> Response:
    """The mailing's page, or its partial for htmx (286 once no notice waits to be sent)."""
    progress = found(notices.mailing_progress(get_db(), meeting))
    if htmx.is_htmx() and status == 200 and not progress.sending:
        status = STOP_POLLING
    return htmx.render(
        "staff/meetings/notice.html",
        "staff/meetings/_notice_progress.html",
        status=status,
        meeting=meeting,
        progress=progress,
        message=message,
    )


@bp.get("/meetings/<int:meeting_id>/notice", endpoint="progress")
def progress(meeting_id: int) -> Response:
    """How many notices have been sent, of how many; failures; resume when stalled."""
    return _progress(get_or_404(Meeting, meeting_id))


@bp.post("/meetings/<int:meeting_id>/notice/resume")
def resume(meeting_id: int) -> Response:
    """Send again the notices that failed, and what a stalled sender left waiting."""
    meeting = get_or_404(Meeting, meeting_id)
    try:
        with transaction() as db:
            waiting = notices.resume_mailing(db, meeting, actor=current_user)
    except PortalError as exc:
        return _progress(get_or_404(Meeting, meeting_id), message=exc.message, status=exc.status)
    message = f"The mailing resumed: {waiting} notice{'' if waiting == 1 else 's'} to send."
    if htmx.is_htmx():
        return _progress(get_or_404(Meeting, meeting_id), message=message)
    return htmx.flash_and_redirect(
        message, url_for("staff.meeting_notices.progress", meeting_id=meeting_id)
    )
