"""Fuzzing (issue 17 §3): generated values in every form field, route and query parameter,
sent by six people on the lived-in demo co-op; never a server error, and afterwards the
share register and the votes still check.

What is fuzzed is read from the app, not from a list kept by hand: the routes from
``app.url_map``, each form's fields from the pages themselves (tests/security/pages.py,
found by following every link as each person), the query parameters from the pages'
filter forms and links and from the views' ``request.args`` reads. A route no page links
to is still sent, its parameters from its converters and the fields any form has.

The default run sends ``DEFAULT_REQUESTS`` generated requests (the count is asserted,
printed and written to build/fuzz-report.txt, for SECURITY.md). A longer run is opt-in,
since ``make test`` runs slow tests: ``make fuzz`` (or ``PORTAL_FUZZ_EXAMPLES=50000 pytest
-m slow tests/security/test_fuzz.py``). Hypothesis runs from a fixed seed, without its
database and without shrinking: every server error is collected with its route, field and
value and reported at the end.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect, Rule

from portal import demo
from portal.config import ROOT
from portal.db import database, write_session
from portal.presets import RESONATE
from portal.services.elections import voting
from portal.services.shares import ledger

from ..conftest import CSRF_RE
from ..factories import fake_certificate
from ..figures import record
from .pages import Form, local_path, read_page

DEFAULT_REQUESTS = 5_000
LONG_REQUESTS = int(os.environ.get("PORTAL_FUZZ_EXAMPLES") or 0)

# Who sends: a visitor, an applicant, two members (one holds a proxy, one has an
# appointment to answer), staff and an admin, as the demo co-op has them.
PEOPLE = {
    "visitor": None,
    "applicant": "applicant@reverb.example",
    "member": "listener@reverb.example",
    "worker": "worker@reverb.example",
    "staff": "staff@reverb.example",
    "admin": "admin@reverb.example",
}

# -- the values -------------------------------------------------------------------------------

# Numbers int(), isdigit() or float() read where a careless reader would not want them.
ODD_NUMBERS = [
    "9223372036854775808",  # 2**63, past a database integer
    "-9223372036854775809",
    "99999999999999999999",
    "-1",
    "-0",
    "0",
    "1e309",
    "1e-5",
    "NaN",
    "inf",
    "0x10",
    "0o7",
    "1_000",
    "1,000.50",
    " 12 ",
    "+5",
    "5.",
    ".5",
    "12.345",
    "²",  # isdigit() says yes, int() says no
    "١٢",  # int() reads Arabic-Indic digits
    "１２",  # full-width
    "۱۲",  # Persian
    "Ⅻ",
]
ODD_DATES = [
    "9999-12-31",
    "0001-01-01",
    "1899-12-31",
    "2026-02-30",
    "2026-13-01",
    "2026-W01",  # fromisoformat reads ISO week dates
    "2026-W01-1",
    "20261206",
    "2026-1-1",
    "２０２６-０１-０１",
    "2026-01-01T10:00",
    "2026-01-01 10:00:00+14:00",
    "25:61",
    "24:00",
    "00:00",
]
ODD_TEXT = [
    "",
    " ",
    "\t\n\r\u00a0\u2003",
    "\u202eRTL override\u202c",
    "\u200b\u200d\ufeff",
    "x" * 5_000,
    "é" * 70_000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"; DROP TABLE users; --',
    "%",
    "_",
    "\\",
    "../../etc/passwd",
    "//evil.example/",
    "javascript:alert(1)",
    "{{ 7*7 }}",
    "\x00",
    "a\x00b",
    "🙂" * 50,
    "a@b",
    "ü@ü.de",
    "x@" + "a" * 300 + ".com",
]
HOSTILE = ODD_TEXT + ODD_NUMBERS + ODD_DATES
# Path segments for a route's parameters: past an integer, odd text, encoded dots.
PATH_VALUES = ["9223372036854775808", "99999999999999999999", "0", "x" * 300, "%2e%2e", "é"]

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
digits = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(ODD_NUMBERS),
    st.decimals(allow_nan=True, allow_infinity=True, places=3).map(str),
)
dates = st.one_of(
    st.dates().map(str),
    st.sampled_from(ODD_DATES),
    st.datetimes().map(lambda d: d.isoformat()),
)
VALUES = st.one_of(
    st.sampled_from(ODD_TEXT), text, digits, dates, st.emails().map(str), st.just("y")
)
# Query parameter names the views read (request.args.get("…")), found in the source.
READ_ARGS = re.compile(r"request\.args\.get\(\s*\"([a-z_]+)\"")


def query_names_read() -> list[str]:
    """Every query parameter a view reads by name, and those a careless pager trusts."""
    names = {"page", "after", "before", "next", "_method"}
    for source in (ROOT / "portal" / "views").rglob("*.py"):
        names.update(READ_ARGS.findall(source.read_text()))
    return sorted(names)


# -- what there is to send --------------------------------------------------------------------


@dataclass
class Target:
    """A route as a page showed it (or, unlinked, as its rule reads): where, as whom, and
    the names it reads with the values a browser would send."""

    method: str
    rule: Rule
    path: str
    person: str
    defaults: list[tuple[str, str]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)

    @property
    def route(self) -> str:
        return f"{self.method} {self.rule.rule}"


def rule_path(rule: Rule, args: dict[str, Any]) -> str:
    """The rule's path with ``args`` put in its placeholders, verbatim (no quoting)."""
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[^<>:]+:)?{name}>", str(args.get(name, "1")), path)
    return path


