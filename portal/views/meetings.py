"""Members take part in general meetings: the meetings, the ballot, live turnout, results."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user, login_required

from .. import coop, htmx, markup, pdf
from ..db import get_db, transaction, write_session
from ..errors import NotAllowed, PortalError
from ..models import Choice, Meeting, MeetingState, ProxyAppointment, Resolution
from ..services.elections import ballot_pages, proxy_rankings, voting
from ..services.elections import results as election_results
from ..services.meetings import (
    ballots,
    minutes,
    notices,
    overview,
    proposals,
    proxies,
    results,
    session,
)
from .access import current_member, found, safe_next
from .documents import version_download
from .downloads import attachment, streamed_csv
from .paging import cursor

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

# htmx stops polling when a poll is answered with this status.
STOP_POLLING = 286


@bp.before_request
@login_required
def _members_and_staff() -> None:
    """Meetings are the members' (and staff's) business: others signed in get 403."""
    if current_member() is None and not current_user.is_staff:
        abort(403)


def _load(meeting_id: int) -> Meeting:
    return found(overview.member_meeting(get_db(), meeting_id))


def closed_if_due(meeting: Meeting) -> Meeting:
    """Close and count what is past its closing time before a page reads the meeting.

    A GET's session only reads, so the closing runs in a write transaction of its own,
    and only when something is due (one small read otherwise); the request's session then
    starts afresh, to read the meeting as closed.
    """
    if voting.is_due(get_db(), meeting):
        with write_session() as db:
            voting.close_if_due(db, db.get(Meeting, meeting.id))
        get_db().rollback()  # its snapshot and the meeting it loaded are from before
    return meeting


def _load_current(meeting_id: int) -> Meeting:
    """The meeting as members may see it, with any vote due to close closed."""
    return closed_if_due(_load(meeting_id))


@bp.get("")
def meetings() -> str:
    """Meetings coming and past, and the calls for resolutions open now."""
    coming, past = overview.member_meetings(get_db())
    calls = proposals.open_calls(get_db())
    return render_template("meetings/list.html", coming=coming, past=past, calls=calls)


def _meeting_page(
    meeting: Meeting, *, refused: dict[int, str] | None = None, status: int = 200
) -> Response:
    db = get_db()
    member = current_member()
    now = session.live(db, meeting, member) if session.followed(db, meeting) else None
    in_session = {item.resolution.id for item in now.ballots} if now else set()
    page = render_template(
        "meetings/meeting.html",
        meeting=meeting,
        now=now,
        # A resolution voted on in session is shown once, in the session's part of the page.
        items=[
            i for i in overview.ballot(db, meeting, member) if i.resolution.id not in in_session
        ],
        proxy=member and proxies.member_proxies(db, meeting, member),
        texts={r.id: markup.render_markdown(r.text) for r in meeting.resolutions},
        turnouts=overview.meeting_turnout(db, meeting),
        live=meeting.state is MeetingState.VOTING_OPEN,
        class_names=results.class_names(db),
        refused=refused or {},
        notice_document=notices.notice_document(db, meeting),
        elections=ballot_pages.meeting_cards(db, meeting, member),
    )
    return Response(page, status)


@bp.get("/<int:meeting_id>")
def meeting(meeting_id: int) -> Response:
    """The meeting, its agenda, and the ballot: each resolution put to the vote."""
    return _meeting_page(_load_current(meeting_id))


def _ballot(
    meeting: Meeting,
    resolution: Resolution,
    *,
    message: str | None = None,
    error: str | None = None,
    cast: ballots.Vote | None = None,
    status: int = 200,
) -> Response:
    """The resolution's ballot partial as it stands for the signed-in member.

    ``cast`` is the vote just recorded: it is shown as the service answered it, since by
    the time the partial is read back voting may have closed and sealed a secret ballot,
    which no longer names the member (the vote is counted; its receipt must still show).
    """
    if cast is None:
        item = overview.ballot_item(get_db(), resolution, current_member())
    else:
        item = overview.cast_item(get_db(), resolution, cast)
    return htmx.partial(
        "meetings/_ballot.html",
        status=status,
        meeting=meeting,
        item=item,
        text=markup.render_markdown(resolution.text),
        message=message,
        error=error,
    )


@bp.post("/<int:meeting_id>/resolutions/<int:resolution_id>/vote")
def vote(meeting_id: int, resolution_id: int) -> Response:
    """Cast or change a vote: the ballot partial for htmx, else a 303 back to the ballot.

    A refusal (409 not open, 403 not on the roll, 422 no choice) writes nothing and says why.
    """
    meeting = _load(meeting_id)
    resolution = found(overview.meeting_resolution(get_db(), meeting, resolution_id))
    member = current_member()
    try:
        if member is None:
            raise NotAllowed("Only members on the voter roll vote.")
        with transaction() as db:
            cast = ballots.cast_vote(
                db, resolution, member, request.form.get("choice", "")[:20], actor=current_user
            )
    except PortalError as exc:
        if htmx.is_htmx():
            return _ballot(meeting, resolution, error=exc.message, status=exc.status)
        return _meeting_page(meeting, refused={resolution.id: exc.message}, status=exc.status)
    message = f"Your vote on resolution {resolution.number} is recorded: {cast.choice.label}."
    if htmx.is_htmx():
        return _ballot(meeting, resolution, message=message, cast=cast)
    return htmx.flash_and_redirect(
        f"{message} Your receipt is {cast.receipt}.",
        url_for("meetings.meeting", meeting_id=meeting.id, _anchor=f"resolution-{resolution.id}"),
    )


@bp.get("/<int:meeting_id>/turnout")
def turnout(meeting_id: int) -> Response:
    """How many have voted, by class against the roll (counts only, never choices).

    Polled by htmx while voting is open; once it has closed the final turnout is answered
    with htmx's stop-polling status.
    """
    meeting = _load_current(meeting_id)
    turnouts = overview.meeting_turnout(get_db(), meeting)
    live = meeting.state is MeetingState.VOTING_OPEN
    status = STOP_POLLING if htmx.is_htmx() and not live else 200
    return htmx.render(
        "meetings/turnout.html",
        "meetings/_turnout.html",
        status=status,
        meeting=meeting,
        turnouts=turnouts,
        live=live,
        class_names=results.class_names(get_db()),
    )


@bp.get("/<int:meeting_id>/live")
def live(meeting_id: int) -> Response:
    """Polled by members following the meeting: where the session is ("now: <item>").

    The ballots of the votes taken in session are not in this answer, so a poll never
    replaces a ballot a member is about to cast: when the version the page last saw
    (``seen``) differs from the current one, an ``HX-Trigger`` event tells the ballots'
    part of the page to fetch itself again (``live_ballots``). Once the session has ended
    the answer stops the polling (286). Without htmx: the meeting's page, which shows the same.
    """
    meeting = _load_current(meeting_id)
    if not htmx.is_htmx():
        return htmx.redirect(url_for("meetings.meeting", meeting_id=meeting.id, _anchor="live"))
    now = session.live(get_db(), meeting, current_member(), ballots=False)
    response = htmx.partial(
        "meetings/_live_now.html",
        status=200 if now.polling else STOP_POLLING,
        meeting=meeting,
        now=now,
    )
    if request.args.get("seen", "")[:200] != now.key:
        response.headers["HX-Trigger"] = "live-ballots"
    return response


@bp.get("/<int:meeting_id>/live/ballots")
def live_ballots(meeting_id: int) -> Response:
    """The ballot of each resolution put to the vote in session, for the signed-in member."""
    meeting = _load_current(meeting_id)
    if not htmx.is_htmx():
        return htmx.redirect(url_for("meetings.meeting", meeting_id=meeting.id, _anchor="live"))
    now = session.live(get_db(), meeting, current_member())
    return htmx.partial(
        "meetings/_live_ballots.html",
        meeting=meeting,
        now=now,
        texts={i.resolution.id: markup.render_markdown(i.resolution.text) for i in now.ballots},
    )


@bp.get("/<int:meeting_id>/results", endpoint="results")
def results_page(meeting_id: int) -> str:
    """Each closed resolution's declared result, per class and in total, with a chart."""
    meeting = _load_current(meeting_id)
    db = get_db()
    outcomes = results.meeting_outcomes(db, meeting)
    return render_template(
        "meetings/results.html",
        meeting=meeting,
        outcomes=outcomes,
        channel_names=results.CHANNEL_NAMES,
        receipts={o.resolution.id: results.published_receipts(db, o.resolution) for o in outcomes},
        elections=election_results.voted_elections(db, meeting),
    )


