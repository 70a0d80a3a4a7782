"""Staff run a meeting's board elections: put an election of a class on the meeting (seats,
nominations window), open and close nominations, confirm or reject candidates, and confirm
the list (issue 15 §1, §2; the rules in ``services.elections.nominations``)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import htmx
from ...db import get_db, transaction
from ...errors import InvalidInput, PortalError
from ...models import Election, Meeting
from ...services.elections import board, nominations, voting
from ...services.inputs import read_flag
from ...services.meetings import lifecycle
from ...services.register import classes
from ..access import found, get_or_404
from ..auth import reauthentication_required

bp = Blueprint("meeting_elections", __name__)


def _values() -> dict[str, str]:
    return {key: value[:2000] for key, value in request.form.items()}


def _load(meeting_id: int, election_id: int) -> Election:
    return found(
        nominations.meeting_election(get_db(), get_or_404(Meeting, meeting_id), election_id)
    )


def _list_page(
    meeting: Meeting,
    *,
    error: PortalError | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    db = get_db()
    page = render_template(
        "staff/elections/list.html",
        meeting=meeting,
        elections=nominations.meeting_elections(db, meeting),
        ending=board.terms_ending_at(db, meeting),
        notice=lifecycle.notice_period(db, meeting),
        classes=[c for c in classes.list_classes(db) if c.board_seats > 0],
        error=error,
        values=values or {},
    )
    return Response(page, status)


def _election_page(
    election: Election,
    *,
    form: str = "",
    error: PortalError | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The election's page; ``form`` names the form ``error`` belongs to ("election",
    "cancel", "list" or a candidate's id)."""
    db = get_db()
    candidates = nominations.election_candidates(db, election)
    page = render_template(
        "staff/elections/election.html",
        election=election,
        meeting=election.meeting,
        candidates=candidates,
        statements={c.id: nominations.statement_html(c) for c in candidates},
        notice=lifecycle.notice_period(db, election.meeting),
        form=form,
        error=error,
        values=values or {},
    )
    return Response(page, status)


def _done(election: Election, message: str) -> Response:
    return htmx.flash_and_redirect(
        message,
        url_for(
            "staff.meeting_elections.election",
            meeting_id=election.meeting_id,
            election_id=election.id,
        ),
    )


@bp.get("/meetings/<int:meeting_id>/elections", endpoint="elections")
def elections_page(meeting_id: int) -> Response:
    """The meeting's elections, the terms ending at it, and the form to add one."""
    return _list_page(get_or_404(Meeting, meeting_id))


@bp.post("/meetings/<int:meeting_id>/elections")
def create(meeting_id: int) -> Response:
    """Put an election of a class on the meeting (422 on bad seats or window; 409 once noticed)."""
    meeting = get_or_404(Meeting, meeting_id)
    values = _values()
    try:
        with transaction() as db:
            member_class = nominations.read_class(db, values.get("class_code"))
            election = nominations.create_election(
                db, meeting, member_class, nominations.read_election(values), actor=current_user
            )
            name = member_class.name
    except PortalError as exc:
        return _list_page(
            get_or_404(Meeting, meeting_id), error=exc, values=values, status=exc.status
        )
    return _done(election, f"The election of {name} directors is set up, in draft.")


@bp.get("/meetings/<int:meeting_id>/elections/<int:election_id>", endpoint="election")
def election_page(meeting_id: int, election_id: int) -> Response:
    """An election: its seats and window, and every nomination with staff's decisions."""
    return _election_page(_load(meeting_id, election_id))


def _act(
    meeting_id: int,
    election_id: int,
    form: str,
    action: Callable[[object, Election, dict[str, str]], object],
    message: str,
) -> Response:
    """Run one staff action on the election in a transaction: 303 with ``message``, or the
    page again with the refusal beside ``form``."""
    election = _load(meeting_id, election_id)
    values = _values()
    try:
        with transaction() as db:
            action(db, election, values)
    except PortalError as exc:
        return _election_page(
            _load(meeting_id, election_id), form=form, error=exc, values=values, status=exc.status
        )
    return _done(election, message)


@bp.post("/meetings/<int:meeting_id>/elections/<int:election_id>")
def change(meeting_id: int, election_id: int) -> Response:
    """Change the seats or the nominations window (before nominations close)."""
    return _act(
        meeting_id,
        election_id,
        "election",
        lambda db, e, v: nominations.change_election(
            db, e, nominations.read_election(v), actor=current_user
        ),
        "The election is changed.",
    )


