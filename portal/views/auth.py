"""Signing up, verifying an e-mail, signing in and out, and resetting a password."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

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
from flask_login import current_user, login_required

from ..db import get_db, transaction
from ..errors import InvalidInput, PortalError
from ..extensions import (
    SESSION_TOKEN,
    current_session,
    end_browser_session,
    limiter,
    recently_authenticated,
    start_session,
)
from ..forms import EmptyForm
from ..htmx import flash_and_redirect, redirect
from ..models import User, utcnow
from ..services.accounts import sessions, two_factor, users
from .access import safe_next

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])

# The cookie's note of a sign-in whose password was right and whose code is still to come.
PENDING_SIGN_IN = "two_factor_pending"


def account_rules() -> users.AccountRules:
    """The account rules as this deployment configures them."""
    return users.AccountRules.from_config(current_app.config)


def form_page(
    template: str,
    refusal: PortalError | None = None,
    *,
    values: Mapping[str, str] | None = None,
    status: int | None = None,
    **context: object,
) -> tuple[str, int]:
    """A form page: what was typed (never a password), and a refusal's messages.

    A message about a field stands beside it (``errors``); one about the whole form above
    it (``error``). The status is the refusal's own (422, 429) unless given.
    """
    page = render_template(
        template,
        values=values or {},
        errors=refusal.errors if refusal else {},
        error=refusal.message if refusal and not refusal.errors else None,
        **context,
    )
    return page, status or (refusal.status if refusal else 200)


def typed(*names: str) -> dict[str, str]:
    """The answers to show again after a refusal (name the fields that are not secret)."""
    return {name: request.form.get(name, "") for name in names}


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.get("/signup")
def signup() -> tuple[str, int] | Response:
    if current_user.is_authenticated:
        return redirect(url_for("me.dashboard"))
    return form_page("auth/signup.html")


@bp.post("/signup")
@limiter.limit(_login_limit)
def signup_post() -> Response | tuple[str, int]:
    try:
        with transaction() as db:
            users.sign_up(
                db,
                name=request.form.get("name", ""),
                email=request.form.get("email", ""),
                password=request.form.get("password", ""),
                rules=account_rules(),
            )
    except InvalidInput as exc:
        return form_page("auth/signup.html", exc, values=typed("name", "email"))
    return redirect(url_for("auth.check_inbox"))


@bp.get("/signup/check-inbox")
def check_inbox() -> str:
    return render_template("auth/check_inbox.html")


@bp.get("/verify-email/<token>")
def verify_email(token: str) -> str:
    """Ask for a click: a GET never writes (mail scanners follow links)."""
    return render_template("auth/verify_email.html", token=token)


@bp.post("/verify-email/<token>")
def verify_email_post(token: str) -> Response | tuple[str, int]:
    if not EmptyForm().validate_on_submit():
        return render_template("auth/verify_email.html", token=token), 422
    max_age = timedelta(hours=current_app.config["EMAIL_VERIFY_MAX_AGE_HOURS"])
    try:
        with transaction() as db:
            users.verify_email(db, token, max_age=max_age)
    except InvalidInput as exc:
        return render_template("auth/verify_email.html", token=token, error=exc.message), 400
    target = "me.dashboard" if current_user.is_authenticated else "auth.login"
    return flash_and_redirect("Thank you: your e-mail address is verified.", url_for(target))


@bp.post("/verify-email/resend")
@login_required
def resend_verification() -> Response:
    form = EmptyForm()
    if form.validate_on_submit() and not current_user.email_verified:
        with transaction() as db:
            users.send_verification(db, current_user)
        flash(f"We sent a new link to {current_user.email}.", "info")
    return redirect(url_for("me.dashboard"))


@bp.get("/login")
def login() -> tuple[str, int] | Response:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    return form_page("auth/login.html", next=request.args.get("next"))


@bp.post("/login")
@limiter.limit(_login_limit)
def login_post() -> Response | tuple[str, int]:
    next_url = request.args.get("next")
    try:
        user = _sign_in(request.form.get("email", ""), next_url=next_url)
    except PortalError as exc:
        return form_page("auth/login.html", exc, values=typed("email"), next=next_url)
    if user is None:
        return redirect(url_for("auth.login_code"))
    return flash_and_redirect(f"Welcome back, {user.name}.", safe_next(next_url))


def _sign_in(email: str, *, unlock: str | None = None, next_url: str | None = None) -> User | None:
    """Sign in with the typed password (and, past the lock, the mailed ``unlock`` link).

    None when the account asks for a code too: the password step is then remembered in
    the cookie for TWO_FACTOR_PENDING_MINUTES, and /login/code finishes the sign-in.
    """
    # A failed sign-in is counted (the throttle reads it), though the sign-in is refused.
    with transaction(keep=(users.InvalidCredentials,)) as db:
        user, token = users.sign_in(
            db,
            email=email,
            password=request.form.get("password", ""),
            rules=account_rules(),
            ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent", ""),
            replacing=session.get(SESSION_TOKEN),
            unlock=unlock,
        )
    if token is None:
        # Signed by the session cookie: only this server can have written it.
        session[PENDING_SIGN_IN] = {
            "uid": user.id,
            "at": utcnow().timestamp(),
            "next": next_url,
        }
        return None
    start_session(user, token)
    return user


def _pending_sign_in() -> tuple[User, str | None] | None:
    """The account whose password was right moments ago in this browser, and where it was
    going; None when there is none or it is older than TWO_FACTOR_PENDING_MINUTES."""
    pending = session.get(PENDING_SIGN_IN)
    if not isinstance(pending, dict):
        return None
    max_age = timedelta(minutes=current_app.config["TWO_FACTOR_PENDING_MINUTES"])
    started = pending.get("at")
    if not isinstance(started, int | float) or utcnow().timestamp() - started > (
        max_age.total_seconds()
    ):
        return None
    user = get_db().get(User, pending.get("uid"))
    if user is None or not user.is_active or not user.two_factor_enabled:
        return None
    next_url = pending.get("next")
    return user, next_url if isinstance(next_url, str) else None


def _sign_in_again() -> Response:
    session.pop(PENDING_SIGN_IN, None)
    return flash_and_redirect(
        "Your sign-in took too long. Please enter your password again.",
        url_for("auth.login"),
        "info",
    )


@bp.get("/login/code")
def login_code() -> tuple[str, int] | Response:
    """The second step of signing in: a code from the app, or a recovery code."""
    if _pending_sign_in() is None:
        return _sign_in_again()
    return form_page("auth/login_code.html")


@bp.post("/login/code")
@limiter.limit(_login_limit)
def login_code_post() -> Response | tuple[str, int]:
    pending = _pending_sign_in()
    if pending is None:
        return _sign_in_again()
    user, next_url = pending
    try:
        # A wrong code is counted by the sign-in throttle, like a wrong password.
        with transaction(keep=(two_factor.WrongCode,)) as db:
            two_factor.check_code(db, user, request.form.get("code", ""), account_rules())
            token = users.complete_sign_in(
                db,
                user,
                ip=request.remote_addr,
                user_agent=request.headers.get("User-Agent", ""),
                replacing=session.get(SESSION_TOKEN),
            )
    except PortalError as exc:
        return form_page("auth/login_code.html", exc)
    start_session(user, token)
    return flash_and_redirect(f"Welcome back, {user.name}.", safe_next(next_url))


@bp.get("/login/unlock/<token>")
def unlock(token: str) -> tuple[str, int]:
    """The link mailed when an account's sign-in was locked: a form, since a GET never
    writes (mail scanners follow links)."""
    try:
        user = users.unlocked_user(get_db(), token, account_rules())
    except InvalidInput as exc:
        return form_page("auth/unlock.html", exc, status=400)
    return form_page("auth/unlock.html", token=token, email=user.email)


@bp.post("/login/unlock/<token>")
@limiter.limit(_login_limit)
def unlock_post(token: str) -> Response | tuple[str, int]:
    try:
        email = users.unlocked_user(get_db(), token, account_rules()).email
    except InvalidInput as exc:
        return form_page("auth/unlock.html", exc, status=400)
    try:
        user = _sign_in(email, unlock=token)
    except PortalError as exc:
        return form_page("auth/unlock.html", exc, token=token, email=email)
    if user is None:
        return redirect(url_for("auth.login_code"))
    return flash_and_redirect(f"Welcome back, {user.name}.", url_for("me.dashboard"))


@bp.post("/logout")
def logout() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        record = current_session()
        if record is not None:
            with transaction() as db:
                sessions.end_session(db, record, signing_out=True)
        end_browser_session("You are signed out.")
    return redirect(url_for("public.landing"))


def reauthentication_required(view: F) -> F:
    """Signed in, and the password (or a two-factor code) typed in this session within
    REAUTHENTICATION_MINUTES; else ask for it again (a session alone, a copied cookie say,
    must not reach personal data nor change the register).

    A refused POST did nothing: the person confirms, comes back to the page the form is on
    and submits it again (a POST cannot be replayed by a redirect).
    """

    @login_required
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if recently_authenticated():
            return view(*args, **kwargs)
        if request.method == "GET":
            flash("Please confirm your password to continue.", "info")
            back = request.full_path.rstrip("?")
        else:
            flash(
                "Nothing was changed yet. Please confirm it is you, then submit the form again.",
                "info",
            )
            back = safe_next(_form_page_path(), request.path)
        return redirect(url_for("auth.confirm_password", next=back))

    return wrapped  # type: ignore[return-value]


def _form_page_path() -> str | None:
    """The path (and query) of the page a POST was sent from: htmx names it in
    HX-Current-URL, browsers in the Referer; only one of this site's counts."""
    page = request.headers.get("HX-Current-URL") or request.referrer
    if not page:
        return None
    parts = urlsplit(page)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.get("/confirm-password")
