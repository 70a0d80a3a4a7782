"""Every page of the portal, as each role sees it: the crawl behind the axe and Nu checks.

To cover a new page, add it here and both checks pick it up:

* a plain page that answers 200: add its path to the role's list (``MEMBER``, ``STAFF``...;
  a role's list includes the lists of the roles below it, whose pages look different to it);
* a page that answers an error status: add ``path: status`` to ``ERROR_PAGES[crawl]``;
* a page that needs setup (a token from a mail, a form sent with errors, an htmx state):
  write a function decorated with ``@state("member", ...)``. It gets a :class:`Site` and
  either returns the document response to check (``site.goto(path)`` or the response of a
  form it submitted) or returns ``None`` after changing the page in place (an htmx swap),
  in which case the live DOM is checked.

A crawl is a role signed in on its own live server: ``"anonymous"``, ``"member"``,
``"staff"``, ``"admin"``, and ``"staff-debug"`` (a staff member on an app in debug mode,
for the pages that only exist there).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from portal import mail

from ..conftest import PASSWORD, link_in

if TYPE_CHECKING:
    from flask import Flask

    from portal.mail import OutboxMessage
    from portal.models import User

    from .conftest import BrowserLog, LiveServer


# -- the registry -------------------------------------------------------------------------

ANONYMOUS = [
    "/",
    "/signup",
    "/signup/check-inbox",
    "/login",
    "/reset-password",
    "/join",
    "/documents",
    "/documents/rules",
    "/documents/rules/v/1",
    "/documents/rules/changes?from=1&to=2",
]
MEMBER = [
    "/me",
    "/shares",
    "/shares/buy",
    "/me/security",
    "/me/profile",
    "/me/resign",
    "/join",
    "/join/worker",
    "/application",
    "/documents",
    "/documents/handbook",
]
STAFF = [
    *MEMBER,
    "/staff",
    "/staff/audit",
    "/staff/audit?action=user.created",
    "/staff/applications",
    "/staff/orders",
    "/staff/applications?state=&class=artist",
    "/staff/members",
    "/staff/members?q=crawl&status=active",
    "/staff/members/1",
    "/staff/register",
    "/staff/register?as_of=2026-07-01&type=supporter&class=listener",
    "/staff/withdrawals",
    "/staff/transfers",
    "/staff/documents",
    "/staff/documents/rules",
]
ADMIN = [
    *STAFF,
    "/staff/settings",
    "/staff/settings/notice_days",
    "/staff/settings/classes/artist",
    "/staff/settings/share-types/supporter",
]

PAGES: dict[str, list[str]] = {
    "anonymous": ANONYMOUS,
    "member": MEMBER,
    "staff": STAFF,
    "admin": ADMIN,
    # Pages that exist only when the app runs in debug mode (no SMTP server locally).
    "staff-debug": ["/staff"],
}

ERROR_PAGES: dict[str, dict[str, int]] = {
    "anonymous": {
        "/no-such-page": 404,
        "/reset-password/not-a-real-token": 400,
        "/verify/no-such-code": 404,
        "/documents/no-such-document": 404,
        "/documents/handbook": 404,  # members only: hidden looks like missing
    },
    "member": {
        "/no-such-page": 404,
        "/staff": 403,
        "/join/no-such-class": 404,
        "/staff/applications": 403,
        "/staff/register": 403,
        "/staff/withdrawals": 403,
        "/staff/transfers": 403,
        "/staff/documents": 403,
    },
    "staff": {
        "/no-such-page": 404,
        "/staff/settings": 403,
        "/staff/register?as_of=not-a-date": 422,
    },
    "admin": {},
    "staff-debug": {},
}

# Filled by @state below; read through visits_for().
STATES: dict[str, list[Visit]] = {crawl: [] for crawl in PAGES}

# The app config each crawl's live server runs with, on top of the live-server defaults.
CRAWL_CONFIG: dict[str, dict[str, Any]] = {"staff-debug": {"DEBUG": True}}

CRAWLS = list(PAGES)


def populate(site: Site) -> None:
    """Give a crawl's co-op its classes, applicants and members, so pages show real data.

    The crawl's own user becomes an artist member (staff and admins too), so every member
    page has something to show.
    """
    from portal.db import database
    from portal.models import Role, User
    from portal.presets import RESONATE
    from portal.services import accounts, applications, settings
    from portal.services.applications import ApplicationInput

    app = site.app
    with app.test_request_context("/"):
        db = database(app).session(write=True)
        settings.apply_preset(db, RESONATE, app.config)
        coop = settings.current_settings(db, app.config)
        reviewer = accounts.create_user(
            db,
            name="Review Staff",
            email="reviewer@example.org",
            password=PASSWORD,
            role=Role.STAFF,
            verified=True,
        )
        stock_library(db, reviewer)  # first, so that applicants accept the rulebook
        address = {"address_line1": "4 Quay Street", "town": "Galway", "country": "Ireland"}

        def apply(user: User, code: str, answers: dict[str, str]) -> Any:
            application = applications.start_application(db, user, settings.find_class(db, code))
            given = ApplicationInput(answers=answers, address=address, accept_rules=True)
            return applications.submit_application(
                db, application, given, actor=user, settings=coop
            )

        artist = {"artist_name": "The Crawlers", "release_url": "https://music.example/c"}
        for n in range(3):
            applicant = accounts.create_user(
                db,
                name=f"Applicant {n}",
                email=f"applicant{n}@example.org",
                password=PASSWORD,
                verified=True,
            )
            application = apply(applicant, "artist", artist)
            if n == 1:
                applications.ask_for_information(db, application, "Which label?", actor=reviewer)
            elif n == 2:
                applications.reject_application(db, application, "Not found.", actor=reviewer)
        if site.user is not None:
            user = db.get(User, site.user.id)
            applications.approve_application(
                db, apply(user, "artist", artist), actor=reviewer, settings=coop
            )
        db.commit()
        db.close()


def role_of(crawl: str) -> str:
    """The role a crawl signs in as: ``"staff-debug"`` is a staff member."""
    return crawl.removesuffix("-debug")


# -- the crawl ----------------------------------------------------------------------------


@dataclass
class Site:
    """What a crawl step may use: the browser page, the live app, and the test's fixtures."""

    page: Any  # playwright.sync_api.Page
    server: LiveServer
    log: BrowserLog
    make_user: Callable[..., User]
    outbox: Callable[[], list[OutboxMessage]]
    user: User | None = None

    @property
    def app(self) -> Flask:
        return self.server.app

    def goto(self, path: str, status: int = 200) -> Any:
        """Open ``path`` and check its status; an expected error status is not a problem."""
        url = self.server.link(path)
        if status >= 400:
            self.log.allow_status(status, url)
        response = self.page.goto(url)
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"{path} answered {response.status}, not {status}"
        return response

    def submit(self, button: str, status: int = 200) -> Any:
        """Press the form button named ``button`` and return the document that comes back."""
        with self.page.expect_navigation() as navigation:
            self.page.get_by_role("button", name=button).click()
        response = navigation.value
        if status >= 400:
            self.log.allow_status(status, response.url)
        assert response.status == status, (
            f"pressing {button!r} answered {response.status}, not {status}"
        )
        return response

    def latest_mail(self, to: str, subject: str) -> OutboxMessage:
        """The newest message in the outbox to ``to`` with ``subject``."""
        for message in self.outbox():
            if message.to == to and message.subject == subject:
                return message
        raise AssertionError(f"no mail {subject!r} to {to} in the outbox")


