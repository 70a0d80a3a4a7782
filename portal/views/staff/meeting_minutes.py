"""Staff write a meeting's minutes once voting has closed: a draft pre-filled from the
meeting, a live preview, and publishing (after a confirmation) to the library."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from ... import coop, htmx, markup
from ...db import get_db, transaction
from ...errors import PortalError
from ...models import Meeting, MeetingState
from ...services.documents import publishing
from ...services.meetings import minutes
from ..access import get_or_404
from ..auth import reauthentication_required

bp = Blueprint("meeting_minutes", __name__)


def _values() -> dict[str, str]:
    """The chair and text as sent, bounded (one character over, so the service can refuse)."""
    return {
        "chair": request.form.get("chair", "")[: minutes.CHAIR_MAX + 1],
        "body": request.form.get("body", "")[: publishing.MAX_BODY_CHARS + 1],
    }


def _preview(meeting: Meeting, values: dict[str, str]) -> Markup:
    """The minutes as members will read them (sanitised HTML)."""
    text = minutes.compose(meeting, values["chair"], values["body"], coop.clock())
    return markup.render_markdown(text)


def _page(
    meeting: Meeting,
    values: dict[str, str] | None = None,
    error: PortalError | None = None,
    status: int = 200,
) -> Response:
    """The minutes page: the editor while voting is closed, the published minutes after,
    and a refusal (409) before voting has closed."""
    db = get_db()
    draft = minutes.draft_of(db, meeting) if meeting.state is MeetingState.VOTING_CLOSED else None
    if draft is not None and values is None:
        values = {"chair": draft.chair, "body": draft.body}
    if meeting.state not in (MeetingState.VOTING_CLOSED, MeetingState.MINUTES_PUBLISHED):
        try:
            minutes.require_drafting(meeting)
        except PortalError as exc:
            error, status = exc, exc.status
    page = render_template(
        "staff/meetings/minutes.html",
        meeting=meeting,
        draft=draft,
        values=values or {},
        preview=_preview(meeting, values) if draft is not None and values else None,
        published=minutes.published_minutes(db, meeting, current_user),
        error=error,
    )
    return Response(page, status)


@bp.get("/meetings/<int:meeting_id>/minutes")
def editor(meeting_id: int) -> Response:
    """The minutes: the draft (saved, or pre-filled from the meeting) with its preview."""
    return _page(get_or_404(Meeting, meeting_id))


@bp.post("/meetings/<int:meeting_id>/minutes")
def save(meeting_id: int) -> Response:
    """Keep the draft; it can be edited again until the minutes are published."""
    meeting = get_or_404(Meeting, meeting_id)
    values = _values()
    try:
        with transaction() as db:
            minutes.save_draft(
                db, meeting, chair=values["chair"], body=values["body"], actor=current_user
            )
    except PortalError as exc:
        return _page(get_or_404(Meeting, meeting_id), values, exc, exc.status)
    return htmx.flash_and_redirect(
        "The draft minutes are saved.",
        url_for("staff.meeting_minutes.editor", meeting_id=meeting_id),
    )


@bp.post("/meetings/<int:meeting_id>/minutes/preview")
def preview(meeting_id: int) -> Response:
    """The minutes as they will read: the preview partial for htmx (as staff type), else the
    page with the text as sent (the Preview button without JavaScript). Writes nothing."""
    meeting = get_or_404(Meeting, meeting_id)
    values = _values()
    if htmx.is_htmx():
        return htmx.partial(
            "staff/meetings/_minutes_preview.html",
            meeting=meeting,
            preview=_preview(meeting, values),
        )
    return _page(meeting, values)


@bp.post("/meetings/<int:meeting_id>/minutes/publish")
@reauthentication_required
def publish(meeting_id: int) -> Response:
    """Publish in two steps: what publishing will do, then (``confirm=yes``) do it."""
    meeting = get_or_404(Meeting, meeting_id)
    values = _values()
    step = request.form.get("confirm", "")
    if step == "change":  # back from the confirmation to the editor, as sent
        return _page(meeting, values)
    try:
        if step != "yes":  # nothing is written: say what publishing will do
            publication = minutes.preview_publication(
                get_db(), meeting, chair=values["chair"], body=values["body"]
            )
            return Response(
                render_template(
                    "staff/meetings/minutes_confirm.html",
                    publication=publication,
                    values=values,
                    text=markup.render_markdown(publication.text),
                )
            )
        with transaction() as db:
            version = minutes.publish_minutes(
                db, meeting, chair=values["chair"], body=values["body"], actor=current_user
            )
    except PortalError as exc:
        return _page(get_or_404(Meeting, meeting_id), values, exc, exc.status)
    return htmx.flash_and_redirect(
        f"The minutes are published as “{version.document.title}”; members can read and "
        "download them.",
        url_for("staff.meetings.meeting", meeting_id=meeting_id),
    )
