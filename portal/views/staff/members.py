"""The register of members for staff: search, a member's page, CSV, and member actions."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import htmx
from ...db import get_db, transaction
from ...models import Member, MemberStatus
from ...services import audit
from ...services.membership import applications, leaving, privacy
from ...services.register import classes, members
from ...services.register import search as register_search
from ...services.shares import holdings
from ..access import found, get_or_404
from ..auth import reauthentication_required
from ..downloads import streamed_csv
from ..paging import cursor, page_number

bp = Blueprint("members", __name__)

PAGE_SIZE = 25


@bp.get("/members")
def search() -> Response:
    """Members by number or the start of a name, surname or e-mail, class and status,
    paged by number; htmx swaps the results."""
    db = get_db()
    filters = {
        "q": request.args.get("q", "")[:120],
        "class": request.args.get("class", "")[:32],
        "status": request.args.get("status", ""),
    }
    if filters["status"] not in {"", *(s.value for s in MemberStatus)}:
        filters["status"] = ""
    page = register_search.search(
        db,
        text=filters["q"],
        class_code=filters["class"],
        status=filters["status"],
        after=cursor("after"),
        before=cursor("before"),
        per_page=PAGE_SIZE,
    )
    return htmx.render(
        "staff/members/search.html",
        "staff/members/_results.html",
        page=page,
        filters=filters,
        query={k: v for k, v in filters.items() if v},
        classes=classes.list_classes(db),
        statuses=list(MemberStatus),
    )


@bp.get("/members.csv")
def export_csv() -> Response:
    """The statutory register as CSV, streamed row by row (never built in memory)."""
    return streamed_csv(
        "register-of-members.csv", register_search.REGISTER_COLUMNS, register_search.register_rows
    )


@bp.get("/members/<int:member_id>")
def detail(member_id: int) -> str:
    """One member: what they hold (shares, orders, certificates, withdrawals), classes,
    status history, applications, resignation, audit trail."""
    db = get_db()
    member = get_or_404(Member, member_id)
    return render_template(
        "staff/members/detail.html",
        member=member,
        record=holdings.member_record(db, member),
        history=members.status_history(db, member),
        applications=applications.submitted_by(db, member.user_id),
        events=audit.trail_of(db, member),
        resignation=leaving.pending_resignation(db, member),
    )


MEMBER_LISTS = {"certificates": "Certificates", "withdrawals": "Withdrawals"}


@bp.get("/members/<int:member_id>/<any(certificates, withdrawals):kind>")
def shares_list(member_id: int, kind: str) -> Response:
    """All of one member's certificates (or withdrawals), newest first, paged; htmx: the
    list only."""
    db = get_db()
    member = get_or_404(Member, member_id)
    read = holdings.member_certificates if kind == "certificates" else holdings.member_withdrawals
    return htmx.render(
        "staff/members/shares_list.html",
        "staff/members/_shares_list.html",
        member=member,
        kind=kind,
        heading=MEMBER_LISTS[kind],
        page=read(db, member, page=page_number()),
        query={"member_id": member.id, "kind": kind},
    )


@bp.post("/members/<int:member_id>/resignation")
@reauthentication_required
def confirm_resignation(member_id: int) -> Response:
    member = get_or_404(Member, member_id)
    with transaction() as db:
        resignation = found(leaving.pending_resignation(db, member))
        leaving.confirm_resignation(db, resignation, actor=current_user)
    return htmx.flash_and_redirect(
        f"Member no. {member.number} has ceased; they have been told.",
        url_for("staff.members.detail", member_id=member.id),
    )


@bp.post("/members/<int:member_id>/anonymise")
@reauthentication_required
def anonymise(member_id: int) -> Response:
    member = get_or_404(Member, member_id)
    with transaction() as db:
        privacy.anonymise(db, member, actor=current_user)
    return htmx.flash_and_redirect(
        f"Member no. {member.number} is anonymised.",
        url_for("staff.members.detail", member_id=member.id),
    )
