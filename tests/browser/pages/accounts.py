"""Account pages that need setup: sign-up, sign-in, e-mail and password links."""

from __future__ import annotations

from typing import Any

from ...conftest import PASSWORD, link_in
from .crawl import Site, state


@state("anonymous")
def signup_with_errors(site: Site) -> Any:
    """The sign-up form sent empty: 422 with a message by each field."""
    site.goto("/signup")
    return site.submit("Create account", status=422)


@state("anonymous")
def login_failed(site: Site) -> Any:
    """A wrong password: the form again with its message."""
    user = site.make.user()
    site.goto("/login")
    site.page.get_by_label("E-mail").fill(user.email)
    site.page.get_by_label("Password", exact=True).fill("not-the-password-at-all")
    return site.submit("Sign in", status=422)


@state("anonymous")
def verify_email_link(site: Site) -> Any:
    """The page a verification mail links to, after a real sign-up."""
    email = "crawler.signup@example.org"
    site.goto("/signup")
    site.page.get_by_label("Full name").fill("Crawl Signup")
    site.page.get_by_label("E-mail").fill(email)
    site.page.get_by_label("Password", exact=True).fill(PASSWORD)
    site.submit("Create account")
    message = site.latest_mail(email, "Confirm your e-mail address")
    return site.goto(link_in(message, "/verify-email/"))


@state("anonymous")
def reset_password_link(site: Site) -> Any:
    """The page a reset mail links to, asked for through the forgot-password form."""
    user = site.make.user()
    site.goto("/reset-password")
    site.page.get_by_label("E-mail").fill(user.email)
    site.submit("Send reset link")
    message = site.latest_mail(user.email, "Reset your password")
    return site.goto(link_in(message, "/reset-password/"))


@state("member", "staff", "admin")
def change_password_with_errors(site: Site) -> Any:
    """The change-password form sent empty: 422 with its messages."""
    site.goto("/me/security")
    return site.submit("Change password", status=422)


@state("anonymous")
def login_locked_and_unlock_link(site: Site) -> Any:
    """Ten wrong passwords pause the account's sign-in (429, saying a link was mailed); the
    page that link opens lets the owner in."""
    user = site.make.user()
    site.goto("/login")
    for _ in range(10):
        site.page.get_by_label("E-mail").fill(user.email)
        site.page.get_by_label("Password", exact=True).fill("not-the-password-at-all")
        site.submit("Sign in", status=422)
    site.page.get_by_label("E-mail").fill(user.email)
    site.page.get_by_label("Password", exact=True).fill(PASSWORD)
    site.submit("Sign in", status=429)
    message = site.latest_mail(user.email, "Sign-in to your account is paused")
    return site.goto(link_in(message, "/login/unlock/"))


@state("member")
def email_change_and_cancel_link(site: Site) -> Any:
    """A change of address asks for the password; the old address's cancel link."""
    assert site.user is not None
    site.goto("/me/profile")
    site.page.get_by_label("New e-mail address").fill("crawler.new@example.org")
    site.page.get_by_label("Your password").fill(PASSWORD)
    site.submit("Change e-mail")
    message = site.latest_mail(site.user.email, "Your e-mail address is about to change")
    return site.goto(link_in(message, "/email-change/cancel/"))
