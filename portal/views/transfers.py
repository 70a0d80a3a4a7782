"""Staff record share transfers between members, where the share type allows it."""

from __future__ import annotations

from flask import Blueprint, Response, flash, render_template, request, url_for
from flask_login import current_user

from .. import htmx, pdf
from ..db import get_db
from ..errors import InvalidInput
from ..models import Member
from ..services import members, transfers
from ..templating import current_coop
from .access import staff_required

bp = Blueprint("transfers", __name__, url_prefix="/staff/transfers")


def _page(values: dict[str, str], error: str | None = None) -> str:
    db = get_db()
    return render_template(
        "transfers/transfers.html",
        share_types=transfers.transferable_types(db),
        recent=transfers.recent_transfers(db),
        values=values,
        error=error,
    )


@bp.get("")
@staff_required
def page() -> str:
    """Record a transfer, and the transfers recorded so far."""
    return _page({})


def _member(raw: str, which: str) -> Member:
    number = raw.strip().removeprefix("#")
    member = members.member_by_number(get_db(), int(number)) if number.isdigit() else None
    if member is None:
        raise InvalidInput(f"No member has the number {raw.strip() or '(blank)'} ({which}).")
    return member


@bp.post("")
@staff_required
def record() -> Response | tuple[str, int]:
    db = get_db()
    values = request.form.to_dict()
    try:
        share_type = next(
            (t for t in transfers.transferable_types(db) if t.code == values.get("share_type")),
            None,
        )
        if share_type is None:
            raise InvalidInput("Choose a transferable share type.")
        quantity = values.get("quantity", "").strip()
        if not quantity.isdigit() or not 0 < int(quantity) <= 10_000_000:
            raise InvalidInput("Enter the number of shares as a whole number.")
        transfer = transfers.transfer_shares(
            db,
            _member(values.get("from_member", ""), "from"),
            _member(values.get("to_member", ""), "to"),
            share_type,
            int(quantity),
            decision_reference=values.get("decision_reference", ""),
            actor=current_user,
            settings=current_coop(),
            render=pdf.render_certificate,
        )
    except InvalidInput as exc:
        db.rollback()
        return _page(values, exc.message), 422
    db.commit()
    flash(
        f"Transfer recorded: {transfer.quantity} × {transfer.share_type.name} from member no. "
        f"{transfer.from_member.number} to member no. {transfer.to_member.number}.",
        "success",
    )
    return htmx.redirect(url_for("transfers.page"))
