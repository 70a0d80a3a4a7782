"""The signed-in member's own pages: the dashboard and account security."""

from __future__ import annotations

from flask import Blueprint, Response, flash, render_template, url_for
from flask_login import current_user, login_required

from ..db import get_db
from ..errors import InvalidInput
from ..extensions import start_session
from ..forms import ChangePasswordForm, EmptyForm, attach_error
from ..htmx import redirect
from ..services import accounts
from .auth import account_rules

bp = Blueprint("me", __name__, url_prefix="/me")


@bp.get("")
@login_required
def dashboard() -> str:
    """What the signed-in person has and can do next."""
    return render_template("me/dashboard.html", form=EmptyForm())


def _security_page(password_form: ChangePasswordForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "me/security.html", password_form=password_form, sessions_form=EmptyForm()
    ), status


@bp.get("/security")
@login_required
def security() -> tuple[str, int]:
    return _security_page(ChangePasswordForm())


@bp.post("/security/password")
@login_required
def change_password() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _security_page(form, 422)
    db = get_db()
    try:
        accounts.change_password(
            db,
            current_user,
            current=form.current.data,
            new=form.new.data,
            rules=account_rules(),
        )
    except InvalidInput as exc:
        attach_error(form, exc, password="new")  # noqa: S106 (a field name)
        return _security_page(form, 422)
    db.commit()
    start_session(current_user)  # this session carries the new version; the others end
    flash("Your password is changed. Every other session has been signed out.", "success")
    return redirect(url_for("me.security"))


@bp.post("/security/sessions")
@login_required
def end_other_sessions() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        db = get_db()
        accounts.end_other_sessions(db, current_user)
        db.commit()
        start_session(current_user)
        flash("Every other session has been signed out.", "success")
    return redirect(url_for("me.security"))
