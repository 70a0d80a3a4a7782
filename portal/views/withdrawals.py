"""Withdrawing shares: members ask at /shares/withdraw; staff decide and repay."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask_login import current_user, login_required

from .. import htmx, pdf
from ..db import get_db
from ..errors import InvalidInput
from ..models import Member, Withdrawal
from ..services import holdings, members, payments, withdrawals
from ..templating import current_coop
from .access import staff_required

bp = Blueprint("withdrawals", __name__)


def _own_member() -> Member:
    member = members.member_for_user(get_db(), current_user)
    if member is None:
        abort(404)
    return member


def _withdraw_page(member: Member, values: dict[str, str], error: str | None = None) -> str:
    db = get_db()
    options = [
        (share_type, withdrawals.withdrawable_quantity(db, member, share_type))
        for share_type in holdings.share_types(db)
        if share_type.withdrawable
    ]
    return render_template(
        "withdrawals/request.html",
        options=[(t, n) for t, n in options if n > 0],
        values=values,
        error=error,
    )


@bp.get("/shares/withdraw")
@login_required
def request_form() -> str:
    """Ask to withdraw shares the rules allow to be withdrawn (supporter shares)."""
    return _withdraw_page(_own_member(), request.args.to_dict())


@bp.post("/shares/withdraw")
@login_required
def request_post() -> Response | tuple[str, int]:
    db = get_db()
    member = _own_member()
    values = request.form.to_dict()
    share_type = holdings.find_type(db, values.get("share_type", ""))
    quantity = values.get("quantity", "").strip()
    if share_type is None or not quantity.isdigit() or not 0 < int(quantity) <= 10_000_000:
        return _withdraw_page(
            member, values, "Choose the shares and a whole number to withdraw."
        ), 422
    try:
        withdrawals.request_withdrawal(
            db,
            member,
            share_type,
            int(quantity),
            reason=values.get("reason", ""),
            actor=current_user,
            settings=current_coop(),
        )
    except InvalidInput as exc:
        db.rollback()
        return _withdraw_page(member, values, exc.message), 422
    db.commit()
    flash(
        "Your request is with the board. When it agrees, we repay you at par and send a "
        "new certificate for any shares you keep.",
        "success",
    )
    return htmx.redirect(url_for("shares.overview"))


@bp.post("/shares/withdrawals/<int:withdrawal_id>/cancel")
@login_required
def cancel(withdrawal_id: int) -> Response:
    db = get_db()
    withdrawal = withdrawals.withdrawal_for(db, withdrawal_id, current_user)
    if withdrawal is None:
        abort(404)
    withdrawals.cancel_withdrawal(db, withdrawal, actor=current_user)
    db.commit()
    flash("Your withdrawal request is cancelled.", "info")
    return htmx.redirect(url_for("shares.overview"))


# -- staff ---------------------------------------------------------------------------------


def _staff_page(errors: dict[int, str], values: dict[int, object]) -> str:
    return render_template(
        "withdrawals/staff.html",
        withdrawals=withdrawals.open_withdrawals(get_db()),
        methods=payments.staff_recorded_methods(),
        errors=errors,
        values=values,
        today=date.today(),
    )


@bp.get("/staff/withdrawals")
@staff_required
def staff_list() -> str:
    """Withdrawals waiting for the board's decision or for their repayment."""
    return _staff_page({}, {})


def _withdrawal(withdrawal_id: int) -> Withdrawal:
    withdrawal = get_db().get(Withdrawal, withdrawal_id)
    if withdrawal is None:
        abort(404)
    return withdrawal


def _staff_error(withdrawal_id: int, exc: InvalidInput) -> tuple[str, int]:
    get_db().rollback()
    return _staff_page({withdrawal_id: exc.message}, {withdrawal_id: request.form}), 422


@bp.post("/staff/withdrawals/<int:withdrawal_id>/approve")
@staff_required
def approve(withdrawal_id: int) -> Response | tuple[str, int]:
    db = get_db()
    withdrawal = _withdrawal(withdrawal_id)
    try:
        withdrawals.approve_withdrawal(
            db,
            withdrawal,
            decision_reference=request.form.get("decision_reference", ""),
            actor=current_user,
        )
    except InvalidInput as exc:
        return _staff_error(withdrawal_id, exc)
    db.commit()
    flash(
        f"Withdrawal approved for member no. {withdrawal.member.number}: now repay it.", "success"
    )
    return htmx.redirect(url_for("withdrawals.staff_list"))


@bp.post("/staff/withdrawals/<int:withdrawal_id>/reject")
@staff_required
def reject(withdrawal_id: int) -> Response | tuple[str, int]:
    db = get_db()
    withdrawal = _withdrawal(withdrawal_id)
    try:
        withdrawals.reject_withdrawal(
            db, withdrawal, note=request.form.get("note", ""), actor=current_user
        )
    except InvalidInput as exc:
        return _staff_error(withdrawal_id, exc)
    db.commit()
    flash(f"Withdrawal refused; member no. {withdrawal.member.number} is told why.", "info")
    return htmx.redirect(url_for("withdrawals.staff_list"))


@bp.post("/staff/withdrawals/<int:withdrawal_id>/repayment")
@staff_required
def repay(withdrawal_id: int) -> Response | tuple[str, int]:
    db = get_db()
    withdrawal = _withdrawal(withdrawal_id)
    try:
        certificate = withdrawals.record_repayment(
            db,
            withdrawal,
            payments.read_payment(request.form.to_dict(), today=date.today()),
            actor=current_user,
            settings=current_coop(),
            render=pdf.render_certificate,
        )
    except InvalidInput as exc:
        return _staff_error(withdrawal_id, exc)
    db.commit()
    remaining = (
        f"certificate no. {certificate.number} issued for the rest"
        if certificate
        else "no shares of the type remain"
    )
    flash(f"Repayment recorded for member no. {withdrawal.member.number}: {remaining}.", "success")
    return htmx.redirect(url_for("withdrawals.staff_list"))