@dataclass(frozen=True)
class Visit:
    """One page or state to check: ``open`` brings the browser there (see the module doc)."""

    name: str
    open: Callable[[Site], Any]


@dataclass
class Visited:
    """A page the crawl is on: its name, URL and HTML (the raw body when there is one)."""

    crawl: str
    name: str
    url: str
    html: str = field(repr=False)

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "-", f"{self.crawl}--{self.name}").strip("-")


def state(*crawls: str) -> Callable[[Callable[[Site], Any]], Callable[[Site], Any]]:
    """Register a page that needs setup for each of ``crawls``."""

    def register(open_page: Callable[[Site], Any]) -> Callable[[Site], Any]:
        for crawl in crawls:
            STATES[crawl].append(Visit(open_page.__name__, open_page))
        return open_page

    return register


def visits_for(crawl: str) -> list[Visit]:
    """Every page of ``crawl``: the plain ones, the error pages, then those with setup."""
    plain = [Visit(path, lambda site, path=path: site.goto(path)) for path in PAGES[crawl]]
    errors = [
        Visit(f"{path} ({status})", lambda site, path=path, status=status: site.goto(path, status))
        for path, status in ERROR_PAGES[crawl].items()
    ]
    return [*plain, *errors, *STATES[crawl]]


def crawl_pages(site: Site, crawl: str) -> Iterator[Visited]:
    """Bring the browser to each page of ``crawl`` in turn, with the HTML it received."""
    for visit in visits_for(crawl):
        response = visit.open(site)
        html = response.text() if response is not None else site.page.content()
        yield Visited(crawl=crawl, name=visit.name, url=site.page.url, html=html)


