"""Staff pages that need setup: the audit log, the outbox, review and settings in place."""

from __future__ import annotations

import re
from typing import Any

from portal import mail
from portal.views.staff.outbox import PAGE_SIZE

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


def outbox_with_a_message(site: Site) -> str:
    """Put a verification mail in the outbox (no SMTP server here); its name."""
    mail.deliver(
        mail.Mail(
            to="someone@example.org",
            subject="Confirm your e-mail address",
            text=f"Open this link:\n\n{site.server.link('/verify-email/abc')}\n",
            html="<p>Open this link.</p>",
        ),
        app=site.app,
    )
    return mail.outbox_names(site.app)[0]


@state("staff")
def mail_outbox(site: Site) -> Any:
    """The outbox's list of messages, as staff read mail without an SMTP server."""
    outbox_with_a_message(site)
    return site.goto("/staff/outbox")


@state("staff")
def mail_outbox_message(site: Site) -> Any:
    """One message of the outbox on its own page, its link clickable."""
    return site.goto(f"/staff/outbox/{outbox_with_a_message(site)}")


@state("staff")
def mail_outbox_older_page_by_htmx(site: Site) -> None:
    """The outbox after following "Older": the next page swapped in by htmx, its URL pushed."""
    from playwright.sync_api import expect

    for _ in range(PAGE_SIZE + 1):
        outbox_with_a_message(site)
    site.goto("/staff/outbox")
    with site.page.expect_response(re.compile(r"/staff/outbox\?page=2$")) as response:
        site.page.get_by_role("link", name="Older →").click()
    assert response.value.request.headers.get("hx-request") == "true"
    expect(site.page).to_have_url(re.compile(r"/staff/outbox\?page=2$"))
    wait_for_htmx(site.page)
    expect(site.page.locator("#outbox-results")).to_contain_text("Page 2 of")
    expect(site.page.get_by_role("link", name="← Newer")).to_be_visible()
    return None


@state("staff", "admin")
def review_row_approved_by_htmx(site: Site) -> None:
    """The review queue after approving an application in place."""
    from playwright.sync_api import expect

    site.goto("/staff/applications")
    row = site.page.locator("tbody.review-row").first
    row.get_by_role("button", name=re.compile(r"^Approve")).click()
    wait_for_htmx(site.page)
    approved = site.page.locator("tbody.review-row").first
    expect(approved).to_contain_text("Approved, share to pay")
    expect(approved.get_by_role("button", name=re.compile(r"^Remind to pay"))).to_be_visible()
    return None


@state("staff", "admin")
def review_row_reminded_by_htmx(site: Site) -> None:
    """The approved applicants yet to pay, after reminding one in place."""
    from playwright.sync_api import expect

    site.goto("/staff/applications?state=awaiting_share")
    row = site.page.locator("tbody.review-row").first
    expect(row).to_contain_text("share unpaid")
    row.get_by_role("button", name=re.compile(r"^Remind to pay")).click()
    wait_for_htmx(site.page)
    expect(site.page.locator("tbody.review-row").first).to_contain_text(
        "the payment details again."
    )
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
