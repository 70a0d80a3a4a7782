"""Staff record the board's decision on withdrawals, and the repayments."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, request, url_for
from flask_login import current_user

from ... import coop, htmx, pdf
from ...db import get_db, transaction
from ...errors import InvalidInput
from ...models import Withdrawal
from ...services.shares import payments, withdrawals
from ..access import get_or_404
from ..auth import reauthentication_required
from .orders import payment_forms

bp = Blueprint("withdrawals", __name__)


def _page(errors: dict[int, str], values: dict[int, object], status: int = 200) -> Response:
    return payment_forms(
        "staff/withdrawals/withdrawals.html",
        errors,
        values,
        status,
        withdrawals=withdrawals.open_withdrawals(get_db()),
    )


@bp.get("/withdrawals")
def pending() -> Response:
    """Withdrawals waiting for the board's decision or for their repayment."""
    return _page({}, {})


def _decide(withdrawal_id: int, act: Callable[[Withdrawal], str]) -> Response:
    """Run one staff act on a withdrawal; the page again with the refusal (422) or a 303."""
    withdrawal = get_or_404(Withdrawal, withdrawal_id)
    try:
        with transaction():
            message = act(withdrawal)
    except InvalidInput as exc:
        return _page({withdrawal_id: exc.message}, {withdrawal_id: request.form}, status=422)
    return htmx.flash_and_redirect(message, url_for("staff.withdrawals.pending"))


@bp.post("/withdrawals/<int:withdrawal_id>/approve")
@reauthentication_required
def approve(withdrawal_id: int) -> Response:
    def act(withdrawal: Withdrawal) -> str:
        withdrawals.approve_withdrawal(
            get_db(),
            withdrawal,
            decision_reference=request.form.get("decision_reference", ""),
            actor=current_user,
        )
        return f"Withdrawal approved for member no. {withdrawal.member.number}: now repay it."

    return _decide(withdrawal_id, act)


@bp.post("/withdrawals/<int:withdrawal_id>/reject")
def reject(withdrawal_id: int) -> Response:
    def act(withdrawal: Withdrawal) -> str:
        withdrawals.reject_withdrawal(
            get_db(), withdrawal, note=request.form.get("note", ""), actor=current_user
        )
        return f"Withdrawal refused; member no. {withdrawal.member.number} is told why."

    return _decide(withdrawal_id, act)


@bp.post("/withdrawals/<int:withdrawal_id>/repayment")
@reauthentication_required
def repay(withdrawal_id: int) -> Response:
    def act(withdrawal: Withdrawal) -> str:
        certificate = withdrawals.record_repayment(
            get_db(),
            withdrawal,
            payments.read_payment(request.form.to_dict(), today=coop.today()),
            actor=current_user,
            render=pdf.render_certificate,
        )
        remaining = (
            f"certificate no. {certificate.number} issued for the rest"
            if certificate
            else "no shares of the type remain"
        )
        return f"Repayment recorded for member no. {withdrawal.member.number}: {remaining}."

    return _decide(withdrawal_id, act)
