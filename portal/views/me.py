"""The signed-in member's own pages: the dashboard and account security."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from ..db import get_db
from ..errors import InvalidInput
from ..extensions import start_session
from ..forms import ChangePasswordForm, EmptyForm, attach_error
from ..htmx import redirect
from ..services import accounts, applications, documents, members, settings
from ..templating import local_today
from .auth import account_rules

bp = Blueprint("me", __name__, url_prefix="/me")


@bp.get("")
@login_required
def dashboard() -> str:
    """What the signed-in person has and can do next."""
    db = get_db()
    member = members.member_for_user(db, current_user)
    return render_template(
        "me/dashboard.html",
        member=member,
        applications=applications.applications_of(db, current_user),
        resignation=members.pending_resignation(db, member) if member else None,
        new_documents=documents.new_since(db, current_user, current_user.previous_login_at),
        latest_documents=documents.new_since(db, current_user, None, limit=3),
        rules_change=documents.rules_changed_since(db, member.admitted_on, local_today())
        if member
        else None,
    )


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


@bp.get("/profile")
@login_required
def profile() -> tuple[str, int]:
    return _profile_page()


def _profile_page(
    values: dict[str, str] | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    db = get_db()
    member = members.member_for_user(db, current_user)
    if values is None:
        values = {"name": current_user.name}
        if member is not None:
            values.update({k: getattr(member, k) for k in members.PROFILE_LIMITS})
            values["news_opt_in"] = "y" if member.news_opt_in else ""
            values["name_on_verify"] = "y" if member.name_on_verify else ""
    return render_template(
        "me/profile.html",
        member=member,
        values=values,
        errors=errors or {},
        consents=members.consent_history(db, current_user),
    ), status


@bp.post("/profile")
@login_required
def profile_post() -> Response | tuple[str, int]:
    db = get_db()
    member = members.member_for_user(db, current_user)
    try:
        changed = members.update_profile(
            db,
            current_user,
            member,
            request.form,
            news_opt_in=request.form.get("news_opt_in") == "y",
            name_on_verify=request.form.get("name_on_verify") == "y",
        )
    except InvalidInput as exc:
        return _profile_page(request.form.to_dict(), {exc.field or "name": exc.message}, 422)
    db.commit()
    flash("Your profile is saved." if changed else "Nothing changed.", "success")
    return redirect(url_for("me.profile"))


@bp.post("/profile/email")
@login_required
def change_email() -> Response | tuple[str, int]:
    db = get_db()
    try:
        accounts.request_email_change(db, current_user, request.form.get("email", "")[:254])
    except InvalidInput as exc:
        return _profile_page(errors={"email": exc.message}, status=422)
    db.commit()
    flash("We sent a link to the new address. Your e-mail changes once you open it.", "info")
    return redirect(url_for("me.profile"))


@bp.post("/profile/primary-class")
@login_required
def set_primary_class() -> Response:
    db = get_db()
    member = members.member_for_user(db, current_user)
    member_class = settings.find_class(db, request.form.get("primary_class", ""))
    if member is None or member_class is None:
        abort(404)
    members.set_primary_class(db, member, member_class, actor=current_user)
    db.commit()
    flash(f"You now vote as a member of the {member_class.name} class.", "success")
    return redirect(url_for("me.profile"))


@bp.get("/export")
@login_required
def export() -> Response:
    """Everything the portal holds about the signed-in person, as a JSON download."""
    data = members.export_data(get_db(), current_user)
    response = make_response(json.dumps(data, indent=2, ensure_ascii=False))
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@bp.get("/resign")
@login_required
def resign() -> str:
    db = get_db()
    member = members.member_for_user(db, current_user)
    if member is None:
        abort(404)
    return render_template(
        "me/resign.html", member=member, pending=members.pending_resignation(db, member)
    )


@bp.post("/resign")
@login_required
def resign_post() -> Response:
    db = get_db()
    member = members.member_for_user(db, current_user)
    if member is None:
        abort(404)
    if request.form.get("action") == "withdraw":
        pending = members.pending_resignation(db, member)
        if pending is None:
            abort(404)
        members.withdraw_resignation(db, pending, actor=current_user)
        message = "Your request to resign is withdrawn. We are glad you are staying."
    else:
        members.request_resignation(db, member, request.form.get("reason", ""), actor=current_user)
        message = "Your request to resign is with our staff, who will confirm it."
    db.commit()
    flash(message, "info")
    return redirect(url_for("me.dashboard"))