@login_required
def confirm_password() -> tuple[str, int]:
    return form_page("auth/confirm_password.html", next=request.args.get("next"))


@bp.post("/confirm-password")
@login_required
def confirm_password_post() -> Response | tuple[str, int]:
    """The password again, or for an account with two-factor sign-in a code instead."""
    next_url = request.args.get("next")
    record = current_session()
    if record is None:  # pragma: no cover - login_required found it open
        return redirect(url_for("auth.login"))
    code = request.form.get("code", "").strip()
    try:
        # A wrong password or code is counted by the sign-in throttle, like a failed sign-in.
        with transaction(keep=(users.WrongPassword, two_factor.WrongCode)) as db:
            if code and current_user.two_factor_enabled:
                two_factor.confirm_code(db, record, code, rules=account_rules())
            else:
                users.confirm_password(
                    db, record, request.form.get("password", ""), rules=account_rules()
                )
    except PortalError as exc:
        return form_page("auth/confirm_password.html", exc, next=next_url)
    return redirect(safe_next(next_url, url_for("me.security")))


@bp.get("/email-change/cancel/<token>")
def cancel_email_change(token: str) -> tuple[str, int]:
    """The link mailed to the old address: a button, since a GET never writes."""
    try:
        _user, old, new = users.read_cancel_token(get_db(), token, account_rules())
    except InvalidInput as exc:
        return form_page("auth/cancel_email_change.html", exc, status=400)
    return form_page("auth/cancel_email_change.html", token=token, old=old, new=new)