@bp.post("/meetings/<int:meeting_id>/elections/<int:election_id>/open")
def open_nominations(meeting_id: int, election_id: int) -> Response:
    """Open nominations (taken inside the window only)."""
    return _act(
        meeting_id,
        election_id,
        "election",
        lambda db, e, v: nominations.open_nominations(db, e, actor=current_user),
        "Nominations are open.",
    )


@bp.post("/meetings/<int:meeting_id>/elections/<int:election_id>/close")
def close_nominations(meeting_id: int, election_id: int) -> Response:
    """Close nominations (early, or once the window has passed)."""
    return _act(
        meeting_id,
        election_id,
        "election",
        lambda db, e, v: nominations.close_nominations(db, e, actor=current_user),
        "Nominations are closed: confirm or reject each seconded candidate.",
    )


@bp.post("/meetings/<int:meeting_id>/elections/<int:election_id>/cancel")
def cancel(meeting_id: int, election_id: int) -> Response:
    """Cancel the election, with a reason (before voting opens)."""
    return _act(
        meeting_id,
        election_id,
        "cancel",
        lambda db, e, v: nominations.cancel_election(
            db, e, v.get("reason", ""), actor=current_user
        ),
        "The election is cancelled.",
    )


@bp.post("/meetings/<int:meeting_id>/elections/<int:election_id>/confirm")
def confirm_list(meeting_id: int, election_id: int) -> Response:
    """Confirm the candidate list (nominations not accepted or seconded lapse)."""
    return _act(
        meeting_id,
        election_id,
        "list",
        lambda db, e, v: nominations.confirm_candidate_list(db, e, actor=current_user),
        "The candidate list is confirmed; it goes out with the notice.",
    )


def _candidate_action(
    meeting_id: int,
    election_id: int,
    candidate_id: int,
    decide: Callable[..., object],
    message: str,
) -> Response:
    election = _load(meeting_id, election_id)
    candidate = found(nominations.election_candidate(get_db(), election, candidate_id))
    values = _values()
    try:
        with transaction() as db:
            decide(db, candidate, values)
    except PortalError as exc:
        return _election_page(
            _load(meeting_id, election_id),
            form=str(candidate_id),
            error=exc,
            values=values,
            status=exc.status,
        )
    return _done(election, message)


@bp.post(
    "/meetings/<int:meeting_id>/elections/<int:election_id>/candidates/<int:candidate_id>/confirm"
)
def confirm_candidate(meeting_id: int, election_id: int, candidate_id: int) -> Response:
    """Confirm a seconded candidate for the ballot."""
    return _candidate_action(
        meeting_id,
        election_id,
        candidate_id,
        lambda db, c, v: nominations.confirm_candidate(db, c, actor=current_user),
        "The candidate is confirmed.",
    )


@bp.post(
    "/meetings/<int:meeting_id>/elections/<int:election_id>/candidates/<int:candidate_id>/reject"
)
def reject_candidate(meeting_id: int, election_id: int, candidate_id: int) -> Response:
    """Reject a nomination with a reason."""
    return _candidate_action(
        meeting_id,
        election_id,
        candidate_id,
        lambda db, c, v: nominations.reject_candidate(
            db, c, v.get("reason", ""), actor=current_user
        ),
        "The nomination is rejected.",
    )


def _count_now(db: object, election: Election, values: dict[str, str]) -> object:
    if not read_flag(values.get("confirm")):
        raise InvalidInput(
            "Tick the box to confirm: voting closes now and the rankings are counted.",
            field="confirm",
        )
    return voting.close_election(db, election, actor=current_user)


@bp.post("/meetings/<int:meeting_id>/elections/<int:election_id>/count")
@reauthentication_required
def count_now(meeting_id: int, election_id: int) -> Response:
    """Close voting in the election now and count it (confirmed by a tick; 409 once counted)."""
    return _act(
        meeting_id,
        election_id,
        "count",
        _count_now,
        "Voting is closed and the election counted: check the result, then declare it.",
    )


@bp.post("/meetings/<int:meeting_id>/elections/<int:election_id>/declare")
def declare(meeting_id: int, election_id: int) -> Response:
    """Declare the counted result: the elected join the board (409 unless counted)."""
    return _act(
        meeting_id,
        election_id,
        "count",
        lambda db, e, v: voting.declare(db, e, actor=current_user),
        "The result is declared; the elected directors are on the board.",
    )
