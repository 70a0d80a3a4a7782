"""The crawl: which pages each role visits, and the Site a page's setup is given.

See the package's docstring for how to add a page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from portal.mail import OutboxMessage
    from portal.models import User

    from ...factories import Factories, MemberRef
    from ..conftest import BrowserLog, LiveServer


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
# Someone approved whose membership share is not yet paid: not a member (rule 8.1).
APPLICANT = [
    "/me",
    "/application",
    "/shares",
    "/join",
]
MEMBER = [
    "/me",
    "/shares",
    "/shares/buy",
    "/me/security",
    "/me/two-factor",
    "/me/profile",
    "/me/resign",
    "/confirm-password?next=/me/export",
    "/join",
    "/join/worker",
    "/application",
    "/documents",
    "/documents/handbook",
    "/meetings",
    "/board",
]
STAFF = [
    *MEMBER,
    "/staff",
    "/staff/audit",
    "/staff/audit?action=user.created",
    "/staff/applications",
    "/staff/orders",
    "/staff/orders?q=crawl&state=all",
    "/staff/orders?member=1&state=all",
    "/staff/applications?state=&class=artist",
    "/staff/applications?state=awaiting_share",
    "/staff/members",
    "/staff/members?q=crawl&status=active",
    "/staff/members/1",
    "/staff/members/1/certificates",
    "/staff/register",
    "/staff/register?as_of=2026-07-01&type=supporter&class=listener",
    "/staff/withdrawals",
    "/staff/transfers",
    "/staff/documents",
    "/staff/documents/rules",
    "/staff/meetings",
    "/staff/board",
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
    "applicant": APPLICANT,
    "member": MEMBER,
    "staff": STAFF,
    "admin": ADMIN,
}

ERROR_PAGES: dict[str, dict[str, int]] = {
    "anonymous": {
        "/no-such-page": 404,
        "/reset-password/not-a-real-token": 400,
        "/login/unlock/not-a-real-token": 400,
        "/email-change/cancel/not-a-real-token": 400,
        "/verify/no-such-code": 404,
        "/documents/no-such-document": 404,
        "/documents/handbook": 404,  # members only: hidden looks like missing
    },
    "applicant": {
        "/meetings": 403,
        "/staff": 403,
        "/staff/applications": 403,
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
        "/staff/meetings": 403,
    },
    "staff": {
        "/no-such-page": 404,
        "/staff/settings": 403,
        "/staff/register?as_of=not-a-date": 422,
    },
    "admin": {},
}

# Filled by @state below; read through visits_for().
STATES: dict[str, list[Visit]] = {crawl: [] for crawl in PAGES}

# The app config each crawl's live server runs with, on top of the live-server defaults.
CRAWL_CONFIG: dict[str, dict[str, Any]] = {}

CRAWLS = list(PAGES)


# Crawls whose account has another role than their name: an applicant's is a member's.
CRAWL_ROLES = {"applicant": "member"}


def role_of(crawl: str) -> str:
    """The role a crawl signs in as: ``"staff-debug"`` is a staff member, ``"applicant"`` a
    member account (not yet on the register)."""
    crawl = crawl.removesuffix("-debug")
    return CRAWL_ROLES.get(crawl, crawl)


# -- the crawl ----------------------------------------------------------------------------


@dataclass
class Site:
    """What a crawl step may use: the browser page, the live app, and the test's fixtures."""

    page: Any  # playwright.sync_api.Page
    server: LiveServer
    log: BrowserLog
    make: Factories  # in requests to the live server, so certificates link to it
    outbox: Callable[[], list[OutboxMessage]]
    crawl: str = ""  # which crawl this is ("applicant", "member", ...)
    user: User | None = None  # the crawl's own user, signed in
    member: MemberRef | None = None  # and their entry on the register

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


def filter_in_place(site: Site, query: str, change: Callable[[Any], Any]) -> None:
    """``change`` a filter on the open page, then wait until htmx has swapped in the results
    for the query string matching ``query`` and pushed that URL to the address bar."""
    from playwright.sync_api import expect

    path = re.escape(site.page.url.split("?")[0])
    with site.page.expect_response(re.compile(rf"{path}\?.*{query}")):
        change(site.page)
    expect(site.page).to_have_url(re.compile(query))
    wait_for_htmx(site.page)
