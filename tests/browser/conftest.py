"""Browser fixtures: the app served on a real port, and one headless Chromium per session.

Every test in this folder is marked ``browser``. Without Chromium (``/usr/bin/chromium``
or ``PORTAL_CHROMIUM``) the tests are skipped, and without Java and the Nu checker the
HTML validity test is skipped; with ``PORTAL_REQUIRE_BROWSER=1`` (or
``PORTAL_REQUIRE_SYSTEM=1``, as CI sets both) either is a failure.
Playwright only drives the system Chromium: never ``playwright install``.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, got_request_exception
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from portal.mail import OutboxMessage
from portal.models import CoopSettings

from .. import requirements
from ..conftest import PASSWORD, fresh_database_url
from ..factories import Factories
from ..two_factor_codes import next_code
from .pages import CRAWL_CONFIG, Site, Visited, populate, role_of

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM = os.environ.get("PORTAL_CHROMIUM") or "/usr/bin/chromium"
JAVA = shutil.which("java") or "/usr/bin/java"
VNU_JAR = ROOT / "tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
REQUIRED = os.environ.get("PORTAL_REQUIRE_BROWSER") == "1" or requirements.REQUIRED

# Exactly the flags DESIGN.md §5 names; nothing reaches out to Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

# Reported when the page breaks its own Content Security Policy; set up in every page.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__portalCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
  );
});
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser``."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


def missing(what: str) -> None:
    """Skip for want of ``what``; fail instead when the browser tests are required."""
    message = f"{what} (PORTAL_REQUIRE_BROWSER=1 or PORTAL_REQUIRE_SYSTEM=1 requires it)"
    if REQUIRED:
        pytest.fail(message, pytrace=False)
    pytest.skip(what)


# -- the app on a real port ---------------------------------------------------------------


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without the access log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class LiveServer:
    """The portal answering on ``url``; ``errors`` holds exceptions raised by its views."""

    url: str
    app: Flask
    errors: list[BaseException] = field(default_factory=list)

    def link(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return self.url + path


@pytest.fixture
def make_live_server(
    app_factory: Callable[..., Flask],
) -> Iterator[Callable[..., LiveServer]]:
    """Serve an app on 127.0.0.1 over plain HTTP: ``make_live_server(DEBUG=True)``."""
    running: list[tuple[BaseWSGIServer, threading.Thread, LiveServer, Callable[..., None]]] = []

    def start(**overrides: Any) -> LiveServer:
        app = app_factory(
            **{
                "HTMX_LOCAL": True,
                "SESSION_COOKIE_SECURE": False,
                "REMEMBER_COOKIE_SECURE": False,
                "PREFERRED_URL_SCHEME": "http",
                **overrides,
            }
        )
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)

        def record(sender: Flask, exception: BaseException, **_: Any) -> None:
            live.errors.append(exception)

        got_request_exception.connect(record, app, weak=False)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        running.append((server, thread, live, record))
        return live

    yield start
    for server, thread, live, record in running:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        got_request_exception.disconnect(record, sender=live.app)
    for _, _, live, _ in running:
        assert not live.errors, f"the app raised while serving: {live.errors!r}"


@pytest.fixture
def live_server(make_live_server: Callable[..., LiveServer]) -> LiveServer:
    """The portal in production mode, served on a free port of 127.0.0.1."""
    return make_live_server()


# -- Chromium -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session, driven by Playwright."""
    if not Path(CHROMIUM).is_file() or not os.access(CHROMIUM, os.X_OK):
        missing(f"no Chromium at {CHROMIUM} (install the Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Problem:
    """Something that went wrong in the browser: a console error, a failed request..."""

    kind: str
    text: str
    url: str = ""

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text}" + (f" (at {self.url})" if self.url else "")


@dataclass
class BrowserLog:
    """What every page of a test reported; the test fails at teardown if any is unexpected.

    A test that expects an error status allows its console line explicitly, e.g.
    ``browser_log.allow_status(404, url)``.
    """

    problems: list[Problem] = field(default_factory=list)
    allowed: list[tuple[re.Pattern[str], str | None]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def allow(self, pattern: str, url: str | None = None) -> None:
        """Accept problems whose text matches ``pattern`` (only at ``url`` when given)."""
        self.allowed.append((re.compile(pattern), url))

    def allow_status(self, status: int, url: str | None = None) -> None:
        """Accept Chromium's 'Failed to load resource' line for an expected error status."""
        prefix = "^Failed to load resource: the server responded with a status of"
        self.allow(rf"{prefix} {status}\b", url)

    def unexpected(self) -> list[Problem]:
        """The problems no ``allow`` covers."""
        return [
            p
            for p in self.problems
            if not any(
                pattern.search(p.text) and (url is None or p.url == url)
                for pattern, url in self.allowed
            )
        ]

    def watch(self, page: Any) -> None:
        """Record ``page``'s console errors, page errors, failed requests and CSP reports."""

        def on_console(message: Any) -> None:
            text = message.text
            url = (message.location or {}).get("url", "")
            if "Content Security Policy" in text or "Refused to" in text:
                self.problems.append(Problem("csp", text, url))
            elif message.type == "error":
                self.problems.append(Problem("console", text, url))

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(Problem("pageerror", str(error))))

        def on_request_failed(request: Any) -> None:
            # Leaving a page cancels what it was still fetching (its favicon, say).
            if request.failure != "net::ERR_ABORTED":
                self.problems.append(
                    Problem("requestfailed", f"{request.method} {request.failure}", request.url)
                )

        page.on("requestfailed", on_request_failed)
        page.on("request", lambda request: self.requests.append(request.url))


