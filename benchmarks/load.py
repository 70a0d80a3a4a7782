"""The load bench (issue 16 §2, §7): every page of the issue's table against a real server.

    .venv/bin/python benchmarks/load.py [--instance PATH] [--database-url URL]
        [--duration 5] [--connections N] [--label demo] [--results benchmarks/RESULTS.md]
    .venv/bin/python benchmarks/load.py --memory [--requests 10000] [--renders 500] ...

Starts ``gunicorn wsgi:app`` (2 sync workers, as the README deploys one machine) on a free
port of 127.0.0.1 over an instance folder: by default a fresh demo co-op (``flask init-db``
and ``seed-demo`` in a temporary folder); ``--instance PATH`` serves a seeded co-op (say a
copy of the 100,000-member one made by ``benchmarks/seed_large.py``; its secret key is in
the folder); ``--database-url`` serves PostgreSQL. It signs in as staff and as a member
through the real sign-in form (CSRF and all), then drives each page with wrk for
``--duration`` seconds (the cookies, the htmx header and the vote's form body set by a
small Lua script), with the bare route (``/_bare``, portal/views/bare.py) run between every
two pages: each page's requests per second is stated as a ratio to the mean of the bare
runs either side of it, in the same round on the same server. A page so slow that wrk
finishes fewer than ``MIN_WRK_REQUESTS`` requests is timed instead by requests one after
another (at most ``--slow-requests``, within ``--slow-budget`` seconds), marked "seq".

It prints the table and writes it into ``--results`` (benchmarks/RESULTS.md) under a
heading of its own (``--label``), with the machine (cores, CPU, RAM), the date, the
database and the git revision; a run with the same label replaces its section.

``--memory`` (§7) serves with one worker instead and sends it ``--requests`` mixed requests
(the pages above, round-robin), ``--renders`` certificate renders (a member buys shares and
staff record the payment: each issue renders the certificate PDF) and a full register
export (``/staff/register.csv``), reading the worker's resident memory (VmRSS) every
``--sample-every`` requests; the figures go into RESULTS.md too.

``make bench`` runs it on a fresh demo co-op; ``make bench-micro`` the older bench_*.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE = "/_bare"
MIN_WRK_REQUESTS = 10
CSRF_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')
HTMX = {"HX-Request": "true"}
SEED_PASSWORD = "seeded-member-lantern-2026"  # benchmarks/seed_large.py's
RESULTS = ROOT / "benchmarks" / "RESULTS.md"


# -- a small HTTP client keeping a session cookie --------------------------------------------


class Browser:
    """One browser: its session cookie, and requests made one at a time (no redirects)."""

    def __init__(self, host: str, port: int, timeout: float = 600) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies: dict[str, str] = {}

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = self.cookie
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        return response.status, data, dict(response.headers.items())

    def get(self, path: str, **kwargs: object) -> tuple[int, str]:
        status, data, _ = self.request("GET", path, **kwargs)  # type: ignore[arg-type]
        return status, data.decode(errors="replace")

    def csrf(self, path: str = "/") -> str:
        status, page = self.get(path)
        found = CSRF_RE.search(page)
        if not found:
            raise SystemExit(f"no CSRF token on {path} (status {status})")
        return found.group(1)

    def sign_in(self, email: str, password: str) -> str:
        """Sign in through the form; the CSRF token of the renewed session."""
        status, _, headers = self.request(
            "POST",
            "/login",
            {"email": email, "password": password, "csrf_token": self.csrf("/login")},
        )
        if status != 303:
            raise SystemExit(f"signing in as {email} answered {status}, not 303")
        if headers.get("Location", "").endswith("/login/code"):
            self.type_code()
        return self.csrf("/me")

    def type_code(self) -> None:
        """The code step of a staff sign-in: the demo's staff share its public key (the
        seeded co-op's staff too). A code works once, so a second sign-in within the same
        30 seconds waits for the next one."""
        from portal import demo

        for _attempt in range(2):
            code, seconds_left = demo.two_factor_code()
            token = self.csrf("/login/code")
            status, _, _ = self.request("POST", "/login/code", {"code": code, "csrf_token": token})
            if status == 303:
                return
            time.sleep(seconds_left + 1)
        raise SystemExit(f"the sign-in code step answered {status}, not 303")


# -- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(instance: Path, database_url: str | None, base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.pop("DATABASE_URL", None)
    env.update(
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_PUBLIC_BASE_URL=base,
        PORTAL_PREFERRED_URL_SCHEME="http",
        PORTAL_SESSION_COOKIE_SECURE="false",
        PORTAL_HTMX_LOCAL="true",
        # The bench measures pages, not the limiter: no request of it may be refused.
        PORTAL_LOGIN_RATE_LIMIT="100000 per minute",
        PORTAL_VERIFY_RATE_LIMIT="100000 per minute",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def python(env: dict[str, str], *args: str) -> str:
    """Run this Python with ``args`` in the checkout, on the served co-op's environment
    (its configuration and database, in a process of its own); its output, or exit."""
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"{' '.join(args)[:80]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def flask(env: dict[str, str], *args: str) -> str:
    return python(env, "-m", "flask", "--app", "portal", *args)


@dataclass
class Server:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def workers(self) -> list[int]:
        """The worker processes' ids (the master's children)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def errors(self) -> list[str]:
        text = self.log.read_text(errors="replace")
        return [
            line
            for line in text.splitlines()
            if "Traceback" in line or "[ERROR]" in line or "WORKER TIMEOUT" in line
        ]


@contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> Iterator[Server]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={workers}",
        "--worker-class=sync",
        f"--bind=127.0.0.1:{port}",
        "--timeout=600",  # a 40-second page must be measured, not killed
        "--graceful-timeout=5",
        "wsgi:app",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    server = Server("127.0.0.1", port, process, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn stopped:\n{log.read_text()}")
            try:
                if Browser(server.host, port, timeout=5).get(BARE)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer in 120 s:\n{log.read_text()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -- what to measure -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One request to drive: who sends it (cookie), and its method, form and headers."""

    name: str
    path: str
    who: str = ""  # "", "member" or "staff"
    method: str = "GET"
    form: dict[str, str] | None = None
    htmx: bool = False
    expect: int = 200


@dataclass
class Found:
    """What the co-op holds that the pages name: a document, a certificate, a meeting."""

    document: str | None = None
    certificate: int | None = None
    meeting: int | None = None
    resolution: int | None = None
    search: str = "smith"
    today: str = ""
    supporter_par: int | None = None


def discover(env: dict[str, str], member_email: str) -> Found:
    """Read, through the app, the names the pages need (in a process of its own)."""
    code = r"""
import json, sys
from sqlalchemy import select
from portal import coop, create_app
from portal.db import write_session
from portal.models import (Certificate, Document, Meeting, MeetingState, Member, Resolution,
    ResolutionState, RollEntry, ShareType, User)
email = sys.argv[1]
app = create_app()
out = {}
with write_session(app) as db:
    member = db.scalar(select(Member).join(User, Member.user_id == User.id)
                       .where(User.email == email))
    out["document"] = db.scalar(select(Document.slug).order_by(Document.id).limit(1))
    out["today"] = coop.today(db).isoformat()
    out["supporter_par"] = db.scalar(select(ShareType.par_value_minor)
                                     .where(ShareType.code == "supporter"))
    if member is not None:
        out["certificate"] = db.scalar(select(Certificate.number)
            .where(Certificate.member_id == member.id).order_by(Certificate.number).limit(1))
        out["surname"] = member.name.split()[-1].lower()
        row = db.execute(select(Meeting.id, Resolution.id)
            .join(Resolution, Resolution.meeting_id == Meeting.id)
            .join(RollEntry, RollEntry.meeting_id == Meeting.id)
            .where(Meeting.state == MeetingState.VOTING_OPEN,
                   Resolution.state == ResolutionState.OPEN,
                   RollEntry.member_id == member.id)
            .order_by(Meeting.id, Resolution.id).limit(1)).first()
        if row:
            out["meeting"], out["resolution"] = row
print(json.dumps(out))
"""
    data = json.loads(python(env, "-c", code, member_email).strip().splitlines()[-1])
    found = Found(
        document=data.get("document"),
        certificate=data.get("certificate"),
        meeting=data.get("meeting"),
        resolution=data.get("resolution"),
        search=data.get("surname") or "smith",
        today=data["today"],
        supporter_par=data.get("supporter_par"),
    )
    return found


def targets(found: Found) -> list[Target]:
    """The pages of issue 16's table, the ballot, the vote, the turnout partial."""
    made = [
        Target("/me", "/me", "member"),
        Target("/shares", "/shares", "member"),
        Target("/documents", "/documents", "member"),
    ]
    if found.document:
        made.append(Target("a document", f"/documents/{found.document}", "member"))
    if found.certificate:
        made.append(
            Target("stored certificate", f"/certificates/{found.certificate}.pdf", "member")
        )
    if found.meeting:
        made += [
            Target("ballot (meeting page)", f"/meetings/{found.meeting}", "member"),
            Target(
                "vote POST (htmx)",
                f"/meetings/{found.meeting}/resolutions/{found.resolution}/vote",
                "member",
                method="POST",
                form={"choice": "for"},
                htmx=True,
            ),
            Target("turnout partial", f"/meetings/{found.meeting}/turnout", "member", htmx=True),
        ]
    made += [
        Target("/staff/members", "/staff/members", "staff"),
        Target(
            "/staff/members?q=…",
            f"/staff/members?q={urllib.parse.quote(found.search)}",
            "staff",
        ),
        Target("/staff/applications", "/staff/applications", "staff"),
        Target("/staff/orders", "/staff/orders", "staff"),
        Target("/staff/audit", "/staff/audit", "staff"),
        Target("/staff/register", "/staff/register", "staff"),
        Target("/staff/register.csv", "/staff/register.csv", "staff"),
        Target("/staff/members.csv", "/staff/members.csv", "staff"),
    ]
    return made


# -- wrk -------------------------------------------------------------------------------------


LUA = """
wrk.method = {method}
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    'RESULT {{"requests": %d, "seconds": %f, "errors": %d, "non2xx": %d, '
    .. '"p50": %f, "p95": %f, "p99": %f}}\\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3))
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII is a valid Lua string literal


@dataclass
class Figure:
    name: str
    path: str
    status: int
    requests: int
    rps: float
    p50: float
    p95: float
    p99: float
    how: str = "wrk"
    errors: int = 0
    ratio: float | None = None
    bytes: int = 0


def request_headers(target: Target, browsers: dict[str, Browser], csrf: dict[str, str]):
    headers: dict[str, str] = {}
    if target.who:
        headers["Cookie"] = browsers[target.who].cookie
    if target.htmx:
        headers.update(HTMX)
    if target.method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    form = None
    if target.form is not None:
        form = {**target.form, "csrf_token": csrf[target.who]}
    return headers, form


def run_wrk(
    server: Server,
    target: Target,
    headers: dict[str, str],
    form: dict[str, str] | None,
    args: argparse.Namespace,
    folder: Path,
) -> dict[str, float]:
    script = folder / "target.lua"
    body = urllib.parse.urlencode(form) if form is not None else None
    script.write_text(
        LUA.format(
            method=lua_string(target.method),
            body=lua_string(body) if body is not None else "nil",
            headers="\n".join(
                f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()
            ),
        )
    )
    connections = max(args.connections, args.threads)
    done = subprocess.run(
        [
            args.wrk,
            f"-t{args.threads}",
            f"-c{connections}",
            f"-d{args.duration}s",
            f"--timeout={args.slow_budget}s",
            "-s",
            str(script),
            server.base + target.path,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise SystemExit(f"wrk gave no result for {target.path}:\n{done.stdout}\n{done.stderr}")


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def one_after_another(
    server: Server, target: Target, headers: dict[str, str], form, args: argparse.Namespace
) -> tuple[list[float], int]:
    """Time requests one at a time (a page too slow for wrk's window)."""
    timings: list[float] = []
    errors = 0
    started = time.monotonic()
    while len(timings) < args.slow_requests and time.monotonic() - started < args.slow_budget:
        browser = Browser(server.host, server.port)
        begin = time.perf_counter()
        status, _, _ = browser.request(target.method, target.path, form, headers)
        timings.append((time.perf_counter() - begin) * 1000)
        errors += status != target.expect
    return timings, errors


def measure(
    server: Server,
    target: Target,
    browsers: dict[str, Browser],
    csrf: dict[str, str],
    args: argparse.Namespace,
    folder: Path,
) -> Figure:
    headers, form = request_headers(target, browsers, csrf)
    probe = Browser(server.host, server.port)
    begin = time.perf_counter()
    status, data, _ = probe.request(target.method, target.path, form, headers)
    first_ms = (time.perf_counter() - begin) * 1000
    if first_ms > args.slow_budget * 1000 / 2:  # one request takes most of the budget
        timings, errors = [first_ms], int(status != target.expect)
    else:
        result = run_wrk(server, target, headers, form, args, folder)
        if result["requests"] >= MIN_WRK_REQUESTS:
            return Figure(
                target.name,
                target.path,
                status,
                int(result["requests"]),
                result["requests"] / result["seconds"],
                result["p50"],
                result["p95"],
                result["p99"],
                errors=int(result["errors"] + result["non2xx"]),
                bytes=len(data),
            )
        timings, errors = one_after_another(server, target, headers, form, args)
    mean = statistics.fmean(timings)
    return Figure(
        target.name,
        target.path,
        status,
        len(timings),
        1000 / mean,
        percentile(timings, 50),
        percentile(timings, 95),
        percentile(timings, 99),
        how="seq",
        errors=errors,
        bytes=len(data),
    )


# -- the co-op -------------------------------------------------------------------------------


@dataclass
class Coop:
    instance: Path
    database_url: str | None
    staff: tuple[str, str]
    member: tuple[str, str]
    size: str


def demo_people() -> tuple[tuple[str, str], tuple[str, str]]:
    sys.path.insert(0, str(ROOT))
    from portal.models import Role
    from portal.presets import PRESETS

    demo = PRESETS["resonate"].demo
    staff = demo.acting_staff
    member = next(p for p in demo.people if p.role is Role.MEMBER and p.classes)
    return (staff.email, staff.password), (member.email, member.password)


def prepare(args: argparse.Namespace, scratch: Path) -> Coop:
    staff, member = demo_people()
    if args.instance:
        instance = Path(args.instance).resolve()
        seeded = (args.member_email or "member1@seed.example", SEED_PASSWORD)
        coop = Coop(instance, args.database_url, staff, seeded, "seeded")
    else:
        instance = scratch / "instance"
        instance.mkdir()
        coop = Coop(instance, args.database_url, staff, member, "demo")
        env = environment(instance, args.database_url, "http://127.0.0.1")
        flask(env, "init-db")
        flask(env, "seed-demo")
    if args.member_email:
        coop.member = (args.member_email, args.member_password or coop.member[1])
    return coop


def database_name(coop: Coop) -> str:
    if coop.database_url:
        return "PostgreSQL " + coop.database_url.rsplit("/", 1)[-1].split("?")[0]
    return "SQLite"


# -- the machine and the results file --------------------------------------------------------


def machine() -> str:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({model}), {ram} RAM"


def git_revision() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def load_average() -> str:
    """The machine's 1-minute load average (other work on it slows every figure)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        return "?"


def header(coop: Coop, args: argparse.Namespace, extra: str) -> list[str]:
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; git {git_revision()}",
        f"- machine: {machine()}; load average {args.load_before} at the start, "
        f"{load_average()} at the end",
        f"- database: {database_name(coop)}; co-op: {coop.size}"
        + (f" ({coop.instance})" if coop.size != "demo" else ""),
        f"- {extra}",
    ]


def number(value: float, places: int) -> str:
    """``value`` to ``places`` decimals, or to two significant figures when that shows 0."""
    shown = f"{value:.{places}f}"
    return f"{value:.2g}" if value and float(shown) == 0 else shown


def table(figures: list[Figure]) -> list[str]:
    lines = [
        "| page | status | requests | req/s | ÷ bare | p50 ms | p95 ms | p99 ms | how | kB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        ratio = "—" if f.ratio is None else number(f.ratio, 2)
        lines.append(
            f"| {f.name} | {f.status}{' (' + str(f.errors) + ' errors)' if f.errors else ''} "
            f"| {f.requests} | {number(f.rps, 1)} | {ratio} | {f.p50:.1f} | {f.p95:.1f} "
            f"| {f.p99:.1f} | {f.how} | {f.bytes / 1e3:,.1f} |"
        )
    return lines


def write_section(path: Path, label: str, lines: list[str]) -> None:
    """Put the section ``## <label>`` into the results file, replacing one of that name."""
    heading = f"## {label}"
    text = path.read_text() if path.exists() else RESULTS_PREAMBLE
    parts = [part.rstrip() + "\n\n" for part in re.split(r"(?m)^(?=## )", text)]
    section = "\n".join([heading, "", *lines]) + "\n\n"
    kept = [p for p in parts if not p.startswith(heading + "\n")]
    if len(kept) == len(parts):
        kept.append(section)
    else:
        kept.insert(parts.index(next(p for p in parts if p.startswith(heading + "\n"))), section)
    path.write_text("".join(kept).rstrip() + "\n")


RESULTS_PREAMBLE = """# Load bench results

Written by `benchmarks/load.py` (`make bench`): gunicorn with 2 sync workers on 127.0.0.1,
each page driven by wrk for a few seconds with the bare route (`/_bare`) run between every
two pages; "÷ bare" is the page's requests per second over the mean of the bare runs either
side of it, so it holds from one machine to another. "seq" marks a page too slow for wrk's
window, timed by requests one after another. Targets: issue 16's table.

"""


# -- the runs --------------------------------------------------------------------------------


def sign_in_both(server: Server, coop: Coop) -> tuple[dict[str, Browser], dict[str, str]]:
    browsers = {
        "": Browser(server.host, server.port),
        "staff": Browser(server.host, server.port),
        "member": Browser(server.host, server.port),
    }
    csrf = {"": browsers[""].csrf("/login")}
    csrf["staff"] = browsers["staff"].sign_in(*coop.staff)
    csrf["member"] = browsers["member"].sign_in(*coop.member)
    return browsers, csrf


def bench(args: argparse.Namespace, coop: Coop, scratch: Path) -> list[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(coop.instance, coop.database_url, base)
    found = discover(env, coop.member[0])
    chosen = targets(found)
    if args.only:
        chosen = [t for t in chosen if any(word in t.name for word in args.only)]
    bare = Target("bare route", BARE)
    with gunicorn(env, port, args.workers, scratch / "gunicorn.log") as server:
        browsers, csrf = sign_in_both(server, coop)
        figures: list[Figure] = []
        bares = [measure(server, bare, browsers, csrf, args, scratch)]
        for target in chosen:
            figure = measure(server, target, browsers, csrf, args, scratch)
            bares.append(measure(server, bare, browsers, csrf, args, scratch))
            figure.ratio = figure.rps / statistics.fmean(b.rps for b in bares[-2:])
            figures.append(figure)
            print(
                f"{figure.name:28} {figure.status} {figure.rps:8.1f} req/s "
                f"÷bare {figure.ratio:5.2f}  p50 {figure.p50:8.1f}  p95 {figure.p95:8.1f} "
                f"p99 {figure.p99:8.1f} ms  ({figure.how}, {figure.requests})",
                flush=True,
            )
        errors = server.errors()
    bare_rps = [b.rps for b in bares]
    summary = Figure(
        "bare route (mean of the runs)",
        BARE,
        200,
        sum(b.requests for b in bares),
        statistics.fmean(bare_rps),
        statistics.median(b.p50 for b in bares),
        statistics.median(b.p95 for b in bares),
        statistics.median(b.p99 for b in bares),
        ratio=1.0,
    )
    print(f"bare route: {min(bare_rps):.0f}–{max(bare_rps):.0f} req/s over {len(bares)} runs")
    lines = header(
        coop,
        args,
        f"gunicorn {args.workers} sync workers; wrk -t{args.threads} "
        f"-c{max(args.connections, args.threads)} -d{args.duration}s per page; "
        f"bare route {min(bare_rps):.0f}–{max(bare_rps):.0f} req/s over {len(bares)} runs",
    )
    lines += ["", *table([summary, *figures])]
    if errors:
        lines += ["", f"Server log: {len(errors)} error lines (first: `{errors[0][:200]}`)"]
    missing = []
    if not found.meeting:
        missing.append("no meeting open for voting with the member on its roll: no ballot rows")
    if not found.certificate:
        missing.append("the member holds no certificate: no certificate download row")
    lines += [f"- {m}" for m in missing]
    return lines


def rss_kib(pid: int) -> int:
    """The process's resident memory now (VmRSS), in KiB."""
    return status_kib(pid, "VmRSS:")


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def buy_and_pay(
    server: Server, browsers: dict[str, Browser], csrf: dict[str, str], found: Found
) -> int:
    """A member orders five supporter shares and staff record the payment: settling the
    order issues a certificate, its PDF rendered in the worker. Answers 1 if it was."""
    member, staff = browsers["member"], browsers["staff"]
    _, form = member.get("/shares/buy")
    key = re.search(r'name="order_key" value="([^"]+)"', form)
    status, _, headers = member.request(
        "POST",
        "/shares/buy",
        {
            "share_type": "supporter",
            "quantity": "5",
            "order_key": key.group(1) if key else "",
            "csrf_token": csrf["member"],
        },
    )
    order = re.search(r"/orders/(\d+)", headers.get("Location", ""))
    if status != 303 or not order:
        return 0
    status, _, _ = staff.request(
        "POST",
        f"/staff/orders/{order.group(1)}/payment",
        {
            "amount": f"{5 * (found.supporter_par or 100) / 100:.2f}",
            "paid_on": found.today,
            "method": "bank_transfer",
            "bank_reference": f"BENCH-{order.group(1)}",
            "confirm": "yes",
            "csrf_token": csrf["staff"],
        },
    )
    return int(status == 303)


def memory(args: argparse.Namespace, coop: Coop, scratch: Path) -> list[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(coop.instance, coop.database_url, base)
    found = discover(env, coop.member[0])
    mixed = [
        t
        for t in targets(found)
        if t.name not in ("/staff/register.csv", "/staff/members.csv")
        and (coop.size == "demo" or t.name != "/staff/register")
    ]
    samples: list[tuple[str, int, int]] = []  # (phase, requests so far, RSS KiB)
    with gunicorn(env, port, 1, scratch / "gunicorn.log") as server:
        [worker] = server.workers()
        browsers, csrf = sign_in_both(server, coop)
        prepared = [(t, *request_headers(t, browsers, csrf)) for t in mixed]
        samples.append(("start", 0, rss_kib(worker)))
        refused = 0  # answers other than the one expected (a page that failed, say)
        for i in range(args.requests):
            target, headers, form = prepared[i % len(prepared)]
            answer = Browser(server.host, server.port).request(
                target.method, target.path, form, headers
            )
            refused += answer[0] != target.expect
            if (i + 1) % args.sample_every == 0:
                samples.append(("mixed", i + 1, rss_kib(worker)))
        rendered = 0
        for i in range(args.renders):
            rendered += buy_and_pay(server, browsers, csrf, found)
            if (i + 1) % max(1, args.renders // 10) == 0:
                samples.append(("certificates", rendered, rss_kib(worker)))
        peak_before = status_kib(worker, "VmHWM:")  # the highest RSS so far
        begin = time.perf_counter()
        status, data, _ = browsers["staff"].request("GET", "/staff/register.csv")
        export_s = time.perf_counter() - begin
        samples.append(("register.csv", 1, rss_kib(worker)))
        peak_after = status_kib(worker, "VmHWM:")
        for i in range(args.sample_every):
            target, headers, form = prepared[i % len(prepared)]
            Browser(server.host, server.port).request(target.method, target.path, form, headers)
        samples.append(("mixed after", args.sample_every, rss_kib(worker)))
        alive = server.workers() == [worker]
    mib = [kib / 1024 for _, _, kib in samples]
    warm = [kib / 1024 for phase, n, kib in samples if phase == "mixed" and n > args.requests // 5]
    lines = header(
        coop,
        args,
        f"gunicorn 1 sync worker (pid kept: {alive}); {args.requests} mixed requests over "
        f"{len(prepared)} pages ({refused} not answered as expected), {rendered} certificate "
        f"renders (buy + record payment), a register export ({len(data) / 1e3:,.0f} kB, "
        f"{export_s:.1f} s, status {status}); the worker's peak RSS (VmHWM) "
        f"{peak_before / 1024:.0f} MiB before the export, {peak_after / 1024:.0f} MiB after",
    )
    lines += [
        "",
        f"Worker RSS: {mib[0]:.0f} MiB at start; after warm-up (past the first fifth of the "
        f"mixed requests) {min(warm):.0f}–{max(warm):.0f} MiB; "
        f"{mib[-1]:.0f} MiB at the end."
        if warm
        else "",
        "",
        "| phase | count | RSS MiB |",
        "|---|---|---|",
        *[f"| {phase} | {n} | {kib / 1024:.1f} |" for phase, n, kib in samples],
    ]
    print("\n".join(lines))
    return lines


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", help="serve this instance folder (a seeded co-op)")
    parser.add_argument("--database-url", help="PostgreSQL (the instance's database otherwise)")
    parser.add_argument("--member-email", help="the member to sign in as")
    parser.add_argument("--member-password", help="their password")
    parser.add_argument("--duration", type=float, default=5, help="seconds of wrk per page")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--connections",
        type=int,
        help="wrk connections (default: one per worker, so latency is a request's own time, "
        "not time queued behind another)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--slow-requests", type=int, default=20)
    parser.add_argument("--slow-budget", type=float, default=60, help="seconds, per slow page")
    parser.add_argument("--only", nargs="*", help="only the pages whose name holds a word")
    parser.add_argument("--label", help="the results section's heading")
    parser.add_argument("--results", default=str(RESULTS), help="'-' to write no file")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    parser.add_argument("--memory", action="store_true", help="the memory run (§7)")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--renders", type=int, default=500)
    parser.add_argument("--sample-every", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    args.duration = int(args.duration) if args.duration >= 1 else 1
    args.connections = args.connections or args.workers
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.load_before = load_average()
    if not args.memory and not shutil.which(args.wrk):
        print("wrk is not installed: apt-get install wrk (scripts/system-packages test)")
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="portal-load-"))
    try:
        coop = prepare(args, scratch)
        lines = memory(args, coop, scratch) if args.memory else bench(args, coop, scratch)
        label = args.label or (
            f"{'Memory' if args.memory else 'Pages'}: {coop.size}, {database_name(coop)}"
        )
        if args.results != "-":
            write_section(Path(args.results), label, lines)
            print(f"written to {args.results} under '## {label}'")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
