"""Staff record payments for share orders; each recorded payment issues a certificate."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import coop, htmx, pdf
from ...db import get_db, transaction
from ...errors import InvalidInput
from ...models import ShareOrder
from ...services.shares import orders, payments
from ..access import get_or_404

bp = Blueprint("orders", __name__)


def payment_forms(
    template: str, errors: dict[int, str], values: dict[int, object], status: int, **items: object
) -> Response:
    """A page of items each with a form recording money: methods, today, and any refusal.

    ``errors`` and ``values`` are keyed by the item whose form was refused.
    """
    page = render_template(
        template,
        methods=payments.staff_recorded_methods(),
        errors=errors,
        values=values,
        today=coop.today(),
        **items,
    )
    return Response(page, status)


def _orders_page(errors: dict[int, str], values: dict[int, object], status: int = 200) -> Response:
    return payment_forms(
        "staff/orders/orders.html", errors, values, status, orders=orders.pending_orders(get_db())
    )


@bp.get("/orders")
def pending() -> Response:
    """Orders waiting for payment, with a form to record each."""
    return _orders_page({}, {})


@bp.post("/orders/<int:order_id>/payment")
def record_payment(order_id: int) -> Response:
    order = get_or_404(ShareOrder, order_id)
    try:
        with transaction() as db:
            certificate = payments.settle_order(
                db,
                order,
                payments.read_payment(request.form.to_dict(), today=coop.today()),
                actor=current_user,
                render=pdf.render_certificate,
            )
    except InvalidInput as exc:
        return _orders_page({order_id: exc.message}, {order_id: request.form}, status=422)
    member = order.member
    admitted = (
        f"{member.name} is now member no. {member.number}"
        if order.application_id
        else f"issued to member no. {member.number}"
    )
    return htmx.flash_and_redirect(
        f"Payment recorded: certificate no. {certificate.number}; {admitted}.",
        url_for("staff.orders.pending"),
    )
