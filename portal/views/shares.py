"""Members' shares: holdings, orders and certificates; certificate downloads; verification."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from .. import coop, htmx
from ..db import get_db, transaction
from ..errors import InvalidInput
from ..extensions import limiter
from ..models import Member, ShareOrder
from ..services.inputs import read_whole
from ..services.shares import (
    certificates,
    holdings,
    orders,
    payments,
    share_types,
)
from .access import current_member, found, member_or_404
from .downloads import attachment
from .paging import page_number

bp = Blueprint("shares", __name__)

# The most shares one order may name (the co-op's cap on a holding is far lower).
MAX_QUANTITY = 10_000_000


@bp.get("/shares")
@login_required
def overview() -> str:
    """The member's holdings by type, capital, orders and certificates."""
    db = get_db()
    member = current_member()
    if member is None:
        return render_template(
            "shares/overview.html",
            member=None,
            summary=None,
            dues=payments.admission_dues(db, current_user),
        )
    return render_template(
        "shares/overview.html",
        member=member,
        summary=holdings.summary(db, member),
        history=holdings.holding_history(db, member),
    )


# A member's own "all" lists, each a page at a time: the service reading it, its heading.
HISTORY = {
    "orders": (holdings.member_orders, "Your orders"),
    "certificates": (holdings.member_certificates, "Your certificates"),
    "withdrawals": (holdings.member_withdrawals, "Your withdrawals"),
}


@bp.get("/shares/<any(orders, certificates, withdrawals):kind>")
@login_required
def history(kind: str) -> Response:
    """All of the member's orders (or certificates, withdrawals), newest first, paged;
    htmx: the list only."""
    member = member_or_404()
    read, heading = HISTORY[kind]
    return htmx.render(
        "shares/history.html",
        "shares/_history.html",
        kind=kind,
        heading=heading,
        page=read(get_db(), member, page=page_number()),
        query={},
    )


def _quantity(raw: str) -> int:
    """The number of shares typed; a clear refusal for anything but a whole number."""
    try:
        return read_whole(raw, "Shares", low=1, high=MAX_QUANTITY, field="quantity")
    except InvalidInput:
        raise InvalidInput(
            "Enter the number of shares as a whole number.", field="quantity"
        ) from None


def _buy_page(
    member: Member, values: dict[str, str], error: str | None = None, status: int = 200
) -> Response:
    """The buy form with the live check of the amount and the rules (htmx swaps the check)."""
    db = get_db()
    types = share_types.buyable_types(db, member)
    chosen = next((t for t in types if t.code == values.get("share_type")), None)
    chosen = chosen or (types[-1] if types else None)
    quantity = values.get("quantity", "")
    check = None
    if chosen is not None and quantity:
        try:
            check = orders.check_order(db, member, chosen, _quantity(quantity))
        except InvalidInput as exc:
            error = error or exc.message
    return htmx.render(
        "shares/buy.html",
        "shares/_order_check.html",
        # Each form shown carries a key of its own; sent twice, it places one order.
        order_key=orders.new_order_key(),
        types=types,
        chosen=chosen,
        quantity=quantity,
        check=check,
        error=error,
        status=status,
    )


@bp.get("/shares/buy")
@login_required
def buy() -> Response:
    member = current_member()
    if member is None:
        return htmx.flash_and_redirect(
            "Shares are held by members: apply to join the co-op first, and once you are a "
            "member you can buy shares.",
            url_for("membership.join"),
            "info",
        )
    return _buy_page(member, request.args.to_dict())


@bp.post("/shares/buy")
@login_required
def buy_post() -> Response:
    """Place the order the form describes; the same form sent again answers with the order
    it placed (303 to it), never a second one."""
    member = member_or_404()
    values = request.form.to_dict()
    share_type = share_types.find_type(get_db(), values.get("share_type", ""))
    try:
        if share_type is None:
            raise InvalidInput("Choose a share type and a whole number of shares.")
        quantity = _quantity(values.get("quantity", ""))
        key = orders.read_order_key(values.get("order_key", ""))
        with transaction() as db:
            order = orders.place_order(
                db, member, share_type, quantity, actor=current_user, key=key
            )
    except InvalidInput as exc:
        return _buy_page(member, values, exc.message, status=422)
    return htmx.flash_and_redirect(
        "Your order is placed. Pay by bank transfer quoting its reference.",
        url_for("shares.order", order_id=order.id),
    )


def _own_order(order_id: int) -> ShareOrder:
    return found(orders.order_for(get_db(), order_id, current_user))


@bp.get("/shares/orders/<int:order_id>")
@login_required
def order(order_id: int) -> str:
    """An order: how to pay for it, or the certificate its payment issued."""
    order = _own_order(order_id)
    return render_template(
        "shares/order.html",
        order=order,
        instructions=payments.instructions_for(order, coop.settings()),
        certificate=certificates.certificate_of_order(get_db(), order),
    )


@bp.post("/shares/orders/<int:order_id>/cancel")
@login_required
def cancel_order(order_id: int) -> Response:
    order = _own_order(order_id)
    with transaction() as db:
        orders.cancel_order(db, order, actor=current_user)
    return htmx.flash_and_redirect("Your order is cancelled.", url_for("shares.overview"), "info")


@bp.get("/certificates/<int:number>.pdf")
@login_required
def certificate_pdf(number: int) -> Response:
    """The certificate's stored PDF, byte for byte as issued (owner or staff; others 404)."""
    certificate = found(holdings.certificate_for(get_db(), number, current_user))
    return attachment(
        certificate.pdf,
        f"share-certificate-{certificate.number}.pdf",
        mimetype="application/pdf",
        digest=certificate.sha256,
    )


def _verify_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


@bp.get("/verify/<code>")
@limiter.limit(_verify_limit)
def verify(code: str) -> tuple[str, int]:
    """Public check of a certificate by its code: state and minimal data, nothing more."""
    certificate = holdings.certificate_by_code(get_db(), code[:100])
    if certificate is None:
        return render_template("shares/verify.html", certificate=None), 404
    return render_template(
        "shares/verify.html",
        certificate=certificate,
        holder=holdings.display_name(certificate.member),
    ), 200