def wait_for_htmx(page: Any) -> None:
    """Wait until htmx has no request in flight and no swap still settling."""
    from playwright.sync_api import expect

    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    expect(page.locator(busy)).to_have_count(0)


# -- pages that need setup ----------------------------------------------------------------


@state("anonymous")
def signup_with_errors(site: Site) -> Any:
    """The sign-up form sent empty: 422 with a message by each field."""
    site.goto("/signup")
    return site.submit("Create account", status=422)


@state("anonymous")
def login_failed(site: Site) -> Any:
    """A wrong password: the form again with its message."""
    user = site.make_user()
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
    user = site.make_user()
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


@state("staff", "admin")
def audit_filtered_by_htmx(site: Site) -> None:
    """The audit log after choosing an action: the results swapped in by htmx."""
    from playwright.sync_api import expect

    site.goto("/staff/audit")
    with site.page.expect_response(re.compile(r"/staff/audit\?action=user\.logged_in")):
        site.page.get_by_label("Action").select_option("user.logged_in")
    expect(site.page).to_have_url(re.compile(r"action=user\.logged_in"))
    wait_for_htmx(site.page)
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


@state("member")
def application_form_with_errors(site: Site) -> Any:
    """The worker application sent empty: 422 with a message by each field."""
    site.goto("/join/worker")
    return site.submit("Submit application", status=422)


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


@state("admin")
def setting_edited_inline(site: Site) -> None:
    """The settings page with one setting's form swapped in by htmx."""
    from playwright.sync_api import expect

    site.goto("/staff/settings")
    site.page.get_by_role("link", name="Edit Notice period (clear days)").click()
    wait_for_htmx(site.page)
    expect(site.page.get_by_label("Notice period (clear days)")).to_be_visible()
    return None


@state("member")
def share_order_placed(site: Site) -> Any:
    """A supporter-share order just placed: its page with the bank instructions."""
    from playwright.sync_api import expect

    site.goto("/shares/buy")
    site.page.get_by_label("Supporter share", exact=False).check()
    site.page.get_by_label("Number of shares").fill("25")
    expect(site.page.locator("#order-check")).to_contain_text("€25")
    return site.submit("Place order")


