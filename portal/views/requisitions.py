"""Members requisition a meeting and sign requisitions (issue 14 §5; the rules in
``services.meetings.requisitions``)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user, login_required

from .. import htmx
from ..db import get_db, transaction, write_session
from ..errors import PortalError
from ..models import MeetingKind, Requisition
from ..services.meetings import requisitions
from ..services.register import classes
from .access import current_member, get_or_404

bp = Blueprint("requisitions", __name__, url_prefix="/meetings/requisitions")


@bp.before_request
@login_required
def _members_and_staff() -> None:
    """Members' business (staff may read): others signed in get 403."""
    if current_member() is None and not current_user.is_staff:
        abort(403)


def lapsed_if_due() -> None:
    """Lapse the requisitions past their signing deadline before a page reads them.

    A GET's session only reads, so the lapsing runs in a write transaction of its own, and
    only when one is due (one small read otherwise); the request's session then starts
    afresh, to read them as lapsed.
    """
    if requisitions.is_lapse_due(get_db()):
        with write_session() as db:
            requisitions.lapse_due(db)
        get_db().rollback()  # its snapshot is from before


def _list_page(
    values: dict[str, str] | None = None, error: PortalError | None = None, status: int = 200
) -> Response:
    db = get_db()
    items = requisitions.requisitions(db)
    page = render_template(
        "meetings/requisitions.html",
        items=items,
        counts=requisitions.signature_counts(db),
        states={r.id: requisitions.shown_state(db, r) for r in items},
        kinds=requisitions.KINDS,
        classes=classes.list_classes(db),
        member=current_member(),
        values=values or {"kind": MeetingKind.EGM.value},
        error=error,
    )
    return Response(page, status)


@bp.get("")
def requisitions_list() -> Response:
    """Every requisition with its count against its threshold, and a form to start one."""
    lapsed_if_due()
    return _list_page()


@bp.post("")
def start() -> Response:
    """Start a requisition (signed by its starter): 303 to it, or the form again (422/403)."""
    values = {key: value[:20_000] for key, value in request.form.items()}
    try:
        with transaction() as db:
            requisition = requisitions.start_requisition(
                db,
                current_member(),
                requisitions.read_requisition(db, values),
                actor=current_user,
            )
    except PortalError as exc:
        return _list_page(values, exc, status=exc.status)
    return htmx.flash_and_redirect(
        "Your requisition is started and signed by you; ask other members to sign it.",
        url_for("requisitions.requisition", requisition_id=requisition.id),
    )


def _page(requisition: Requisition, *, error: str | None = None, status: int = 200) -> Response:
    db = get_db()
    member = current_member()
    page = render_template(
        "meetings/requisition.html",
        requisition=requisition,
        description=requisitions.describe(requisition),
        state=requisitions.shown_state(db, requisition),
        count=requisitions.signature_count(db, requisition),
        signatures=requisitions.signatures(db, requisition),
        signed=member is not None and requisitions.signature_of(db, requisition, member),
        sign_days_left=requisitions.days_left(db, requisition.sign_by),
        call_days_left=requisitions.days_left(db, requisition.call_by),
        error=error,
    )
    return Response(page, status)


@bp.get("/<int:requisition_id>")
def requisition(requisition_id: int) -> Response:
    """The requisition: its purpose, signatures against the threshold, its deadline, and
    once reached the board's timeline and whether it was met."""
    lapsed_if_due()
    return _page(get_or_404(Requisition, requisition_id))


@bp.post("/<int:requisition_id>/sign")
def sign(requisition_id: int) -> Response:
    """Sign, once (409 again or past the deadline; 403 not a member of its class)."""
    requisition = get_or_404(Requisition, requisition_id)
    try:
        with transaction() as db:
            requisitions.sign_requisition(db, requisition, current_member(), actor=current_user)
    except PortalError as exc:
        return _page(get_or_404(Requisition, requisition_id), error=exc.message, status=exc.status)
    return htmx.flash_and_redirect(
        "You signed the requisition.",
        url_for("requisitions.requisition", requisition_id=requisition_id),
    )