def from_form(form: Form, action: str, rule: Rule, person: str) -> Target:
    choices: dict[str, list[str]] = {}
    for f in form.fields:
        options = f.options or (
            [f.value.removeprefix("\0unchecked:")] if f.kind in ("checkbox", "radio") else []
        )
        if options:
            choices.setdefault(f.name, []).extend(options)
    names = sorted(
        {f.name for f in form.fields if f.name != "csrf_token"} | {n for n, _ in form.buttons}
    )
    defaults = [(n, v) for n, v in form.defaults() if n != "csrf_token"]
    return Target(
        form.method.upper(), rule, local_path(action) or "/", person, defaults, names, choices
    )


class Site:
    """The app's routes as each person finds them by following links from the start pages."""

    START = ["/", "/me", "/staff", "/documents", "/meetings", "/shares", "/join", "/board",
             "/me/security", "/me/profile", "/staff/settings", "/staff/meetings",
             "/meetings/requisitions", "/application"]  # fmt: skip

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.adapter = app.url_map.bind("localhost")
        self.targets: dict[tuple[str, str], list[Target]] = {}
        self.pages_read = 0

    def match(self, path: str, method: str) -> Rule | None:
        try:
            rule, _args = self.adapter.match(path.split("?")[0], method=method, return_rule=True)
        except (HTTPException, RequestRedirect):
            return None
        return rule  # type: ignore[return-value]

    def add(self, target: Target, keep: int = 2) -> None:
        found = self.targets.setdefault((target.method, target.rule.rule), [])
        if len(found) < keep and all(
            t.path != target.path or t.person != target.person for t in found
        ):
            found.append(target)

    def crawl(self, person: str, client: Any, limit: int = 400) -> list[str]:
        """Follow links as ``person``, a page or two per route; the server errors met."""
        errors = []
        queue = list(self.START)
        seen_rules: Counter[str] = Counter()
        seen: set[str] = set()
        while queue and limit:
            path = queue.pop(0)
            rule = self.match(path, "GET")
            if path in seen or rule is None or seen_rules[rule.rule] >= 2 or skip_crawl(rule):
                continue
            seen.add(path)
            seen_rules[rule.rule] += 1
            limit -= 1
            response = client.get(path)
            body = response.get_data(as_text=True)
            response.close()
            self.pages_read += 1
            if response.status_code >= 500:
                errors.append(f"{person} GET {path} → {response.status_code}")
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            links, forms = read_page(body, f"http://localhost{path}")
            query = [name for link in links if "?" in link and self.match(link, "GET") == rule
                     for name in re.findall(r"[?&]([^=&]+)=", link)]  # fmt: skip
            self.add(Target("GET", rule, path, person, names=sorted(set(query))))
            queue.extend(links)
            for form in forms:
                for action in [form.action, *form.actions]:
                    action_path = local_path(action)
                    method = form.method.upper()
                    action_rule = action_path and self.match(action_path, method)
                    if action_rule:
                        self.add(from_form(form, action, action_rule, person))
                        if method == "GET":
                            queue.append(action_path)
        return errors

    def complete(self) -> None:
        """Give every route no page led to a target of its own, as its rule reads."""
        extra = sorted({n for ts in self.targets.values() for t in ts if t.method == "POST"
                        for n in t.names})  # fmt: skip
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                if (method, rule.rule) not in self.targets:
                    path = rule_path(rule, {name: a_value(rule, name) for name in rule.arguments})
                    names = extra if method == "POST" else []
                    self.add(Target(method, rule, path, "admin", names=names))


