"""An election's result for members and staff: the elected directors, the quota, the
round-by-round count and its chart, once counted; before then its state, candidates and
published tie-break seed (issue 15 §5; ``services.elections.results``)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from ..db import get_db
from ..models import Election
from ..services.elections import nominations, results
from .access import current_member, found
from .meetings import closed_if_due

bp = Blueprint("election_results", __name__, url_prefix="/meetings")


def _load(meeting_id: int, election_id: int) -> Election:
    election = found(nominations.visible_election(get_db(), meeting_id, election_id))
    if not results.may_read(
        get_db(), election.meeting, current_member(), staff=current_user.is_staff
    ):
        abort(403)
    return election


@bp.get("/<int:meeting_id>/elections/<int:election_id>", endpoint="election")
@login_required
def election_page(meeting_id: int, election_id: int) -> str:
    """The election's result once counted (closing it first when it is due)."""
    closed_if_due(_load(meeting_id, election_id).meeting)
    election = _load(meeting_id, election_id)
    return render_template(
        "elections/results.html",
        election=election,
        meeting=election.meeting,
        result=results.election_result(election),
        candidates=results.ballot_candidates(get_db(), election),
    )
