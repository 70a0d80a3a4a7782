"""Staff review of applications: the queue, and approve / ask / reject in place."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, Response, flash, request, url_for
from flask_login import current_user

from ... import htmx
from ...db import get_db, transaction
from ...errors import InvalidInput, PortalError
from ...models import Application, ApplicationState
from ...services.inputs import read_id
from ...services.membership import review
from ...services.register import classes
from ..access import found, safe_next
from ..paging import cursor

bp = Blueprint("applications", __name__)

PAGE_SIZE = 25
# The most applications one bulk approval takes (the queue shows 25 a page).
MAX_SELECTED = 200
STATE_CHOICES = [("open", "Awaiting a decision"), ("all", "All but drafts")] + [
    (s.value, s.label) for s in ApplicationState if s is not ApplicationState.DRAFT
]


def _filters() -> dict[str, str]:
    state = request.args.get("state", "open") or "all"
    if state not in {value for value, _ in STATE_CHOICES}:
        state = "open"
    return {"state": state, "class": request.args.get("class", "")[:32]}


@bp.get("/applications")
def queue() -> Response:
    """Applications filtered by state and class; htmx swaps only the table."""
    db = get_db()
    filters = _filters()
    page = review.review_queue(
        db,
        state=filters["state"],
        class_code=filters["class"],
        after=cursor("after"),
        before=cursor("before"),
        per_page=PAGE_SIZE,
    )
    return htmx.render(
        "staff/applications/queue.html",
        "staff/applications/_results.html",
        page=page,
        filters=filters,
        query={k: v for k, v in filters.items() if v},
        classes=classes.list_classes(db),
        states=STATE_CHOICES,
    )


def _load(application_id: int) -> Application:
    return found(review.get_for_review(get_db(), application_id))


MESSAGES = {
    ApplicationState.AWAITING_SECOND: "Approved once; another staff member must confirm.",
    ApplicationState.AWAITING_SHARE: "Approved: {name} becomes a member when the membership "
    "share is paid; the payment details are on their way.",
    ApplicationState.NEEDS_INFO: "Asked {name} for more information.",
    ApplicationState.REJECTED: "Rejected the application of {name}.",
}


# What a bulk approval left each application waiting for, in words.
BULK_WORDS = {
    ApplicationState.AWAITING_SHARE: "will be members once their membership share is paid.",
    ApplicationState.APPROVED: "joined a further class at once.",
    ApplicationState.AWAITING_SECOND: "await a second staff member's confirmation.",
}


def _act(application_id: int, action: str) -> Response:
    """Approve, ask or reject; the row again for htmx, the queue (303) for a plain post."""
    application = _load(application_id)
    reason = request.form.get("reason", "")
    try:
        with transaction() as db:
            if action == "approve":
                review.approve_application(db, application, actor=current_user)
            elif action == "ask":
                review.ask_for_information(db, application, reason, actor=current_user)
            else:
                review.reject_application(db, application, reason, actor=current_user)
    except InvalidInput as exc:
        return _refused(_load(application_id), exc)
    name = application.user.name
    if application.state is ApplicationState.APPROVED:
        message = f"Approved: {name}, member no. {application.member.number}, joins the class."
    else:
        message = MESSAGES[application.state].format(name=name)
    return htmx.partial_or_redirect(
        "staff/applications/_row.html",
        safe_next(request.form.get("next"), url_for("staff.applications.queue")),
        message=message,
        application=application,
    )


def _refused(application: Application, exc: InvalidInput) -> Response:
    """The row with the message (htmx), or the queue again with it (a plain post), as 422."""
    if htmx.is_htmx():
        return htmx.partial(
            "staff/applications/_row.html", application=application, error=exc.message, status=422
        )
    flash(exc.message, "error")
    page = queue()
    page.status_code = 422
    return page


@bp.post("/applications/<int:application_id>/approve")
def approve(application_id: int) -> Response:
    return _act(application_id, "approve")


@bp.post("/applications/<int:application_id>/ask")
def ask(application_id: int) -> Response:
    return _act(application_id, "ask")


@bp.post("/applications/<int:application_id>/reject")
def reject(application_id: int) -> Response:
    return _act(application_id, "reject")


@bp.post("/applications/approve")
def approve_selected() -> Response:
    """Approve every selected application in one transaction (all or none)."""
    ids = [i for i in map(read_id, request.form.getlist("application_id")) if i is not None]
    if not ids:
        flash("Select at least one application to approve.", "warning")
        return htmx.redirect(url_for("staff.applications.queue"))
    chosen = [_load(i) for i in ids[:MAX_SELECTED]]
    try:
        with transaction() as db:
            review.approve_many(db, chosen, actor=current_user)
    except PortalError as exc:
        flash(f"Nothing was approved: {exc.message}", "error")
        return htmx.redirect(url_for("staff.applications.queue"))
    counts = Counter(a.state for a in chosen)
    approved = len(chosen) - counts[ApplicationState.AWAITING_SECOND]
    parts = [f"Approved {approved} application{'s' if approved != 1 else ''}."] if approved else []
    for state, words in BULK_WORDS.items():
        if counts[state]:
            parts.append(f"{counts[state]} {words}")
    flash(" ".join(parts), "success")
    return htmx.redirect(safe_next(request.form.get("next"), url_for("staff.applications.queue")))


@bp.post("/applications/<int:application_id>/remind")
def remind(application_id: int) -> Response:
    """Send an approved applicant the payment details of their membership share again."""
    application = _load(application_id)
    with transaction() as db:
        review.remind_to_pay(db, application, actor=current_user)
    return htmx.partial_or_redirect(
        "staff/applications/_row.html",
        safe_next(request.form.get("next"), url_for("staff.applications.queue")),
        message=f"Sent {application.user.name} the payment details again.",
        application=application,
    )
