"""Members nominate candidates for their class's board seats, accept a nomination, and
second one, while an election's nominations are open (issue 15 §2; the rules in
``services.elections.nominations``)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from .. import coop, htmx, uploads
from ..db import get_db, transaction
from ..errors import PortalError
from ..models import STANDING_CANDIDATE_STATES, Candidate, Election
from ..services.elections import nominations
from .access import current_member, found

bp = Blueprint("elections", __name__, url_prefix="/meetings")
uploads.allow_upload_bodies(bp, "nominate", "accept")  # a photo may come with the form


@bp.before_request
@login_required
def _members_and_staff() -> None:
    """Members' business (staff may read): others signed in get 403."""
    if current_member() is None and not current_user.is_staff:
        abort(403)


def _load(meeting_id: int, election_id: int) -> Election:
    return found(nominations.visible_election(get_db(), meeting_id, election_id))


def _candidate(election: Election, candidate_id: int) -> Candidate:
    return found(nominations.election_candidate(get_db(), election, candidate_id))


def _page(
    election: Election,
    *,
    values: dict[str, str] | None = None,
    error: PortalError | None = None,
    form: str = "",
    status: int = 200,
) -> Response:
    """The nominations page; ``form`` names the form ``error`` belongs to ("nominate" or a
    candidate's id)."""
    db = get_db()
    candidates = nominations.standing_candidates(db, election)
    page = render_template(
        "elections/nominations.html",
        election=election,
        meeting=election.meeting,
        candidates=candidates,
        statements={c.id: nominations.statement_html(c) for c in candidates},
        window_open=election.takes_nominations_at(coop.clock(db).now()),
        member=current_member(),
        statement_max=nominations.STATEMENT_MAX,
        values=values or {},
        error=error,
        form=form,
    )
    return Response(page, status)


def _photo() -> uploads.StoredImage | None:
    """The photo sent with the form, checked and stored; None when none was chosen."""
    upload: FileStorage | None = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    return uploads.accept_image(
        upload, root=uploads.uploads_root(), max_bytes=uploads.DEFAULT_MAX_IMAGE_BYTES
    )


def _values() -> dict[str, str]:
    return {key: value[: nominations.STATEMENT_MAX + 1000] for key, value in request.form.items()}


def _done(election: Election, message: str, candidate_id: int | None = None) -> Response:
    anchor = f"candidate-{candidate_id}" if candidate_id else None
    return htmx.flash_and_redirect(
        message,
        url_for(
            "elections.nominations_page",
            meeting_id=election.meeting_id,
            election_id=election.id,
            _anchor=anchor,
        ),
    )


@bp.get("/<int:meeting_id>/elections/<int:election_id>/nominations")
def nominations_page(meeting_id: int, election_id: int) -> Response:
    """The election's seats, window and nominations, with the forms a member may use."""
    return _page(_load(meeting_id, election_id))


@bp.post("/<int:meeting_id>/elections/<int:election_id>/nominations")
def nominate(meeting_id: int, election_id: int) -> Response:
    """Nominate yourself (blank member number) or another member of your class."""
    election = _load(meeting_id, election_id)
    values = _values()
    try:
        with transaction() as db:
            member = current_member()
            nominee = (
                nominations.find_nominee(db, values["member_number"])
                if values.get("member_number", "").strip()
                else member
            )
            if nominee is None:
                abort(403)
            photo = _photo() if member is not None and nominee.id == member.id else None
            candidate = nominations.nominate(
                db,
                election,
                member,
                nominee,
                statement=values.get("statement", ""),
                photo=photo,
                actor=current_user,
            )
            self_nominated = candidate.self_nominated
            name = nominee.name
    except PortalError as exc:
        return _page(
            _load(meeting_id, election_id),
            values=values,
            error=exc,
            form="nominate",
            status=exc.status,
        )
    message = (
        "You are nominated. Another member of your class must second you before nominations close."
        if self_nominated
        else f"You nominated {name}. They must accept before anyone can second them."
    )
    return _done(election, message, candidate.id)


@bp.post("/<int:meeting_id>/elections/<int:election_id>/nominations/<int:candidate_id>/accept")
def accept(meeting_id: int, election_id: int, candidate_id: int) -> Response:
    """The nominee accepts, with their statement and an optional photo."""
    election = _load(meeting_id, election_id)
    candidate = _candidate(election, candidate_id)
    values = _values()
    try:
        with transaction() as db:
            nominations.accept_nomination(
                db,
                candidate,
                current_member(),
                statement=values.get("statement", ""),
                photo=_photo(),
                actor=current_user,
            )
    except PortalError as exc:
        return _page(
            _load(meeting_id, election_id),
            values=values,
            error=exc,
            form=str(candidate_id),
            status=exc.status,
        )
    return _done(election, "You accepted the nomination. It now needs a seconder.", candidate_id)


def _answer(
    meeting_id: int,
    election_id: int,
    candidate_id: int,
    answer: Callable[..., object],
    message: str,
) -> Response:
    """Run a member's button on a nomination (second, withdraw) in a transaction: 303 with
    ``message``, or the page again with the refusal on that nomination."""
    election = _load(meeting_id, election_id)
    candidate = _candidate(election, candidate_id)
    try:
        with transaction() as db:
            answer(db, candidate, current_member(), actor=current_user)
    except PortalError as exc:
        return _page(
            _load(meeting_id, election_id), error=exc, form=str(candidate_id), status=exc.status
        )
    return _done(election, message, candidate_id)


@bp.post("/<int:meeting_id>/elections/<int:election_id>/nominations/<int:candidate_id>/second")
def second(meeting_id: int, election_id: int, candidate_id: int) -> Response:
    """Second an accepted nomination (403 for one's own, or from another class)."""
    return _answer(
        meeting_id,
        election_id,
        candidate_id,
        nominations.second_nomination,
        "You seconded the nomination.",
    )


@bp.post("/<int:meeting_id>/elections/<int:election_id>/nominations/<int:candidate_id>/withdraw")
def withdraw(meeting_id: int, election_id: int, candidate_id: int) -> Response:
    """The nominee declines or stands down."""
    return _answer(
        meeting_id,
        election_id,
        candidate_id,
        nominations.withdraw_nomination,
        "Your nomination is withdrawn.",
    )


@bp.get("/<int:meeting_id>/elections/<int:election_id>/candidates/<int:candidate_id>/photo")
def photo(meeting_id: int, election_id: int, candidate_id: int) -> Response:
    """A standing candidate's photo, as the image type it was checked as."""
    candidate = _candidate(_load(meeting_id, election_id), candidate_id)
    if candidate.photo_sha256 is None or candidate.photo_type is None:
        abort(404)
    if candidate.state not in STANDING_CANDIDATE_STATES:
        abort(404)
    return uploads.send_image(uploads.uploads_root(), candidate.photo_sha256, candidate.photo_type)