def settle_orders(site: Site, user_id: int) -> str:
    """Record payment of every pending order of the user's member, as the reviewer (real
    certificates, linking to this live server); the newest certificate's verification code.
    """
    from datetime import date

    from portal import pdf
    from portal.db import write_session
    from portal.models import OrderState, User
    from portal.services import accounts, holdings, members, payments, settings

    app = site.app
    with app.test_request_context("/", base_url=site.server.url), write_session(app) as db:
        coop = settings.current_settings(db, app.config)
        reviewer = accounts.find_user_by_email(db, "reviewer@example.org")
        member = members.member_for_user(db, db.get(User, user_id))
        codes = [
            payments.settle_order(
                db,
                order,
                payments.Payment(
                    order.amount_minor, date.today(), "bank_transfer", f"TX-{order.id}"
                ),
                actor=reviewer,
                settings=coop,
                render=pdf.render_certificate,
            ).code
            for order in holdings.summary(db, member).orders
            if order.state is OrderState.PENDING_PAYMENT
        ]
    return codes[-1]


def order_shares(site: Site, user_id: int, code: str, quantity: int) -> None:
    """Place an order for the user's member, left waiting for payment."""
    from portal.db import write_session
    from portal.models import User
    from portal.services import holdings, members, settings, shares

    app = site.app
    with app.test_request_context("/"), write_session(app) as db:
        user = db.get(User, user_id)
        shares.place_order(
            db,
            members.member_for_user(db, user),
            holdings.find_type(db, code),
            quantity,
            actor=user,
            settings=settings.current_settings(db, app.config),
        )


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

    assert site.user is not None
    settle_orders(site, site.user.id)
    order_shares(site, site.user.id, "supporter", 10)
    response = site.goto("/shares")
    expect(site.page.get_by_role("region", name="Holdings table")).to_be_visible()
    expect(
        site.page.get_by_role("link", name=re.compile(r"^Certificate no\. ")).first
    ).to_be_visible()
    return response


@state("staff")
def payment_refused_for_wrong_amount(site: Site) -> Any:
    """The orders page after recording too little for one of two orders: 422, its message."""
    assert site.user is not None
    order_shares(site, site.user.id, "supporter", 5)
    site.goto("/staff/orders")
    order = site.page.get_by_role("article").first
    order.get_by_label("Amount received").fill("0.50")
    # The form posts to the order's fragment, which Chromium's console line keeps.
    site.log.allow_status(422, site.server.link(order.locator("form").get_attribute("action")))
    return site.submit(order.get_by_role("button").inner_text(), status=422)


@state("anonymous")
def certificate_verified(site: Site) -> Any:
    """The public check of a valid certificate, by the code printed on it."""
    from playwright.sync_api import expect

    from portal.db import write_session
    from portal.models import User
    from portal.services import accounts, applications, settings
    from portal.services.applications import ApplicationInput

    holder = site.make_user(name="Vera Holder")
    app = site.app
    with app.test_request_context("/"), write_session(app) as db:
        coop = settings.current_settings(db, app.config)
        user = db.get(User, holder.id)
        application = applications.start_application(db, user, settings.find_class(db, "artist"))
        given = ApplicationInput(
            answers={"artist_name": "Vera", "release_url": "https://music.example/vera"},
            address={"address_line1": "2 Dock Road", "town": "Limerick", "country": "Ireland"},
            accept_rules=True,
        )
        applications.submit_application(db, application, given, actor=user, settings=coop)
        reviewer = accounts.find_user_by_email(db, "reviewer@example.org")
        applications.approve_application(db, application, actor=reviewer, settings=coop)
    response = site.goto(f"/verify/{settle_orders(site, holder.id)}")
    expect(site.page.locator(".status")).to_have_text("Valid")
    return response


