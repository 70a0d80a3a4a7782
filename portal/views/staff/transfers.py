"""Staff record share transfers between members, where the share type allows it."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import htmx, pdf
from ...db import get_db, transaction
from ...errors import InvalidInput
from ...models import Member
from ...services.inputs import read_id, read_whole
from ...services.register import members
from ...services.shares import transfers
from ..auth import reauthentication_required

bp = Blueprint("transfers", __name__)

MAX_QUANTITY = 10_000_000


def _page(values: dict[str, str], error: str | None = None, status: int = 200) -> Response:
    db = get_db()
    page = render_template(
        "staff/transfers/transfers.html",
        share_types=transfers.transferable_types(db),
        recent=transfers.recent_transfers(db),
        values=values,
        error=error,
    )
    return Response(page, status)


@bp.get("/transfers")
def page() -> Response:
    """Record a transfer, and the transfers recorded so far."""
    return _page({})


def _member(raw: str, which: str) -> Member:
    number = raw.strip().removeprefix("#")
    found = read_id(number)
    member = members.member_by_number(get_db(), found) if found is not None else None
    if member is None:
        raise InvalidInput(f"No member has the number {raw.strip()[:20] or '(blank)'} ({which}).")
    return member


@bp.post("/transfers")
@reauthentication_required
def record() -> Response:
    values = request.form.to_dict()
    try:
        with transaction() as db:
            share_type = next(
                (t for t in transfers.transferable_types(db) if t.code == values.get("share_type")),
                None,
            )
            if share_type is None:
                raise InvalidInput("Choose a transferable share type.")
            transfer = transfers.transfer_shares(
                db,
                _member(values.get("from_member", ""), "from"),
                _member(values.get("to_member", ""), "to"),
                share_type,
                read_whole(values.get("quantity"), "Quantity", low=1, high=MAX_QUANTITY),
                decision_reference=values.get("decision_reference", ""),
                actor=current_user,
                render=pdf.render_certificate,
            )
    except InvalidInput as exc:
        return _page(values, exc.message, status=422)
    return htmx.flash_and_redirect(
        f"Transfer recorded: {transfer.quantity} × {transfer.share_type.name} from member no. "
        f"{transfer.from_member.number} to member no. {transfer.to_member.number}.",
        url_for("staff.transfers.page"),
    )
