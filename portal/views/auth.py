"""Signing up, verifying an e-mail, signing in and out, and resetting a password."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm

from ..db import get_db
from ..errors import InvalidInput
from ..extensions import limiter, start_session
from ..forms import (
    EmptyForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
    attach_error,
)
from ..htmx import redirect
from ..services.accounts import users
from ..templating import local_time
from .access import safe_next

bp = Blueprint("auth", __name__)


def account_rules() -> users.AccountRules:
    """The account rules as this deployment configures them."""
    return users.AccountRules.from_config(current_app.config)


def invalid(template: str, form: FlaskForm, **context: object) -> tuple[str, int]:
    """Show the form again with its messages: 422."""
    return render_template(template, form=form, **context), 422


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.get("/signup")
def signup() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("me.dashboard"))
    return render_template("auth/signup.html", form=SignupForm())


@bp.post("/signup")
@limiter.limit(_login_limit)
def signup_post() -> Response | tuple[str, int]:
    form = SignupForm()
    if not form.validate_on_submit():
        return invalid("auth/signup.html", form)
    db = get_db()
    try:
        users.sign_up(
            db,
            name=form.name.data,
            email=form.email.data,
            password=form.password.data,
            rules=account_rules(),
        )
    except InvalidInput as exc:
        attach_error(form, exc)
        return invalid("auth/signup.html", form)
    db.commit()
    return redirect(url_for("auth.check_inbox"))


@bp.get("/signup/check-inbox")
def check_inbox() -> str:
    return render_template("auth/check_inbox.html")


@bp.get("/verify-email/<token>")
def verify_email(token: str) -> str:
    """Ask for a click: a GET never writes (mail scanners follow links)."""
    return render_template("auth/verify_email.html", form=EmptyForm(), token=token)


@bp.post("/verify-email/<token>")
def verify_email_post(token: str) -> Response | tuple[str, int]:
    form = EmptyForm()
    if not form.validate_on_submit():
        return invalid("auth/verify_email.html", form, token=token)
    db = get_db()
    max_age = timedelta(hours=current_app.config["EMAIL_VERIFY_MAX_AGE_HOURS"])
    try:
        users.verify_email(db, token, max_age=max_age)
    except InvalidInput as exc:
        return render_template(
            "auth/verify_email.html", form=form, token=token, error=exc.message
        ), 400
    db.commit()
    flash("Thank you: your e-mail address is verified.", "success")
    target = "me.dashboard" if current_user.is_authenticated else "auth.login"
    return redirect(url_for(target))


@bp.post("/verify-email/resend")
@login_required
def resend_verification() -> Response:
    form = EmptyForm()
    if form.validate_on_submit() and not current_user.email_verified:
        db = get_db()
        users.send_verification(db, current_user)
        db.commit()
        flash(f"We sent a new link to {current_user.email}.", "info")
    return redirect(url_for("me.dashboard"))


@bp.get("/login")
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=LoginForm(), next=request.args.get("next"))


@bp.post("/login")
@limiter.limit(_login_limit)
def login_post() -> Response | tuple[str, int]:
    form = LoginForm()
    next_url = request.args.get("next")
    if not form.validate_on_submit():
        return invalid("auth/login.html", form, next=next_url)
    db = get_db()
    try:
        user = users.authenticate(
            db,
            email=form.email.data,
            password=form.password.data,
            rules=account_rules(),
            ip=request.remote_addr,
        )
    except users.LoginThrottled as exc:
        form.form_errors.append(f"{exc.message} Try again at {local_time(exc.retry_at, '%H:%M')}.")
        return render_template("auth/login.html", form=form, next=next_url), 429
    except users.InvalidCredentials as exc:
        db.commit()  # the failure must be counted
        form.form_errors.append(exc.message)
        return invalid("auth/login.html", form, next=next_url)
    db.commit()
    start_session(user)
    flash(f"Welcome back, {user.name}.", "success")
    return redirect(safe_next(next_url))


@bp.post("/logout")
def logout() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("You are signed out.", "info")
    return redirect(url_for("public.landing"))


@bp.get("/reset-password")
def forgot_password() -> str:
    return render_template("auth/forgot_password.html", form=ForgotPasswordForm())


@bp.post("/reset-password")
@limiter.limit(_login_limit)
def forgot_password_post() -> Response | tuple[str, int]:
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return invalid("auth/forgot_password.html", form)
    db = get_db()
    users.request_password_reset(db, email=form.email.data, rules=account_rules())
    db.commit()
    flash(
        "If an account uses that address, a reset link is on its way. "
        "It works once, within the hour.",
        "info",
    )
    return redirect(url_for("auth.login"))


@bp.get("/reset-password/<token>")
def reset_password(token: str) -> str | tuple[str, int]:
    try:
        users.find_reset_token(get_db(), token)
    except InvalidInput as exc:
        return render_template("auth/reset_password.html", form=None, error=exc.message), 400
    return render_template("auth/reset_password.html", form=ResetPasswordForm(), token=token)


@bp.post("/reset-password/<token>")
@limiter.limit(_login_limit)
def reset_password_post(token: str) -> Response | tuple[str, int]:
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return invalid("auth/reset_password.html", form, token=token)
    db = get_db()
    try:
        users.reset_password(db, token=token, new=form.password.data, rules=account_rules())
    except InvalidInput as exc:
        attach_error(form, exc)
        return invalid("auth/reset_password.html", form, token=token)
    db.commit()
    logout_user()
    flash("Your password is changed. Sign in with the new one.", "success")
    return redirect(url_for("auth.login"))