def share_history(site: Site, user_id: int) -> None:
    """Give the user's member shares bought over past months (ledger rows on past days)."""
    from datetime import UTC, datetime

    import pytest

    from portal.db import write_session
    from portal.models import LedgerKind, User
    from portal.services import holdings, ledger, members

    app = site.app
    rows = [("membership", 1, "2025-09-02"), ("supporter", 50, "2025-12-15")]
    rows += [("supporter", 25, "2026-04-01"), ("supporter", 10, "2026-08-20")]
    with app.test_request_context("/"), write_session(app) as db:
        member = members.member_for_user(db, db.get(User, user_id))
        for code, quantity, day in rows:
            with pytest.MonkeyPatch.context() as clock:  # rows are stamped by the ledger
                stamp = datetime.fromisoformat(day + "T10:00").replace(tzinfo=UTC)
                clock.setattr(ledger, "utcnow", lambda stamp=stamp: stamp)
                ledger.append(
                    db,
                    kind=LedgerKind.ISSUE,
                    member=member,
                    share_type=holdings.find_type(db, code),
                    quantity=quantity,
                    currency="EUR",
                    reference="crawl",
                    actor=None,
                )


@state("staff", "admin")
def share_register_filtered_by_htmx(site: Site) -> None:
    """The share register with a capital chart, after choosing a share type (htmx swap)."""
    from playwright.sync_api import expect

    assert site.user is not None
    share_history(site, site.user.id)
    site.goto("/staff/register")
    expect(site.page.locator("#register-chart svg[role=img]")).to_have_count(1)
    with site.page.expect_response(re.compile(r"/staff/register\?.*type=supporter")):
        site.page.get_by_label("Share type", exact=True).select_option("supporter")
    expect(site.page).to_have_url(re.compile(r"type=supporter"))
    wait_for_htmx(site.page)
    expect(site.page.locator("#share-register-results h2")).to_contain_text("As of the end of")
    expect(site.page.locator("#register-chart polyline")).to_have_count(1)
    return None


@state("member")
def shares_with_a_capital_chart(site: Site) -> Any:
    """The member's shares page with the chart of their capital over past months."""
    assert site.user is not None
    share_history(site, site.user.id)
    return site.goto("/shares")


def hold_supporter_shares(site: Site, quantity: int = 20) -> None:
    """The crawl's user holds paid supporter shares (and whatever else they had ordered)."""
    assert site.user is not None
    order_shares(site, site.user.id, "supporter", quantity)
    settle_orders(site, site.user.id)


def ask_to_withdraw(site: Site, quantity: int, *, approve: bool = False) -> None:
    """The crawl's user asks to withdraw supporter shares; staff may approve at once."""
    from portal.db import write_session
    from portal.models import User
    from portal.services import accounts, holdings, members, settings, withdrawals

    app = site.app
    with app.test_request_context("/"), write_session(app) as db:
        user = db.get(User, site.user.id)
        withdrawal = withdrawals.request_withdrawal(
            db,
            members.member_for_user(db, user),
            holdings.find_type(db, "supporter"),
            quantity,
            reason="Saving for a tour van.",
            actor=user,
            settings=settings.current_settings(db, app.config),
        )
        if approve:
            withdrawals.approve_withdrawal(
                db,
                withdrawal,
                decision_reference="Board minute 2026/14",
                actor=accounts.find_user_by_email(db, "reviewer@example.org"),
            )


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
    ask_to_withdraw(site, 10, approve=True)
    ask_to_withdraw(site, 5)
    site.goto("/staff/withdrawals")
    return site.submit("Approve withdrawal", status=422)


@state("staff")
def transfer_refused(site: Site) -> Any:
    """The transfers page where supporter shares are transferable, sent for an unknown
    member (422)."""
    from portal.db import write_session
    from portal.services import holdings

    with site.app.test_request_context("/"), write_session(site.app) as db:
        holdings.find_type(db, "supporter").transferable = True
    site.goto("/staff/transfers")
    site.page.get_by_label("From member no.").fill("1")
    site.page.get_by_label("To member no.").fill("999")
    site.page.get_by_label("Number of shares").fill("5")
    return site.submit("Record transfer", status=422)