@bp.get("/<int:meeting_id>/resolutions/<int:resolution_id>/votes")
def votes(meeting_id: int, resolution_id: int) -> str:
    """Who voted how on a closed resolution that was not a secret ballot, a page at a time;
    a secret ballot's voters are never listed with their choices (404)."""
    meeting = _load_current(meeting_id)
    resolution = found(overview.meeting_resolution(get_db(), meeting, resolution_id))
    page = found(results.member_votes(get_db(), resolution, after=cursor()))
    return render_template("meetings/votes.html", meeting=meeting, resolution=resolution, page=page)


@bp.get("/<int:meeting_id>/results.csv")
def results_csv(meeting_id: int) -> Response:
    """The results, a row per resolution and class and its total, streamed."""
    meeting = _load_current(meeting_id)
    return streamed_csv(
        f"results-meeting-{meeting.id}.csv",
        results.RESULTS_CSV_COLUMNS,
        lambda db: results.results_csv_rows(db, db.get(Meeting, meeting_id)),
    )


@bp.get("/<int:meeting_id>/minutes.pdf")
def minutes_pdf(meeting_id: int) -> Response:
    """The published minutes as a PDF, in the library's document style (404 before then)."""
    meeting = _load(meeting_id)
    published = found(minutes.published_minutes(get_db(), meeting, current_user))
    return version_download(published.document, published.version)


