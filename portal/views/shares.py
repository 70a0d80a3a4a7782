"""Members' shares: holdings, orders and certificates; certificate downloads; verification."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, make_response, render_template
from flask_login import current_user, login_required

from ..db import get_db
from ..extensions import limiter
from ..services import holdings as holdings_service
from ..services import members

bp = Blueprint("shares", __name__)


@bp.get("/shares")
@login_required
def overview() -> str:
    """The member's holdings by type, capital, orders and certificates."""
    db = get_db()
    member = members.member_for_user(db, current_user)
    if member is None:
        return render_template("shares/overview.html", member=None, summary=None)
    return render_template(
        "shares/overview.html", member=member, summary=holdings_service.summary(db, member)
    )


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