@state("admin")
def share_type_edited_inline(site: Site) -> None:
    """The settings page with a share type's form swapped in by htmx."""
    from playwright.sync_api import expect

    site.goto("/staff/settings")
    site.page.get_by_role("link", name="Edit Supporter share").click()
    wait_for_htmx(site.page)
    expect(site.page.get_by_label("In multiples of")).to_be_visible()
    return None


# -- documents ----------------------------------------------------------------------------

RULES = """# Rules of the Crawl Co-op

## 1. Members

1. A member holds **one** membership share of €1.
2. Members meet once a year in general meeting.

## 2. Classes

| Class | Annual fee | Board seats |
|---|---|---|
| Listener | €10 | 2 |
| Artist | None | 3 |

> Read with the [Membership Policy](https://example.org/policy).
"""


def stock_library(db: Any, author: User) -> None:
    """The documents the crawls read: the public rulebook (``rules``, two versions, so it has
    an older version and changes) and a members-only handbook (``handbook``)."""
    from datetime import date

    from portal.services import documents

    rules = documents.create_document(
        db,
        title="Rules of the Crawl Co-op",
        slug="rules",
        category="rules",
        visibility="public",
        summary="How the co-op is owned and run.",
        approved_by="Special resolution, AGM 2025",
        actor=author,
    )
    for effective_on, body, note in [
        (date(2025, 1, 1), RULES, "The rules as registered"),
        (
            date(2026, 1, 1),
            RULES.replace("€10", "€12") + "\n## 3. Proxies\n\nA member may appoint a proxy.\n",
            "Listener fee raised to €12; proxies",
        ),
    ]:
        documents.publish_markdown(
            db, rules, body=body, effective_on=effective_on, change_note=note, actor=author
        )
    documents.mark_rulebook(db, rules, actor=author)
    handbook = documents.create_document(
        db,
        title="Members' Handbook",
        slug="handbook",
        category="policies",
        visibility="members",
        summary="Where things are and whom to ask.",
        approved_by="The board",
        actor=author,
    )
    documents.publish_markdown(
        db,
        handbook,
        body="# Members' Handbook\n\nAsk the secretary about anything.",
        effective_on=date(2025, 6, 1),
        change_note="First edition",
        actor=author,
    )


@state("member")
def library_searched_by_htmx(site: Site) -> None:
    """The library after typing in its search box: the results swapped in by htmx."""
    from playwright.sync_api import expect

    site.goto("/documents")
    with site.page.expect_response(re.compile(r"/documents\?q=proxy")):
        site.page.get_by_label("Search titles and text").fill("proxy")
    expect(site.page).to_have_url(re.compile(r"q=proxy"))
    wait_for_htmx(site.page)
    results = site.page.locator("#document-results")
    expect(results.get_by_role("link", name="Rules of the Crawl Co-op")).to_be_visible()
    expect(results.get_by_role("link", name="Members' Handbook")).to_have_count(0)
    return None


@state("staff")
def publish_preview_swapped_by_htmx(site: Site) -> None:
    """The publishing form after editing the text: the preview swapped in by htmx."""
    from playwright.sync_api import expect

    preview = re.compile(r"/staff/documents/preview$")
    with site.page.expect_response(preview):  # the preview of the text as loaded
        site.goto("/staff/documents/rules")
    text = site.page.get_by_label("Text (Markdown)")
    with site.page.expect_response(preview):
        text.fill(text.input_value() + "\n3. Members may **vote** by proxy.\n")
    wait_for_htmx(site.page)
    expect(site.page.locator("#markdown-preview li strong").last).to_have_text("vote")
    return None


@state("staff")
def publish_form_with_errors(site: Site) -> Any:
    """A new version sent without saying what changed: 422 with the form and its message."""
    site.goto("/staff/documents/rules")
    return site.submit("Publish version", status=422)


@state("staff")
def add_document_with_errors(site: Site) -> Any:
    """The add-a-document form sent without a title: 422 with the list and the message."""
    site.goto("/staff/documents")
    return site.submit("Add document", status=422)
