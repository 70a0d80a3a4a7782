"""Staff keep the board record: the directors sitting for each class, directors already in
office recorded (elected before the portal), and a term ended early when a director
resigns (issue 15 §1; the rules in ``services.elections.board``)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import htmx
from ...db import get_db, transaction
from ...errors import PortalError
from ...models import Director
from ...services.elections import board
from ...services.inputs import read_date
from ..access import get_or_404

bp = Blueprint("board", __name__)


def _values() -> dict[str, str]:
    return {key: value[:2000] for key, value in request.form.items()}


def _page(
    *,
    form: str = "",
    error: PortalError | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The board page; ``form`` names the form ``error`` belongs to ("record" or a
    director's id)."""
    classes = board.current_board(get_db())
    page = render_template(
        "staff/board.html",
        classes=classes,
        seated_classes=[seats.member_class for seats in classes if seats.member_class.board_seats],
        form=form,
        error=error,
        values=values or {},
    )
    return Response(page, status)


@bp.get("/board")
def page() -> Response:
    """The board by class today, the form to record a director in office, and each
    director's "end the term early"."""
    return _page()


@bp.post("/board")
def record() -> Response:
    """Record a director already in office (422 with the form on bad input)."""
    values = _values()
    try:
        with transaction() as db:
            director = board.record_director_in_office(
                db, board.read_director(values), actor=current_user
            )
            message = (
                f"{director.member.name} is recorded as a {director.member_class.name} "
                f"director until {director.term_ends_on:%-d %B %Y}."
            )
    except PortalError as exc:
        return _page(form="record", error=exc, values=values, status=exc.status)
    return htmx.flash_and_redirect(message, url_for("staff.board.page"))


@bp.post("/board/directors/<int:director_id>/end")
def end_term(director_id: int) -> Response:
    """End a director's term early, on their last day in office (a resignation)."""
    director = get_or_404(Director, director_id)
    values = _values()
    try:
        with transaction() as db:
            last_day = read_date(values.get("last_day"), "Last day in office", field="last_day")
            board.end_term(
                db, director, last_day, actor=current_user, reason=values.get("reason", "")
            )
            message = f"{director.member.name}'s term ends on {last_day:%-d %B %Y}."
    except PortalError as exc:
        return _page(form=str(director_id), error=exc, values=values, status=exc.status)
    return htmx.flash_and_redirect(message, url_for("staff.board.page"))
