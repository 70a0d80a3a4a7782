"""Share pages that need setup: buying, paying, certificates, the register, withdrawals and
transfers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from portal import pdf
from portal.models import ShareOrder

from ...factories import reading
from .crawl import Site, filter_in_place, state, wait_for_htmx

if TYPE_CHECKING:
    from ...factories import MemberRef


@state("member")
def share_order_placed(site: Site) -> Any:
    """A supporter-share order just placed: its page with the bank instructions."""
    from playwright.sync_api import expect

    site.goto("/shares/buy")
    site.page.get_by_label("Supporter share", exact=False).check()
    site.page.get_by_label("Number of shares").fill("25")
    expect(site.page.locator("#order-check")).to_contain_text("€25")
    return site.submit("Place order")


def settle_orders(site: Site, member: MemberRef) -> str:
    """Record payment of every order the member has waiting, as staff (real certificates,
    linking to this live server); the newest certificate's verification code."""
    issued = site.make.settle_orders(member, render=pdf.render_certificate)
    assert issued, "the member has no order waiting for payment"
    return issued[-1].code


def admit(site: Site, name: str, town: str) -> str:
    """An approved applicant whose membership share staff record as paid, admitting them
    (a real certificate, linking to this live server); its verification code."""
    applicant = site.make.applicant(name=name, town=town, state="awaiting_share")
    with reading(site.app) as db:
        order = db.scalar(
            select(ShareOrder).where(ShareOrder.application_id == applicant.application_id)
        )
    return site.make.pay(order, render=pdf.render_certificate).code


def crawler(site: Site) -> MemberRef:
    """The crawl's own user on the register."""
    assert site.member is not None, "this crawl's user is not a member"
    return site.member


@state("member")
def share_check_shows_broken_rules(site: Site) -> None:
    """The buy form after typing 12 supporter shares: htmx swaps in the rule it breaks."""
    from playwright.sync_api import expect

    site.goto("/shares/buy")
    site.page.get_by_label("Supporter share").check()
    site.page.get_by_label("Number of shares").fill("12")
    expect(site.page.locator("#order-check .alert")).to_contain_text("multiples of 5")
    wait_for_htmx(site.page)
    return None


@state("member")
def share_order_refused(site: Site) -> Any:
    """The buy form posted with too few supporter shares: 422 with the rule."""
    site.goto("/shares/buy")
    site.page.get_by_label("Supporter share").check()
    site.page.get_by_label("Number of shares").fill("3")
    return site.submit("Place order", status=422)


@state("member")
def shares_held_with_certificates(site: Site) -> Any:
    """The shares page once payments are recorded: holdings, orders both paid and waiting,
    certificates."""
    from playwright.sync_api import expect

    site.make.order(crawler(site), "supporter", 5)
    settle_orders(site, crawler(site))
    site.make.order(crawler(site), "supporter", 10)
    response = site.goto("/shares")
    expect(site.page.get_by_role("region", name="Holdings table")).to_be_visible()
    expect(
        site.page.get_by_role("link", name=re.compile(r"^Certificate no\. ")).first
    ).to_be_visible()
    return response


def _post_payment_form(site: Site, amount: str | None, status: int) -> Any:
    """The first waiting order's payment form sent as a plain post (as without JavaScript:
    ``form.submit()`` passes htmx by), with ``amount`` (None: as filled in, the amount
    owed); the page that comes back."""
    site.make.order(crawler(site), "supporter", 5)
    site.goto("/staff/orders")
    order = site.page.get_by_role("article").first
    if amount is not None:
        order.get_by_label("Amount received").fill(amount)
    # The form posts to the order's fragment, which Chromium's console line keeps.
    if status >= 400:
        site.log.allow_status(
            status, site.server.link(order.locator("form").get_attribute("action"))
        )
    with site.page.expect_navigation() as navigation:
        order.locator("form").evaluate("form => form.submit()")
    assert navigation.value.status == status
    return navigation.value


@state("staff")
def payment_refused_for_wrong_amount(site: Site) -> Any:
    """The orders page after recording too little for one of two orders: 422, its message."""
    return _post_payment_form(site, "0.50", 422)


@state("staff")
def payment_to_confirm(site: Site) -> Any:
    """What recording a payment will do, on a page of its own (without JavaScript)."""
    from playwright.sync_api import expect

    response = _post_payment_form(site, None, 200)
    expect(site.page.get_by_role("button", name="Confirm payment")).to_be_visible()
    return response


@state("anonymous")
def certificate_verified(site: Site) -> Any:
    """The public check of a valid certificate, by the code printed on it."""
    from playwright.sync_api import expect

    response = site.goto(f"/verify/{admit(site, 'Vera Holder', 'Limerick')}")
    expect(site.page.locator(".status")).to_have_text("Valid")
    return response


