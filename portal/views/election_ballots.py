"""Members rank a board election's candidates, for themselves and for the members whose
proxies they hold (issue 15 §3; the rules in ``services.elections.ballots``)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user, login_required

from .. import htmx
from ..db import get_db, transaction
from ..errors import NotAllowed, PortalError
from ..models import Election, ElectionState, ProxyAppointment
from ..services.elections import ballot_pages, ballots, nominations
from .access import current_member, found, safe_next

bp = Blueprint("election_ballots", __name__, url_prefix="/meetings")

# The ballot is shown from the list's confirmation until the count.
BALLOT_STATES = (ElectionState.CANDIDATES_CONFIRMED, ElectionState.VOTING_OPEN)


@bp.before_request
@login_required
def _members_and_staff() -> None:
    """Members' business (staff may read): others signed in get 403."""
    if current_member() is None and not current_user.is_staff:
        abort(403)


def _load(meeting_id: int, election_id: int) -> Election:
    election = nominations.visible_election(get_db(), meeting_id, election_id)
    return found(election if election and election.state in BALLOT_STATES else None)


def _form_values() -> dict[str, str]:
    """The ranks as sent, to show again with a refusal (short values, rank fields only)."""
    return {
        key[:40]: value[:4]
        for key, value in request.form.items()
        if key.startswith(ballots.RANK_FIELD)
    }


def _page(
    election: Election,
    *,
    refused: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The ballot page: the member's own ballot (``own``) and one per proxy they hold
    (the appointment's id); ``refused`` names the one ``error`` concerns, shown with the
    ranks as sent."""
    db = get_db()
    member = current_member()
    own = ballot_pages.ballot_for(db, election, member)
    page = render_template(
        "elections/ballot.html",
        election=election,
        meeting=election.meeting,
        own=own,
        held=ballot_pages.held_ballots(db, election, member),
        refused=refused,
        error=error,
        values=_form_values() if error else None,
    )
    return Response(page, status)


def _partial(
    ballot: ballot_pages.RankingBallot, *, status: int = 200, **context: object
) -> Response:
    context.setdefault("error", None)
    context.setdefault("message", None)
    context.setdefault("values", None)
    context.setdefault("back", request.form.get("next") and safe_next(request.form["next"]))
    return htmx.partial(
        "elections/_ranked_ballot.html",
        status=status,
        meeting=ballot.election.meeting,
        ballot=ballot,
        **context,
    )


@bp.get("/<int:meeting_id>/elections/<int:election_id>/ballot")
def ballot(meeting_id: int, election_id: int) -> Response:
    """The ranked ballot: the page, or for htmx the member's own ballot partial."""
    election = _load(meeting_id, election_id)
    if htmx.is_htmx():
        return _partial(ballot_pages.ballot_for(get_db(), election, current_member()))
    return _page(election)


def _answer(
    ballot: ballot_pages.RankingBallot,
    cast: ballots.RankedVote | None,
    error: PortalError | None,
    *,
    what: str,
) -> Response:
    """After a ranking is cast or refused: the ballot's partial for htmx; else a 303 back
    to it, or the page with the refusal and the ranks as sent."""
    election = ballot.election
    key = "own" if ballot.appointment is None else str(ballot.appointment.id)
    if error is not None:
        if htmx.is_htmx():
            return _partial(ballot, status=error.status, error=error.message, values=_form_values())
        return _page(election, refused=key, error=error.message, status=error.status)
    assert cast is not None
    message = f"{what} is recorded. Your receipt is {cast.receipt}."
    if htmx.is_htmx():
        return _partial(replace(ballot, vote=cast), message=message)
    anchor = "ballot-own" if ballot.appointment is None else f"ballot-proxy-{key}"
    page = url_for(
        "election_ballots.ballot", meeting_id=election.meeting_id, election_id=election.id
    )
    # Back where the form was (the meeting's page shows the ballot too), else its page.
    back = safe_next(request.form.get("next"), page).split("#")[0]
    return htmx.flash_and_redirect(message, f"{back}#{anchor}")


@bp.post("/<int:meeting_id>/elections/<int:election_id>/ballot")
def rank(meeting_id: int, election_id: int) -> Response:
    """Cast or change the member's ranking: the partial for htmx, else 303 back; a
    refusal (409 closed, 403 not on the roll, 422 bad ranks) writes nothing and says why."""
    election = _load(meeting_id, election_id)
    member = current_member()
    cast, error = None, None
    try:
        if member is None:
            raise NotAllowed("Only members on the voter roll rank the candidates.")
        with transaction() as db:
            voting = db.get(Election, election.id)
            ranking = ballots.read_ranks(db, voting, request.form)
            cast = ballots.cast_ranking(db, voting, member, ranking, actor=current_user)
    except PortalError as exc:
        error = exc
    ballot = ballot_pages.ballot_for(get_db(), election, member)
    return _answer(ballot, cast, error, what="Your ranking")


@bp.post("/<int:meeting_id>/elections/<int:election_id>/ballot/proxy/<int:appointment_id>")
def rank_for(meeting_id: int, election_id: int, appointment_id: int) -> Response:
    """The holder of a proxy ranks for its grantor, where the holder decides; 404 for a
    proxy the signed-in member does not hold for a member in this election."""
    election = _load(meeting_id, election_id)
    member = current_member()

    def held() -> ballot_pages.RankingBallot:
        mine = ballot_pages.held_ballots(get_db(), election, member)
        return found(next((h for h in mine if h.appointment.id == appointment_id), None))

    grantor = held().appointment.grantor.name
    cast, error = None, None
    try:
        with transaction() as db:
            voting = db.get(Election, election.id)
            ranking = ballots.read_ranks(db, voting, request.form)
            cast = ballots.holder_ranks(
                db,
                db.get(ProxyAppointment, appointment_id),
                voting,
                ranking,
                holder=member,
                actor=current_user,
            )
    except PortalError as exc:
        error = exc
    return _answer(held(), cast, error, what=f"The ranking for {grantor}")
