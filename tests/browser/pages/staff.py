"""Staff pages that need setup: the audit log, the outbox, review and settings in place."""

from __future__ import annotations

import re
from typing import Any

from portal import mail

from .crawl import Site, filter_in_place, state, wait_for_htmx


@state("staff", "admin")
def audit_filtered_by_htmx(site: Site) -> None:
    """The audit log after choosing an action: the results swapped in by htmx."""
    from playwright.sync_api import expect

    site.goto("/staff/audit")
    filter_in_place(
        site,
        r"action=user\.logged_in",
        lambda page: page.get_by_label("Action").select_option("user.logged_in"),
    )
    actions = site.page.locator("#audit-results tbody td code")
    expect(actions.first).to_have_text("user.logged_in")
    assert set(actions.all_inner_texts()) == {"user.logged_in"}
    return None


@state("staff-debug")
def mail_outbox(site: Site) -> Any:
    """The debug-only outbox page with a message in it."""
    mail.deliver(
        mail.Mail(
            to="someone@example.org",
            subject="Confirm your e-mail address",
            text=f"Open this link:\n\n{site.server.link('/verify-email/abc')}\n",
            html="<p>Open this link.</p>",
        ),
        app=site.app,
    )
    return site.goto("/staff/outbox")


@state("staff", "admin")
def review_row_approved_by_htmx(site: Site) -> None:
    """The review queue after approving an application in place."""
    from playwright.sync_api import expect

    site.goto("/staff/applications")
    row = site.page.locator("tbody.review-row").first
    row.get_by_role("button", name=re.compile(r"^Approve")).click()
    wait_for_htmx(site.page)
    expect(site.page.locator("tbody.review-row").first).to_contain_text("Approved")
    return None


def edited_in_place(site: Site, link: str, field: str) -> None:
    """The settings page after following the ``link`` to edit: the form, with its ``field``,
    swapped in by htmx."""
    from playwright.sync_api import expect

    site.goto("/staff/settings")
    site.page.get_by_role("link", name=link).click()
    wait_for_htmx(site.page)
    expect(site.page.get_by_label(field)).to_be_visible()


@state("admin")
def setting_edited_inline(site: Site) -> None:
    """The settings page with one setting's form swapped in by htmx."""
    edited_in_place(site, "Edit Notice period (clear days)", "Notice period (clear days)")


@state("admin")
def share_type_edited_inline(site: Site) -> None:
    """The settings page with a share type's form swapped in by htmx."""
    edited_in_place(site, "Edit Supporter share", "In multiples of")
