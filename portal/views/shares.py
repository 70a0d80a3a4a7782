"""Members' shares: holdings, orders and certificates; certificate downloads; verification."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from .. import htmx
from ..db import get_db
from ..errors import InvalidInput
from ..extensions import limiter
from ..models import Member, ShareOrder
from ..services import holdings as holdings_service
from ..services import members, payments, shares, withdrawals
from ..templating import current_coop

bp = Blueprint("shares", __name__)


@bp.get("/shares")
@login_required
def overview() -> str:
    """The member's holdings by type, capital, orders and certificates."""
    db = get_db()
    member = members.member_for_user(db, current_user)
    if member is None:
        return render_template("shares/overview.html", member=None, summary=None)
    share_summary = holdings_service.summary(db, member)
    return render_template(
        "shares/overview.html",
        member=member,
        summary=share_summary,
        history=holdings_service.holding_history(db, member, tz=current_coop().timezone),
        withdrawals=withdrawals.withdrawals_of(db, member),
        can_withdraw=any(
            withdrawals.withdrawable_quantity(db, member, h.share_type)
            for h in share_summary.holdings
        ),
    )


def _member_or_join() -> Member | None:
    return members.member_for_user(get_db(), current_user)


def _buy_page(
    member: Member, values: dict[str, str], error: str | None = None, status: int = 200
) -> Response:
    """The buy form with the live check of the amount and the rules (htmx swaps the check)."""
    db = get_db()
    types = holdings_service.buyable_types(db, member)
    chosen = next((t for t in types if t.code == values.get("share_type")), None)
    chosen = chosen or (types[-1] if types else None)
    quantity = values.get("quantity", "")
    check = None
    if chosen is not None and quantity.isdigit() and 0 < int(quantity) <= 10_000_000:
        check = shares.check_order(db, member, chosen, int(quantity), current_coop())
    elif quantity:
        error = error or "Enter the number of shares as a whole number."
    return htmx.render(
        "shares/buy.html",
        "shares/_order_check.html",
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
    member = _member_or_join()
    if member is None:
        return htmx.redirect(url_for("membership.join"))
    return _buy_page(member, request.args.to_dict())


@bp.post("/shares/buy")
@login_required
def buy_post() -> Response:
    db = get_db()
    member = _member_or_join()
    if member is None:
        abort(404)
    values = request.form.to_dict()
    share_type = holdings_service.find_type(db, values.get("share_type", ""))
    quantity = values.get("quantity", "")
    if share_type is None or not quantity.isdigit() or not 0 < int(quantity) <= 10_000_000:
        return _buy_page(
            member, values, "Choose a share type and a whole number of shares.", status=422
        )
    try:
        order = shares.place_order(
            db, member, share_type, int(quantity), actor=current_user, settings=current_coop()
        )
    except InvalidInput as exc:
        return _buy_page(member, values, exc.message, status=422)
    db.commit()
    flash("Your order is placed. Pay by bank transfer quoting its reference.", "success")
    return htmx.redirect(url_for("shares.order", order_id=order.id))


def _own_order(order_id: int) -> ShareOrder:
    order = holdings_service.order_for(get_db(), order_id, current_user)
    if order is None:
        abort(404)
    return order


@bp.get("/shares/orders/<int:order_id>")
@login_required
def order(order_id: int) -> str:
    """An order and how to pay for it."""
    order = _own_order(order_id)
    return render_template(
        "shares/order.html",
        order=order,
        instructions=payments.instructions_for(order, current_coop()),
    )


@bp.post("/shares/orders/<int:order_id>/cancel")
@login_required
def cancel_order(order_id: int) -> Response:
    db = get_db()
    shares.cancel_order(db, _own_order(order_id), actor=current_user)
    db.commit()
    flash("Your order is cancelled.", "info")
    return htmx.redirect(url_for("shares.overview"))


@bp.get("/certificates/<int:number>.pdf")
@login_required
def certificate_pdf(number: int) -> Response:
    """The certificate's stored PDF, byte for byte as issued (owner or staff; others 404)."""
    certificate = holdings_service.certificate_for(get_db(), number, current_user)
    if certificate is None:
        abort(404)
    response = make_response(certificate.pdf)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="share-certificate-{certificate.number}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _verify_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


@bp.get("/verify/<code>")
@limiter.limit(_verify_limit)
def verify(code: str) -> tuple[str, int]:
    """Public check of a certificate by its code: state and minimal data, nothing more."""
    certificate = holdings_service.certificate_by_code(get_db(), code[:100])
    if certificate is None:
        return render_template("shares/verify.html", certificate=None), 404
    return render_template(
        "shares/verify.html",
        certificate=certificate,
        holder=holdings_service.display_name(certificate.member),
    ), 200
