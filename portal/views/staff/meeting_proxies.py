"""Staff and proxies (issue 14 §1): the chair's proxies, cast by the chair through these
pages, and signed paper proxy forms, recorded here (the rules and what staff may see of a
secret vote: ``services.meetings.staff_proxies``)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import htmx
from ...db import get_db, transaction
from ...errors import PortalError
from ...models import Meeting, ProxyAppointment
from ...services.meetings import overview, proxies, staff_proxies
from ..access import found, get_or_404
from ..meetings import closed_if_due
from ..paging import cursor

bp = Blueprint("meeting_proxies", __name__)


def _values() -> dict[str, str]:
    return {key: value[:200] for key, value in request.form.items()}


def _page(meeting: Meeting, *, error: str | None = None, status: int = 200) -> Response:
    db = get_db()
    page = render_template(
        "staff/meetings/proxies.html",
        meeting=meeting,
        counts=staff_proxies.state_counts(db, meeting),
        page=staff_proxies.chair_proxies(db, meeting, after=cursor()),
        deadline=proxies.deadline(db, meeting),
        error=error,
    )
    return Response(page, status)


@bp.get("/meetings/<int:meeting_id>/proxies", endpoint="proxies")
def proxies_page(meeting_id: int) -> Response:
    """The meeting's proxies by state, and a page of those appointed to the chair."""
    return _page(closed_if_due(get_or_404(Meeting, meeting_id)))


def _back(meeting_id: int, message: str, anchor: str | None = None) -> Response:
    return htmx.flash_and_redirect(
        message,
        url_for("staff.meeting_proxies.proxies", meeting_id=meeting_id, _anchor=anchor),
    )


@bp.post(
    "/meetings/<int:meeting_id>/proxies/<int:appointment_id>/resolutions/<int:resolution_id>/vote"
)
def cast(meeting_id: int, appointment_id: int, resolution_id: int) -> Response:
    """The chair casts one chair proxy's vote: 303 back, or the page with why (4xx)."""
    meeting = get_or_404(Meeting, meeting_id)
    appointment = get_db().get(ProxyAppointment, appointment_id)
    appointment = found(
        appointment if appointment and appointment.meeting_id == meeting.id else None
    )
    resolution = found(overview.meeting_resolution(get_db(), meeting, resolution_id))
    try:
        with transaction() as db:
            vote = staff_proxies.cast_chair_proxy(
                db, appointment, resolution, request.form.get("choice", "")[:20], actor=current_user
            )
    except PortalError as exc:
        return _page(meeting, error=exc.message, status=exc.status)
    said = "" if resolution.secret else f": {vote.choice.label}"
    return _back(
        meeting_id,
        f"The chair's proxy vote for member no. {appointment.grantor.number} on resolution "
        f"{resolution.number} is recorded{said}.",
        f"chair-proxy-{appointment.id}",
    )


@bp.post("/meetings/<int:meeting_id>/proxies/resolutions/<int:resolution_id>/cast-directed")
def cast_directed(meeting_id: int, resolution_id: int) -> Response:
    """Cast a secret resolution's directed chair proxies together, as directed."""
    meeting = get_or_404(Meeting, meeting_id)
    resolution = found(overview.meeting_resolution(get_db(), meeting, resolution_id))
    try:
        with transaction() as db:
            count = staff_proxies.cast_secret_directed(db, resolution, actor=current_user)
    except PortalError as exc:
        return _page(meeting, error=exc.message, status=exc.status)
    return _back(
        meeting_id,
        f"{count} directed {'proxy' if count == 1 else 'proxies'} cast as directed on "
        f"resolution {resolution.number}.",
    )


def _form(
    meeting: Meeting,
    *,
    values: dict[str, str] | None = None,
    error: PortalError | None = None,
    status: int = 200,
) -> Response:
    page = render_template(
        "staff/meetings/proxy_new.html",
        meeting=meeting,
        resolutions=staff_proxies.form_resolutions(meeting),
        deadline=proxies.deadline(get_db(), meeting),
        values=values or {},
        error=error,
    )
    return Response(page, status)


@bp.get("/meetings/<int:meeting_id>/proxies/new", endpoint="new_proxy")
def new_proxy(meeting_id: int) -> Response:
    """The form to record a signed paper proxy form."""
    return _form(get_or_404(Meeting, meeting_id))


@bp.post("/meetings/<int:meeting_id>/proxies/new")
def record_proxy(meeting_id: int) -> Response:
    """Record a paper proxy form: 303 to the proxies, or the form again with why (4xx)."""
    meeting = get_or_404(Meeting, meeting_id)
    values = _values()
    try:
        with transaction() as db:
            made = staff_proxies.record_paper_proxy(
                db, db.get(Meeting, meeting.id), values, actor=current_user
            )
            said = (
                f"The paper proxy form of {made.grantor.name} (no. {made.grantor.number}) is "
                f"recorded: {made.holder_name} holds their {made.kind.label.lower()} proxy."
            )
    except PortalError as exc:
        return _form(get_or_404(Meeting, meeting_id), values=values, error=exc, status=exc.status)
    return _back(meeting_id, said)
