"""Staff review of applications: the queue, and approve / ask / reject in place."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_login import current_user

from .. import htmx
from ..db import get_db
from ..errors import InvalidInput, PortalError
from ..models import Application, ApplicationState
from ..services import applications, settings
from ..templating import current_coop
from .access import safe_next, staff_required

bp = Blueprint("review", __name__, url_prefix="/staff/applications")

PAGE_SIZE = 25
STATE_CHOICES = [("open", "Awaiting a decision"), ("all", "All but drafts")] + [
    (s.value, s.value.replace("_", " ").capitalize())
    for s in ApplicationState
    if s is not ApplicationState.DRAFT
]


def _filters() -> dict[str, str]:
    state = request.args.get("state", "open") or "all"
    if state not in {value for value, _ in STATE_CHOICES}:
        state = "open"
    return {"state": state, "class": request.args.get("class", "")[:32]}


@bp.get("")
@staff_required
def queue() -> Response:
    """Applications filtered by state and class; htmx swaps only the table."""
    db = get_db()
    filters = _filters()
    page = applications.review_queue(
        db,
        state=filters["state"],
        class_code=filters["class"],
        page=request.args.get("page", 1, type=int),
        per_page=PAGE_SIZE,
    )
    query = {k: v for k, v in filters.items() if v}
    return htmx.render(
        "review/queue.html",
        "review/_results.html",
        page=page,
        filters=filters,
        query=query,
        classes=settings.list_classes(db),
        states=STATE_CHOICES,
        two_person=current_coop().two_person_approval,
    )


def _load(application_id: int) -> Application:
    application = applications.get_for_review(get_db(), application_id)
    if application is None:
        abort(404)
    return application


def _row(
    application: Application,
    *,
    status: int = 200,
    error: str | None = None,
    message: str | None = None,
) -> Response:
    """After an action: the row for htmx, the queue (303) for a plain form post."""
    if htmx.is_htmx():
        response = htmx.render(
            "review/_row.html",
            "review/_row.html",
            application=application,
            error=error,
            message=message,
            status=status,
            two_person=current_coop().two_person_approval,
        )
        return response
    if error:
        flash(error, "error")
        page = queue()  # the queue again, with the message: the input was refused
        page.status_code = status
        return page
    if message:
        flash(message, "success")
    return htmx.redirect(safe_next(request.form.get("next"), url_for("review.queue")))


def _act(application_id: int, action: str) -> Response:
    db = get_db()
    application = _load(application_id)
    reason = request.form.get("reason", "")
    try:
        if action == "approve":
            applications.approve_application(
                db, application, actor=current_user, settings=current_coop()
            )
        elif action == "ask":
            applications.ask_for_information(db, application, reason, actor=current_user)
        else:
            applications.reject_application(db, application, reason, actor=current_user)
    except InvalidInput as exc:
        db.rollback()
        return _row(_load(application_id), status=422, error=exc.message)
    db.commit()
    messages = {
        ApplicationState.APPROVED: f"Approved: {application.user.name} is member no. "
        f"{application.member.number if application.member_id else ''}.",
        ApplicationState.AWAITING_SECOND: "Approved once; another staff member must confirm.",
        ApplicationState.NEEDS_INFO: f"Asked {application.user.name} for more information.",
        ApplicationState.REJECTED: f"Rejected the application of {application.user.name}.",
    }
    return _row(application, message=messages.get(application.state))


@bp.post("/<int:application_id>/approve")
@staff_required
def approve(application_id: int) -> Response:
    return _act(application_id, "approve")


@bp.post("/<int:application_id>/ask")
@staff_required
def ask(application_id: int) -> Response:
    return _act(application_id, "ask")


@bp.post("/<int:application_id>/reject")
@staff_required
def reject(application_id: int) -> Response:
    return _act(application_id, "reject")


@bp.post("/approve")
@staff_required
def approve_selected() -> Response:
    """Approve every selected application in one transaction (all or none)."""
    db = get_db()
    ids = [int(i) for i in request.form.getlist("application_id") if i.isdigit()][:200]
    if not ids:
        flash("Select at least one application to approve.", "warning")
        return htmx.redirect(url_for("review.queue"))
    chosen = [_load(i) for i in ids]
    try:
        applications.approve_many(db, chosen, actor=current_user, settings=current_coop())
    except PortalError as exc:
        db.rollback()
        flash(f"Nothing was approved: {exc.message}", "error")
        return htmx.redirect(url_for("review.queue"))
    db.commit()
    done = sum(a.state is ApplicationState.APPROVED for a in chosen)
    waiting = len(chosen) - done
    parts = []
    if done:
        parts.append(f"Approved {done} application{'s' if done != 1 else ''}.")
    if waiting:
        parts.append(f"{waiting} approved once; another staff member must confirm.")
    flash(" ".join(parts), "success")
    return htmx.redirect(safe_next(request.form.get("next"), url_for("review.queue")))
