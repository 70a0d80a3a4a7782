"""Setting up two-factor sign-in: the QR code, the confirming code, the recovery codes.

Staff and admins are sent here until it is set up (the staff pages refuse them before);
members may opt in, and out again.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user, login_required

from .. import coop
from ..db import get_db, transaction
from ..errors import PortalError
from ..forms import EmptyForm
from ..htmx import flash_and_redirect, redirect
from ..pdf import qr_svg
from ..services.accounts import two_factor
from .auth import form_page, reauthentication_required

bp = Blueprint("two_factor", __name__, url_prefix="/me/two-factor")


@bp.get("")
@login_required
def setup() -> tuple[str, int]:
    return _setup_page()


def _setup_page(refusal: PortalError | None = None) -> tuple[str, int]:
    """The page for where the set-up is: not begun, waiting for a code, or on."""
    secret = two_factor.pending_secret(current_user)
    uri = (
        two_factor.provisioning_uri(current_user, secret, issuer=coop.settings().legal_name)
        if secret
        else None
    )
    return form_page(
        "two_factor/setup.html",
        refusal,
        secret=secret,
        grouped=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) if secret else "",
        qr=qr_svg(uri) if uri else None,
        codes_left=two_factor.unused_recovery_codes(get_db(), current_user)
        if current_user.two_factor_enabled
        else 0,
    )


@bp.post("/start")
@reauthentication_required
def start() -> Response:
    """Make a new secret to scan (a POST: reading the page never writes)."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("two_factor.setup"))
    try:
        with transaction() as db:
            two_factor.start_setup(db, current_user)
    except PortalError as exc:
        return flash_and_redirect(exc.message, url_for("two_factor.setup"), "error")
    return redirect(url_for("two_factor.setup"))


@bp.post("/enable")
@login_required
def enable() -> tuple[str, int]:
    """Turn it on with a code from the app; the recovery codes are shown this once."""
    try:
        with transaction() as db:
            codes = two_factor.enable(db, current_user, request.form.get("code", ""))
    except PortalError as exc:
        return _setup_page(exc)
    return _recovery_codes_page(codes, "Two-factor sign-in is on.")


@bp.post("/recovery-codes")
@reauthentication_required
def regenerate() -> tuple[str, int] | Response:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("two_factor.setup"))
    try:
        with transaction() as db:
            codes = two_factor.regenerate_recovery_codes(db, current_user)
    except PortalError as exc:
        return _setup_page(exc)
    return _recovery_codes_page(codes, "New recovery codes are made; the old ones no longer work.")


def _recovery_codes_page(codes: list[str], message: str) -> tuple[str, int]:
    """The codes, shown once: the page is the answer to the POST, never stored to show later."""
    page = render_template("two_factor/recovery_codes.html", codes=codes, message=message)
    return page, 200


@bp.post("/disable")
@reauthentication_required
def disable() -> Response | tuple[str, int]:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("two_factor.setup"))
    try:
        with transaction() as db:
            two_factor.disable(db, current_user)
    except PortalError as exc:
        return _setup_page(exc)
    return flash_and_redirect(
        "Two-factor sign-in is off: your password alone signs you in again.",
        url_for("me.security"),
    )
