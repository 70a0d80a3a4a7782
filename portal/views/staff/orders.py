"""Staff find share orders and record their payments; each recorded payment issues a
certificate, after staff confirm what it will do."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from ... import coop, htmx, pdf
from ...db import get_db, transaction
from ...errors import InvalidInput
from ...models import Member, OrderState, ShareOrder
from ...services.inputs import read_id
from ...services.shares import orders, payments
from ..access import get_or_404
from ..auth import reauthentication_required

bp = Blueprint("orders", __name__)

PAGE_SIZE = 20
ANY_STATE = "all"
STATE_CHOICES = [(s.value, s.label) for s in OrderState] + [(ANY_STATE, "Any state")]


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


def _filters(args: Mapping[str, str]) -> dict[str, str]:
    """The search as asked: text, a state (awaiting payment unless told) and a member."""
    state = args.get("state", OrderState.PENDING_PAYMENT.value) or ANY_STATE
    if state not in {value for value, _ in STATE_CHOICES}:
        state = OrderState.PENDING_PAYMENT.value
    member = _whole(args.get("member", ""))
    return {
        "q": args.get("q", "").strip()[:120],
        "state": state,
        "member": str(member) if member else "",
    }


def _whole(raw: str) -> int | None:
    """A positive id from the query string, or None when missing or not one."""
    return read_id(raw)


def _cursor(name: str) -> int | None:
    """``?after=`` or ``?before=``: an order id, or None when missing or not one."""
    return _whole(request.args.get(name, ""))


def _orders_page(
    filters: dict[str, str],
    errors: dict[int, str],
    values: dict[int, object],
    status: int = 200,
    *,
    after: int | None = None,
    before: int | None = None,
) -> Response:
    """The search form and one page of the orders it finds (htmx: the results only)."""
    state = None if filters["state"] == ANY_STATE else OrderState(filters["state"])
    member = get_db().get(Member, int(filters["member"])) if filters["member"] else None
    page = orders.search_orders(
        get_db(),
        text=filters["q"],
        state=state,
        member_id=member.id if member is not None else None,
        after=after,
        before=before,
        per_page=PAGE_SIZE,
    )
    template = "staff/orders/_results.html" if htmx.is_htmx() else "staff/orders/orders.html"
    return payment_forms(
        template,
        errors,
        values,
        status,
        page=page,
        chosen_state=state,
        member=member,
        filters=filters,
        query={k: v for k, v in filters.items() if v},
        states=STATE_CHOICES,
    )


@bp.get("/orders")
def pending() -> Response:
    """Orders by reference, member number or name (awaiting payment unless asked), paged by
    key; a form records each payment. htmx swaps only the results."""
    return _orders_page(
        _filters(request.args), {}, {}, after=_cursor("after"), before=_cursor("before")
    )


def _order_answer(
    order: ShareOrder, form: Mapping[str, str], status: int, error: str | None = None
) -> Response:
    """The order's form again, as typed: its card for htmx, else the orders page showing it
    (found by its reference, so it is there whichever page it was on)."""
    errors = {order.id: error} if error else {}
    values = {order.id: form}
    if htmx.is_htmx():
        return payment_forms("staff/orders/_order.html", errors, values, status, order=order)
    filters = {
        "q": order.payment_reference,
        "state": OrderState.PENDING_PAYMENT.value,
        "member": "",
    }
    return _orders_page(filters, errors, values, status)


@bp.post("/orders/<int:order_id>/payment")
@reauthentication_required
def record_payment(order_id: int) -> Response:
    """Record a payment in two steps: what it will do, then (``confirm=yes``) do it."""
    order = get_or_404(ShareOrder, order_id)
    form = request.form.to_dict()
    step = form.pop("confirm", "")
    if step == "change":  # back from the confirmation to the form, as typed
        return _order_answer(order, form, 200)
    try:
        payment = payments.read_payment(form, today=coop.today())
        if step != "yes":  # nothing is written: say what recording it will do
            return htmx.render(
                "staff/orders/confirm.html",
                "staff/orders/_confirm.html",
                preview=payments.preview_settlement(get_db(), order, payment),
                form=form,
            )
    except InvalidInput as exc:
        return _order_answer(order, form, 422, exc.message)
    try:
        with transaction() as db:
            certificate = payments.settle_order(
                db, order, payment, actor=current_user, render=pdf.render_certificate
            )
    except InvalidInput as exc:
        return _order_answer(order, form, 422, exc.message)
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