@pytest.fixture
def browser_log() -> BrowserLog:
    """Problems reported by this test's pages (see ``new_page``)."""
    return BrowserLog()


@pytest.fixture
def new_page(
    browser: Any, browser_log: BrowserLog, make_live_server: Callable[..., LiveServer]
) -> Iterator[Callable[..., Any]]:
    """Open pages, each in a fresh context (its own cookies), all watched by ``browser_log``.

    It needs ``make_live_server`` only to be torn down first: a page closed after its server
    stopped would report the favicon it was still fetching as a failed request.
    """
    contexts: list[Any] = []

    def open_page(**options: Any) -> Any:
        # Reduced motion: checks see the settled page, not a swap halfway through fading in.
        # ``options`` go to the context, e.g. ``java_script_enabled=False``.
        context = browser.new_context(
            locale="en-IE", timezone_id="Europe/Dublin", reduced_motion="reduce", **options
        )
        context.set_default_timeout(10_000)
        context.expose_function(
            "__portalCspViolation",
            lambda text: browser_log.problems.append(Problem("csp", text)),
        )
        context.add_init_script(CSP_LISTENER)
        contexts.append(context)
        page = context.new_page()
        browser_log.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    problems = browser_log.unexpected()
    assert not problems, "the browser reported problems:\n" + "\n".join(map(str, problems))


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    """A fresh page in its own browser context; fails the test on console or CSP errors."""
    return new_page()


def sign_in(page: Any, live_server: LiveServer, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form, as a person would (typing the code from the app when
    the account has two-factor sign-in), and wait for the dashboard."""
    page.goto(live_server.link("/login"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if page.url == live_server.link("/login/code"):  # two-factor sign-in: the app's code
        page.get_by_label("Code").fill(next_code(live_server.app, email))
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
    assert page.url == live_server.link("/me"), f"signing in ended on {page.url}"


@pytest.fixture
def expect(browser: Any) -> Any:
    """Playwright's ``expect`` (imported once the browser is known to be there)."""
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def site_for(
    make_live_server: Callable[..., LiveServer],
    new_page: Callable[[], Any],
    browser_log: BrowserLog,
    factories: Factories,
    coop: CoopSettings,
    outbox: Callable[[], list[OutboxMessage]],
    migrated_template: str,
    tmp_path: Path,
) -> Callable[..., Site]:
    """A crawl's starting point: its own live server and page, in the Reverb co-op, signed
    in as its role; ``page_options`` go to the browser context (``viewport=PHONE``).

    Each crawl has a database of its own: a test that crawls twice (test_html_validity, on
    an xdist worker where the axe crawls did not run) gives the second crawl a fresh one
    (on PostgreSQL, the one database emptied: the crawl before has finished).
    """
    started: list[str] = []

    def start(crawl: str, **page_options: Any) -> Site:
        config = dict(CRAWL_CONFIG.get(crawl, {}))
        if started:
            instance = tmp_path / f"crawl-{len(started)}"
            instance.mkdir()
            config["DATABASE_URL"] = fresh_database_url(migrated_template, instance)
        started.append(crawl)
        server = make_live_server(**config)
        make = replace(factories, app=server.app).at(server.url)
        if len(started) > 1:
            make.coop()  # the Reverb co-op, in the fresh database
        site = Site(
            page=new_page(**page_options),
            server=server,
            log=browser_log,
            make=make,
            outbox=outbox,
            crawl=crawl,
        )
        role = role_of(crawl)
        if role != "anonymous":
            site.user = make.user(role=role, name=f"Crawling {role.title()}")
        populate(site)
        if site.user is not None:
            sign_in(site.page, server, site.user.email)
        return site

    return start


@pytest.fixture(scope="session")
def crawled() -> dict[str, list[Visited]]:
    """The pages each finished crawl saw this session, so a later check need not crawl again."""
    return {}


@pytest.fixture(scope="session")
def vnu() -> list[str]:
    """The command that runs the Nu HTML checker, as a list of arguments."""
    if not Path(JAVA).is_file():
        missing("no Java for the Nu HTML checker (install the Debian package default-jre-headless)")
    if not VNU_JAR.is_file():
        missing(f"no Nu HTML checker at {VNU_JAR} (make vnu)")
    return [JAVA, "-jar", str(VNU_JAR)]
