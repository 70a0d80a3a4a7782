"""The register of members for staff: search, a member's page, CSV, and member actions."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import htmx
from ..db import get_db
from ..models import (
    Application,
    ApplicationState,
    AuditEvent,
    Member,
    MemberStatus,
    MemberStatusChange,
)
from ..services import members, settings
from ..templating import current_coop
from .access import staff_required

bp = Blueprint("register", __name__, url_prefix="/staff")

PAGE_SIZE = 25


@bp.get("/members")
@staff_required
def search() -> Response:
    """Members by name, e-mail or number, class and status; htmx swaps the results."""
    db = get_db()
    filters = {
        "q": request.args.get("q", "")[:120],
        "class": request.args.get("class", "")[:32],
        "status": request.args.get("status", ""),
    }
    if filters["status"] not in {"", *(s.value for s in MemberStatus)}:
        filters["status"] = ""
    page = members.search(
        db,
        text=filters["q"],
        class_code=filters["class"],
        status=filters["status"],
        page=request.args.get("page", 1, type=int),
        per_page=PAGE_SIZE,
    )
    return htmx.render(
        "register/search.html",
        "register/_results.html",
        page=page,
        filters=filters,
        query={k: v for k, v in filters.items() if v},
        classes=settings.list_classes(db),
        statuses=list(MemberStatus),
    )


@bp.get("/members.csv")
@staff_required
def export_csv() -> Response:
    """The statutory register as CSV, streamed row by row (never built in memory)."""
    return streamed_csv("register-of-members.csv", members.REGISTER_COLUMNS, members.register_rows)


def streamed_csv(
    filename: str,
    header: Sequence[str],
    rows: Callable[[Session], Iterable[Sequence[object]]],
) -> Response:
    """A CSV download of ``rows(db)``, written as it is read, every cell formula-safe."""

    def lines() -> Iterator[str]:
        # The session is opened inside the stream: the request's own is closed before
        # streaming begins, and this one is closed when the stream ends.
        db = get_db()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in rows(db):
            writer.writerow([spreadsheet_safe(cell) for cell in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def spreadsheet_safe(cell: object) -> object:
    """A cell a spreadsheet will show as text, never run as a formula (CSV injection)."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def _load(member_id: int) -> Member:
    member = get_db().get(Member, member_id)
    if member is None:
        abort(404)
    return member


@bp.get("/members/<int:member_id>")
@staff_required
def detail(member_id: int) -> str:
    """One member: classes, status history, applications, resignation, audit trail."""
    db = get_db()
    member = _load(member_id)
    history = db.scalars(
        select(MemberStatusChange)
        .where(MemberStatusChange.member_id == member.id)
        .order_by(MemberStatusChange.at.desc())
    ).all()
    member_applications = (
        db.scalars(
            select(Application)
            .where(
                Application.user_id == member.user_id,
                Application.state != ApplicationState.DRAFT,  # drafts are the applicant's
            )
            .order_by(Application.created_at.desc())
        ).all()
        if member.user_id
        else []
    )
    trail = db.scalars(
        select(AuditEvent)
        .where(
            ((AuditEvent.object_type == "member") & (AuditEvent.object_id == str(member.id)))
            | ((AuditEvent.object_type == "user") & (AuditEvent.object_id == str(member.user_id)))
        )
        .order_by(AuditEvent.at.desc())
        .limit(100)
    ).all()
    return render_template(
        "register/detail.html",
        member=member,
        history=history,
        applications=member_applications,
        events=trail,
        resignation=members.pending_resignation(db, member),
    )


@bp.post("/members/<int:member_id>/resignation")
@staff_required
def confirm_resignation(member_id: int) -> Response:
    db = get_db()
    member = _load(member_id)
    resignation = members.pending_resignation(db, member)
    if resignation is None:
        abort(404)
    members.confirm_resignation(db, resignation, actor=current_user)
    db.commit()
    flash(f"Member no. {member.number} has ceased; they have been told.", "success")
    return htmx.redirect(url_for("register.detail", member_id=member.id))


@bp.post("/members/<int:member_id>/anonymise")
@staff_required
def anonymise(member_id: int) -> Response:
    db = get_db()
    member = _load(member_id)
    members.anonymise(
        db, member, actor=current_user, retention_years=current_coop().retention_years
    )
    db.commit()
    flash(f"Member no. {member.number} is anonymised.", "success")
    return htmx.redirect(url_for("register.detail", member_id=member.id))