@bp.post("/email-change/cancel/<token>")
@limiter.limit(_login_limit)
def cancel_email_change_post(token: str) -> Response | tuple[str, int]:
    try:
        with transaction() as db:
            user = users.cancel_email_change(db, token, rules=account_rules())
    except PortalError as exc:
        return form_page("auth/cancel_email_change.html", exc, status=exc.status)
    end_browser_session()
    return flash_and_redirect(
        f"The change is cancelled: your address is {user.email} again, and every session "
        "is signed out. If someone else may know your password, reset it now.",
        url_for("auth.forgot_password"),
        "info",
    )


@bp.get("/reset-password")
def forgot_password() -> tuple[str, int]:
    return form_page("auth/forgot_password.html")


@bp.post("/reset-password")
@limiter.limit(_login_limit)
def forgot_password_post() -> Response | tuple[str, int]:
    try:
        with transaction() as db:
            users.request_password_reset(
                db, email=request.form.get("email", ""), rules=account_rules()
            )
    except InvalidInput as exc:
        return form_page("auth/forgot_password.html", exc, values=typed("email"))
    return flash_and_redirect(
        "If an account uses that address, a reset link is on its way. "
        "It works once, within the hour.",
        url_for("auth.login"),
        "info",
    )


@bp.get("/reset-password/<token>")
def reset_password(token: str) -> tuple[str, int]:
    try:
        users.find_reset_token(get_db(), token)
    except InvalidInput as exc:
        return form_page("auth/reset_password.html", exc, status=400)  # no form: no token
    return form_page("auth/reset_password.html", token=token)


@bp.post("/reset-password/<token>")
@limiter.limit(_login_limit)
def reset_password_post(token: str) -> Response | tuple[str, int]:
    try:
        with transaction() as db:
            users.reset_password(
                db, token=token, new=request.form.get("password", ""), rules=account_rules()
            )
    except InvalidInput as exc:
        return form_page("auth/reset_password.html", exc, token=token)
    end_browser_session()
    return flash_and_redirect(
        "Your password is changed. Sign in with the new one.", url_for("auth.login")
    )
