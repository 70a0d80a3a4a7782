"""Withdrawing shares: members ask at /shares/withdraw (staff decide at /staff/withdrawals)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user, login_required

from .. import htmx
from ..db import get_db, transaction
from ..errors import InvalidInput
from ..models import Member
from ..services.inputs import read_whole
from ..services.shares import share_types, withdrawals
from .access import found, member_or_404

bp = Blueprint("withdrawals", __name__)

MAX_QUANTITY = 10_000_000


def _withdraw_page(
    member: Member, values: dict[str, str], error: str | None = None, status: int = 200
) -> Response:
    db = get_db()
    options = [
        (share_type, withdrawals.withdrawable_quantity(db, member, share_type))
        for share_type in share_types.list_share_types(db)
        if share_type.withdrawable
    ]
    page = render_template(
        "withdrawals/request.html",
        options=[(t, n) for t, n in options if n > 0],
        values=values,
        error=error,
    )
    return Response(page, status)


@bp.get("/shares/withdraw")
@login_required
def request_form() -> Response:
    """Ask to withdraw shares the rules allow to be withdrawn (supporter shares)."""
    return _withdraw_page(member_or_404(), request.args.to_dict())


@bp.post("/shares/withdraw")
@login_required
def request_post() -> Response:
    member = member_or_404()
    values = request.form.to_dict()
    share_type = share_types.find_type(get_db(), values.get("share_type", ""))
    try:
        if share_type is None:
            raise InvalidInput("Choose the shares and a whole number to withdraw.")
        quantity = read_whole(values.get("quantity"), "Shares", low=1, high=MAX_QUANTITY)
        with transaction() as db:
            withdrawals.request_withdrawal(
                db,
                member,
                share_type,
                quantity,
                reason=values.get("reason", ""),
                actor=current_user,
            )
    except InvalidInput as exc:
        return _withdraw_page(member, values, exc.message, status=422)
    return htmx.flash_and_redirect(
        "Your request is with the board. When it agrees, we repay you at par and send a "
        "new certificate for any shares you keep.",
        url_for("shares.overview"),
    )


@bp.post("/shares/withdrawals/<int:withdrawal_id>/cancel")
@login_required
def cancel(withdrawal_id: int) -> Response:
    withdrawal = found(withdrawals.withdrawal_for(get_db(), withdrawal_id, current_user))
    with transaction() as db:
        withdrawals.cancel_withdrawal(db, withdrawal, actor=current_user)
    return htmx.flash_and_redirect(
        "Your withdrawal request is cancelled.", url_for("shares.overview"), "info"
    )