def share_history(site: Site) -> None:
    """Give the crawl's member supporter shares bought over past months (ledger rows on past
    days), besides the membership share they paid to be admitted."""
    rows = [("supporter", 50, "2025-12-15")]
    rows += [("supporter", 25, "2026-04-01"), ("supporter", 10, "2026-08-20")]
    for code, quantity, day in rows:
        at = datetime.fromisoformat(day + "T10:00").replace(tzinfo=UTC)
        site.make.ledger_row(crawler(site), code, quantity, at)


@state("staff", "admin")
def share_register_filtered_by_htmx(site: Site) -> None:
    """The share register with a capital chart, after choosing a share type (htmx swap)."""
    from playwright.sync_api import expect

    share_history(site)
    site.goto("/staff/register")
    expect(site.page.locator("#register-chart svg[role=img]")).to_have_count(1)
    filter_in_place(
        site,
        r"type=supporter",
        lambda page: page.get_by_label("Share type", exact=True).select_option("supporter"),
    )
    expect(site.page.locator("#share-register-results h2")).to_contain_text("As of the end of")
    expect(site.page.locator("#register-chart polyline")).to_have_count(1)
    return None


@state("member")
def shares_with_a_capital_chart(site: Site) -> Any:
    """The member's shares page with the chart of their capital over past months."""
    share_history(site)
    return site.goto("/shares")


def hold_supporter_shares(site: Site, quantity: int = 20) -> None:
    """The crawl's member holds paid supporter shares (and whatever else they had ordered)."""
    site.make.order(crawler(site), "supporter", quantity)
    settle_orders(site, crawler(site))


@state("member")
def withdrawal_refused(site: Site) -> Any:
    """The withdrawal form sent with a number that breaks the rules: 422 and the message."""
    hold_supporter_shares(site)
    site.goto("/shares/withdraw")
    site.page.get_by_label("Number of shares to withdraw").fill("7")
    return site.submit("Ask to withdraw", status=422)


@state("member")
def shares_with_a_withdrawal_requested(site: Site) -> Any:
    """The shares page with a withdrawal waiting for the board, and its Cancel button."""
    from playwright.sync_api import expect

    site.goto("/shares/withdraw")
    site.page.get_by_label("Number of shares to withdraw").fill("5")
    response = site.submit("Ask to withdraw")
    expect(site.page.get_by_role("region", name="Withdrawals table")).to_contain_text(
        "With the board"
    )
    return response


@state("staff")
def withdrawals_waiting_for_a_decision_and_a_repayment(site: Site) -> Any:
    """Staff's withdrawals page with one request to decide and one to repay, after
    approving without the board's reference (422)."""
    hold_supporter_shares(site, 30)
    site.make.withdrawal(crawler(site), 10, approved=True)
    site.make.withdrawal(crawler(site), 5)
    site.goto("/staff/withdrawals")
    return site.submit("Approve withdrawal", status=422)


@state("staff")
def transfer_refused(site: Site) -> Any:
    """The transfers page where supporter shares are transferable, sent for an unknown
    member (422)."""
    site.make.share_terms("supporter", transferable=True)
    site.goto("/staff/transfers")
    site.page.get_by_label("From member no.").fill("1")
    site.page.get_by_label("To member no.").fill("999")
    site.page.get_by_label("Number of shares").fill("5")
    return site.submit("Record transfer", status=422)


@state("applicant")
def buying_shares_before_being_a_member(site: Site) -> Any:
    """An approved applicant opening "Buy shares": only members buy supporter shares, so
    they are sent to the classes (their membership share is what they can pay)."""
    response = site.goto("/shares/buy")
    assert site.page.url == site.server.link("/join"), site.page.url
    return response


@state("staff")
def transfer_recorded(site: Site) -> Any:
    """The transfers page after recording one: the table of transfers recorded."""
    from playwright.sync_api import expect

    hold_supporter_shares(site)
    receiver = site.make.member(name="Tara Receiver", email="tara.receiver@example.org")
    site.make.share_terms("supporter", transferable=True)
    site.goto("/staff/transfers")
    site.page.get_by_label("From member no.").fill(str(crawler(site).number))
    site.page.get_by_label("To member no.").fill(str(receiver.number))
    site.page.get_by_label("Number of shares").fill("5")
    site.page.get_by_label("Board decision reference").fill("Board minute 2026/3")
    response = site.submit("Record transfer")
    expect(site.page.get_by_role("region", name="Transfers recorded table")).to_contain_text(
        "Tara Receiver"
    )
    return response
