"""Staff record payments for share orders; each recorded payment issues a certificate."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask_login import current_user

from .. import htmx, pdf
from ..db import get_db
from ..errors import InvalidInput
from ..models import ShareOrder
from ..services import holdings, payments
from ..templating import current_coop
from .access import staff_required

bp = Blueprint("payments", __name__, url_prefix="/staff/orders")


def _orders_page(errors: dict[int, str], values: dict[int, object]) -> str:
    return render_template(
        "payments/orders.html",
        orders=holdings.pending_orders(get_db()),
        methods=payments.staff_recorded_methods(),
        errors=errors,
        values=values,
        today=date.today(),
    )


@bp.get("")
@staff_required
def orders() -> str:
    """Orders waiting for payment, with a form to record each."""
    return _orders_page({}, {})


@bp.post("/<int:order_id>/payment")
@staff_required
def record_payment(order_id: int) -> Response | tuple[str, int]:
    db = get_db()
    order = db.get(ShareOrder, order_id)
    if order is None:
        abort(404)
    try:
        certificate = payments.settle_order(
            db,
            order,
            payments.read_payment(request.form.to_dict(), today=date.today()),
            actor=current_user,
            settings=current_coop(),
            render=pdf.render_certificate,
        )
    except InvalidInput as exc:
        db.rollback()
        return _orders_page({order_id: exc.message}, {order_id: request.form}), 422
    db.commit()
    flash(
        f"Payment recorded: certificate no. {certificate.number} issued to member no. "
        f"{order.member.number}.",
        "success",
    )
    return htmx.redirect(url_for("payments.orders"))