def _proxy_page(meeting: Meeting, *, error: str | None = None, status: int = 200) -> Response:
    """The member's proxy for the meeting (form, or the one standing) and those they hold."""
    db = get_db()
    member = current_member()
    standing = member and proxies.standing_proxy(db, meeting, member)
    page = render_template(
        "meetings/proxy.html",
        meeting=meeting,
        standing=standing,
        cast=proxies.cast_by(db, standing),
        resolutions=(member and proxies.votable_resolutions(db, meeting, member)) or [],
        elections=(member and proxy_rankings.directable_elections(db, meeting, member)) or [],
        directed=proxy_rankings.rankings_of(db, standing),
        held=(member and proxies.held_proxies(db, meeting, member)) or [],
        deadline=proxies.deadline(db, meeting),
        form=request.form,
        error=error,
    )
    return Response(page, status)


@bp.get("/<int:meeting_id>/proxy")
def proxy(meeting_id: int) -> Response:
    """Appoint, change or revoke a proxy; accept, decline and cast the proxies one holds."""
    return _proxy_page(_load_current(meeting_id))


@bp.get("/<int:meeting_id>/proxy/form.pdf")
def proxy_form_pdf(meeting_id: int) -> Response:
    """The member's printed proxy form, to sign and send (403 off the roll, 409 once
    voting has closed)."""
    meeting = _load(meeting_id)
    member = current_member()
    if member is None:
        raise NotAllowed("Only members on the voter roll appoint a proxy.")
    form = proxies.proxy_form(get_db(), meeting, member)
    document = pdf.render_pdf("proxy_form.html", coop=coop.settings(), form=form, choices=Choice)
    return attachment(
        document, f"proxy-form-{meeting.id}-{member.number}.pdf", mimetype="application/pdf"
    )


@bp.post("/<int:meeting_id>/proxy")
def appoint_proxy(meeting_id: int) -> Response:
    """Appoint (or change) the member's proxy: 303 back, or 4xx with the form and why."""
    meeting = _load(meeting_id)
    member = current_member()
    try:
        if member is None:
            raise NotAllowed("Only members on the voter roll appoint a proxy.")
        with transaction() as db:
            made = proxies.appoint_from_form(
                db, db.get(Meeting, meeting.id), member, request.form, actor=current_user
            )
            proxy_rankings.direct_from_form(db, made, request.form)
            holder = made.holder_name
    except PortalError as exc:
        return _proxy_page(meeting, error=exc.message, status=exc.status)
    return htmx.flash_and_redirect(
        f"{holder} is now your proxy.", url_for("meetings.proxy", meeting_id=meeting.id)
    )


def _held_appointment(meeting: Meeting, appointment_id: int) -> ProxyAppointment:
    appointment = get_db().get(ProxyAppointment, appointment_id)
    return found(appointment if appointment and appointment.meeting_id == meeting.id else None)


