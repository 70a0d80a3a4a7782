"""Staff record payments for share orders; each recorded payment issues a certificate."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask_login import current_user

from .. import htmx, pdf
from ..db import get_db
from ..errors import InvalidInput
from ..models import ShareOrder
from ..services import holdings, shares
from ..templating import current_coop
from .access import staff_required

bp = Blueprint("payments", __name__, url_prefix="/staff/orders")


@bp.get("")
@staff_required
def orders() -> str:
    """Orders waiting for payment, with a form to record each."""
    return render_template(
        "payments/orders.html",
        orders=holdings.pending_orders(get_db()),
        methods=shares.PAYMENT_METHODS,
        errors={},
        today=date.today(),
    )


def _amount(raw: str) -> int:
    text = (raw or "").strip().replace(",", "")
    whole, _, cents = text.partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        raise InvalidInput("Enter the amount received, like 25 or 25.00.", field="amount")
    return int(whole) * 100 + int((cents + "00")[:2])


@bp.post("/<int:order_id>/payment")
@staff_required
def record_payment(order_id: int) -> Response | tuple[str, int]:
    db = get_db()
    order = db.get(ShareOrder, order_id)
    if order is None:
        abort(404)
    form = request.form
    try:
        paid_on = date.fromisoformat(form.get("paid_on", ""))
    except ValueError:
        paid_on = None
    try:
        if paid_on is None or paid_on > date.today():
            raise InvalidInput(
                "Enter the date the money arrived (not in the future).", field="paid_on"
            )
        certificate = shares.record_payment(
            db,
            order,
            amount_minor=_amount(form.get("amount", "")),
            paid_on=paid_on,
            method=form.get("method", ""),
            bank_reference=form.get("bank_reference", ""),
            actor=current_user,
            settings=current_coop(),
            render=pdf.render_certificate,
        )
    except InvalidInput as exc:
        db.rollback()
        return render_template(
            "payments/orders.html",
            orders=holdings.pending_orders(db),
            methods=shares.PAYMENT_METHODS,
            today=date.today(),
            errors={order_id: exc.message},
            values={order_id: form},
        ), 422
    db.commit()
    flash(
        f"Payment recorded: certificate no. {certificate.number} issued to member no. "
        f"{order.member.number}.",
        "success",
    )
    return htmx.redirect(url_for("payments.orders"))