def a_value(rule: Rule, name: str) -> str:
    """A value the rule's converter matches: one of an ``any(…)``'s words, else ``1``."""
    converter = rule._converters.get(name)  # werkzeug keeps a rule's converters only there
    items = getattr(converter, "items", None)
    return sorted(items)[0] if items else "1"


def skip_crawl(rule: Rule) -> bool:
    """Downloads are not pages to read links from (and a PDF takes a second to render)."""
    return rule.rule.endswith((".pdf", ".csv")) or rule.endpoint in ("public.healthz",)


# -- the world --------------------------------------------------------------------------------


@dataclass
class Person:
    client: Any
    email: str | None
    token: str = ""

    def sign_in(self) -> None:
        if self.email:
            password = RESONATE.demo.person(self.email).password
            response = self.client.login(self.email, password)
            assert response.status_code == 303, f"{self.email} could not sign in"
        self.token = CSRF_RE.search(self.client.get("/").get_data(as_text=True)).group(1)


@dataclass(repr=False)
class Fuzz:
    """The world, its people and targets, and what the run met."""

    app: Flask
    people: dict[str, Person]
    targets: list[Target]
    query_names: list[str]
    form_names: list[str]
    sent: int = 0
    fields_fuzzed: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        # Hypothesis shows the strategy's arguments, this among them: keep it short (the
        # whole world's repr is hundreds of kB, and Hypothesis warns of it).
        return f"Fuzz({len(self.targets)} targets, {len(self.people)} people)"

    def send(self, target: Target, person: str, path: str, pairs: list[tuple[str, str]],
             htmx: bool) -> None:  # fmt: skip
        who = self.people[person]
        headers = {"HX-Request": "true"} if htmx else {}
        shown = [(k, v[:40]) for k, v in pairs]
        try:
            status = self._request(who, target.method, path, pairs, headers)
        except Exception as exc:  # the test client raises what the server would answer 500 to
            status = 500
            shown.append(("raised", f"{type(exc).__name__}: {str(exc)[:160]}"))
        self.sent += 1
        self.statuses[status] += 1
        if status >= 500:
            self.errors.append(f"{person} {target.method} {path[:120]} {shown} → {status}")
        if self.sent % 500 == 0:
            self.keep_signed_in()

    @staticmethod
    def _request(who: Person, method: str, path: str, pairs: list[tuple[str, str]],
                 headers: dict[str, str]) -> int:  # fmt: skip
        if method == "GET":
            # A server refuses a request line past a few kilobytes (gunicorn: 4094 bytes).
            pairs = [(k, v[:1000]) for k, v in pairs]
            path, _, query = path.partition("?")
            pairs = [*parse_qsl(query, keep_blank_values=True), *pairs]
            response = who.client.get(path, query_string=MultiDict(pairs), headers=headers)
        else:
            data = MultiDict([*pairs, ("csrf_token", who.token)])
            response = who.client.post(path, data=data, headers=headers, csrf=False)
        response.get_data()
        response.close()
        return response.status_code

    def keep_signed_in(self) -> None:
        """A fuzzed form may end a person's session (a session ended, a password changed):
        sign them in again so the rest of the run is still sent as them."""
        for person in self.people.values():
            if person.email:
                response = person.client.get("/me/security")
                response.close()
                if response.status_code != 200:
                    person.sign_in()


@pytest.fixture
def fuzz(app_factory) -> Fuzz:
    """The resonate demo co-op (meetings open for votes, orders waiting, an election, a
    requisition, applicants), its six people signed in, and every route as they find it."""
    app = app_factory(LOGIN_MAX_FAILURES=10**9, LOGIN_RATE_LIMIT="100000 per minute",
                      VERIFY_RATE_LIMIT="100000 per minute")  # fmt: skip
    with app.test_request_context("/"), write_session(app) as db:
        assert demo.seed(db, app.config, preset="resonate", render=fake_certificate)
    people = {name: Person(app.test_client(), email) for name, email in PEOPLE.items()}
    site = Site(app)
    crawl_errors = []
    for name, person in people.items():
        person.sign_in()
        crawl_errors += site.crawl(name, person.client)
    assert crawl_errors == []
    site.complete()
    targets = [t for ts in site.targets.values() for t in ts if t.path != "/logout"]
    form_names = sorted({n for t in targets if t.method == "POST" for n in t.names})
    return Fuzz(app, people, targets, query_names_read(), form_names)