@bp.post("/<int:meeting_id>/proxy/<int:appointment_id>/revoke")
def revoke_proxy(meeting_id: int, appointment_id: int) -> Response:
    """The grantor revokes their proxy until the deadline."""
    meeting = _load(meeting_id)
    appointment = _held_appointment(meeting, appointment_id)
    try:
        member = current_member()
        if member is None:
            raise NotAllowed("Only the member who appointed a proxy revokes it.")
        with transaction() as db:
            proxies.revoke_proxy(db, appointment, member, actor=current_user)
    except PortalError as exc:
        return _proxy_page(meeting, error=exc.message, status=exc.status)
    return htmx.flash_and_redirect(
        "Your proxy is revoked.", url_for("meetings.proxy", meeting_id=meeting.id)
    )


def _back(meeting: Meeting) -> str:
    """Where a holder's plain form post returns: the page it came from (``next``, a path
    on this site), else the proxy page."""
    return safe_next(
        request.form.get("next"), url_for("meetings.proxy", meeting_id=meeting.id)
    ).split("#")[0]


def _held_partial(
    meeting: Meeting,
    appointment: ProxyAppointment,
    *,
    error: str | None = None,
    status: int = 200,
    cast: ballots.Vote | None = None,
) -> Response:
    """The held proxy's partial; ``cast`` is the vote just recorded, shown with its
    receipt as the service answered it (a secret choice is shown only then)."""
    member = current_member()
    held = [] if member is None else proxies.held_proxies(get_db(), meeting, member)
    this = next((h for h in held if h.appointment.id == appointment.id), None)
    if this is None and error is not None:
        # Someone who does not hold it: refused with the refusal's status, as a plain post is.
        return _proxy_page(meeting, error=error, status=status)
    this = found(this)
    if cast is not None:
        this = replace(
            this,
            items=tuple(
                replace(i, vote=cast) if i.resolution.id == cast.resolution_id else i
                for i in this.items
            ),
        )
    return htmx.partial(
        "meetings/_held_proxy.html",
        status=status,
        meeting=meeting,
        held=this,
        error=error,
        back=_back(meeting),
    )


@bp.post("/<int:meeting_id>/proxy/<int:appointment_id>/answer")
def answer_proxy(meeting_id: int, appointment_id: int) -> Response:
    """The holder accepts (``answer=accept``) or declines the proxy."""
    meeting = _load(meeting_id)
    appointment = _held_appointment(meeting, appointment_id)
    accept = request.form.get("answer") == "accept"
    try:
        member = current_member()
        if member is None:
            raise NotAllowed("This proxy is held by someone else.")
        with transaction() as db:
            proxies.answer_proxy(db, appointment, member, accept=accept, actor=current_user)
    except PortalError as exc:
        if htmx.is_htmx():
            return _held_partial(meeting, appointment, error=exc.message, status=exc.status)
        return _proxy_page(meeting, error=exc.message, status=exc.status)
    if htmx.is_htmx():
        return _held_partial(meeting, appointment)
    return htmx.flash_and_redirect(
        "You accepted the proxy." if accept else "You declined the proxy.",
        f"{_back(meeting)}#proxy-{appointment.id}",
    )


@bp.post("/<int:meeting_id>/proxy/<int:appointment_id>/resolutions/<int:resolution_id>/vote")
def cast_proxy(meeting_id: int, appointment_id: int, resolution_id: int) -> Response:
    """The holder casts a proxy's vote on a resolution: the proxy's partial for htmx, else
    303 back; a refusal writes nothing and says why (409, 403, 422)."""
    meeting = _load(meeting_id)
    appointment = _held_appointment(meeting, appointment_id)
    resolution = found(overview.meeting_resolution(get_db(), meeting, resolution_id))
    try:
        with transaction() as db:
            vote = proxies.cast_proxy(
                db,
                appointment,
                resolution,
                request.form.get("choice", "")[:20],
                holder=current_member(),
                actor=current_user,
            )
    except PortalError as exc:
        if htmx.is_htmx():
            return _held_partial(meeting, appointment, error=exc.message, status=exc.status)
        return _proxy_page(meeting, error=exc.message, status=exc.status)
    if htmx.is_htmx():
        return _held_partial(meeting, appointment, cast=vote)
    return htmx.flash_and_redirect(
        f"The proxy's vote on resolution {resolution.number} is recorded: {vote.choice.label}, "
        f"receipt {vote.receipt}.",
        f"{_back(meeting)}#proxy-{appointment.id}",
    )
