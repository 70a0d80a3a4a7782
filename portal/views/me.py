"""The signed-in member's own pages: the dashboard and account security."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from .. import coop
from ..db import get_db, transaction
from ..errors import InvalidInput, PortalError
from ..extensions import current_session, end_browser_session
from ..forms import EmptyForm
from ..htmx import flash_and_redirect, redirect
from ..services.accounts import sessions, users
from ..services.documents import library
from ..services.elections import ballot_pages
from ..services.meetings import overview as meetings
from ..services.membership import applications, leaving, privacy
from ..services.register import classes, members, profile
from ..services.shares import payments
from .access import current_member, found, member_or_404
from .auth import account_rules, form_page, reauthentication_required
from .downloads import attachment

bp = Blueprint("me", __name__, url_prefix="/me")


@bp.get("")
@login_required
def dashboard() -> str:
    """What the signed-in person has and can do next."""
    db = get_db()
    member = current_member()
    return render_template(
        "me/dashboard.html",
        member=member,
        applications=applications.applications_of(db, current_user),
        dues=payments.admission_dues(db, current_user),
        resignation=leaving.pending_resignation(db, member) if member else None,
        news=library.news_for(db, current_user, current_user.previous_login_at),
        awaiting_votes=meetings.awaiting_votes(db, member) if member else 0,
        awaiting_rankings=ballot_pages.awaiting_rankings(db, member) if member else 0,
        rules_change=library.rules_changed_since(db, member.admitted_on, coop.today())
        if member
        else None,
    )


@bp.get("/security")
@login_required
def security() -> tuple[str, int]:
    return _security_page()


def _security_page(refusal: PortalError | None = None) -> tuple[str, int]:
    """The password form and the list of open sessions, with a refusal's messages."""
    config = current_app.config
    absolute = config["PERMANENT_SESSION_LIFETIME"]
    listed = sessions.open_sessions(
        get_db(), current_user, current=current_session(), absolute=absolute
    )
    return form_page(
        "me/security.html",
        refusal,
        sessions=listed,
        idle_minutes=config["SESSION_IDLE_MINUTES"],
        absolute_hours=int(absolute.total_seconds() // 3600),
    )


@bp.post("/security/password")
@login_required
def change_password() -> Response | tuple[str, int]:
    try:
        # A wrong current password is counted by the sign-in throttle; it is kept.
        with transaction(keep=(users.WrongPassword,)) as db:
            users.change_password(
                db,
                current_user,
                current=request.form.get("current", ""),
                new=request.form.get("new", ""),
                rules=account_rules(),
                keep=current_session(),
            )
    except PortalError as exc:
        return _security_page(exc)
    return flash_and_redirect(
        "Your password is changed. Every other session has been signed out.",
        url_for("me.security"),
    )


@bp.post("/security/sessions")
@login_required
def end_other_sessions() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        with transaction() as db:
            users.end_other_sessions(db, current_user, keep=current_session())
        return flash_and_redirect(
            "Every other session has been signed out.", url_for("me.security")
        )
    return redirect(url_for("me.security"))


@bp.post("/security/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int) -> Response:
    """Sign out one of your own sessions (this one included); another's is not found."""
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("me.security"))
    record = found(sessions.session_of(get_db(), current_user, session_id))
    current = current_session()
    this_one = current is not None and record.id == current.id
    with transaction() as db:
        sessions.end_session(db, record, signing_out=this_one)
    if this_one:
        end_browser_session("You are signed out.")
        return redirect(url_for("public.landing"))
    return flash_and_redirect("That session is signed out.", url_for("me.security"))


@bp.get("/profile", endpoint="profile")
@login_required
def profile_page() -> tuple[str, int]:
    return _profile_page()


def _profile_page(
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    *,
    new_email: str = "",
) -> tuple[str, int]:
    member = current_member()
    if values is None:
        values = {"name": current_user.name}
        if member is not None:
            values.update({k: getattr(member, k) for k in profile.PROFILE_LIMITS})
            values["news_opt_in"] = "y" if member.news_opt_in else ""
            values["name_on_verify"] = "y" if member.name_on_verify else ""
    return render_template(
        "me/profile.html",
        member=member,
        values=values,
        errors=errors or {},
        consents=profile.consent_history(get_db(), current_user),
        new_email=new_email,
    ), status


@bp.post("/profile")
@login_required
def profile_post() -> Response | tuple[str, int]:
    try:
        with transaction() as db:
            changed = profile.update_profile(
                db,
                current_user,
                current_member(),
                request.form,
                news_opt_in=request.form.get("news_opt_in") == "y",
                name_on_verify=request.form.get("name_on_verify") == "y",
            )
    except InvalidInput as exc:
        return _profile_page(request.form.to_dict(), {exc.field or "name": exc.message}, 422)
    return flash_and_redirect(
        "Your profile is saved." if changed else "Nothing changed.", url_for("me.profile")
    )


@bp.post("/profile/email")
@login_required
def change_email() -> Response | tuple[str, int]:
    try:
        # A wrong current password is counted by the sign-in throttle; it is kept.
        with transaction(keep=(users.WrongPassword,)) as db:
            users.request_email_change(
                db,
                current_user,
                new_email=request.form.get("email", ""),
                current_password=request.form.get("current", ""),
                rules=account_rules(),
            )
    except PortalError as exc:
        errors = exc.errors or {"email": exc.message}
        typed = request.form.get("email", "")[:254]
        return _profile_page(errors=errors, status=exc.status, new_email=typed)
    return flash_and_redirect(
        "We sent a link to the new address. Your e-mail changes once you open it.",
        url_for("me.profile"),
        "info",
    )


@bp.post("/profile/primary-class")
@login_required
def set_primary_class() -> Response:
    member = member_or_404()
    member_class = found(classes.find_class(get_db(), request.form.get("primary_class", "")))
    with transaction() as db:
        members.set_primary_class(db, member, member_class, actor=current_user)
    return flash_and_redirect(
        f"You now vote as a member of the {member_class.name} class.", url_for("me.profile")
    )


@bp.get("/export")
@reauthentication_required
def export() -> Response:
    """Everything the portal holds about the signed-in person, as a JSON download."""
    data = privacy.export_data(get_db(), current_user)
    return attachment(
        json.dumps(data, indent=2, ensure_ascii=False), "my-data.json", mimetype="application/json"
    )


@bp.get("/resign")
@reauthentication_required
def resign() -> str:
    member = member_or_404()
    return render_template(
        "me/resign.html", member=member, pending=leaving.pending_resignation(get_db(), member)
    )


@bp.post("/resign")
@reauthentication_required
def resign_post() -> Response:
    member = member_or_404()
    with transaction() as db:
        if request.form.get("action") == "withdraw":
            pending = found(leaving.pending_resignation(db, member))
            leaving.withdraw_resignation(db, pending, actor=current_user)
            message = "Your request to resign is withdrawn. We are glad you are staying."
        else:
            reason = request.form.get("reason", "")
            leaving.request_resignation(db, member, reason, actor=current_user)
            message = "Your request to resign is with our staff, who will confirm it."
    return flash_and_redirect(message, url_for("me.dashboard"), "info")