# -- one request ------------------------------------------------------------------------------


@st.composite
def requests(draw: Any, fuzz: Fuzz) -> tuple[Target, str, str, list[tuple[str, str]], bool]:
    """A target, who sends it, and its path and fields, some changed to generated values."""
    target = draw(st.sampled_from(fuzz.targets))
    person = draw(st.sampled_from([target.person] * 3 + list(PEOPLE)))
    path = target.path
    # A PDF takes a second to render: its real path is sent once, in the first sweep.
    if target.rule.arguments and (
        target.rule.rule.endswith(".pdf") or draw(st.integers(0, 4)) == 0
    ):
        # One path parameter replaced: an id past any row, text where a number goes.
        _rule, args = fuzz.app.url_map.bind("localhost").match(
            path.split("?")[0], method=target.method
        )
        name = draw(st.sampled_from(sorted(target.rule.arguments)))
        args[name] = draw(
            st.one_of(
                st.sampled_from(PATH_VALUES),
                digits,
                text.filter(lambda s: "/" not in s and "?" not in s and "#" not in s),
            )
        )
        path = rule_path(target.rule, args)
    pairs = list(target.defaults)
    names = target.names or (fuzz.query_names if target.method == "GET" else fuzz.form_names)
    if target.method == "GET":
        names = sorted(set(names) | set(fuzz.query_names))
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(names or ["q"]))
        how = draw(st.integers(0, 9))
        pairs = [(k, v) for k, v in pairs if k != name]
        if how == 0:
            continue  # the field left out
        options = target.choices.get(name)
        # Often a value the form offers, so the other fields' checks pass and this one's run.
        value = draw(st.sampled_from(options)) if options and how <= 3 else draw(VALUES)
        pairs.append((name, value))
        if how == 9:
            pairs.append((name, draw(VALUES)))  # the key repeated
        fuzz.fields_fuzzed += 1
    return target, person, path, pairs, draw(st.booleans())


def run_fuzz(fuzz: Fuzz, count: int, fixed: int) -> None:
    """Send ``count`` generated requests (Hypothesis only generates: no shrinking, no
    database; ``fixed`` seeds the run, so CI repeats it)."""

    @settings(max_examples=count, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(request=requests(fuzz))
    def send(request: Any) -> None:
        fuzz.send(*request)

    seed(fixed)(send)()


def assert_clean(fuzz: Fuzz, at_least: int) -> None:
    """No server error; at least ``at_least`` requests sent; the register and votes check."""
    with fuzz.app.test_request_context("/"), database(fuzz.app).session(write=False) as db:
        register = ledger.check_register(db)
        resolutions, elections = voting.check_votes(db)
    report = (
        f"fuzz: {fuzz.sent:,} generated requests ({fuzz.fields_fuzzed:,} fields and "
        f"parameters changed) over {len({t.route for t in fuzz.targets})} routes as "
        f"{len(fuzz.people)} people; {len(fuzz.errors)} server errors; statuses "
        f"{dict(sorted(fuzz.statuses.items()))}; register {register.rows} rows, "
        f"{resolutions.checked} resolutions and {elections.checked} elections rechecked"
    )
    print(f"\n{report}")
    assert fuzz.errors == []
    assert fuzz.sent >= at_least
    assert register.problems == []
    assert resolutions.problems + elections.problems == []
    record("fuzz", report)


def test_every_route_field_and_parameter_fuzzed_answers_without_a_server_error(fuzz, capsys):
    # Each target once first, every field set, so no route waits on the draw.
    for i, target in enumerate(fuzz.targets):
        value = HOSTILE[i % len(HOSTILE)]
        names = target.names or (fuzz.query_names if target.method == "GET" else [])
        fuzz.send(target, target.person, target.path, [(n, value) for n in names], i % 2 == 0)
    run_fuzz(fuzz, DEFAULT_REQUESTS - fuzz.sent, fixed=17)
    with capsys.disabled():
        assert_clean(fuzz, DEFAULT_REQUESTS)


@pytest.mark.slow
@pytest.mark.skipif(not LONG_REQUESTS, reason="opt-in: make fuzz, or PORTAL_FUZZ_EXAMPLES=N")
def test_a_long_fuzz_answers_without_a_server_error(fuzz, capsys):
    run_fuzz(fuzz, LONG_REQUESTS, fixed=1717)
    with capsys.disabled():
        assert_clean(fuzz, LONG_REQUESTS)
